"""The "make a quality task" form: from an audited (or reviewed) task, a training or evaluation task in the initial
or review phase, with the owner's explanation and, for the review phase, the seeded answer: the task type's form
pre-filled with a tasker's answer, for the owner to plant the errors a tasker must correct.

The form sits in each task of a calibration round's audit tool, and on the review page of a reviewed task
(loaded there by htmx, for owners). Its own fields are named quality.* so they never meet an output entity's.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Response as Plain
from litestar.response import Template

from server.core import access, projects, quality_tasks, users
from server.errors import QuorumError
from server.models import Audit, Project, Response, Task
from server.web.ui.answers import form_context, kept, response_from_form, scoped
from server.web.ui.render import fragment

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
OWN_FIELDS = ("kind", "phase", "explanation")


@get("/tasks/{task_id:int}/quality-task", sync_to_thread=True, name="quality-task-form")
def quality_task_form(task_id: int, user: int) -> Template | Plain:
    """The form for an owner, when the task is a live one the owner stands behind; nothing otherwise."""
    task, project = access.task_for(user, task_id, "reviewer")
    found = context(project, task) if users.role_in(user, project.space_id) == "owner" else None
    if found is None:
        return Plain("", media_type="text/html")
    return fragment("partials/quality/quality_task_form.html", qt=found, scoped=scoped)


@post("/tasks/{task_id:int}/quality-task", sync_to_thread=True, status_code=200, name="quality-task-make")
def make_quality_task(task_id: int, user: int, data: Form) -> Template:
    task, project = access.task_for(user, task_id, "owner")
    values = {key: _one(data, f"quality.{key}") for key in OWN_FIELDS}
    outputs = projects.runtime(project).outputs
    seed = kept(outputs, data) if values["phase"] == "review" else None
    try:
        made = quality_tasks.make(task.id, quality_tasks.QualityTaskIn(
            kind=values["kind"], phase=values["phase"] or "initial", explanation=values["explanation"],
            seed=response_from_form(outputs, data) if values["phase"] == "review" else None), user)
    except QuorumError as exc:
        found = context(project, task, values=values, seed=seed,
                        error={"field": exc.field, "message": exc.message,
                               "place": _place(exc.field, [o.name for o in outputs])})
        return fragment("partials/quality/quality_task_form.html", status_code=exc.status_code, qt=found,
                        scoped=scoped)
    notice = f"Made {made.kind} task #{made.id} ({made.phase} phase)."
    found = context(project, task, values={**values, "explanation": ""}, notice=notice)
    return fragment("partials/quality/quality_task_form.html", qt=found, scoped=scoped)


def context(project: Project, task: Task, values: dict | None = None, seed: dict | None = None,
            error: dict | None = None, notice: str | None = None) -> dict | None:
    """What the form shows: the expected answer (the audited one), the quality tasks already made from this task,
    and the seeded answer's form; None when the task is not a live one with an answer the owner stands behind."""
    if task.kind != "live":
        return None
    expected = quality_tasks.audited_answer(task)
    if expected is None:
        return None
    made = [{"id": t.id, "kind": t.kind, "phase": t.phase}
            for t in Task.select(Task.id, Task.kind, Task.phase).where(Task.source_task == task.id).order_by(Task.id)]
    return {"task_id": task.id, "expected": expected, "made": made, "notice": notice, "error": error,
            "values": values or {"kind": "training", "phase": "initial", "explanation": ""},
            "form": form_context(project, task.id, task.ext_id, task.data, seed or tasker_answer(task))}


def tasker_answer(task: Task) -> dict | None:
    """The answer to seed a review-phase task with: one the audit found wrong, else the first answer."""
    answers = list(Response.select(Response.id, Response.data).where(
        Response.task == task.id, Response.rejected == False, Response.reworked == False)  # noqa: E712
        .order_by(Response.id))
    wrong = {r for (r,) in Audit.select(Audit.response).where(Audit.response.in_([a.id for a in answers] or [0]),
                                                               Audit.correct == False).tuples()}  # noqa: E712
    chosen = next((a for a in answers if a.id in wrong), answers[0] if answers else None)
    return chosen.data if chosen else None


def _place(field: str | None, outputs: list[str]) -> str:
    """Where a refusal shows: beside one of the form's own fields, in the seeded answer, or above the form."""
    if field in OWN_FIELDS:
        return field
    if field == "seed" or field in outputs:
        return "seed"
    return "form"


def _one(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    return str(value[-1] if isinstance(value, list) else value).strip()
