"""Who is asking: bearer tokens for the API, the session cookie for pages; and role checks."""

from __future__ import annotations

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler

from server.core import users
from server.errors import Unauthorized


def api_user(request: Request) -> int:
    """The user id behind the request's bearer token (a dependency of every API route but login)."""
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        raise Unauthorized("send a bearer token: Authorization: Bearer <token> (POST /api/v1/auth/token)")
    return users.user_for_token(token)


def bearer_token(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when it is not one."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class LoginRequired(NotAuthorizedException):
    """Raised by the page guard; the app turns it into a redirect to /login."""


def page_user(request: Request) -> int:
    user_id = request.session.get("user_id") if "session" in request.scope else None
    if not user_id:
        raise LoginRequired("log in first")
    return int(user_id)


def require_login(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if not connection.scope.get("session", {}).get("user_id"):
        raise LoginRequired("log in first")
