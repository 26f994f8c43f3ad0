"""Setup step: describe the project: its name and description (the task type is fixed once created)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from server import plugins
from server.core import versions
from server.errors import Invalid
from server.models import Project
from server.web.ui import steps

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/projects/{project_id:int}/setup/describe", sync_to_thread=True, name="setup-describe")
def describe_page(request: HTMXRequest, project_id: int, user: int) -> Template:
    project = steps.owner_project(user, project_id)
    return _form(request, project, user, {"name": project.name, "description": project.description})


@post("/projects/{project_id:int}/setup/describe", sync_to_thread=True, status_code=200, name="setup-describe-save")
def save_description(request: HTMXRequest, project_id: int, user: int, data: Form) -> Template:
    project = steps.owner_project(user, project_id)
    values = {"name": str(data.get("name", "")), "description": str(data.get("description", ""))}
    change = versions.ProjectEdit(
        name=values["name"] if values["name"] != project.name else None,
        description=values["description"] if values["description"] != project.description else None)
    if change.name is None and change.description is None:
        return _form(request, project, user, values, notice="Nothing changed.")
    try:
        if change.name is not None and not change.name.strip():
            raise Invalid("name must not be empty", field="name")
        project = versions.edit(project, change, user)
    except Invalid as exc:
        return _form(request, project, user, values, status_code=exc.status_code,
                     error={"field": exc.field, "message": exc.message})
    return _form(request, project, user, values, notice=f"Saved (version {project.version}).")


def _form(request: HTMXRequest, project: Project, user: int, values: dict, status_code: int = 200,
          **found: Any) -> Template:
    task_type = plugins.registry().task_types.get(project.task_type)
    return steps.respond(request, project, user, "describe", "owner/setup/describe.html",
                         "partials/setup/describe_form.html", status_code=status_code, values=values,
                         task_type={"name": project.task_type, "title": task_type.title if task_type else "",
                                    "description": task_type.description if task_type else ""},
                         **{"error": None, "notice": None, **found})
