"""Page: a tasker's own standing in a project: status, why, the rule that last changed it, accuracy and volume."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from server.core import access, standing, taskers
from server.web.ui.render import page, viewer
from server.web.ui.tasker_table import view, when


@get("/projects/{project_id:int}/standing", sync_to_thread=True, name="my-standing")
def standing_page(project_id: int, user: int) -> Template:
    project = access.require_tasker(user, project_id)
    row = view(taskers.mine(project, user))
    paused_until = standing.get(project, user).paused_until
    return page("tasker/standing.html", me=viewer(user), project={"id": project.id, "name": project.name},
                row=row, paused_until=when(paused_until) if row["status"] == "paused" else "",
                has_course=standing.has_course(project))
