"""Serving a project's media: `GET /media/{project_id}/{path}` for pages (session cookie) and API clients (bearer token).

Owners and reviewers of the project's space see any of its files; a tasker only the files
named by a task they hold or have answered; anyone else, and any file that is not there,
gets the same 404. Files go out with their type, `Cache-Control: private`, an ETag (a
matching If-None-Match gets 304), `nosniff` and a sandboxing CSP (an SVG cannot run script).
"""

from __future__ import annotations

import os

from litestar import Request, Response, get
from litestar.datastructures import ETag
from litestar.response import File

from server.core import access, media, projects
from server.errors import Unauthorized
from server.web.auth import api_user

HEADERS = {
    "cache-control": "private, max-age=3600",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
}


def _user(request: Request) -> int:
    """The bearer token's user, else the session's; neither is a 401 (an image tag cannot follow a login redirect)."""
    if request.headers.get("authorization"):
        return api_user(request)
    user_id = request.scope.get("session", {}).get("user_id") if "session" in request.scope else None
    if not user_id:
        raise Unauthorized("log in, or send a bearer token, to see media")
    return int(user_id)


@get("/media/{project_id:int}/{path:path}", sync_to_thread=True, include_in_schema=False, name="media")
def serve_media(request: Request, project_id: int, path: str) -> Response:
    user = _user(request)
    project, role = access.project_for(user, project_id, "tasker")
    fields = media.image_fields(projects.runtime(project).inputs, project.input_map)
    found = media.find(request.app.state.config.data_dir, project.id, path, role, user, fields)
    info = os.stat(found)
    etag = f"{info.st_size:x}-{info.st_mtime_ns:x}"
    if etag in {tag.strip().removeprefix("W/").strip('"') for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(content=b"", status_code=304, headers={**HEADERS, "etag": f'"{etag}"'})
    return File(found, media_type=media.media_type(str(found)), content_disposition_type="inline",
                filename=found.name, etag=ETag(value=etag), headers=HEADERS, stat_result=info)
