"""Judging: run a project's judges on an answer, keep what they said, and move the task past Quality Check.

Cheap judges (declared by the plugin) run inside the submit transaction; the others run
as queued jobs with retries and backoff (`jobs.py` installs the enqueue function, so the
core never imports the queue). A judge that cannot judge gives `error` verdicts, never a
pass; one whose failure is transient (host down, timeout) is tried again, and after the
last try the answer moves on to review marked "not judged".
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

from msgspec.json import decode, encode

from server import plugins
from server.core import events, projects, queue, rework
from server.db import database, execute, sql, write_transaction
from server.models import Project
from server.plugin_types import CriterionView, Judge, JudgeFailure, JudgeReport, JudgeRequest, Verdict

log = logging.getLogger("quorum.judging")

INSERT_VERDICT = ("INSERT INTO judge_verdict (response_id, run_id, project_version, purpose, criterion_id, "
                  "criterion_name, judge, judge_version, verdict, comment, confidence, created_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
INSERT_RUN = ("INSERT INTO judge_run (response_id, self_check, judge, judge_version, project_version, purpose, "
              "prompt, outputs, error, transient, started_at, duration_ms) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id")


@dataclass
class Outcome:
    """One judge's attempt on one answer: its report, or why it failed."""

    judge: Judge
    covered: list[CriterionView]
    report: JudgeReport | None
    error: Exception | None
    started_at: float
    duration_ms: float

    @property
    def transient(self) -> bool:
        return isinstance(self.error, JudgeFailure) and self.error.transient

    @property
    def version(self) -> str:
        return self.report.version if self.report else self.judge.version

    def verdicts(self) -> list[Verdict]:
        if self.report is not None:
            return self.report.verdicts
        why = self.error.message if isinstance(self.error, JudgeFailure) else f"judge error: {self.error}"
        return [Verdict(criterion=c.name, verdict="error", comment=why) for c in self.covered]


def project_judges(project: Project) -> tuple[list[Judge], list[Judge]]:
    """(cheap, slow) judges named by the project that are loaded."""
    registry = plugins.registry()
    chosen = [registry.judges[name] for name in project.judges or [] if name in registry.judges]
    return [j for j in chosen if j.cheap], [j for j in chosen if not j.cheap]


def request_for(project: Project, task_id: int, ext_id: str, data: dict, response: dict) -> JudgeRequest:
    rules = projects.criteria(project)
    rt = projects.runtime(project)
    return JudgeRequest(project_name=project.name, description=project.description,
                        guidelines=project.guidelines, criteria=rules.views,
                        task=projects.task_view(project, task_id, ext_id, data), response=response,
                        outputs=rt.outputs, inputs=rt.inputs, examples=rules.examples)


def run(judges: list[Judge], request: JudgeRequest, settings: dict | None = None) -> list[Outcome]:
    """Each judge on the criteria it covers, with its own settings from the project."""
    outcomes = []
    for judge in judges:
        covered = [c for c in request.criteria if judge.covers(c)]
        if not covered:
            continue
        started = time.time()
        own = dataclasses.replace(request, criteria=covered, settings=dict((settings or {}).get(judge.name, {})))
        try:
            report, error = judge.run(own), None
        except Exception as exc:  # noqa: BLE001 - a broken judge is reported, never a pass
            if not isinstance(exc, JudgeFailure):
                log.exception("judge %s failed", judge.name)
            report, error = None, exc
        outcomes.append(Outcome(judge, covered, report, error, started, (time.time() - started) * 1000))
    return outcomes


def store(response_id: int, project: Project, outcomes: list[Outcome], purpose: str = "live",
          project_version: int | None = None) -> None:
    """Verdicts, and a judge_run row (prompt, outputs, error) for judges that have more to keep."""
    if not outcomes:
        return
    version = project_version or project.version
    ids, now = projects.criteria(project).ids, time.time()
    rows = []
    for outcome in outcomes:
        run_id = record_run(outcome, version, purpose, response_id=response_id)
        rows += [(response_id, run_id, version, purpose, ids.get(v.criterion), v.criterion, outcome.judge.name,
                  outcome.version, v.verdict, v.comment, v.confidence, now) for v in outcome.verdicts()]
    database.cursor().executemany(sql(INSERT_VERDICT), rows)


def record_run(outcome: Outcome, project_version: int, purpose: str, response_id: int | None = None,
               self_check: int | None = None) -> int | None:
    """Keep a model judge's prompt and outputs (or its error); rule-based judges have nothing to keep."""
    prompt = outcome.report.prompt if outcome.report else getattr(outcome.error, "prompt", "")
    outputs = outcome.report.outputs if outcome.report else getattr(outcome.error, "outputs", [])
    if not (prompt or outputs or outcome.error):
        return None
    return execute(INSERT_RUN, (response_id, self_check, outcome.judge.name, outcome.version, project_version,
                                purpose, prompt, encode(outputs).decode(), str(outcome.error or ""),
                                outcome.transient, outcome.started_at, outcome.duration_ms)).fetchone()[0]


def outcome(verdicts: list[tuple[str, str]], project: Project) -> str:
    """passed, failed (a blocking criterion failed) or not_judged (a blocking one erred, none failed)."""
    severity = projects.criteria(project).severity
    states = {v for name, v in verdicts if severity.get(name, "blocking") == "blocking"}
    if "fail" in states:
        return "failed"
    if "error" in states:
        return "not_judged"
    return "passed"


def flat(outcomes: list[Outcome]) -> list[tuple[str, str]]:
    return [(v.criterion, v.verdict) for o in outcomes for v in o.verdicts()]


def failing_comments(outcomes: list[Outcome]) -> list[str]:
    return [f"{v.criterion}: {v.comment}" for o in outcomes for v in o.verdicts() if v.verdict == "fail"]


def schedule(response_id: int) -> None:
    """Queue slow judging once the submit commits; with no queue installed, judge right after it."""
    queue.later("judge_response", lambda rid: judge_slow(rid, final=True), response_id)


def judge_slow(response_id: int, attempt: int = 1, final: bool = True) -> str:
    """The queued half of judging. A transient failure before the last attempt stores nothing
    and returns "retry"; otherwise verdicts are stored and the task moves on."""
    row = execute("SELECT r.project_id, r.task_id, r.judged, r.data, t.ext_id, t.data FROM response r "
                  "JOIN task t ON t.id = r.task_id WHERE r.id = ?", (response_id,)).fetchone()
    if row is None or row[2] != "pending":
        return "skipped"
    project_id, task_id, _, response, ext_id, data = row
    project = projects.get(project_id)
    _, slow = project_judges(project)
    outcomes = run(slow, request_for(project, task_id, ext_id, decode(data), decode(response)),
                   project.judge_settings)
    retrying = [o for o in outcomes if o.transient]
    if retrying and not final:
        log.warning("judging response %s: attempt %s failed (%s); will retry", response_id, attempt,
                    "; ".join(str(o.error) for o in retrying))
        return "retry"
    with write_transaction():
        store(response_id, project, outcomes)
        result = outcome(flat(outcomes), project)
        reason = "; ".join(str(o.error) for o in retrying)
        if retrying:
            reason = f"not judged after {attempt} attempts: {reason}"
        if result == "failed" and rework.wanted(project, response_id):
            rework.send_back(response_id, project, failing_comments(outcomes))
        else:
            set_judged(response_id, task_id, project, result, reason)
    return result


def set_judged(response_id: int, task_id: int, project: Project, result: str, reason: str = "") -> None:
    """Record a response's judging outcome and move its task on when every response is judged."""
    execute("UPDATE response SET judged = ? WHERE id = ?", (result, response_id))
    events.record("response.judged", project=project.id, task=task_id, response=response_id, outcome=result,
                  **({"reason": reason} if reason else {}))
    advance_if_judged(task_id, project)


def advance_if_judged(task_id: int, project: Project) -> None:
    pending = execute("SELECT 1 FROM response WHERE task_id = ? AND rejected = ? AND reworked = ? "
                      "AND judged = 'pending' LIMIT 1", (task_id, False, False)).fetchone()
    if pending:
        return
    moved = execute("UPDATE task SET status = 'ready_for_review', updated_at = ? "
                    "WHERE id = ? AND status = 'quality_check'", (time.time(), task_id)).rowcount
    if moved:
        events.record("task.ready_for_review", project=project.id, task=task_id)


def mark_not_judged(response_id: int, reason: str) -> None:
    """The judges never answered: move on to review, marked, with the reason for the owner."""
    row = execute("SELECT project_id, task_id, judged FROM response WHERE id = ?", (response_id,)).fetchone()
    if row is None or row[2] != "pending":
        return
    project = projects.get(row[0])
    with write_transaction():
        set_judged(response_id, row[1], project, "not_judged", reason)
