"""Setup step: the labeling page as a tasker will see it, for the project's first item, read-only."""

from __future__ import annotations

from litestar import get
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from server.models import Task
from server.web.ui import steps
from server.web.ui.answers import form_context
from server.web.ui.render import guidelines_html


@get("/projects/{project_id:int}/setup/preview", sync_to_thread=True, name="setup-preview")
def preview_page(request: HTMXRequest, project_id: int, user: int) -> Template:
    project = steps.owner_project(user, project_id)
    first = Task.select(Task.id, Task.ext_id, Task.data).where(Task.project == project.id).order_by(Task.id).first()
    task_id, ext_id, data = (first.id, first.ext_id, first.data) if first else (0, "", {})
    return steps.respond(request, project, user, "preview", "owner/setup/preview.html", "partials/setup/preview.html",
                         has_item=first is not None, ext_id=ext_id, guidelines=guidelines_html(project.guidelines),
                         lease_minutes=round(project.lease_seconds / 60), assignment_id=0, done=0, preview=True,
                         error=None, notice=None, **form_context(project, task_id, ext_id, data, None))
