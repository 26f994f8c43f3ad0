"""Submitting a response: validate it with the task type, store it, judge it, move the task on.

Validation happens before the write lock is taken; the write transaction then closes
the assignment only if it is still active, so a double submit or a submit racing a
lease sweep loses nothing and stores nothing twice. Cheap judges run inside the same
transaction, so a response and its verdicts are stored together or not at all.
"""

from __future__ import annotations

import time

import msgspec

from server.core import assignment as assignments
from server.core import events, judging, projects, rework
from server.db import execute, write_transaction
from server.errors import Conflict, Invalid
from server.models import Project
from server.plugin_types import ResponseInvalid

INSERT_RESPONSE = ("INSERT INTO response (assignment_id, task_id, tasker_id, project_id, version, data, "
                   "duration_seconds, judged, rejected, reworked, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id")
_encode = msgspec.json.encode


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
    sent_back: bool = False     # a blocking criterion failed: fix the answer and submit again


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
    task_id, project_id, state, claimed_at = assignments.held_by(assignment_id, tasker_id)
    if state != "active":
        raise Conflict(f"assignment {assignment_id} is {state}; claim a new task")
    project = projects.get(project_id)
    ext_id, data = execute("SELECT ext_id, data FROM task WHERE id = ?", (task_id,)).fetchone()
    data = msgspec.json.decode(data)
    response = validate(project, task_id, ext_id, data, raw)
    cheap, slow = judging.project_judges(project)
    with write_transaction():
        responses, open_slots = assignments.locked_task(task_id, "responses_count", "open_slots")
        outcomes = judging.run(cheap, judging.request_for(project, task_id, ext_id, data, response),
                               project.judge_settings)
        judged = judging.outcome(judging.flat(outcomes), project)
        sent_back = judged == "failed" and rework.wanted(project, assignment_id=assignment_id)
        if slow and not sent_back:
            judged = "pending"
        if not sent_back:
            # A lease past its time but not yet swept still holds its slot: the late answer is kept.
            assignments.finish(assignment_id, "submitted", now)
        response_id = execute(INSERT_RESPONSE, (assignment_id, task_id, tasker_id, project.id, project.version,
                                                _encode(response).decode(), now - claimed_at, judged,
                                                False, sent_back, now)).fetchone()[0]
        judging.store(response_id, project, outcomes)
        events.record("response.submitted", actor=tasker_id, project=project.id, task=task_id,
                      response=response_id, assignment=assignment_id, judged=judged)
        if sent_back:
            execute("UPDATE assignment SET expires_at = ? WHERE id = ?", (now + project.lease_seconds, assignment_id))
            events.record("response.sent_back", project=project.id, task=task_id, response=response_id,
                          tasker=tasker_id, comments=judging.failing_comments(outcomes))
            status = "in_progress"
        else:
            status = _after_response(task_id, project, responses + 1, open_slots, now)
        if slow and not sent_back:
            judging.schedule(response_id)
    verdicts = [VerdictOut(criterion=v.criterion, judge=o.judge.name, verdict=v.verdict, comment=v.comment)
                for o in outcomes for v in o.verdicts()]
    return Submitted(response_id=response_id, task_status=status, judged=judged, verdicts=verdicts,
                     sent_back=sent_back)


def _after_response(task_id: int, project: Project, responses: int, open_slots: int, now: float) -> str:
    """Count the response; with all `overlap` in, the task enters Quality Check and leaves it
    at once when every response is already judged."""
    if responses >= project.overlap:
        status = "quality_check"
    else:
        active = project.overlap - open_slots - responses
        status = "in_progress" if active > 0 else "queued"
    execute("UPDATE task SET responses_count = ?, status = ?, updated_at = ? WHERE id = ?",
            (responses, status, now, task_id))
    if status == "quality_check":
        judging.advance_if_judged(task_id, project)
        status = execute("SELECT status FROM task WHERE id = ?", (task_id,)).fetchone()[0]
    return status
