"""The labeling hot path's own door: claim, submit and skip (and the ping the benchmark's
floor measures the stack with) answered without litestar's request pipeline, everything
else handed to the litestar app unchanged.

A tasker's loop is two requests per answer, and litestar's pipeline (routing, middleware,
dependency injection, signature parsing, response building) cost about as much as the
claim or the submit itself: 0.56 ms of server CPU per authenticated ping against 0.27 ms
for the same check answered straight from ASGI. This door does only what those three
routes need: the bearer token, the path's id, the body decoded into the route's msgspec
Struct, the same functions the routes call (server/web/api/labeling.py) and the same
error bodies (server/web/errors.py).

It answers only well-formed requests: one that lacks a valid token, has a body that does
not decode, or is too large is handed to litestar as it came (its body replayed), so every
error a client can cause reads exactly as litestar writes it. The routes stay declared in
litestar, for the OpenAPI schema and for those requests.
"""

from __future__ import annotations

import logging
import re

import msgspec
from litestar import Litestar

from server.core import users
from server.errors import QuorumError
from server.web import errors
from server.web.api import labeling
from server.web.api.account import PingOut
from server.web.auth import bearer_token

log = logging.getLogger("quorum")

# an id of more digits than a 64-bit integer holds is litestar's to refuse
ROUTE = re.compile(r"/api/v1/(?:projects/(\d{1,18})/(claim)|assignments/(\d{1,18})/(submit|skip))")
PING = "/api/v1/ping"
JSON_HEADERS = [(b"content-type", b"application/json")]
INTERNAL_ERROR = msgspec.json.encode({"status_code": 500, "detail": "Internal Server Error"})
_decode_submit = msgspec.json.Decoder(labeling.SubmitRequest).decode
_encode = msgspec.json.encode


class FastLane:
    """ASGI app: the labeling routes answered here, the rest by `app` (a Litestar)."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.max_body = app.request_max_body_size or 10_000_000
        self.sweep_every = app.state.config.assignment.sweep_seconds

    async def __call__(self, scope, receive, send) -> None:
        match = None
        if scope["type"] == "http" and not scope.get("root_path"):
            if scope["method"] == "POST":
                match = ROUTE.fullmatch(scope["path"])
            elif scope["method"] == "GET" and scope["path"] == PING:
                match = PING
        if match is None:
            return await self.app(scope, receive, send)
        user = _token_user(scope["headers"])
        if user is None:
            return await self.app(scope, receive, send)
        if match is PING:
            return await _respond(send, 200, _encode(PingOut(user_id=user)))
        project_id, _, assignment_id, action = match.groups()
        if action == "submit":
            body, replay = await _body(receive, self.max_body)
            data = _submit_request(body) if body is not None else None
            if data is None:
                return await self.app(scope, replay, send)
        try:
            if project_id:
                claimed = await labeling.claim_task(int(project_id), user, self.sweep_every)
                if claimed is None:
                    return await _respond(send, 204, b"")
                return await _respond(send, 200, _encode(claimed))
            if action == "skip":
                return await _respond(send, 200, _encode(await labeling.skip_task(int(assignment_id), user)))
            return await _respond(send, 200, _encode(await labeling.submit_response(int(assignment_id), user, data)))
        except Exception as exc:
            known = errors.as_quorum_error(exc)
            if known is None:
                log.exception("%s %s", scope["method"], scope["path"])
                return await _respond(send, 500, INTERNAL_ERROR)
            return await _respond(send, known.status_code, _encode(errors.error_body(known)))


def _token_user(headers) -> int | None:
    """The user behind a valid bearer token; None for anything litestar should answer (and explain)."""
    for name, value in headers:
        if name == b"authorization":
            token = bearer_token(value.decode("latin-1"))
            try:
                return users.user_for_token(token) if token else None
            except QuorumError:
                return None
    return None


async def _body(receive, limit: int):
    """The whole body (None past `limit` or if the client left) and a receive that replays it."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None, receive
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay():
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return (body if size <= limit else None), replay


def _submit_request(body: bytes) -> labeling.SubmitRequest | None:
    try:
        return _decode_submit(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


async def _respond(send, status: int, body: bytes) -> None:
    headers = [] if status == 204 else [(b"content-length", str(len(body)).encode()), *JSON_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
