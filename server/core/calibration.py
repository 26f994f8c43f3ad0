"""Calibration rounds: a small batch labelled with confidence, audited by the owner, scored, gating production.

The calibration score combines accuracy with how well confidence tracked correctness:

    accuracy = share of answers the owner audited as correct
    brier    = mean over answers of (confidence/100 − correct)²      (0 is perfect, 1 is worst)
    score    = accuracy × (1 − brier)

A round where every answer was right and everyone said 100 scores 1; right answers given
with 50% confidence score 0.75; confident wrong answers pull the score down twice. When
every answer of a round is audited the round is scored and the `batch.audited` rules run;
the default gate passes it when the score reaches the project's calibration bar.
"""

from __future__ import annotations

import time

import msgspec

from server.core import actions, batches, events, projects
from server.core.submissions import validate
from server.db import execute, write_transaction
from server.errors import Conflict, Invalid, NotFound
from server.models import Audit, Batch, Project, Response, Task

DEFAULT_SIZE = 20


class RoundRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    size: int = DEFAULT_SIZE
    item_ids: list[int] | None = None
    stratify_by: str | None = None    # spread the sample across this field's values (e.g. a category)
    name: str = ""


class AuditIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    response_id: int
    correct: bool
    corrected: dict | None = None     # the right answer, when the tasker's was wrong
    comment: str = ""


class RoundOut(msgspec.Struct, kw_only=True):
    batch_id: int
    name: str
    size: int
    answers: int
    audited: int
    status: str
    accuracy: float | None
    brier: float | None
    score: float | None
    passed: bool | None
    created_at: float
    feedback: list[dict]


def start(project: Project, request: RoundRequest, actor: int | None) -> Batch:
    """A calibration batch of chosen items, or a sample spread across the data."""
    ids = request.item_ids if request.item_ids is not None else sample(project, request.size, request.stratify_by)
    return batches.create(project, batches.BatchRequest(kind="calibration", item_ids=ids, priority=100,
                                                        name=request.name or "calibration"), actor)


def sample(project: Project, size: int, stratify_by: str | None = None) -> list[int]:
    """`size` unbatched items: round-robin over the values of `stratify_by`, else evenly spaced."""
    if not 1 <= size <= 1000:
        raise Invalid("size must be from 1 to 1000", field="size")
    rows = list(Task.select(Task.id, Task.data).where(Task.project == project, Task.status == "unbatched",
                                                      Task.kind == "live").order_by(Task.id).tuples())
    if not rows:
        raise Invalid("no unbatched items to sample; import items first", field="size")
    if stratify_by:
        groups: dict[str, list[int]] = {}
        for task_id, data in rows:
            groups.setdefault(str(data.get(stratify_by)), []).append(task_id)
        if len(groups) == 1 and "None" in groups:
            raise Invalid(f"no item has a field {stratify_by!r}", field="stratify_by")
        picked, queues = [], list(groups.values())
        while len(picked) < size and any(queues):
            for queue in queues:
                if queue and len(picked) < size:
                    picked.append(queue.pop(0))
        return picked
    step = max(1, len(rows) // size)
    return [task_id for task_id, _ in rows[::step][:size]]


def audit(batch_id: int, grades: list[AuditIn], auditor: int) -> RoundOut:
    """Record the owner's grades; when every answer of the round is graded, score it and run the gate."""
    batch = Batch.get_or_none(Batch.id == batch_id)
    if batch is None or batch.kind != "calibration":
        raise NotFound(f"calibration batch {batch_id} not found")
    project = projects.get(batch.project_id)
    answers = {r.id: r for r in Response.select(Response, Task).join(Task)
               .where(Task.batch == batch.id, Response.rejected == False, Response.reworked == False)}  # noqa: E712
    for i, grade in enumerate(grades):
        response = answers.get(grade.response_id)
        if response is None:
            raise Invalid(f"response {grade.response_id} is not an answer in this round",
                          field=f"grades[{i}].response_id")
        if not grade.correct and grade.corrected is None:
            raise Invalid("give the corrected answer for an incorrect one", field=f"grades[{i}].corrected")
        if grade.corrected is not None:
            task = response.task
            grade.corrected = validate(project, task.id, task.ext_id, task.data, grade.corrected)
    with write_transaction():
        if batch.status == "audited":
            raise Conflict(f"calibration batch {batch_id} is already audited; start a new round")
        for grade in grades:
            (Audit.insert(batch=batch.id, response=grade.response_id, auditor=auditor, correct=grade.correct,
                          corrected=grade.corrected, comment=grade.comment, created_at=time.time())
             .on_conflict(conflict_target=[Audit.response],
                          update={Audit.correct: grade.correct, Audit.corrected: grade.corrected,
                                  Audit.comment: grade.comment, Audit.auditor: auditor}).execute())
        events.record("batch.audit_graded", actor=auditor, project=project.id, batch=batch.id, grades=len(grades))
        if _complete(batch, answers):
            _score(batch, project, auditor)
    return round_out(Batch.get_by_id(batch_id))


def _complete(batch: Batch, answers: dict) -> bool:
    """Every task of the round has its answers in, and every answer is graded."""
    waiting = execute("SELECT COUNT(*) FROM task WHERE batch_id = ? AND status IN ('queued', 'in_progress', "
                      "'quality_check')", (batch.id,)).fetchone()[0]
    graded = Audit.select().where(Audit.batch == batch.id).count()
    return waiting == 0 and answers and graded >= len(answers)


def _score(batch: Batch, project: Project, auditor: int) -> None:
    pairs = [(correct, confidence) for correct, confidence in
             Audit.select(Audit.correct, Response.confidence).join(Response).where(Audit.batch == batch.id).tuples()]
    accuracy = sum(c for c, _ in pairs) / len(pairs)
    brier = sum(((conf if conf is not None else 50) / 100 - c) ** 2 for c, conf in pairs) / len(pairs)
    score = round(accuracy * (1 - brier), 4)
    Batch.update(status="audited", accuracy=round(accuracy, 4), brier=round(brier, 4), score=score,
                 passed=False, audited_at=time.time()).where(Batch.id == batch.id).execute()
    events.record("batch.audited", actor=auditor, project=project.id, batch=batch.id, accuracy=accuracy,
                  brier=brier, score=score)
    facts = {"id": batch.id, "kind": "calibration", "audited": True, "accuracy": accuracy, "brier": brier,
             "score": score, "size": len(pairs)}
    actions.fire("batch.audited", project, None, batch=facts)


def passed(project: Project) -> bool:
    return Batch.select().where(Batch.project == project.id, Batch.kind == "calibration",
                                Batch.passed == True).exists()  # noqa: E712


def rounds(project: Project) -> list[RoundOut]:
    """Every calibration round, oldest first: the history an owner compares."""
    return [round_out(b) for b in Batch.select().where(Batch.project == project.id, Batch.kind == "calibration")
            .order_by(Batch.id)]


def round_out(batch: Batch) -> RoundOut:
    answers = list(Response.select(Response.id, Response.task, Response.feedback, Response.confidence)
                   .join(Task).where(Task.batch == batch.id, Response.rejected == False).tuples())  # noqa: E712
    audited = Audit.select().where(Audit.batch == batch.id).count()
    feedback = [{"response_id": rid, "task_id": tid, "feedback": text, "confidence": conf}
                for rid, tid, text, conf in answers if text]
    return RoundOut(batch_id=batch.id, name=batch.name, size=batch.size, answers=len(answers), audited=audited,
                    status=batch.status, accuracy=batch.accuracy, brier=batch.brier, score=batch.score,
                    passed=batch.passed, created_at=batch.created_at, feedback=feedback)
