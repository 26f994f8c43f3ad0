"""The Ollama judge's settings: defaults, then the environment, then [plugins.ollama], then the project's.

`configure()` is called once at start-up with the [plugins.ollama] table. A project may
override what concerns its own judging (model, timeout, retries, num_ctx, vision,
examples, inputs, context_fields); what reaches into the server (host, media_root,
concurrency) is the server's to set, so a project cannot point the judge at another
machine or make it read files outside the media root.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Literal

import msgspec

from plugins.judges.ollama.errors import NotConfigured

DEFAULT_HOST = "http://127.0.0.1:11434"
NOT_CONFIGURED = "ollama judge is not configured: set [plugins.ollama] model or QUORUM_OLLAMA_MODEL"
SERVER_ONLY = ("host", "media_root", "concurrency", "max_image_bytes")


class InputField(msgspec.Struct, kw_only=True):
    """An input entity as the prompt needs it (the project's datapoint structure)."""

    name: str
    type: str = "TEXT"
    label: str = ""


class ExampleVerdict(msgspec.Struct, kw_only=True):
    verdict: Literal["pass", "fail"]
    reason: str = ""


class Example(msgspec.Struct, kw_only=True):
    """An owner-graded example: a task's inputs, a response and the owner's verdict per criterion."""

    inputs: dict[str, Any] = {}
    response: dict[str, Any] = {}
    verdicts: dict[str, ExampleVerdict] = {}


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    host: str = DEFAULT_HOST
    model: str = ""
    timeout: float = 120.0            # seconds per model call
    retries: int = 2                  # extra tries when the output is malformed
    num_ctx: int | None = None        # context window; the model's default when unset
    vision: bool | Literal["auto"] = "auto"
    media_root: str | dict[str, str] | None = None   # a folder, or {URL prefix: folder}
    max_image_bytes: int = 20_000_000
    concurrency: int = 2              # model calls at once per host, in this process
    examples: list[Example] = []
    inputs: list[InputField] | None = None   # input entities; None: guessed from the values
    context_fields: list[str] = []    # item fields (task.data) shown beside the inputs


_configured: dict[str, Any] = {}
_lock = threading.Lock()


def configure(settings: dict | None) -> Settings:
    """Install the [plugins.ollama] table (called at start-up); returns the server-level settings."""
    table = dict(settings or {})
    unknown = sorted(set(table) - set(Settings.__struct_fields__))
    if unknown:
        raise NotConfigured(f"[plugins.ollama]: unknown key {', '.join(unknown)}; "
                            f"known: {', '.join(Settings.__struct_fields__)}")
    resolved = _convert(_server_base() | table)
    with _lock:
        _configured.clear()
        _configured.update(table)
    return resolved


def resolve(project: dict | None = None) -> Settings:
    """The settings one judging call uses: the server's, with the project's overrides on top."""
    project = dict(project or {})
    refused = sorted(key for key in SERVER_ONLY if key in project)
    if refused:
        raise NotConfigured(f"ollama judge: a project cannot set {', '.join(refused)}; set it in [plugins.ollama]")
    with _lock:
        configured = dict(_configured)
    return _convert(_server_base() | configured | project)


def require_model(settings: Settings) -> None:
    if not settings.model.strip():
        raise NotConfigured(NOT_CONFIGURED)


def _server_base() -> dict:
    """Defaults with QUORUM_OLLAMA_HOST / QUORUM_OLLAMA_MODEL, for a process that never called configure()."""
    base: dict[str, Any] = {}
    if os.environ.get("QUORUM_OLLAMA_HOST"):
        base["host"] = os.environ["QUORUM_OLLAMA_HOST"]
    if os.environ.get("QUORUM_OLLAMA_MODEL"):
        base["model"] = os.environ["QUORUM_OLLAMA_MODEL"]
    return base


def _convert(raw: dict) -> Settings:
    known = {k: v for k, v in raw.items() if k in Settings.__struct_fields__}
    try:
        settings = msgspec.convert(known, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise NotConfigured(f"ollama judge settings: {str(exc).replace('`$.', '`')}") from exc
    if settings.timeout <= 0 or settings.retries < 0 or settings.concurrency < 1:
        raise NotConfigured("ollama judge settings: timeout must be > 0, retries >= 0, concurrency >= 1")
    return msgspec.structs.replace(settings, host=normal_host(settings.host))


def normal_host(host: str) -> str:
    """"127.0.0.1:11434" → "http://127.0.0.1:11434"; no trailing slash."""
    host = (host or DEFAULT_HOST).strip().rstrip("/")
    return host if "://" in host else f"http://{host}"
