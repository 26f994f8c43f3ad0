"""Setup step: launch: send the unbatched items to taskers as a production batch.

The core refuses (Conflict) while the project requires a passed calibration batch; the
page shows its message.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from server.core import batches, projects, tasks
from server.errors import QuorumError
from server.models import Project
from server.web.ui import steps
from server.web.ui.pricing import estimate

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/projects/{project_id:int}/setup/launch", sync_to_thread=True, name="setup-launch")
def launch_page(request: HTMXRequest, project_id: int, user: int) -> Template:
    project = steps.owner_project(user, project_id)
    return _summary(request, project, user)


@post("/projects/{project_id:int}/setup/launch", sync_to_thread=True, status_code=200, name="setup-launch-go")
def launch(request: HTMXRequest, project_id: int, user: int, data: Form) -> Template | Redirect | ClientRedirect:
    project = steps.owner_project(user, project_id)
    size_text = str(data.get("size", "")).strip()
    try:
        size = int(size_text) if size_text else None
    except ValueError:
        return _summary(request, project, user, size_text, status_code=422,
                        error={"field": "size", "message": f"must be a whole number, got {size_text!r}"})
    try:
        batch = batches.create(project, batches.BatchRequest(kind="production", size=size), user)
    except QuorumError as exc:
        return _summary(request, project, user, size_text, status_code=exc.status_code,
                        error={"field": exc.field, "message": exc.message})
    target = f"/projects/{project.id}?sent={batch.size}"
    return ClientRedirect(target) if request.htmx else Redirect(target, status_code=303)


def _summary(request: HTMXRequest, project: Project, user: int, size: str = "", status_code: int = 200,
             error: dict | None = None) -> Template:
    waiting = tasks.counts(project)["unbatched"]
    return steps.respond(request, project, user, "launch", "owner/setup/launch.html", "partials/setup/launch_form.html",
                         status_code=status_code, waiting=waiting, size=size, error=error,
                         criteria=len(projects.criteria(project).views), judges=list(project.judges or []),
                         locked=batches.production_locked(project), price_cents=project.price_cents,
                         overlap=project.overlap, estimate=estimate(project.price_cents, project.overlap,
                                                                    int(size) if size.isdigit() else waiting))
