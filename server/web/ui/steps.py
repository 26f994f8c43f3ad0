"""The owner's setup steps, in order, as the step bar on the project pages shows them (with what each holds so far).

describe → upload → entities → criteria → preview → guidelines → self-check → price → launch.
Each step page is its own module; this one knows only their order, addresses and state,
and answers a page or, for an htmx swap, just the step's fragment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from server.core import access, projects, tasks
from server.models import Batch, Project, SelfCheck
from server.web.ui.render import fragment, page, viewer


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    path: str          # under /projects/{id}


STEPS = (
    Step("describe", "Describe", "/setup/describe"),
    Step("upload", "Upload", "/upload"),
    Step("entities", "Inputs and outputs", "/setup/entities"),
    Step("criteria", "Quality criteria", "/setup/criteria"),
    Step("preview", "Labeling page", "/setup/preview"),
    Step("guidelines", "Guidelines", "/setup/guidelines"),
    Step("self-check", "Self-check", "/setup/self-check"),
    Step("price", "Price", "/setup/price"),
    Step("launch", "Launch", "/setup/launch"),
)


def bar(project: Project, current: str) -> list[dict]:
    """The step bar: each step's link, whether it is the current one, and a word on what it holds."""
    counts = tasks.counts(project)
    items = sum(counts.values())
    state = {
        "describe": (True, project.task_type),
        "upload": (items > 0, f"{items} item{'' if items == 1 else 's'}"),
        "entities": (items > 0, ""),
        "criteria": (bool(projects.criteria(project).views), f"{len(projects.criteria(project).views)}"),
        "preview": (items > 0, ""),
        "guidelines": (bool(project.guidelines.strip()), f"v{project.version}"),
        "self-check": (SelfCheck.select().where(SelfCheck.project == project.id).exists(), ""),
        "price": (project.price_cents > 0, f"{project.price_cents}¢"),
        "launch": (Batch.select().where(Batch.project == project.id, Batch.kind == "production").exists(),
                   f"{counts['unbatched']} waiting" if counts["unbatched"] else ""),
    }
    return [{"key": s.key, "title": s.title, "href": f"/projects/{project.id}{s.path}", "number": n,
             "current": s.key == current, "done": state[s.key][0], "note": state[s.key][1]}
            for n, s in enumerate(STEPS, 1)]


def neighbours(project: Project, current: str) -> tuple[dict | None, dict | None]:
    """The steps before and after `current`, for the Back / Next links."""
    keys = [s.key for s in STEPS]
    i = keys.index(current)
    link = lambda s: {"title": s.title, "href": f"/projects/{project.id}{s.path}"}  # noqa: E731
    return (link(STEPS[i - 1]) if i else None), (link(STEPS[i + 1]) if i + 1 < len(STEPS) else None)


def owner_project(user: int, project_id: int) -> Project:
    project, _ = access.project_for(user, project_id, "owner")
    return project


def summary(project: Project) -> dict:
    return {"id": project.id, "name": project.name, "task_type": project.task_type, "version": project.version,
            "description": project.description}


def respond(request: HTMXRequest, project: Project, user: int, step: str, full: str, part: str, /,
            status_code: int = 200, **context: Any) -> Template:
    """The step's whole page, or only its fragment for an htmx swap (same context either way); a fragment may
    carry the header's project version out of band (`oob`), as a save can change it."""
    if request.htmx and not request.htmx.boosted:
        return fragment(part, status_code=status_code, project=summary(project), step=step, oob=True, **context)
    before, after = neighbours(project, step)
    return page(full, status_code=status_code, me=viewer(user), role="owner", project=summary(project), step=step,
                steps=bar(project, step), previous_step=before, next_step=after, **context)
