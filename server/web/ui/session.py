"""Pages: log in with a username and password (a session cookie), log out."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from server.core import users
from server.errors import Unauthorized
from server.web.ui.render import page, safe_next

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/login", sync_to_thread=False, name="login")
def login_form(request: Request) -> Template:
    return page("login.html", next=safe_next(request.query_params.get("next")), username="", error=None)


@post("/login", sync_to_thread=True, name="login-submit")
def login(request: Request, data: Form) -> Template | Redirect:
    username, password = str(data.get("username", "")), str(data.get("password", ""))
    target = safe_next(data.get("next"))
    try:
        user = users.authenticate(username, password)
    except Unauthorized as exc:
        return page("login.html", status_code=401, next=target, username=username, error=exc.message)
    request.set_session({"user_id": user.id})
    return Redirect(target, status_code=303)


@post("/logout", sync_to_thread=False, name="logout")
def logout(request: Request) -> Redirect:
    request.clear_session()
    return Redirect("/login", status_code=303)
