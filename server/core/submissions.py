"""Submitting a response: validate it with the task type, store it, judge it, move the task on.

Validation happens before the write lock is taken; the write transaction then flips
the assignment to submitted only if it is still active, so a double submit or a
submit racing a lease expiry loses nothing and stores nothing twice.
"""

from __future__ import annotations

import time

import msgspec

from server.core import assignment as assignments
from server.core import events, judging, projects
from server.db import write_transaction
from server.errors import Conflict, Invalid
from server.models import Assignment, Project, Response, Task
from server.plugin_types import ResponseInvalid


class VerdictOut(msgspec.Struct, kw_only=True):
    criterion: str
    judge: str
    verdict: str
    comment: str = ""


class Submitted(msgspec.Struct, kw_only=True):
    response_id: int
    task_status: str
    judged: str
    verdicts: list[VerdictOut] = []


def validate(project: Project, task_id: int, ext_id: str, data: dict, raw) -> dict:
    """The response as the task type accepts it (normalised), or Invalid naming the field."""
    rt = projects.runtime(project)
    try:
        decoded = rt.task_type.decode(raw)
        checked = rt.task_type.validate(rt.options, projects.task_view(project, task_id, ext_id, data), decoded)
    except ResponseInvalid as exc:
        raise Invalid(exc.message, field=exc.field) from exc
    return msgspec.to_builtins(checked)


def submit(assignment_id: int, tasker_id: int, raw) -> Submitted:
    now = time.time()
    assignment = assignments.active_assignment(assignment_id, tasker_id)
    if assignment.status != "active":
        raise Conflict(f"assignment {assignment_id} is {assignment.status}; claim a new task")
    project = projects.get(assignment.project_id)
    ext_id, data = Task.select(Task.ext_id, Task.data).where(Task.id == assignment.task_id).tuples().get()
    response = validate(project, assignment.task_id, ext_id, data, raw)
    cheap, slow = judging.project_judges(project)
    with write_transaction():
        assignments.locked_task(assignment.task_id, Task.id)   # lock order: task first (see locked_task)
        # A lease past its time but not yet swept still holds its slot: the late answer is kept.
        taken = (Assignment.update(status="submitted", finished_at=now)
                 .where(Assignment.id == assignment_id, Assignment.status == "active").execute())
        if not taken:
            state = Assignment.select(Assignment.status).where(Assignment.id == assignment_id).scalar()
            raise Conflict(f"assignment {assignment_id} is {state}; claim a new task")
        response_id = Response.insert(assignment=assignment_id, task=assignment.task_id, tasker=tasker_id,
                                      project=project.id, version=project.version, data=response,
                                      duration_seconds=now - assignment.claimed_at, created_at=now).execute()
        status = _count_response(assignment.task_id, project, now)
        events.record("response.submitted", actor=tasker_id, project=project.id, task=assignment.task_id,
                      response=response_id, assignment=assignment_id)
        results = judging.run(cheap, judging.request_for(project, assignment.task_id, ext_id, data, response))
        judging.store(response_id, project, results)
        judged = "pending"
        if slow:
            judging.schedule(response_id)
        else:
            judged = judging.finish(response_id, project, actor=tasker_id)
            status = Task.select(Task.status).where(Task.id == assignment.task_id).scalar()
    verdicts = [VerdictOut(criterion=v.criterion, judge=j.name, verdict=v.verdict, comment=v.comment)
                for j, v in results]
    return Submitted(response_id=response_id, task_status=status, judged=judged, verdicts=verdicts)


def _count_response(task_id: int, project: Project, now: float) -> str:
    """One more response on the task; with all `overlap` in, it enters Quality Check."""
    responses, open_slots = assignments.locked_task(task_id, Task.responses_count, Task.open_slots)
    responses += 1
    if responses >= project.overlap:
        status = "quality_check"
    else:
        active = project.overlap - open_slots - responses
        status = "in_progress" if active > 0 else "queued"
    Task.update(responses_count=responses, status=status, updated_at=now).where(Task.id == task_id).execute()
    return status
