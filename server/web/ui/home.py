"""Page: the start page: the projects a user runs (owner, reviewer) and the ones they label (tasker)."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from server.core import projects, tasks
from server.web.ui.render import page, viewer


@get("/", sync_to_thread=True, name="home")
def home(user: int) -> Template:
    me = viewer(user)
    running, labeling = [], []
    for project in projects.visible_to(me.roles):
        role = me.roles[project.space_id]
        if role == "tasker":
            labeling.append({"id": project.id, "name": project.name, "description": project.description,
                             "price_cents": project.price_cents})
        else:
            counts = tasks.counts(project)
            running.append({"id": project.id, "name": project.name, "task_type": project.task_type, "role": role,
                            "total": sum(counts.values()), "ready": counts["ready_for_review"],
                            "completed": counts["completed"]})
    return page("home.html", me=me, running=running, labeling=labeling)
