"""Turn core errors into 4xx answers: JSON for the API, a readable page or fragment for people."""

from __future__ import annotations

from litestar import MediaType, Request, Response

from server.errors import QuorumError
from server.plugins import UnknownPlugin


def error_body(exc: QuorumError) -> dict:
    body = {"error": exc.message, "status": exc.status_code}
    if exc.field:
        body["field"] = exc.field
    body.update(exc.extra)
    return body


def quorum_error(request: Request, exc: QuorumError) -> Response:
    if request.url.path.startswith("/api/"):
        return Response(error_body(exc), status_code=exc.status_code, media_type=MediaType.JSON)
    text = exc.message if not exc.field else f"{exc.field}: {exc.message}"
    if request.headers.get("hx-request"):
        return Response(f'<div class="error" role="alert">{_escape(text)}</div>', status_code=200,
                        media_type=MediaType.HTML)
    return Response(f"<!doctype html><title>Error</title><p class='error'>{_escape(text)}</p>"
                    f"<p><a href='javascript:history.back()'>Back</a></p>",
                    status_code=exc.status_code, media_type=MediaType.HTML)


def unknown_plugin(request: Request, exc: UnknownPlugin) -> Response:
    return quorum_error(request, as_quorum_error(exc))


def as_quorum_error(exc: Exception) -> QuorumError | None:
    """The 4xx an exception stands for (None: it is a server error)."""
    if isinstance(exc, QuorumError):
        return exc
    if isinstance(exc, UnknownPlugin):
        return QuorumError(str(exc))
    return None


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


HANDLERS = {QuorumError: quorum_error, UnknownPlugin: unknown_plugin}
