"""Setup step: price per task, overlap and number of tasks, with the cost estimate (price × overlap × tasks).

The estimate follows the inputs as the owner types (an htmx GET of the estimate fragment);
saving stores price and overlap on the project (no new version: they are not instructions).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from server.core import tasks, versions
from server.errors import Invalid
from server.models import Project
from server.web.ui import steps
from server.web.ui.render import fragment

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def estimate(price_cents: int | None, overlap: int | None, count: int | None) -> dict:
    """The cost of `count` tasks answered `overlap` times at `price_cents` each (None where an input is unusable)."""
    known = None not in (price_cents, overlap, count)
    cents = price_cents * overlap * count if known else None
    return {"price_cents": price_cents, "overlap": overlap, "tasks": count, "cents": cents,
            "answers": overlap * count if known else None,
            "money": f"${cents / 100:,.2f}" if cents is not None else None}


@get("/projects/{project_id:int}/setup/price", sync_to_thread=True, name="setup-price")
def price_page(request: HTMXRequest, project_id: int, user: int) -> Template:
    project = steps.owner_project(user, project_id)
    values = {"price_cents": str(project.price_cents), "overlap": str(project.overlap),
              "tasks": str(_waiting(project))}
    return _form(request, project, user, values)


@get("/projects/{project_id:int}/setup/price/estimate", sync_to_thread=True, name="setup-price-estimate")
def estimate_fragment(project_id: int, user: int, price_cents: str = "", overlap: str = "",
                      tasks: str = "") -> Template:
    steps.owner_project(user, project_id)
    return fragment("partials/setup/estimate.html", estimate=estimate(_number(price_cents), _number(overlap),
                                                                       _number(tasks)))


@post("/projects/{project_id:int}/setup/price", sync_to_thread=True, status_code=200, name="setup-price-save")
def save_price(request: HTMXRequest, project_id: int, user: int, data: Form) -> Template:
    project = steps.owner_project(user, project_id)
    values = {k: str(data.get(k, "")).strip() for k in ("price_cents", "overlap", "tasks")}
    try:
        price, overlap = _required(values, "price_cents"), _required(values, "overlap")
        if _number(values["tasks"]) is None or _number(values["tasks"]) < 0:
            raise Invalid("give the number of tasks as a whole number", field="tasks")
        project = versions.edit(project, versions.ProjectEdit(price_cents=price, overlap=overlap), user)
    except Invalid as exc:
        return _form(request, project, user, values, status_code=exc.status_code,
                     error={"field": exc.field, "message": exc.message})
    return _form(request, project, user, values, notice="Saved the price and overlap.")


def _form(request: HTMXRequest, project: Project, user: int, values: dict, status_code: int = 200,
          **found: Any) -> Template:
    return steps.respond(request, project, user, "price", "owner/setup/price.html", "partials/setup/price_form.html",
                         status_code=status_code, values=values, waiting=_waiting(project),
                         estimate=estimate(*(_number(values[k]) for k in ("price_cents", "overlap", "tasks"))),
                         **{"error": None, "notice": None, **found})


def _waiting(project: Project) -> int:
    return tasks.counts(project)["unbatched"]


def _number(text: str) -> int | None:
    try:
        return int(text.strip())
    except (ValueError, AttributeError):
        return None


def _required(values: dict, field: str) -> int:
    number = _number(values[field])
    if number is None:
        raise Invalid(f"must be a whole number, got {values[field]!r}", field=field)
    return number
