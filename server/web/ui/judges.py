"""Setup: which judges check every answer, the Ollama model for this project, and what a blocking fail does.

A section of the criteria step. Saving goes through versions.edit with only what changed,
so a save that changes nothing makes no new version.
"""

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
MODEL_JUDGE = "ollama"
ON_FAIL = (("rework", "Back to the tasker for rework, with the judges' comments"),
           ("review", "On to review, marked failed"))


def section(project: Project, error: dict | None = None, notice: str | None = None, posted: dict | None = None) -> dict:
    """What the judges section shows: every loaded judge, which run here, the model, the blocking-fail rule."""
    chosen = posted["judges"] if posted else list(project.judges or [])
    model = posted["model"] if posted else (project.judge_settings or {}).get(MODEL_JUDGE, {}).get("model", "")
    registry = plugins.registry().judges
    return {"available": [{"name": name, "on": name in chosen,
                           "when": "at submit" if registry[name].cheap else "on the queue, after submit"}
                          for name in sorted(registry)],
            "has_model_judge": MODEL_JUDGE in registry, "model_judge": MODEL_JUDGE, "model": model,
            "on_blocking_fail": posted["on_blocking_fail"] if posted else project.on_blocking_fail,
            "choices": ON_FAIL, "error": error, "notice": notice}


@get("/projects/{project_id:int}/setup/judges", sync_to_thread=True, name="setup-judges")
def judges_page(request: HTMXRequest, project_id: int, user: int) -> Template:
    return _section(request, steps.owner_project(user, project_id), user)


@post("/projects/{project_id:int}/setup/judges", sync_to_thread=True, status_code=200, name="setup-judges-save")
def save_judges(request: HTMXRequest, project_id: int, user: int, data: Form) -> Template:
    project = steps.owner_project(user, project_id)
    raw = data.get("judges")
    posted = {"judges": [str(j) for j in (raw if isinstance(raw, list) else [] if raw in (None, "") else [raw])],
              "model": str(data.get("model", "")).strip(), "on_blocking_fail": str(data.get("on_blocking_fail", ""))}
    try:
        change = _change(project, posted)
        if change is None:
            return _section(request, project, user, notice="Nothing changed.")
        project = versions.edit(project, change, user)
    except Invalid as exc:
        return _section(request, project, user, status_code=exc.status_code, posted=posted,
                        error={"field": exc.field, "message": exc.message})
    return _section(request, project, user, notice=f"Saved as version {project.version}.")


def _change(project: Project, posted: dict) -> versions.ProjectEdit | None:
    if not posted["judges"]:
        raise Invalid("choose at least one judge", field="judges")
    settings = {name: dict(values) for name, values in (project.judge_settings or {}).items()}
    own = settings.setdefault(MODEL_JUDGE, {})
    if posted["model"]:
        own["model"] = posted["model"]
    else:
        own.pop("model", None)
    if not own:
        settings.pop(MODEL_JUDGE)
    change = versions.ProjectEdit(
        judges=posted["judges"] if posted["judges"] != list(project.judges or []) else None,
        judge_settings=settings if settings != (project.judge_settings or {}) else None,
        on_blocking_fail=(posted["on_blocking_fail"] if posted["on_blocking_fail"] != project.on_blocking_fail
                          else None))
    if all(getattr(change, f) is None for f in change.__struct_fields__):
        return None
    return change


def _section(request: HTMXRequest, project: Project, user: int, status_code: int = 200, **found: Any) -> Template:
    return steps.respond(request, project, user, "criteria", "owner/setup/judges.html", "partials/setup/judges.html",
                         status_code=status_code, judges=section(project, **found))
