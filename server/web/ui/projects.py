"""Pages: an owner creates a project (from a task type or a template), watches its dashboard, sends items out
as a batch and downloads the export."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Stream, Template

from server import plugins
from server.core import access, batches, export, projects, tasks, users
from server.core.projects import ProjectSettings
from server.errors import Forbidden, Invalid, NotFound, QuorumError
from server.models import Space
from server.web.streaming import threaded
from server.web.ui import steps
from server.web.ui.render import guidelines_html, page, viewer

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
BLANK = {"name": "", "task_type": "", "description": "", "guidelines": "", "overlap": "", "price_cents": "0",
         "options": "", "space_id": "", "require_calibration": "1", "template": ""}


@get("/projects/new", sync_to_thread=True, name="project-new")
def new_project(request: Request, user: int, template: str = "", name: str = "", space_id: str = "") -> Template:
    """The form; with ?template= it is filled from that template (the select asks for it as the owner picks)."""
    values = {**BLANK, "name": name, "space_id": space_id}
    if not template:
        return _form(request, user, values)
    chosen = plugins.registry().templates.get(template)
    if chosen is None:
        return _form(request, user, values, {"field": "template", "message": f"unknown template {template!r}"})
    values.update(template=chosen.name, task_type=chosen.task_type, description=chosen.description,
                  guidelines=chosen.guidelines, overlap=str(chosen.overlap), price_cents=str(chosen.price_cents),
                  options=msgspec.json.format(msgspec.json.encode(chosen.options), indent=2).decode()
                  if chosen.options else "")
    return _form(request, user, values)


@post("/projects", sync_to_thread=True, name="project-create")
def create_project(request: Request, user: int, data: Form) -> Template | Redirect:
    values = {**BLANK, **{k: str(v) for k, v in data.items() if k in BLANK},
              "require_calibration": "1" if "require_calibration" in data else ""}   # unticked boxes send nothing
    try:
        space = _owned_space(user, values["space_id"])
        settings = ProjectSettings(
            name=values["name"], task_type=values["task_type"], description=values["description"],
            guidelines=values["guidelines"], options=_options(values["options"]),
            overlap=_integer(values["overlap"], "overlap"),
            price_cents=_integer(values["price_cents"], "price_cents") or 0,
            require_calibration=bool(values["require_calibration"]), template=values["template"] or None)
        defaults = request.app.state.config.assignment
        project = projects.create(settings, user, space, defaults.default_overlap, defaults.lease_minutes)
    except Invalid as exc:
        return _form(request, user, values, {"field": exc.field, "message": exc.message})
    return Redirect(f"/projects/{project.id}", status_code=303)


@get("/projects/{project_id:int}", sync_to_thread=True, name="project-dashboard")
def dashboard(project_id: int, user: int, sent: int | None = None, reviewed: bool = False) -> Template:
    project, role = access.project_for(user, project_id, "reviewer")
    notice = f"Sent {sent} items to taskers." if sent else "No more tasks Ready for Review." if reviewed else None
    return _dashboard(project, role, user, notice=notice)


@post("/projects/{project_id:int}/batches", sync_to_thread=True, name="project-batch")
def send_batch(project_id: int, user: int, data: Form) -> Template | Redirect:
    project, role = access.project_for(user, project_id, "owner")
    try:
        size = _integer(str(data.get("size", "")), "size")
        batch = batches.create(project, batches.BatchRequest(kind=str(data.get("kind", "production")), size=size), user)
    except QuorumError as exc:
        return _dashboard(project, role, user, error={"field": exc.field, "message": exc.message},
                          status_code=exc.status_code)
    return Redirect(f"/projects/{project.id}?sent={batch.size}", status_code=303)


def _dashboard(project, role: str, user: int, notice: str | None = None, error: dict | None = None,
               status_code: int = 200) -> Template:
    counts = tasks.counts(project)
    return page("owner/dashboard.html", status_code=status_code, me=viewer(user), role=role, counts=counts,
                steps=steps.bar(project, "") if role == "owner" else None,
                total=sum(counts.values()), project=_summary(project), guidelines=guidelines_html(project.guidelines),
                exporters=sorted(plugins.registry().exporters), notice=notice, error=error)


@get("/projects/{project_id:int}/{filename:str}", name="project-export")
async def download(project_id: int, filename: str, user: int) -> Stream:
    """export.json, export.jsonl, export.csv: the API's export, for a logged-in reviewer or owner."""
    stem, dot, fmt = filename.partition(".")
    if stem != "export" or not dot:
        raise NotFound(f"no page {filename!r} in project {project_id}")
    project, _ = await anyio.to_thread.run_sync(access.project_for, user, project_id, "reviewer")
    exporter = plugins.registry().exporter(fmt)
    return Stream(threaded(lambda: export.stream(project, fmt)), media_type=exporter.media_type,
                  headers={"content-disposition": f'attachment; filename="project-{project.id}{exporter.suffix}"'})


def _form(request: Request, user: int, values: dict, error: dict | None = None) -> Template:
    me = viewer(user)
    owned = [space_id for space_id, role in me.roles.items() if role == "owner"]
    if not owned:
        raise Forbidden("creating a project needs the owner role in a space")
    spaces = list(Space.select(Space.id, Space.name).where(Space.id.in_(owned)).order_by(Space.name).tuples())
    types = [{"name": t.name, "title": t.title, "description": t.description}
             for t in sorted(plugins.registry().task_types.values(), key=lambda t: t.title)]
    templates = [{"name": t.name, "title": t.title, "task_type": t.task_type, "description": t.description}
                 for t in sorted(plugins.registry().templates.values(), key=lambda t: t.title)]
    return page("owner/project_new.html", status_code=422 if error else 200, me=me, values=values, error=error,
                spaces=spaces, task_types=types, templates=templates,
                default_overlap=request.app.state.config.assignment.default_overlap)


def _owned_space(user: int, space_id: str) -> Space:
    space = Space.get_or_none(Space.id == int(space_id)) if space_id.isdigit() else users.default_space()
    if space is None:
        raise Invalid(f"space {space_id} not found", field="space_id")
    users.require_role(user, space.id, "owner")
    return space


def _options(text: str) -> dict:
    if not text.strip():
        return {}
    try:
        options = msgspec.json.decode(text.encode())
    except msgspec.DecodeError as exc:
        raise Invalid(f"not valid JSON: {exc}", field="options") from None
    if not isinstance(options, dict):
        raise Invalid("give a JSON object, such as {\"classes\": [\"cat\", \"dog\"]}", field="options")
    return options


def _integer(text: str, field: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise Invalid(f"must be a whole number, got {text!r}", field=field) from None


def _summary(project) -> dict:
    return {"id": project.id, "name": project.name, "task_type": project.task_type,
            "description": project.description, "overlap": project.overlap, "price_cents": project.price_cents,
            "version": project.version, "require_calibration": project.require_calibration}
