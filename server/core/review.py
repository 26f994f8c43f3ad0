"""Review: an owner or reviewer accepts, fixes or rejects a task that is Ready for Review."""

from __future__ import annotations

import msgspec

from server.core import events, projects
from server.core.assignment import locked_task
from server.core.submissions import validate
from server.db import write_transaction
from server.errors import Conflict, Invalid, NotFound
from server.models import DECISIONS, Response, Review, Task, now


class ReviewRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    decision: str
    comment: str = ""
    response: dict | None = None     # the corrected answer, with decision "fix"


def review(task_id: int, reviewer_id: int, request: ReviewRequest) -> Task:
    if request.decision not in DECISIONS:
        raise Invalid(f"decision must be one of {', '.join(DECISIONS)}", field="decision")
    task = Task.get_or_none(Task.id == task_id)
    if task is None:
        raise NotFound(f"task {task_id} not found")
    project = projects.get(task.project_id)
    fixed = None
    if request.decision == "fix":
        if request.response is None:
            raise Invalid("a fix needs the corrected response", field="response")
        fixed = validate(project, task.id, task.ext_id, task.data, request.response)
    if request.decision == "reject" and not request.comment.strip():
        raise Invalid("say why the task is rejected", field="comment")
    with write_transaction():
        (status,) = locked_task(task_id, "status")
        if status != "ready_for_review":
            raise Conflict(f"task {task_id} is {status}; only tasks Ready for Review can be reviewed")
        Review.create(task=task_id, reviewer=reviewer_id, decision=request.decision,
                      comment=request.comment, fixed=fixed)
        if request.decision == "reject":
            # The responses stay, marked rejected; the task goes back to the queue for new taskers.
            Response.update(rejected=True).where(Response.task == task_id, Response.rejected == False).execute()  # noqa: E712
            Task.update(status="queued", responses_count=0, open_slots=project.overlap, claimable=1,
                        updated_at=now()).where(Task.id == task_id).execute()
        else:
            Task.update(status="completed", updated_at=now()).where(Task.id == task_id).execute()
        events.record(f"task.{_past(request.decision)}", actor=reviewer_id, project=project.id, task=task_id,
                      comment=request.comment)
    return Task.get_by_id(task_id)


def _past(decision: str) -> str:
    return {"accept": "accepted", "fix": "fixed", "reject": "rejected"}[decision]
