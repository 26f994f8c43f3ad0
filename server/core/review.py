"""Review: an owner or reviewer grades each criterion, then accepts, fixes or rejects a task Ready for Review."""

from __future__ import annotations

import msgspec

from server.core import events, projects
from server.core.assignment import locked_task
from server.core.submissions import validate
from server.db import write_transaction
from server.errors import Conflict, Invalid, NotFound
from server.models import DECISIONS, CriterionGrade, JudgeVerdict, Response, Review, Task, now


class GradeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The reviewer's pass/fail on one criterion of one response; a reason is required where a judge disagreed."""

    response_id: int
    criterion: str
    verdict: str
    reason: str = ""


class ReviewRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    decision: str
    comment: str = ""
    response: dict | None = None     # the corrected answer, with decision "fix"
    grades: list[GradeIn] = []


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
    _check_grades(task_id, project, request.grades)
    with write_transaction():
        (status,) = locked_task(task_id, "status")
        if status != "ready_for_review":
            raise Conflict(f"task {task_id} is {status}; only tasks Ready for Review can be reviewed")
        review_row = Review.create(task=task_id, reviewer=reviewer_id, decision=request.decision,
                                   comment=request.comment, fixed=fixed)
        ids = projects.criteria(project).ids
        for grade in request.grades:
            CriterionGrade.create(review=review_row, response=grade.response_id, criterion=ids.get(grade.criterion),
                                  criterion_name=grade.criterion, verdict=grade.verdict, reason=grade.reason.strip())
        if request.decision == "reject":
            # The responses stay, marked rejected; the task goes back to the queue for new taskers.
            Response.update(rejected=True).where(Response.task == task_id, Response.rejected == False).execute()  # noqa: E712
            Task.update(status="queued", responses_count=0, open_slots=project.overlap, claimable=1,
                        updated_at=now()).where(Task.id == task_id).execute()
        else:
            Task.update(status="completed", updated_at=now()).where(Task.id == task_id).execute()
        events.record(f"task.{_past(request.decision)}", actor=reviewer_id, project=project.id, task=task_id,
                      comment=request.comment, grades=len(request.grades))
    return Task.get_by_id(task_id)


def _check_grades(task_id: int, project, grades: list[GradeIn]) -> None:
    names = set(projects.criteria(project).ids)
    live = {r for (r,) in Response.select(Response.id).where(Response.task == task_id, Response.rejected == False,  # noqa: E712
                                                              Response.reworked == False).tuples()}  # noqa: E712
    judged = {(r, c): (v, judge) for r, c, v, judge in JudgeVerdict.select(
        JudgeVerdict.response, JudgeVerdict.criterion_name, JudgeVerdict.verdict, JudgeVerdict.judge)
        .where(JudgeVerdict.response.in_(list(live) or [0]), JudgeVerdict.purpose == "live",
               JudgeVerdict.verdict.in_(("pass", "fail"))).tuples()}
    seen = set()
    for i, grade in enumerate(grades):
        where = f"grades[{i}]"
        if grade.response_id not in live:
            raise Invalid(f"response {grade.response_id} is not an answer under review on this task",
                          field=f"{where}.response_id")
        if grade.criterion not in names:
            raise Invalid(f"no criterion named {grade.criterion!r}", field=f"{where}.criterion")
        if grade.verdict not in ("pass", "fail"):
            raise Invalid("verdict must be pass or fail", field=f"{where}.verdict")
        if (grade.response_id, grade.criterion) in seen:
            raise Invalid("this criterion is graded twice for the response", field=f"{where}.criterion")
        seen.add((grade.response_id, grade.criterion))
        judge = judged.get((grade.response_id, grade.criterion))
        if judge and judge[0] != grade.verdict and not grade.reason.strip():
            raise Invalid(f"the {judge[1]} judge said {judge[0]}; say why you disagree", field=f"{where}.reason")


def _past(decision: str) -> str:
    return {"accept": "accepted", "fix": "fixed", "reject": "rejected"}[decision]
