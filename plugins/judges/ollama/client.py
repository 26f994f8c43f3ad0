"""Calls to Ollama: the chat call with retries on malformed output, the vision lookup, and error mapping.

Only malformed output is retried here (with the bad answer and what was wrong shown
to the model, since at temperature 0 the same messages give the same answer). A host
that is down, slow or failing raises at once with `transient` set, so the queue's
retries with backoff handle it. The `ollama` package is imported on first use: it
pulls in pydantic and httpx, which start-up need not pay for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from plugins.judges.ollama import prompt as prompts
from plugins.judges.ollama.errors import (HostError, JudgeFailed, MalformedOutput, ModelMissing, TimedOut,
                                          Unreachable)
from plugins.judges.ollama.schema import Answer, Malformed, answer_schema, parse
from plugins.judges.ollama.settings import Settings

_vision: dict[tuple[str, str], bool] = {}
_slots: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_clients: dict[tuple[str, float], object] = {}
_lock = threading.Lock()


@dataclass
class Reply:
    """What the model said: an answer per criterion it covered, and every raw output it gave."""

    answers: dict[str, Answer]
    outputs: list[str] = field(default_factory=list)


def open_client(host: str, timeout: float):
    """One client per host and timeout, kept for the process: thread-safe, pooled, and ~40 ms to build."""
    key = (host, timeout)
    with _lock:
        found = _clients.get(key)
    if found is None:
        import ollama

        found = ollama.Client(host=host, timeout=timeout)
        with _lock:
            found = _clients.setdefault(key, found)
    return found


def supports_vision(settings: Settings) -> bool:
    """`vision` true/false as set; "auto" asks the host (/api/show) once per host and model."""
    if settings.vision != "auto":
        return bool(settings.vision)
    key = (settings.host, settings.model)
    with _lock:
        if key in _vision:
            return _vision[key]
    with errors_named(settings):
        shown = open_client(settings.host, settings.timeout).show(settings.model)
    found = vision_of(shown.capabilities, shown.modelinfo or {}, getattr(shown.details, "families", None) or [])
    with _lock:
        _vision[key] = found
    return found


def vision_of(capabilities: list[str] | None, model_info: dict, families: list[str]) -> bool:
    """Ollama ≥ 0.6 lists "vision" among capabilities; older hosts show a vision encoder in model_info."""
    if capabilities is not None:
        return "vision" in capabilities
    return (any(".vision." in key or key.startswith("clip.") for key in model_info)
            or any(f in ("clip", "mllama") for f in families))


def forget() -> None:
    """Drop cached vision lookups and clients (a model was replaced on the host; tests)."""
    with _lock:
        _vision.clear()
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


def ask(prompt: prompts.Prompt, criteria: list[str], settings: Settings) -> Reply:
    """Chat until the answer parses, at most 1 + `retries` times; a partial answer is kept as the fallback."""
    schema = answer_schema(criteria)
    options = {"temperature": 0} | ({"num_ctx": settings.num_ctx} if settings.num_ctx else {})
    messages = prompt.for_client()
    outputs: list[str] = []
    best: dict[str, Answer] | None = None
    with _slot(settings), errors_named(settings, prompt):
        client = open_client(settings.host, settings.timeout)
        for _ in range(settings.retries + 1):
            reply = client.chat(model=settings.model, messages=messages, format=schema, options=options,
                                stream=False)
            output = reply.message.content or ""
            outputs.append(output)
            try:
                answers = parse(output, criteria)
            except Malformed as exc:
                problem = str(exc)
            else:
                missing = [name for name in criteria if name not in answers]
                if not missing:
                    return Reply(answers, outputs)
                if best is None or len(answers) > len(best):
                    best = answers
                problem = "no verdict for " + ", ".join(prompts.quote(n) for n in missing)
            messages = prompts.correction(prompt, output, problem)
    if best:
        return Reply(best, outputs)
    shown = " ".join(outputs[-1][:200].split())
    tries = f"{len(outputs)} {'try' if len(outputs) == 1 else 'tries'}"
    raise MalformedOutput(f"malformed model output after {tries}: {shown or '(empty)'}",
                          prompt=prompt.for_display(), outputs=outputs)


@contextmanager
def _slot(settings: Settings) -> Iterator[None]:
    """At most `concurrency` model calls at once per host in this process; waiting counts against the timeout."""
    with _lock:
        key = (settings.host, settings.concurrency)
        slot = _slots.setdefault(key, threading.BoundedSemaphore(settings.concurrency))
    waited = settings.timeout * (settings.retries + 1)
    if not slot.acquire(timeout=waited):
        raise TimedOut(f"timed out: {settings.concurrency} model calls were already running on {settings.host} "
                       f"for {waited:g} s")
    try:
        yield
    finally:
        slot.release()


@contextmanager
def errors_named(settings: Settings, prompt: prompts.Prompt | None = None) -> Iterator[None]:
    """The ollama client's errors (ResponseError, ConnectionError, httpx timeouts) as messages for the owner."""
    import httpx
    import ollama

    try:
        yield
    except (ollama.ResponseError, httpx.HTTPError, ConnectionError) as exc:
        raise named(exc, settings, prompt.for_display() if prompt else None) from None


def named(exc: Exception, settings: Settings, shown: list[dict] | None) -> JudgeFailed:
    import httpx
    import ollama

    host, model = settings.host, settings.model
    if isinstance(exc, ollama.ResponseError):
        if exc.status_code == 404 and "not found" in str(exc.error).lower():
            return ModelMissing(f"model {model} is not on {host} ({exc.error}); pull it with `ollama pull {model}`",
                                prompt=shown)
        return HostError(f"Ollama at {host} answered {exc.status_code}: {exc.error}", exc.status_code, prompt=shown)
    if isinstance(exc, httpx.TimeoutException):
        return TimedOut(f"timed out: {host} gave no answer within {settings.timeout:g} s (model {model})",
                        prompt=shown)
    why = reason(exc)   # refused, unknown name, broken mid-answer, …
    return Unreachable(f"unreachable: {host} ({why})", reason=why, prompt=shown)


def reason(exc: BaseException) -> str:
    """"connection refused" rather than the client's advice to download Ollama."""
    cause = exc.__context__ or exc.__cause__ or exc
    text = str(cause) or type(cause).__name__
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "getaddrinfo" in lowered:
        return "unknown host name"
    if "timed out" in lowered:
        return "connection timed out"
    return text
