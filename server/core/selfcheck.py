"""Self-check: the owner answers sample tasks; the judges grade the answers; nothing counts anywhere.

Answers are kept in their own table (not responses), so no statistic, export or
agreement table ever sees them. Cheap judges answer at once; slow ones on the queue,
and the page polls until the verdicts are in.
"""

from __future__ import annotations

import time

import msgspec

from server.core import judging, projects, queue
from server.core.submissions import validate
from server.db import write_transaction
from server.errors import Invalid, NotFound
from server.models import Project, SelfCheck, Task

MAX_SAMPLES = 10


class SelfCheckOut(msgspec.Struct, kw_only=True):
    id: int
    task_id: int
    status: str           # judging | done
    response: dict
    verdicts: list[dict]


def samples(project: Project, limit: int = MAX_SAMPLES) -> list[Task]:
    """Up to ten live tasks, oldest first, for the owner to try."""
    return list(Task.select().where(Task.project == project, Task.kind == "live").order_by(Task.id).limit(limit))


def submit(project: Project, owner_id: int, task_id: int, raw) -> SelfCheckOut:
    task = Task.get_or_none(Task.id == task_id, Task.project == project.id)
    if task is None:
        raise NotFound(f"task {task_id} is not in project {project.id}", field="task_id")
    if task.id not in {t.id for t in samples(project)}:
        raise Invalid(f"self-check takes the first {MAX_SAMPLES} tasks of the project", field="task_id")
    response = validate(project, task.id, task.ext_id, task.data, raw)
    cheap, slow = judging.project_judges(project)
    request = judging.request_for(project, task.id, task.ext_id, task.data, response)
    outcomes = judging.run(cheap, request, project.judge_settings)
    with write_transaction():
        check = SelfCheck.create(project=project, task=task, owner=owner_id, version=project.version, data=response,
                                 status="judging" if slow else "done", verdicts=_verdicts(outcomes))
        for outcome in outcomes:
            judging.record_run(outcome, project.version, "self_check", self_check=check.id)
        if slow:
            queue.later("judge_self_check", judge_slow, check.id)
    return out(check)


def judge_slow(check_id: int) -> None:
    """The slow judges' verdicts on a self-check answer (run by the queue)."""
    check = SelfCheck.get_by_id(check_id)
    project = projects.get(check.project_id)
    task = Task.get_by_id(check.task_id)
    _, slow = judging.project_judges(project)
    outcomes = judging.run(slow, judging.request_for(project, task.id, task.ext_id, task.data, check.data),
                           project.judge_settings)
    with write_transaction():
        for outcome in outcomes:
            judging.record_run(outcome, check.version, "self_check", self_check=check.id)
        SelfCheck.update(status="done", verdicts=check.verdicts + _verdicts(outcomes)).where(
            SelfCheck.id == check_id).execute()


def _verdicts(outcomes: list[judging.Outcome]) -> list[dict]:
    return [{"criterion": v.criterion, "judge": o.judge.name, "verdict": v.verdict, "comment": v.comment,
             "confidence": v.confidence, "at": time.time()} for o in outcomes for v in o.verdicts()]


def get(project: Project, check_id: int) -> SelfCheckOut:
    check = SelfCheck.get_or_none(SelfCheck.id == check_id, SelfCheck.project == project.id)
    if check is None:
        raise NotFound(f"self-check {check_id} not found")
    return out(check)


def out(check: SelfCheck) -> SelfCheckOut:
    return SelfCheckOut(id=check.id, task_id=check.task_id, status=check.status, response=check.data,
                        verdicts=check.verdicts)
