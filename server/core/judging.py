"""Judging: run a project's judges on a response, store verdicts, and move the task past Quality Check.

Cheap judges (declared by the plugin) run inside the submit transaction; the others run
as queued jobs. `jobs.py` installs the function that enqueues them (`set_enqueue`), so
the core never imports the queue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from msgspec.json import decode

from server import plugins
from server.core import events, projects
from server.db import database, execute, sql, write_transaction
from server.models import Project
from server.plugin_types import CriterionView, Judge, JudgeRequest, Verdict

log = logging.getLogger("quorum.judging")
_enqueue: list[Callable[[int], None]] = []

INSERT_VERDICT = ("INSERT INTO judge_verdict (response_id, criterion_id, criterion_name, judge, judge_version, "
                  "verdict, comment, confidence, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


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
    return JudgeRequest(project_name=project.name, description=project.description,
                        guidelines=project.guidelines, criteria=projects.criteria(project).views,
                        task=projects.task_view(project, task_id, ext_id, data), response=response,
                        outputs=projects.runtime(project).outputs)


def store(response_id: int, project: Project, results: list[tuple[Judge, Verdict]]) -> None:
    if not results:
        return
    ids, now = projects.criteria(project).ids, time.time()
    rows = [(response_id, ids.get(v.criterion), v.criterion, judge.name, judge.version, v.verdict, v.comment,
             v.confidence, now) for judge, v in results]
    database.cursor().executemany(sql(INSERT_VERDICT), rows)


def outcome(verdicts: list[tuple[str, str]], project: Project) -> str:
    """passed, failed (a blocking criterion failed) or not_judged (a blocking one erred, none failed)."""
    severity = projects.criteria(project).severity
    states = {v for name, v in verdicts if severity.get(name, "blocking") == "blocking"}
    if "fail" in states:
        return "failed"
    if "error" in states:
        return "not_judged"
    return "passed"


def stored_verdicts(response_id: int) -> list[tuple[str, str]]:
    return execute("SELECT criterion_name, verdict FROM judge_verdict WHERE response_id = ?",
                   (response_id,)).fetchall()


def schedule(response_id: int) -> None:
    """Queue slow judging once the submit commits; with no queue installed, judge right after it."""
    job = _enqueue[0] if _enqueue else judge_slow
    database.obj.after_commit(lambda: job(response_id))


def judge_slow(response_id: int) -> str:
    """The queued half of judging: slow judges on one response, then advance its task."""
    row = execute("SELECT r.project_id, r.task_id, r.judged, r.data, t.ext_id, t.data FROM response r "
                  "JOIN task t ON t.id = r.task_id WHERE r.id = ?", (response_id,)).fetchone()
    if row is None or row[2] != "pending":
        return "skipped"
    project_id, task_id, _, response, ext_id, data = row
    project = projects.get(project_id)
    _, slow = project_judges(project)
    results = run(slow, request_for(project, task_id, ext_id, decode(data), decode(response)))
    with write_transaction():
        store(response_id, project, results)
        result = outcome(stored_verdicts(response_id), project)
        set_judged(response_id, task_id, project, result)
    return result


def set_judged(response_id: int, task_id: int, project: Project, result: str, reason: str = "") -> None:
    """Record a response's judging outcome and move its task on when every response is judged."""
    execute("UPDATE response SET judged = ? WHERE id = ?", (result, response_id))
    events.record("response.judged", project=project.id, task=task_id, response=response_id, outcome=result,
                  **({"reason": reason} if reason else {}))
    advance_if_judged(task_id, project)


def advance_if_judged(task_id: int, project: Project) -> None:
    pending = execute("SELECT 1 FROM response WHERE task_id = ? AND rejected = ? AND judged = 'pending' LIMIT 1",
                      (task_id, False)).fetchone()
    if pending:
        return
    moved = execute("UPDATE task SET status = 'ready_for_review', updated_at = ? "
                    "WHERE id = ? AND status = 'quality_check'", (time.time(), task_id)).rowcount
    if moved:
        events.record("task.ready_for_review", project=project.id, task=task_id)


def mark_not_judged(response_id: int, reason: str) -> None:
    """The judges never answered (host down, retries spent): move on to review, marked."""
    row = execute("SELECT project_id, task_id, judged FROM response WHERE id = ?", (response_id,)).fetchone()
    if row is None or row[2] != "pending":
        return
    project = projects.get(row[0])
    with write_transaction():
        set_judged(response_id, row[1], project, "not_judged", reason)
