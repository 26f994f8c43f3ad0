"""API: log in for a bearer token; who am I."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get, post

from server.core import users
from server.models import Space, User


class TokenRequest(msgspec.Struct, kw_only=True):
    username: str
    password: str


class TokenOut(msgspec.Struct, kw_only=True):
    token: str
    token_type: str = "bearer"
    user_id: int
    username: str


class MeOut(msgspec.Struct, kw_only=True):
    id: int
    username: str
    roles: dict[str, str]     # space name -> role


@post("/auth/token", sync_to_thread=True, status_code=200,
      summary="Exchange a username and password for a bearer token")
def login(request: Request, data: TokenRequest) -> TokenOut:
    user = users.authenticate(data.username, data.password)
    days = request.app.state.config.auth.token_days
    return TokenOut(token=users.issue_token(user, days=days), user_id=user.id, username=user.username)


class PingOut(msgspec.Struct, kw_only=True):
    user_id: int


class AccountController(Controller):
    path = "/"

    @get("/me", sync_to_thread=True, summary="The caller: id, name and role per space")
    def me(self, user: int) -> MeOut:
        roles = users.roles_of(user)
        names = dict(Space.select(Space.id, Space.name).where(Space.id.in_(list(roles) or [0])).tuples())
        username = User.select(User.username).where(User.id == user).scalar()
        return MeOut(id=user, username=username, roles={names[s]: r for s, r in roles.items()})

    @get("/ping", sync_to_thread=False,
         summary="The cheapest authenticated call: checks the token, touches nothing else (benchmark floor)")
    def ping(self, user: int) -> PingOut:
        return PingOut(user_id=user)
