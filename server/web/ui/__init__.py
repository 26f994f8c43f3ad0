"""The htmx pages: login, tasker labeling, owner projects, dashboards and review."""

from litestar import Router

router = Router(path="/", route_handlers=[])
