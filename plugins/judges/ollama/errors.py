"""What can go wrong when the Ollama judge runs, each with a message for the owner.

The core turns any of these into `error` verdicts (never a pass). `transient` says
whether trying again later may help (host down, timeout, a 5xx), so the queue can
retry with backoff before it gives up and marks the response "not judged".
"""

from __future__ import annotations

from server.plugin_types import JudgeFailure


class JudgeFailed(JudgeFailure):
    """The judge gave no usable answer. `messages` holds what was sent (images as placeholders),
    `prompt` the same as readable text, `outputs` what the model said."""

    def __init__(self, message: str, prompt: list[dict] | None = None, outputs: list[str] | None = None):
        from plugins.judges.ollama.prompt import render   # prompt.py needs no errors, but keep imports one-way

        super().__init__(message, prompt=render(prompt) if prompt else "", outputs=outputs)
        self.messages = prompt or []


class NotConfigured(JudgeFailed):
    """No model is set, or a setting has the wrong shape."""


class Unreachable(JudgeFailed):
    """Nothing answers at the host; `reason` is the short why ("connection refused")."""

    transient = True

    def __init__(self, message: str, reason: str = "", **kwargs):
        super().__init__(message, **kwargs)
        self.reason = reason


class TimedOut(JudgeFailed):
    """The host took longer than the configured timeout."""

    transient = True


class HostError(JudgeFailed):
    """The host answered with an HTTP error (5xx is worth retrying, 4xx is not)."""

    def __init__(self, message: str, status: int, **kwargs):
        super().__init__(message, **kwargs)
        self.status = status
        self.transient = status >= 500 or status == 429


class ModelMissing(JudgeFailed):
    """The host does not have the model."""


class MalformedOutput(JudgeFailed):
    """The model's answer did not follow the schema, after every retry."""
