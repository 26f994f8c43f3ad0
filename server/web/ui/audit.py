"""Page: the audit tool of a calibration round: every answer under its task's inputs, with the tasker's confidence
and note on the instructions; the owner grades each one correct or incorrect (then with the corrected answer, in
the task type's form) and a comment. Each grade is saved on its own; the last one scores the round, and the
round's summary (score, passed, the production gate) is swapped in beside it."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from server.core import access, calibration, projects
from server.errors import Invalid, NotFound, QuorumError
from server.models import Audit, Batch, Project, Response, Task, User
from server.web.ui import quality, quality_task
from server.web.ui.answers import form_context, kept, response_from_form, scoped
from server.web.ui.render import fragment, page, viewer

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
WAITING = ("queued", "in_progress", "quality_check")


@get("/batches/{batch_id:int}/audit", sync_to_thread=True, name="batch-audit")
def audit_page(batch_id: int, user: int) -> Template:
    batch, project, role = _round(batch_id, user, "reviewer")
    cards = [card(project, batch, task, role) for task in _tasks(batch)]
    return page("owner/audit.html", me=viewer(user), role=role, project=_project(project), cards=cards,
                summary=summary(project, batch), scoped=scoped)


@post("/batches/{batch_id:int}/audit/{response_id:int}", sync_to_thread=True, status_code=200, name="batch-audit-grade")
def grade(request: HTMXRequest, batch_id: int, response_id: int, user: int, data: Form) -> Template | Redirect:
    batch, project, role = _round(batch_id, user, "owner")
    response = (Response.select(Response, Task).join(Task)
                .where(Response.id == response_id, Task.batch == batch.id).first())
    if response is None:
        raise NotFound(f"answer {response_id} is not in calibration round {batch_id}")
    outputs = projects.runtime(project).outputs
    verdict, comment = _one(data, "audit.correct"), _one(data, "audit.comment")
    status_code, error, posted = 200, None, None
    try:
        if verdict not in ("yes", "no"):
            raise Invalid("mark the answer correct or incorrect", field="correct")
        corrected = response_from_form(outputs, data) if verdict == "no" else None
        calibration.audit(batch.id, [calibration.AuditIn(response_id=response.id, correct=verdict == "yes",
                                                         corrected=corrected, comment=comment)], user)
    except QuorumError as exc:
        status_code = exc.status_code
        error = {"field": exc.field, "message": exc.message, "place": _place(exc.field, [o.name for o in outputs])}
        posted = {"verdict": verdict, "comment": comment, "answer": kept(outputs, data) if verdict == "no" else None}
    if not request.htmx:
        if error:
            cards = [card(project, batch, t, role, {response.id: (error, posted)}) for t in _tasks(batch)]
            return page("owner/audit.html", status_code=status_code, me=viewer(user), role=role,
                        project=_project(project), cards=cards, summary=summary(project, batch), scoped=scoped)
        return Redirect(f"/batches/{batch.id}/audit#task-{response.task.id}", status_code=303)
    batch = Batch.get_by_id(batch.id)
    return fragment("partials/quality/audit_graded.html", status_code=status_code, role=role,
                    project=_project(project), c=card(project, batch, response.task, role,
                                                      {response.id: (error, posted)} if error else None),
                    summary=summary(project, batch), oob=True, scoped=scoped)


def card(project: Project, batch: Batch, task: Task, role: str,
         refused: dict[int, tuple[dict, dict]] | None = None) -> dict:
    """One task of the round: its inputs, each answer with its grade (or a refused grade as posted), and the
    make-a-quality-task form once the owner stands behind an answer."""
    audits = {a.response_id: a for a in Audit.select().join(Response).where(Response.task == task.id)}
    answers = []
    for r in (Response.select(Response, User.username).join(User, on=(Response.tasker == User.id))
              .where(Response.task == task.id, Response.rejected == False, Response.reworked == False)  # noqa: E712
              .order_by(Response.id)):
        audit = audits.get(r.id)
        error, posted = (refused or {}).get(r.id, (None, None))
        grade_now = {"verdict": "yes" if audit.correct else "no", "comment": audit.comment,
                     "answer": audit.corrected} if audit else {"verdict": "", "comment": "", "answer": None}
        shown = posted or grade_now
        answers.append({"id": r.id, "tasker": r.tasker.username, "data": r.data, "confidence": r.confidence,
                        "feedback": r.feedback, "seconds": round(r.duration_seconds), "audited": audit is not None,
                        "correct": audit.correct if audit else None, "corrected": audit.corrected if audit else None,
                        "comment": audit.comment if audit else "", "error": error,
                        "verdict": shown["verdict"], "posted_comment": shown["comment"],
                        "previous": shown["answer"] or (audit.corrected if audit else None) or r.data})
    gradable = role == "owner" and batch.status != "audited"
    return {"id": task.id, "ext_id": task.ext_id, "status": task.status, "answers": answers, "gradable": gradable,
            "form": form_context(project, task.id, task.ext_id, task.data, None),
            "quality": quality_task.context(project, task) if role == "owner" else None}


def summary(project: Project, batch: Batch) -> dict:
    out = calibration.round_out(batch)
    waiting = Task.select().where(Task.batch == batch.id, Task.status.in_(WAITING)).count()
    return {"batch_id": batch.id, "name": batch.name, "size": out.size, "answers": out.answers,
            "audited": out.audited, "status": out.status, "accuracy": out.accuracy, "brier": out.brier,
            "score": out.score, "passed": out.passed, "waiting": waiting, "bar": project.calibration_bar,
            "gate": quality.gate(project)}


def _round(batch_id: int, user: int, at_least: str) -> tuple[Batch, Project, str]:
    batch = Batch.get_or_none(Batch.id == batch_id)
    if batch is None or batch.kind != "calibration":
        raise NotFound(f"calibration round {batch_id} not found")
    project, role = access.project_for(user, batch.project_id, at_least)
    return batch, project, role


def _tasks(batch: Batch) -> list[Task]:
    return list(Task.select().where(Task.batch == batch.id).order_by(Task.id))


def _project(project: Project) -> dict:
    return {"id": project.id, "name": project.name, "version": project.version}


def _place(field: str | None, outputs: list[str]) -> str:
    """Where a refused grade's message shows: by the verdict, in the corrected answer, or above the grade."""
    if field == "correct":
        return "verdict"
    if field in outputs or (field or "").endswith(".corrected"):
        return "corrected"
    return "grade"


def _one(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    return str(value[-1] if isinstance(value, list) else value).strip()
