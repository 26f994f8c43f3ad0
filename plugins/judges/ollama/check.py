"""`quorum judge check`: does the Ollama host answer, does it have the model, can the model see images?"""

from __future__ import annotations

from plugins.judges.ollama.client import errors_named, open_client, supports_vision
from plugins.judges.ollama.errors import JudgeFailed, ModelMissing, TimedOut, Unreachable
from plugins.judges.ollama.settings import NOT_CONFIGURED, Settings, normal_host, resolve


def check(host: str, model: str, timeout: float = 10.0) -> tuple[bool, str]:
    """(ok, a sentence for the owner). Asks /api/tags, then /api/show for the model's capabilities."""
    settings = Settings(host=normal_host(host), model=(model or "").strip(), timeout=timeout)
    host = settings.host
    try:
        with errors_named(settings):
            listed = open_client(host, timeout).list()
    except JudgeFailed as exc:
        return False, f"Ollama at {host} is not answering ({_why(exc, timeout)})"
    names = sorted(m.model for m in listed.models if m.model)
    if not settings.model:
        return False, f"{NOT_CONFIGURED} (models on {host}: {', '.join(names) or 'none'})"
    if not any(same_model(settings.model, name) for name in names):
        return False, f"model {settings.model} is not on {host} (available: {', '.join(names) or 'none'})"
    try:
        vision = supports_vision(settings)
    except ModelMissing:
        return False, f"model {settings.model} is not on {host} (available: {', '.join(names) or 'none'})"
    except JudgeFailed as exc:
        return False, f"Ollama at {host} listed model {settings.model} but could not describe it: {exc}"
    return True, f"ok: model {settings.model} on {host} (vision: {'yes' if vision else 'no'})"


def check_configured(project: dict | None = None) -> tuple[bool, str]:
    """check() on the configured host and model (as the judge would use them)."""
    try:
        settings = resolve(project)
    except JudgeFailed as exc:
        return False, str(exc)
    if not settings.model:
        return False, NOT_CONFIGURED
    return check(settings.host, settings.model, min(settings.timeout, 30.0))


def same_model(wanted: str, listed: str) -> bool:
    """"llava" is "llava:latest"; "llava:13b" is only itself."""
    def full(name: str) -> str:
        return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"
    return full(wanted.strip()) == full(listed.strip())


def _why(exc: JudgeFailed, timeout: float) -> str:
    """"connection refused", "no answer within 10 s", or what the host said."""
    if isinstance(exc, Unreachable):
        return exc.reason or str(exc)
    if isinstance(exc, TimedOut):
        return f"no answer within {timeout:g} s"
    return str(exc)
