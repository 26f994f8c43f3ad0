"""Wire the litestar application: routes, auth, sessions, CSRF, templates, static files, errors."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import quote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.logging.config import LoggingConfig
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin
from litestar.plugins.htmx import ClientRedirect, HTMXPlugin, HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from server import plugins
from server.boot import secret_key
from server.config import REPO_ROOT, Config
from server.web import errors
from server.web.api import router as api_router
from server.web.auth import LoginRequired
from server.web.media import serve_media
from server.web.ui import router as ui_router

STATIC = Path(__file__).resolve().parent.parent / "static"


def template_environment() -> Environment:
    """Our templates first, then each plugin's own (a plugin can add, not silently replace)."""
    dirs = [str(REPO_ROOT / "templates"), *plugins.registry().template_dirs]
    return Environment(loader=ChoiceLoader([FileSystemLoader(d) for d in dirs]),
                       autoescape=select_autoescape(["html"]), auto_reload=False)


def _static_routes() -> list:
    """Our files at /static, each plugin's at /static/<name>/."""
    routes = [create_static_files_router(path=f"/static/{name}", directories=[directory], name=f"static-{name}")
              for name, directory in plugins.registry().static_dirs.items()]
    return [*routes, create_static_files_router(path="/static", directories=[STATIC])]


def _to_login(request: Request, _: LoginRequired) -> Response:
    if isinstance(request, HTMXRequest) and request.htmx:   # a swap must not show the login page inside a fragment
        return ClientRedirect(f"/login?next={quote(request.htmx.current_url_abs_path or '/')}")
    return Redirect(f"/login?next={request.url.path}")


def create_app(config: Config) -> Litestar:
    secret = hashlib.sha256(secret_key(config).encode()).digest()   # 32 bytes, whatever was configured
    app = Litestar(
        route_handlers=[api_router, ui_router, serve_media, *_static_routes()],
        middleware=[CookieBackendConfig(secret=secret, max_age=config.auth.session_days * 86400,
                                        exclude=["^/api/", "^/static/", "^/schema"]).middleware],
        csrf_config=CSRFConfig(secret=secret.hex(), exclude=["^/api/", "^/schema"], cookie_httponly=False),
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(template_environment())),
        plugins=[HTMXPlugin()],
        openapi_config=OpenAPIConfig(title="Quorum", version="1", path="/schema", render_plugins=[
            # Redoc from our own static files: the schema page must work with no internet.
            RedocRenderPlugin(js_url="/static/redoc-2.5.4.standalone.js", google_fonts=False, favicon="")]),
        exception_handlers={**errors.HANDLERS, LoginRequired: _to_login},
        logging_config=LoggingConfig(log_exceptions="always", disable_stack_trace={404, 401, 403, 409, 422, 400}),
        debug=False,
    )
    app.state.config = config
    return app
