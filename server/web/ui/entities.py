"""Setup step: the datapoint structure: input entities and the dataset field each comes from, output entities.

Outputs are the task type's to define (read-only here); the input mapping can be changed
(projects.set_input_map): the items keep their data and are read through the new map.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from server.core import projects
from server.errors import Invalid
from server.models import Project
from server.web.ui import steps

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/projects/{project_id:int}/setup/entities", sync_to_thread=True, name="setup-entities")
def entities_page(request: HTMXRequest, project_id: int, user: int) -> Template:
    project = steps.owner_project(user, project_id)
    return _structure(request, project, user)


@post("/projects/{project_id:int}/setup/entities", sync_to_thread=True, status_code=200, name="setup-entities-save")
def save_mapping(request: HTMXRequest, project_id: int, user: int, data: Form) -> Template:
    project = steps.owner_project(user, project_id)
    inputs = projects.runtime(project).inputs
    mapping = {e.name: str(data.get(f"map.{e.name}", "")) for e in inputs}
    try:
        project = projects.set_input_map(project, mapping, user)
    except Invalid as exc:
        return _structure(request, project, user, mapping, status_code=exc.status_code,
                          error={"field": exc.field, "message": exc.message})
    return _structure(request, project, user, notice="Saved: taskers see the inputs from these fields now.")


def _structure(request: HTMXRequest, project: Project, user: int, mapping: dict | None = None,
               status_code: int = 200, **found: Any) -> Template:
    rt = projects.runtime(project)
    mapping = mapping if mapping is not None else dict(project.input_map or {})
    inputs = [{"name": e.name, "type": e.type, "label": e.label or e.name,
               "source": mapping.get(e.name, e.name)} for e in rt.inputs]
    outputs = [{"name": e.name, "type": e.type, "label": e.label or e.name, "required": e.required,
                "choices": list(e.choices), "min_words": e.min_words, "max_words": e.max_words,
                "minimum": e.minimum, "maximum": e.maximum} for e in rt.outputs]
    return steps.respond(request, project, user, "entities", "owner/setup/entities.html",
                         "partials/setup/entities_form.html", status_code=status_code, inputs=inputs,
                         outputs=outputs, fields=projects.dataset_fields(project),
                         **{"error": None, "notice": None, **found})
