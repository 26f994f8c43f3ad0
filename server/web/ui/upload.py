"""Pages: upload a dataset, check the detected fields, id field and input mapping, then import it (and send it out).

The upload is stored under data_dir/uploads as <uuid><suffix>; the uuid is the token the
confirm step names, checked against a strict pattern so it can never point elsewhere.
The stored file is deleted once the import has run, whatever its outcome.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from server import plugins
from server.core import access, batches, imports, projects
from server.errors import Invalid, NotFound, QuorumError
from server.models import Project
from server.plugin_types import ResponseInvalid
from server.web.ui.render import page, page_or_fragment, viewer

MAX_UPLOAD = 4 * 1024**3
TOKEN = re.compile(r"^[0-9a-f]{32}$")
SUFFIX = re.compile(r"^\.[a-z0-9]{1,10}$")
STALE_SECONDS = 24 * 3600       # uploads never confirmed are removed after a day
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


@get("/projects/{project_id:int}/upload", sync_to_thread=True, name="project-upload")
def upload_form(project_id: int, user: int) -> Template:
    project, _ = access.project_for(user, project_id, "owner")
    return page("owner/upload.html", me=viewer(user), project=_summary(project), stage="form", error=None,
                suffixes=_suffixes())


@post("/projects/{project_id:int}/upload", sync_to_thread=True, status_code=200, request_max_body_size=MAX_UPLOAD,
      name="project-upload-detect")
def detect(request: HTMXRequest, project_id: int, user: int, data: Multipart) -> Template:
    project, _ = access.project_for(user, project_id, "owner")
    upload = data.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _detected(request, project, user, error="choose a file to upload (JSON array, JSONL or CSV)")
    directory = _uploads(request)
    _forget_stale(directory)
    path = imports.store_upload(iter(lambda: upload.file.read(1 << 20), b""), directory, _suffix(upload))
    try:
        _, records = imports.open_records(path, "", path.name)
        rt = projects.runtime(project)
        detection = _prefer_known(imports.detect(records(), rt.inputs), project)
    except (LookupError, ResponseInvalid, ValueError) as exc:
        path.unlink(missing_ok=True)
        message = exc.message if isinstance(exc, ResponseInvalid) else str(exc)
        return _detected(request, project, user, error=f"{upload.filename}: {message}")
    if detection.sampled == 0:
        path.unlink(missing_ok=True)
        return _detected(request, project, user, error=f"{upload.filename} holds no records")
    return _detected(request, project, user, token=path.stem, filename=upload.filename, detection=detection,
                     inputs=projects.runtime(project).inputs)


@post("/projects/{project_id:int}/upload/{token:str}/confirm", sync_to_thread=True, status_code=200,
      name="project-upload-confirm")
def confirm(request: HTMXRequest, project_id: int, token: str, user: int, data: Form) -> Template:
    project, _ = access.project_for(user, project_id, "owner")
    path = _stored(request, token)
    inputs = projects.runtime(project).inputs
    mapping = {e.name: str(data[f"map.{e.name}"]) for e in inputs if data.get(f"map.{e.name}")}
    context: dict[str, Any] = {"me": viewer(user), "project": _summary(project), "result": None, "error": None,
                               "sent": None, "send_error": None}
    try:
        context["result"] = imports.import_file(project, path, filename=path.name, actor=user,
                                                id_field=str(data.get("id_field") or "") or None,
                                                input_map=mapping or None)
    except Invalid as exc:
        context["error"] = {"message": exc.message, "field": exc.field, "errors": exc.extra.get("errors", [])}
    finally:
        path.unlink(missing_ok=True)
    if context["result"] is not None and data.get("send_now"):
        try:
            context["sent"] = batches.create(project, batches.BatchRequest(kind="production"), user).size
        except QuorumError as exc:
            context["send_error"] = exc.message
    return page_or_fragment(request, "owner/upload.html", "partials/upload_result.html", stage="result", **context)


def _detected(request: HTMXRequest, project: Project, user: int, error: str | None = None, **found: Any) -> Template:
    return page_or_fragment(request, "owner/upload.html", "partials/upload_detected.html", stage="detected",
                            me=viewer(user), project=_summary(project), error=error, suffixes=_suffixes(),
                            **{"token": None, "detection": None, "inputs": [], "filename": "", **found})


def _prefer_known(detection: imports.Detection, project: Project) -> imports.Detection:
    """The project's earlier id field and mapping win where this file has those fields too."""
    names = {f.name for f in detection.fields}
    if project.id_field in names:
        detection.id_field = project.id_field
    for entity, source in (project.input_map or {}).items():
        if source in names:
            detection.input_map[entity] = source
            if entity in detection.unmapped:
                detection.unmapped.remove(entity)
    return detection


def _uploads(request: Request) -> Path:
    directory = request.app.state.config.data_dir / "uploads"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _stored(request: Request, token: str) -> Path:
    """The stored upload a token names; the token is a bare uuid hex, so no path can be smuggled in."""
    if not TOKEN.match(token):
        raise NotFound("no such upload; upload the file again")
    found = [p for p in _uploads(request).glob(f"{token}.*") if p.is_file()]
    if len(found) != 1:
        raise NotFound("no such upload (it was imported already or has expired); upload the file again")
    return found[0]


def _suffix(upload: UploadFile) -> str:
    """The file's own suffix if an importer knows it, else one for its content type: importers choose by it."""
    suffix = Path(upload.filename).suffix.lower()
    known = {s for i in plugins.registry().importers.values() for s in i.suffixes}
    if SUFFIX.match(suffix) and suffix in known:
        return suffix
    try:
        return plugins.registry().importer_for(upload.content_type).suffixes[0]
    except LookupError:
        return suffix if SUFFIX.match(suffix) else ".upload"


def _suffixes() -> list[str]:
    return sorted({s for i in plugins.registry().importers.values() for s in i.suffixes})


def _forget_stale(directory: Path) -> None:
    cutoff = time.time() - STALE_SECONDS
    for path in directory.iterdir():
        if TOKEN.match(path.stem) and path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _summary(project: Project) -> dict:
    return {"id": project.id, "name": project.name}
