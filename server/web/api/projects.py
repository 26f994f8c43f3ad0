"""API: projects, their items (import), batches, task lists and export."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import anyio
import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.params import QueryParameter
from litestar.response import Stream

from server import plugins
from server.core import access, batches, export, imports, media, media_sources, projects, tasks, users, versions
from server.core.projects import ProjectSettings
from server.errors import Invalid
from server.models import Project
from server.web.streaming import threaded

MAX_UPLOAD = 4 * 1024**3
ZIP_TYPES = ("application/zip", "application/x-zip-compressed")


class ProjectCreate(ProjectSettings, kw_only=True, forbid_unknown_fields=True):
    space_id: int | None = None


class ProjectOut(msgspec.Struct, kw_only=True):
    id: int
    space_id: int
    name: str
    task_type: str
    description: str
    guidelines: str
    options: dict
    version: int
    role: str
    overlap: int | None = None
    lease_minutes: float | None = None
    price_cents: int | None = None
    require_calibration: bool | None = None
    judges: list[str] | None = None
    judge_settings: dict | None = None
    on_blocking_fail: str | None = None
    evaluation_rate: float | None = None
    calibration_bar: float | None = None
    id_field: str | None = None
    input_map: dict | None = None
    inputs: list[dict] = []
    outputs: list[dict] = []
    counts: dict[str, int] | None = None


class BatchOut(msgspec.Struct, kw_only=True):
    id: int
    project_id: int
    kind: str
    name: str
    priority: int
    size: int


def project_out(project: Project, role: str, with_counts: bool = False) -> ProjectOut:
    rt = projects.runtime(project)
    out = ProjectOut(id=project.id, space_id=project.space_id, name=project.name, task_type=project.task_type,
                     description=project.description, guidelines=project.guidelines, options=project.options,
                     version=project.version, role=role, inputs=msgspec.to_builtins(rt.inputs),
                     outputs=msgspec.to_builtins(rt.outputs))
    if role != "tasker":   # settings, mapping and progress are for the people who run the project
        out.overlap, out.lease_minutes = project.overlap, project.lease_seconds / 60
        out.price_cents, out.require_calibration = project.price_cents, project.require_calibration
        out.judges, out.id_field, out.input_map = project.judges, project.id_field, project.input_map
        out.judge_settings, out.on_blocking_fail = project.judge_settings, project.on_blocking_fail
        out.evaluation_rate, out.calibration_bar = project.evaluation_rate, project.calibration_bar
        if with_counts:
            out.counts = tasks.counts(project)
    return out


def _parse_map(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    mapping = {}
    for pair in pairs:
        entity, sep, source = pair.partition("=")
        if not sep or not entity or not source:
            raise Invalid(f"map takes entity=field, got {pair!r}", field="map")
        mapping[entity] = source
    return mapping


class ProjectController(Controller):
    path = "/projects"

    @post(sync_to_thread=True, status_code=201, summary="Create a project (task type, options such as classes, overlap, …)")
    def create_project(self, request: Request, data: ProjectCreate, user: int) -> ProjectOut:
        space = users.space_for_new_project(user, data.space_id)
        settings = ProjectSettings(**{f: getattr(data, f) for f in ProjectSettings.__struct_fields__})
        defaults = request.app.state.config.assignment
        project = projects.create(settings, user, space, defaults.default_overlap, defaults.lease_minutes)
        return project_out(project, "owner")

    @get(sync_to_thread=True, summary="Projects in the caller's spaces")
    def list_projects(self, user: int) -> list[ProjectOut]:
        roles = users.roles_of(user)
        return [project_out(p, roles[p.space_id]) for p in projects.visible_to(roles)]

    @get("/{project_id:int}", sync_to_thread=True, summary="One project; owners and reviewers also see counts")
    def get_project(self, project_id: int, user: int) -> ProjectOut:
        project, role = access.project_for(user, project_id, "tasker")
        return project_out(project, role, with_counts=True)

    @patch("/{project_id:int}", sync_to_thread=True,
           summary="Edit a project; changing instructions, criteria or judges makes a new version")
    def edit_project(self, project_id: int, data: versions.ProjectEdit, user: int) -> ProjectOut:
        project, _ = access.project_for(user, project_id, "owner")
        return project_out(versions.edit(project, data, user), "owner", with_counts=True)

    @post("/{project_id:int}/items", request_max_body_size=MAX_UPLOAD, status_code=201,
          summary="Import items: a JSON array, JSONL or CSV body (by Content-Type), or a zip of one such "
                  "file and the images its items name (application/zip; `dataset` names the file); all or nothing")
    async def import_items(self, request: Request, project_id: int, user: int,
                           id_field: str | None = None, dataset: str | None = None,
                           input_map: list[str] | None = QueryParameter(name="map", default=None)) -> imports.ImportResult:
        project, _ = await anyio.to_thread.run_sync(access.project_for, user, project_id, "owner")
        mapping = _parse_map(input_map)
        content_type = request.headers.get("content-type", "")
        config = request.app.state.config
        path = await _spool(request)
        try:
            if content_type.split(";")[0].strip().lower() in ZIP_TYPES:
                return await anyio.to_thread.run_sync(lambda: media_sources.import_zip(
                    project, path, config.data_dir, limits=media.Limits.of(config.media), dataset=dataset,
                    id_field=id_field, input_map=mapping, actor=user))
            return await anyio.to_thread.run_sync(lambda: imports.import_file(
                project, path, media_type=content_type, id_field=id_field, input_map=mapping, actor=user))
        finally:
            path.unlink(missing_ok=True)

    @post("/{project_id:int}/media", request_max_body_size=MAX_UPLOAD, status_code=201,
          summary="Add or replace a project's media: a zip of images, stored under their paths in the zip")
    async def store_media(self, request: Request, project_id: int, user: int) -> media.Stored:
        project, _ = await anyio.to_thread.run_sync(access.project_for, user, project_id, "owner")
        config = request.app.state.config
        path = await _spool(request)
        try:
            return await anyio.to_thread.run_sync(lambda: media_sources.store_zip(
                project.id, path, config.data_dir, limits=media.Limits.of(config.media), actor=user))
        finally:
            path.unlink(missing_ok=True)

    @post("/{project_id:int}/items/detect", request_max_body_size=MAX_UPLOAD, status_code=200,
          summary="Detect a dataset's fields, id field and input mapping without importing")
    async def detect(self, request: Request, project_id: int, user: int) -> imports.Detection:
        project, _ = await anyio.to_thread.run_sync(access.project_for, user, project_id, "owner")
        path = await _spool(request)
        try:
            def run():
                _, records = imports.open_records(path, request.headers.get("content-type", ""))
                return imports.detect(records(), projects.runtime(project).inputs, project.id_field or None)
            return await anyio.to_thread.run_sync(run)
        except LookupError as exc:
            raise Invalid(str(exc), field="Content-Type") from exc
        finally:
            path.unlink(missing_ok=True)

    @post("/{project_id:int}/batches", sync_to_thread=True, status_code=201, summary="Send items out as a batch (kind, size or ids)")
    def create_batch(self, project_id: int, data: batches.BatchRequest, user: int) -> BatchOut:
        project, _ = access.project_for(user, project_id, "owner")
        batch = batches.create(project, data, user)
        return BatchOut(id=batch.id, project_id=project.id, kind=batch.kind, name=batch.name,
                        priority=batch.priority, size=batch.size)

    @get("/{project_id:int}/tasks", sync_to_thread=True, summary="Tasks by status, a page at a time")
    def list_tasks(self, project_id: int, user: int, status: str | None = None, kind: str | None = None,
                   page: int = 1, per_page: int = 50) -> tasks.Page:
        project, _ = access.project_for(user, project_id, "reviewer")
        return tasks.page(project, status, page, per_page, kind)

    @get("/{project_id:int}/export", summary="Download results, streamed (format json, jsonl or csv)")
    async def export(self, project_id: int, user: int, format: str = "json") -> Stream:
        project, _ = await anyio.to_thread.run_sync(access.project_for, user, project_id, "reviewer")
        exporter = plugins.registry().exporter(format)
        filename = f"project-{project.id}{exporter.suffix}"
        return Stream(threaded(lambda: export.stream(project, format)), media_type=exporter.media_type,
                      headers={"content-disposition": f'attachment; filename="{filename}"'})


async def _spool(request: Request) -> Path:
    """Write the request body to a temporary file as it arrives (never whole in memory)."""
    directory = request.app.state.config.data_dir / "uploads"
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, suffix=".upload")
    with os.fdopen(fd, "wb") as out:
        async for chunk in request.stream():
            out.write(chunk)
    return Path(name)
