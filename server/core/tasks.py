"""Reading tasks for owners and reviewers: counts per status, filtered pages, one task in full."""

from __future__ import annotations

import msgspec
from peewee import fn

from server.core import projects
from server.errors import Invalid
from server.models import TASK_STATUSES, Assignment, JudgeVerdict, Project, Response, Review, Task, User

PAGE_MAX = 500


class TaskRow(msgspec.Struct, kw_only=True):
    id: int
    ext_id: str
    kind: str
    status: str
    responses: int
    inputs: dict
    updated_at: float


class Page(msgspec.Struct, kw_only=True):
    items: list[TaskRow]
    total: int
    page: int
    per_page: int


def counts(project: Project) -> dict[str, int]:
    found = dict(Task.select(Task.status, fn.COUNT(Task.id)).where(Task.project == project)
                 .group_by(Task.status).tuples())
    return {status: found.get(status, 0) for status in TASK_STATUSES}


def page(project: Project, status: str | None, page_number: int = 1, per_page: int = 50,
         kind: str | None = None) -> Page:
    if status and status not in TASK_STATUSES:
        raise Invalid(f"status must be one of {', '.join(TASK_STATUSES)}", field="status")
    if page_number < 1:
        raise Invalid("page starts at 1", field="page")
    if not 1 <= per_page <= PAGE_MAX:
        raise Invalid(f"per_page must be between 1 and {PAGE_MAX}", field="per_page")
    query = Task.select().where(Task.project == project)
    if status:
        query = query.where(Task.status == status)
    if kind:
        query = query.where(Task.kind == kind)
    total = query.count()
    rows = query.order_by(Task.id).paginate(page_number, per_page)
    items = [TaskRow(id=t.id, ext_id=t.ext_id, kind=t.kind, status=t.status, responses=t.responses_count,
                     inputs=projects.task_view(project, t.id, t.ext_id, t.data, shown=True).inputs,
                     updated_at=t.updated_at)
             for t in rows]
    return Page(items=items, total=total, page=page_number, per_page=per_page)


class VerdictRow(msgspec.Struct, kw_only=True):
    criterion: str
    judge: str
    verdict: str
    comment: str
    confidence: float | None


class ResponseRow(msgspec.Struct, kw_only=True):
    id: int
    tasker: str
    data: dict
    judged: str
    rejected: bool
    duration_seconds: float
    created_at: float
    verdicts: list[VerdictRow]


class ReviewRow(msgspec.Struct, kw_only=True):
    decision: str
    reviewer: str
    comment: str
    fixed: dict | None
    created_at: float


class TaskDetail(msgspec.Struct, kw_only=True):
    id: int
    project_id: int
    ext_id: str
    kind: str
    status: str
    inputs: dict
    data: dict
    responses: list[ResponseRow]
    reviews: list[ReviewRow]
    active_assignments: int
    aggregate: dict | None


def detail(task: Task, project: Project) -> TaskDetail:
    rt = projects.runtime(project)
    verdicts: dict[int, list[VerdictRow]] = {}
    for v in (JudgeVerdict.select().join(Response).where(Response.task == task.id).order_by(JudgeVerdict.id)):
        verdicts.setdefault(v.response_id, []).append(
            VerdictRow(criterion=v.criterion_name, judge=v.judge, verdict=v.verdict, comment=v.comment,
                       confidence=v.confidence))
    responses = [ResponseRow(id=r.id, tasker=r.tasker.username, data=r.data, judged=r.judged, rejected=r.rejected,
                             duration_seconds=round(r.duration_seconds, 2), created_at=r.created_at,
                             verdicts=verdicts.get(r.id, []))
                 for r in Response.select(Response, User).join(User).where(Response.task == task.id)
                 .order_by(Response.id)]
    reviews = [ReviewRow(decision=r.decision, reviewer=r.reviewer.username, comment=r.comment, fixed=r.fixed,
                         created_at=r.created_at)
               for r in Review.select(Review, User).join(User).where(Review.task == task.id).order_by(Review.id)]
    live = [r.data for r in responses if not r.rejected]
    active = Assignment.select().where(Assignment.task == task.id, Assignment.status == "active").count()
    return TaskDetail(id=task.id, project_id=project.id, ext_id=task.ext_id, kind=task.kind, status=task.status,
                      inputs=projects.task_view(project, task.id, task.ext_id, task.data, shown=True).inputs,
                      data=task.data,
                      responses=responses, reviews=reviews, active_assignments=active,
                      aggregate=rt.task_type.aggregate(rt.options, live) if live else None)
