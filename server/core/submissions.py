"""Submitting a response: validate it, store it, judge it, score it if it is a quality task, move on.

Validation happens before the write lock is taken; the write transaction then closes the
assignment only if it is still active, so a double submit or a submit racing a lease sweep
loses nothing and stores nothing twice. Cheap judges run inside the same transaction.
An evaluation (gold) answer goes through the same steps and returns the same shape as a
live one, so nothing tells a tasker which was which; a training answer comes back with
the expected answer and the owner's explanation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import msgspec

from server.core import actions, events, judging, projects, rework, standing
from server.core import assignment as assignments
from server.db import execute, write_transaction
from server.errors import Conflict, Invalid, NotFound
from server.models import Project
from server.plugin_types import ResponseInvalid

INSERT_RESPONSE = ("INSERT INTO response (assignment_id, task_id, tasker_id, project_id, version, data, "
                   "duration_seconds, judged, rejected, reworked, confidence, feedback, score, flag, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?) RETURNING id")
HELD = ("SELECT a.task_id, a.project_id, a.status, a.claimed_at, a.tasker_id, t.ext_id, t.data, t.kind, t.expected, "
        "t.phase, t.explanation, b.kind FROM assignment a JOIN task t ON t.id = a.task_id "
        "LEFT JOIN batch b ON b.id = t.batch_id WHERE a.id = ?")
_encode = msgspec.json.encode
_decode = msgspec.json.decode


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
    sent_back: bool = False       # a blocking criterion failed: fix the answer and submit again
    training: dict | None = None  # training tasks only: score, expected answer, explanation, progress


@dataclass
class Answer:
    """Everything one submission needs, read once before the write lock."""

    assignment_id: int
    tasker_id: int
    task_id: int
    claimed_at: float
    project: Project
    ext_id: str
    data: dict
    kind: str
    expected: dict | None
    phase: str
    explanation: str
    batch_kind: str | None
    response: dict
    confidence: int | None
    feedback: str


def validate(project: Project, task_id: int, ext_id: str, data: dict, raw) -> dict:
    """The response as the task type accepts it (normalised), or Invalid naming the field."""
    rt = projects.runtime(project)
    try:
        decoded = rt.task_type.decode(raw)
        checked = rt.task_type.validate(rt.options, projects.task_view(project, task_id, ext_id, data), decoded)
    except ResponseInvalid as exc:
        raise Invalid(exc.message, field=exc.field) from exc
    return msgspec.to_builtins(checked)


def submit(assignment_id: int, tasker_id: int, raw, confidence: int | None = None, feedback: str = "") -> Submitted:
    row = execute(HELD, (assignment_id,)).fetchone()
    if row is None or row[4] != tasker_id:
        raise NotFound(f"assignment {assignment_id} not found")   # someone else's is missing, not forbidden
    task_id, project_id, state, claimed_at, _, ext_id, data, kind, expected, phase, explanation, batch_kind = row
    if state != "active":
        raise Conflict(f"assignment {assignment_id} is {state}; claim a new task")
    project = projects.get(project_id)
    data = _decode(data)
    if batch_kind == "calibration" and confidence is None:
        raise Invalid("calibration tasks ask how sure you are: confidence from 0 to 100", field="confidence")
    if confidence is not None and not 0 <= confidence <= 100:
        raise Invalid("confidence must be from 0 to 100", field="confidence")
    answer = Answer(assignment_id, tasker_id, task_id, claimed_at, project, ext_id, data, kind,
                    _decode(expected) if expected else None, phase, explanation, batch_kind,
                    validate(project, task_id, ext_id, data, raw), confidence, feedback.strip())
    if kind == "training":
        return _training(answer)
    return _judged(answer)


def _judged(a: Answer) -> Submitted:
    """Live and evaluation answers: judged alike, returned alike; an evaluation one is also scored.

    The database is held only for the writes: cheap judges run before the write transaction
    (they read nothing it guards) and the tasker rules after it, taking the lock again only
    when a rule acts."""
    now = time.time()
    project = a.project
    cheap, slow = judging.project_judges(project)
    gold = a.kind == "evaluation"
    score = _score(a) if gold else None
    outcomes = judging.run(cheap, judging.request_for(project, a.task_id, a.ext_id, a.data, a.response),
                           project.judge_settings)
    judged = judging.outcome(judging.flat(outcomes), project)
    with write_transaction():
        responses, open_slots = assignments.locked_task(a.task_id, "responses_count", "open_slots")
        sent_back = not gold and judged == "failed" and rework.wanted(project, assignment_id=a.assignment_id)
        if slow and not sent_back:
            judged = "pending"
        if not sent_back:
            # A lease past its time but not yet swept still holds its slot: the late answer is kept.
            assignments.finish(a.assignment_id, "submitted", now)
        response_id = _insert(a, judged, sent_back, score, now)
        judging.store(response_id, project, outcomes)
        events.record("response.submitted", actor=a.tasker_id, project=project.id, task=a.task_id,
                      response=response_id, assignment=a.assignment_id, judged=judged)
        if sent_back:
            execute("UPDATE assignment SET expires_at = ? WHERE id = ?",
                    (now + project.lease_seconds, a.assignment_id))
            events.record("response.sent_back", project=project.id, task=a.task_id, response=response_id,
                          tasker=a.tasker_id, comments=judging.failing_comments(outcomes))
            status = "in_progress"
        elif gold:
            status = _as_if_live(project, slow, responses, open_slots)
        else:
            status = _after_response(a.task_id, project, responses + 1, open_slots, bool(slow), now)
        if slow and not sent_back and not gold:
            judging.schedule(response_id)
        st = _count(a, response_id, score, now)
    _rules(a, st, response_id, score, now)
    verdicts = [VerdictOut(criterion=v.criterion, judge=o.judge.name, verdict=v.verdict, comment=v.comment)
                for o in outcomes for v in o.verdicts()]
    return Submitted(response_id=response_id, task_status=status, judged=judged, verdicts=verdicts,
                     sent_back=sent_back)


def _score(a: Answer) -> float:
    rt = projects.runtime(a.project)
    return float(rt.task_type.score(rt.options, a.response, a.expected or {}))


def _insert(a: Answer, judged: str, reworked: bool, score: float | None, now: float) -> int:
    return execute(INSERT_RESPONSE, (a.assignment_id, a.task_id, a.tasker_id, a.project.id, a.project.version,
                                     _encode(a.response).decode(), now - a.claimed_at, judged, False, reworked,
                                     a.confidence, a.feedback, score, now)).fetchone()[0]


def _count(a: Answer, response_id: int, score: float | None, now: float) -> standing.TaskerStanding:
    """Count the answer for the tasker (and its score, for an evaluation task)."""
    seconds = now - a.claimed_at
    st = standing.count_submission(a.project, a.tasker_id, seconds, standing.median_seconds(a.project), now)
    if a.kind == "live":
        standing.answered(a.project.id, seconds)
    if score is not None:
        standing.count_evaluation(st, response_id, a.phase, score, now)
    return st


def _rules(a: Answer, st: standing.TaskerStanding, response_id: int, score: float | None, now: float) -> None:
    """Let the tasker rules look at the answer; act, in a transaction of its own, only if one holds."""
    submission = {"duration_seconds": now - a.claimed_at, "kind": a.kind, "response_id": response_id,
                  "score": score or 0.0}
    decided = actions.decide("evaluation.scored", a.project, st, submission=submission) if score is not None else []
    decided += actions.decide("submission.created", a.project, st, submission=submission)
    if decided:
        with write_transaction():
            actions.carry_out_all(decided, a.project, standing.get(a.project, a.tasker_id))


def _as_if_live(project: Project, slow: list, responses: int, open_slots: int) -> str:
    """The status a live task would show after this answer, so an evaluation one looks the same."""
    if project.overlap > 1:
        return "in_progress"
    return "quality_check" if slow else "ready_for_review"


def _training(a: Answer) -> Submitted:
    """A training answer: scored, shown the expected answer and why; the last one of an attempt
    completes the course and the training rules decide."""
    now = time.time()
    score = _score(a)
    with write_transaction():
        assignments.locked_task(a.task_id)
        assignments.finish(a.assignment_id, "submitted", now)
        response_id = _insert(a, "passed", False, score, now)
        events.record("training.answered", actor=a.tasker_id, project=a.project.id, task=a.task_id,
                      response=response_id, score=score)
        st = standing.get(a.project, a.tasker_id)
        done, total, mean = _course_progress(a.project.id, a.tasker_id, st.training_attempt)
        result = None
        if done >= total:
            course = {"accuracy": round(mean, 4), "count": done, "attempt": st.training_attempt}
            events.record("training.completed", actor=a.tasker_id, project=a.project.id, **course)
            result = actions.fire("training.completed", a.project, st, course=course)
    training = {"score": score, "expected": a.expected, "explanation": a.explanation, "done": done,
                "total": total, "accuracy": round(mean, 4), "result": result}
    return Submitted(response_id=response_id, task_status="completed", judged="passed", training=training)


def course_progress(project: Project, tasker_id: int) -> dict:
    """Where a tasker stands in the training course: the attempt, answers given in it, the course's size,
    and their mean score so far (what the labeling page shows as "Training task N of M")."""
    attempt = standing.get(project, tasker_id).training_attempt
    done, total, mean = _course_progress(project.id, tasker_id, attempt)
    return {"attempt": attempt, "done": done, "total": total, "accuracy": round(mean, 4)}


def _course_progress(project_id: int, tasker_id: int, attempt: int) -> tuple[int, int, float]:
    """(training tasks answered in this attempt, tasks in the course, mean score so far)."""
    total = execute("SELECT COUNT(*) FROM task WHERE project_id = ? AND kind = 'training'", (project_id,)).fetchone()[0]
    done, mean = execute(
        "SELECT COUNT(*), AVG(r.score) FROM response r JOIN assignment a ON a.id = r.assignment_id "
        "JOIN task t ON t.id = r.task_id WHERE t.project_id = ? AND t.kind = 'training' AND r.tasker_id = ? "
        "AND a.attempt = ?", (project_id, tasker_id, attempt)).fetchone()
    return done, total, float(mean or 0.0)


ADVANCE = ("UPDATE task SET responses_count = ?, updated_at = ?, status = CASE WHEN EXISTS (SELECT 1 FROM response "
           "WHERE task_id = ? AND rejected = ? AND reworked = ? AND judged = 'pending') THEN 'quality_check' "
           "ELSE 'ready_for_review' END WHERE id = ? RETURNING status")


def _after_response(task_id: int, project: Project, responses: int, open_slots: int, slow: bool, now: float) -> str:
    """Count the response; with all `overlap` in, the task enters Quality Check and leaves it
    at once for Ready for Review when no response of it waits for a judge (one statement)."""
    if responses >= project.overlap:
        if slow:
            status = "quality_check"
        else:
            status = execute(ADVANCE, (responses, now, task_id, False, False, task_id)).fetchone()[0]
            if status == "ready_for_review":
                events.record("task.ready_for_review", project=project.id, task=task_id)
            return status
    else:
        active = project.overlap - open_slots - responses
        status = "in_progress" if active > 0 else "queued"
    execute("UPDATE task SET responses_count = ?, status = ?, updated_at = ? WHERE id = ?",
            (responses, status, now, task_id))
    return status
