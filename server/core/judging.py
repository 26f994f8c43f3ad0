"""Judging: run a project's judges on a response, store verdicts, and move the task past Quality Check.

Cheap judges (declared by the plugin) run inside the submit transaction; the others run
as queued jobs. `jobs.py` installs the function that enqueues them (`set_enqueue`), so
the core never imports the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from server import plugins
from server.core import events, projects
from server.db import database, write_transaction
from server.models import Criterion, JudgeVerdict, Project, Response, Task, now
from server.plugin_types import CriterionView, Judge, JudgeRequest, Verdict

log = logging.getLogger("quorum.judging")
_enqueue: list[Callable[[int], None]] = []


def set_enqueue(fn: Callable[[int], None]) -> None:
    """Install how slow judging is scheduled (a huey task's call, given a response id)."""
    _enqueue[:] = [fn]


def project_judges(project: Project) -> tuple[list[Judge], list[Judge]]:
    """(cheap, slow) judges named by the project that are loaded."""
    registry = plugins.registry()
    chosen = [registry.judges[name] for name in project.judges or [] if name in registry.judges]
    return [j for j in chosen if j.cheap], [j for j in chosen if not j.cheap]


def run(judges: list[Judge], request: JudgeRequest) -> list[tuple[Judge, Verdict]]:
    """Each judge's verdicts on the criteria it covers; a judge that raises gives `error` verdicts."""
    results = []
    for judge in judges:
        covered = [c for c in request.criteria if judge.covers(c)]
        if not covered:
            continue
        try:
            verdicts = judge.judge(_narrowed(request, covered))
        except Exception as exc:  # noqa: BLE001 - a broken judge is reported, never a pass
            log.exception("judge %s failed", judge.name)
            verdicts = [Verdict(criterion=c.name, verdict="error", comment=f"judge error: {exc}") for c in covered]
        results.extend((judge, v) for v in verdicts)
    return results


def _narrowed(request: JudgeRequest, covered: list[CriterionView]) -> JudgeRequest:
    return JudgeRequest(project_name=request.project_name, description=request.description,
                        guidelines=request.guidelines, criteria=covered, task=request.task,
                        response=request.response, outputs=request.outputs, settings=request.settings)


def request_for(project: Project, task_id: int, ext_id: str, data: dict, response: dict) -> JudgeRequest:
    rt = projects.runtime(project)
    return JudgeRequest(project_name=project.name, description=project.description,
                        guidelines=project.guidelines, criteria=projects.criteria(project),
                        task=projects.task_view(project, task_id, ext_id, data), response=response,
                        outputs=rt.outputs)


def store(response_id: int, project: Project, results: list[tuple[Judge, Verdict]]) -> None:
    ids = dict(Criterion.select(Criterion.name, Criterion.id).where(Criterion.project == project).tuples())
    rows = [dict(response=response_id, criterion=ids.get(v.criterion), criterion_name=v.criterion,
                 judge=judge.name, judge_version=judge.version, verdict=v.verdict, comment=v.comment,
                 confidence=v.confidence, created_at=now()) for judge, v in results]
    if rows:
        JudgeVerdict.insert_many(rows).execute()


def outcome(response_id: int, project: Project) -> str:
    """passed, failed (a blocking criterion failed) or not_judged (a judge erred and none failed)."""
    severity = dict(Criterion.select(Criterion.name, Criterion.severity).where(Criterion.project == project).tuples())
    verdicts = JudgeVerdict.select(JudgeVerdict.criterion_name, JudgeVerdict.verdict).where(
        JudgeVerdict.response == response_id).tuples()
    states = {v for name, v in verdicts if severity.get(name, "blocking") == "blocking"}
    if "fail" in states:
        return "failed"
    if "error" in states:
        return "not_judged"
    return "passed"


def schedule(response_id: int) -> None:
    """Queue slow judging once the submit commits; with no queue installed, judge right away."""
    if _enqueue:
        database.obj.after_commit(lambda: _enqueue[0](response_id))
    else:
        database.obj.after_commit(lambda: judge_slow(response_id))


def judge_slow(response_id: int) -> str:
    """The queued half of judging: slow judges on one response, then advance its task."""
    response = Response.get_or_none(Response.id == response_id)
    if response is None or response.judged != "pending":
        return "skipped"
    project = Project.get_by_id(response.project_id)
    task = Task.get_by_id(response.task_id)
    _, slow = project_judges(project)
    results = run(slow, request_for(project, task.id, task.ext_id, task.data, response.data))
    with write_transaction():
        store(response_id, project, results)
        return finish(response_id, project, actor=None)


def finish(response_id: int, project: Project, actor: int | None) -> str:
    """Set the response's judged state and move its task on when every response is judged."""
    result = outcome(response_id, project)
    Response.update(judged=result).where(Response.id == response_id).execute()
    task_id = Response.select(Response.task).where(Response.id == response_id).scalar()
    events.record("response.judged", actor=actor, project=project.id, task=task_id, response=response_id,
                  outcome=result)
    advance_if_judged(task_id, project)
    return result


def advance_if_judged(task_id: int, project: Project) -> None:
    pending = (Response.select().where(Response.task == task_id, Response.rejected == False,  # noqa: E712
                                       Response.judged == "pending").exists())
    if pending:
        return
    moved = (Task.update(status="ready_for_review", updated_at=now())
             .where(Task.id == task_id, Task.status == "quality_check").execute())
    if moved:
        events.record("task.ready_for_review", project=project.id, task=task_id)


def mark_not_judged(response_id: int, reason: str) -> None:
    """The judges never answered (host down, retries spent): move on to review, marked."""
    response = Response.get_or_none(Response.id == response_id)
    if response is None or response.judged != "pending":
        return
    project = Project.get_by_id(response.project_id)
    with write_transaction():
        Response.update(judged="not_judged").where(Response.id == response_id).execute()
        events.record("response.not_judged", project=project.id, task=response.task_id, response=response_id,
                      reason=reason)
        advance_if_judged(response.task_id, project)
