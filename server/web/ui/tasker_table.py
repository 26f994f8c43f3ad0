"""Page: the project's taskers (status, evaluation accuracy by phase, volume, median time, the last rule that
fired) with the owner's pause / resume / remove / retrain buttons; each button re-renders its own row."""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from server.core import access, taskers
from server.errors import Invalid, NotFound
from server.web.ui.render import fragment, page, viewer

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
ACTIONS = [   # the owner's buttons, and the statuses each one can change
    {"action": "pause", "title": "Pause", "from": ("active", "onboarding")},
    {"action": "resume", "title": "Resume", "from": ("paused", "removed")},
    {"action": "remove", "title": "Remove", "from": ("active", "onboarding", "paused")},
    {"action": "retrain", "title": "Retrain", "from": ("active", "paused")},
]
TITLES = {a["action"]: a["title"] for a in ACTIONS}


@get("/projects/{project_id:int}/taskers", sync_to_thread=True, name="project-taskers")
def tasker_table(project_id: int, user: int, changed: str = "") -> Template:
    project, role = access.project_for(user, project_id, "reviewer")
    return _page(project, role, user, notice=f"{TITLES[changed]}: done." if changed in TITLES else None)


@post("/projects/{project_id:int}/taskers/{tasker_id:int}", sync_to_thread=True, status_code=200,
      name="project-tasker-act")
def act(request: HTMXRequest, project_id: int, tasker_id: int, user: int, data: Form) -> Template | Redirect:
    project, role = access.project_for(user, project_id, "owner")
    action, reason = _one(data, "action"), _one(data, "reason")
    try:
        row = view(taskers.act(project, tasker_id, action, user, reason))
    except (Invalid, NotFound) as exc:
        found = [r for r in taskers.table(project) if r.user_id == tasker_id]
        if not found or not request.htmx:
            return _page(project, role, user, error=exc.message, status_code=exc.status_code)
        return fragment("partials/quality/tasker_row.html", status_code=exc.status_code, row=view(found[0]),
                        role=role, project={"id": project.id}, actions=ACTIONS, error=exc.message, reason=reason)
    if not request.htmx:
        return Redirect(f"/projects/{project.id}/taskers?changed={action}", status_code=303)
    return fragment("partials/quality/tasker_row.html", row=row, role=role, project={"id": project.id},
                    actions=ACTIONS, error=None, reason="")


def _page(project, role: str, user: int, notice: str | None = None, error: str | None = None,
          status_code: int = 200) -> Template:
    return page("owner/taskers.html", status_code=status_code, me=viewer(user), role=role,
                project={"id": project.id, "name": project.name, "version": project.version},
                rows=[view(r) for r in taskers.table(project)], actions=ACTIONS, notice=notice, error=error)


def view(row: taskers.TaskerRow) -> dict:
    """A tasker row as the table and the standing page show it: times as dates."""
    found = msgspec.structs.asdict(row)
    found["changed"] = when(row.changed_at)
    if row.last_rule_fired:
        found["last_rule_fired"] = {**row.last_rule_fired, "when": when(row.last_rule_fired["at"])}
    return found


def when(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp)) if timestamp else ""


def _one(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    return str(value[-1] if isinstance(value, list) else value).strip()
