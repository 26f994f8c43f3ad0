"""Page: a project's quality lab: the production gate in plain words, calibration rounds (history, a form to
start one, the audit tool of each), the quality tasks by kind, phase and class, and where the set falls short."""

from __future__ import annotations

import time
from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from server.core import access, batches, calibration, projects, quality_tasks, tasks
from server.errors import Invalid, QuorumError
from server.models import Batch, Project, Task
from server.web.ui.render import fragment, page, viewer

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/projects/{project_id:int}/quality", sync_to_thread=True, name="project-quality")
def quality_page(project_id: int, user: int, started: int | None = None) -> Template:
    project, role = access.project_for(user, project_id, "reviewer")
    notice = None
    if started:
        size = Batch.select(Batch.size).where(Batch.id == started, Batch.project == project.id).scalar()
        notice = (f"Started calibration round #{started} with {size} items: taskers get them before other work. "
                  "Audit the answers as they come in.") if size else None
    return page("owner/quality.html", me=viewer(user), role=role, notice=notice, **_context(project))


@post("/projects/{project_id:int}/calibration", sync_to_thread=True, status_code=200, name="project-calibration-start")
def start_round(request: HTMXRequest, project_id: int, user: int, data: Form) -> Template | Redirect | ClientRedirect:
    project, role = access.project_for(user, project_id, "owner")
    values = {key: _one(data, key) for key in ("size", "stratify_by", "name")}
    try:
        batch = calibration.start(project, calibration.RoundRequest(
            size=_size(values["size"]), stratify_by=values["stratify_by"] or None, name=values["name"]), user)
    except QuorumError as exc:
        error = {"field": exc.field, "message": exc.message}
        context = _context(project, values=values, error=error)
        if request.htmx:
            return fragment("partials/quality/round_form.html", status_code=exc.status_code, role=role, **context)
        return page("owner/quality.html", status_code=exc.status_code, me=viewer(user), role=role, **context)
    target = f"/projects/{project.id}/quality?started={batch.id}"
    return ClientRedirect(target) if request.htmx else Redirect(target, status_code=303)


def gate(project: Project) -> dict:
    """The production gate in plain words: open or locked, and why."""
    locked = batches.production_locked(project)
    if locked:
        return {"open": False, "message": locked[:1].upper() + locked[1:] + "."}
    if not project.require_calibration:
        return {"open": True, "message": "Production is open: this project was created without the calibration "
                                         "requirement (\"require_calibration\": false)."}
    passed = (Batch.select().where(Batch.project == project.id, Batch.kind == "calibration",
                                   Batch.passed == True).order_by(Batch.id.desc()).first())  # noqa: E712
    score = f" with a score of {passed.score:.2f}" if passed.score is not None else ""
    return {"open": True, "message": f"Production is open: calibration round #{passed.id} passed{score} "
                                     f"(the bar is {project.calibration_bar:.2f})."}


def instruction_feedback(project: Project, latest: int = 3) -> list[dict]:
    """The taskers' notes on the instructions from the latest calibration rounds, newest round first."""
    found = []
    for r in reversed(calibration.rounds(project)[-latest:]):
        ext_ids = dict(Task.select(Task.id, Task.ext_id).where(Task.id.in_([f["task_id"] for f in r.feedback] or [0]))
                       .tuples())
        found.append({"batch_id": r.batch_id, "score": r.score, "passed": r.passed, "status": r.status,
                      "items": [{"text": f["feedback"], "task_id": f["task_id"], "confidence": f["confidence"],
                                 "ext_id": ext_ids.get(f["task_id"], "")} for f in r.feedback]})
    return found


def _context(project: Project, values: dict | None = None, error: dict | None = None) -> dict:
    rounds = []
    for r in calibration.rounds(project):
        rounds.append({"batch_id": r.batch_id, "name": r.name, "size": r.size, "answers": r.answers,
                       "audited": r.audited, "status": r.status, "accuracy": r.accuracy, "brier": r.brier,
                       "score": r.score, "passed": r.passed, "feedback": len(r.feedback),
                       "started": time.strftime("%Y-%m-%d", time.gmtime(r.created_at))})
    lab = quality_tasks.lab(project)
    return {
        "project": {"id": project.id, "name": project.name, "version": project.version,
                    "calibration_bar": project.calibration_bar, "evaluation_rate": project.evaluation_rate},
        "gate": gate(project), "rounds": list(reversed(rounds)),
        "fields": projects.dataset_fields(project), "unbatched": tasks.counts(project)["unbatched"],
        "values": values or {"size": str(calibration.DEFAULT_SIZE), "stratify_by": "", "name": ""},
        "error": error,
        "lab": {"counts": lab.counts, "classes": lab.classes, "outdated": lab.outdated,
                "evaluation_accuracy": lab.evaluation_accuracy, "evaluation_scored": lab.evaluation_scored,
                "recommendations": [{"level": r.level, "message": r.message} for r in lab.recommendations]},
    }


def _size(text: str) -> int:
    if not text.strip():
        return calibration.DEFAULT_SIZE
    try:
        return int(text)
    except ValueError:
        raise Invalid(f"must be a whole number, got {text!r}", field="size") from None


def _one(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    return str(value[-1] if isinstance(value, list) else value).strip()
