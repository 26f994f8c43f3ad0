"""Setup step: the guidelines in markdown with a live preview; saving them makes a new project version. Beside the
editor, the taskers' feedback on the instructions from the latest calibration rounds."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from server.core import versions
from server.errors import Invalid
from server.models import Project
from server.web.ui import quality, steps
from server.web.ui.render import fragment, guidelines_html

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/projects/{project_id:int}/setup/guidelines", sync_to_thread=True, name="setup-guidelines")
def guidelines_page(request: HTMXRequest, project_id: int, user: int) -> Template:
    project = steps.owner_project(user, project_id)
    return _editor(request, project, user, project.guidelines)


@post("/projects/{project_id:int}/setup/guidelines", sync_to_thread=True, status_code=200,
      name="setup-guidelines-save")
def save_guidelines(request: HTMXRequest, project_id: int, user: int, data: Form) -> Template:
    project = steps.owner_project(user, project_id)
    text = str(data.get("guidelines", "")).replace("\r\n", "\n")
    if text == project.guidelines:
        return _editor(request, project, user, text, notice=f"Nothing changed; still version {project.version}.")
    try:
        project = versions.edit(project, versions.ProjectEdit(guidelines=text), user)
    except Invalid as exc:
        return _editor(request, project, user, text, status_code=exc.status_code,
                       error={"field": exc.field, "message": exc.message})
    return _editor(request, project, user, text, notice=f"Saved as version {project.version}.")


@post("/projects/{project_id:int}/setup/guidelines/preview", sync_to_thread=True, status_code=200,
      name="setup-guidelines-preview")
def preview_guidelines(project_id: int, user: int, data: Form) -> Template:
    """The markdown as taskers will see it (raw HTML escaped), swapped in as the owner types."""
    steps.owner_project(user, project_id)
    return fragment("partials/setup/guidelines_preview.html",
                    rendered=guidelines_html(str(data.get("guidelines", ""))))


def _editor(request: HTMXRequest, project: Project, user: int, text: str, status_code: int = 200,
            **found: Any) -> Template:
    return steps.respond(request, project, user, "guidelines", "owner/setup/guidelines.html",
                         "partials/setup/guidelines_form.html", status_code=status_code, text=text,
                         rendered=guidelines_html(text), instruction_feedback=quality.instruction_feedback(project),
                         **{"error": None, "notice": None, **found})
