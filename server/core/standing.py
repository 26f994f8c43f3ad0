"""Tasker standing: onboarding, active, paused or removed in a project, and the numbers rules read.

The standing row keeps the counts the rules need on every submission (volume, fast answers,
evaluation sums) so a rule's context costs a couple of indexed reads, and the last rule
that changed the status with its reason, so the tasker and the owner can see why.
"""

from __future__ import annotations

import collections
import math
import time
from datetime import date

from server import rules as rule_engine
from server.db import execute
from server.errors import Forbidden
from server.models import Project, TaskerStanding

ROLLING = 20          # evaluations in the rolling accuracy
Z99 = 2.576           # 99% two-sided normal quantile, for the Wilson upper bound
FAST_SHARE_OF_MEDIAN = 0.25


COLUMNS = ("id", "project", "tasker", "status", "reason", "rule", "changed_at", "paused_until", "training_attempt",
           "training_passed", "submissions", "fast", "day", "day_count", "evaluations", "evaluation_sum")
FIELDS = ("id, project_id, tasker_id, status, reason, rule, changed_at, paused_until, training_attempt, "
          "training_passed, submissions, fast, day, day_count, evaluations, evaluation_sum")
SELECT = f"SELECT {FIELDS} FROM tasker_standing WHERE project_id = ? AND tasker_id = ?"
COUNT_SUBMISSION = ("UPDATE tasker_standing SET submissions = submissions + 1, fast = fast + ?, "
                    "day_count = CASE WHEN day = ? THEN day_count + 1 ELSE 1 END, day = ? "
                    f"WHERE project_id = ? AND tasker_id = ? RETURNING {FIELDS}")
INSERT = ("INSERT INTO tasker_standing (project_id, tasker_id, status, reason, rule, changed_at, training_attempt, "
          "training_passed, submissions, fast, day, day_count, evaluations, evaluation_sum) "
          "VALUES (?, ?, ?, ?, '', ?, 1, ?, 0, 0, '', 0, 0, 0) ON CONFLICT (project_id, tasker_id) DO NOTHING")


def get(project: Project, tasker_id: int) -> TaskerStanding:
    """The tasker's standing, created on first contact: onboarding when the project has a course.
    Read by hand-written SQL: every claim and submit needs it."""
    row = execute(SELECT, (project.id, tasker_id)).fetchone()
    if row is None:
        status = "onboarding" if has_course(project) else "active"
        reason = "new to the project: the training course comes first" if status == "onboarding" else ""
        execute(INSERT, (project.id, tasker_id, status, reason, time.time(), False))
        row = execute(SELECT, (project.id, tasker_id)).fetchone()
    return _standing(row)


def _standing(row: tuple) -> TaskerStanding:
    found = TaskerStanding(**dict(zip(COLUMNS, row)))
    found.training_passed = bool(found.training_passed)
    return found


def has_course(project: Project) -> bool:
    return execute("SELECT 1 FROM task WHERE project_id = ? AND kind = 'training' LIMIT 1",
                   (project.id,)).fetchone() is not None


def may_work(standing: TaskerStanding, now: float) -> None:
    """Refuse a paused or removed tasker, saying why; a pause that has run out ends here."""
    if standing.status == "paused" and standing.paused_until and standing.paused_until <= now:
        set_status(standing, "active", "the pause ran out", "", now)
    if standing.status in ("paused", "removed"):
        why = f": {standing.reason}" if standing.reason else ""
        raise Forbidden(f"you are {standing.status} in this project{why}", field="standing")


def set_status(standing: TaskerStanding, status: str, reason: str, rule: str, now: float,
               paused_until: float | None = None, **extra) -> None:
    standing.status, standing.reason, standing.rule, standing.changed_at = status, reason, rule, now
    standing.paused_until = paused_until
    fields = dict(status=status, reason=reason, rule=rule, changed_at=now, paused_until=paused_until, **extra)
    TaskerStanding.update(**fields).where(TaskerStanding.id == standing.id).execute()


def count_submission(project: Project, tasker_id: int, duration: float, median: float, now: float) -> TaskerStanding:
    """One more submission: totals, today's count, and whether it was far faster than the project's
    median. One statement that also returns the standing the rules then read."""
    today = date.fromtimestamp(now).isoformat()
    fast = 1 if median > 0 and duration < FAST_SHARE_OF_MEDIAN * median else 0
    row = execute(COUNT_SUBMISSION, (fast, today, today, project.id, tasker_id)).fetchone()
    if row is None:                      # no standing yet (a submit without a claim through this code)
        get(project, tasker_id)
        row = execute(COUNT_SUBMISSION, (fast, today, today, project.id, tasker_id)).fetchone()
    return _standing(row)


def count_evaluation(standing: TaskerStanding, response_id: int, phase: str, score: float, now: float) -> None:
    standing.evaluations += 1
    standing.evaluation_sum += score
    execute("INSERT INTO evaluation_score (project_id, tasker_id, response_id, phase, score, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", (standing.project_id, standing.tasker_id, response_id, phase, score, now))
    execute("UPDATE tasker_standing SET evaluations = evaluations + 1, evaluation_sum = evaluation_sum + ? "
            "WHERE id = ?", (score, standing.id))


def wilson_upper(successes: float, n: int, z: float = Z99) -> float:
    """Upper bound of the Wilson score interval: how good the tasker could still plausibly be."""
    if n == 0:
        return 1.0
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + spread) / (1 + z * z / n))


def tasker_context(standing: TaskerStanding, detail: bool = True) -> dict:
    """What rules read about a tasker: evaluation accuracy (total, rolling, per phase), training, volume.
    Without `detail` the per-phase and rolling figures (two more reads) are left at zero."""
    phases, recent = {}, []
    if detail:
        phases = {phase: {"count": n, "accuracy": round(total / n, 4) if n else 0.0}
                  for phase, n, total in execute(
                      "SELECT phase, COUNT(*), SUM(score) FROM evaluation_score WHERE project_id = ? "
                      "AND tasker_id = ? GROUP BY phase", (standing.project_id, standing.tasker_id)).fetchall()}
        recent = [s for (s,) in execute("SELECT score FROM evaluation_score WHERE project_id = ? AND tasker_id = ? "
                                        "ORDER BY id DESC LIMIT ?",
                                        (standing.project_id, standing.tasker_id, ROLLING))]
    n, total = standing.evaluations, standing.evaluation_sum
    return {
        "status": standing.status,
        "evaluation": {"count": n, "accuracy": round(total / n, 4) if n else 0.0,
                       "upper_bound": round(wilson_upper(total, n), 4),
                       "rolling_accuracy": round(sum(recent) / len(recent), 4) if recent else 0.0,
                       "initial": phases.get("initial", {"count": 0, "accuracy": 0.0}),
                       "review": phases.get("review", {"count": 0, "accuracy": 0.0})},
        "training": {"attempts": standing.training_attempt, "passed": standing.training_passed,
                     "accuracy": 0.0},
        "submissions": {"total": standing.submissions, "today": standing.day_count, "fast": standing.fast,
                        "fast_share": round(standing.fast / standing.submissions, 4) if standing.submissions
                        else 0.0},
    }


def project_context(project: Project) -> dict:
    return {"median_seconds": median_seconds(project), "calibration_bar": project.calibration_bar,
            "evaluation_rate": project.evaluation_rate}


MEDIAN_SAMPLE = 500
RESORT_AFTER = 25


class _Times:
    """The times of a project's last `MEDIAN_SAMPLE` live answers taken in by this process, and
    their median, sorted again only after `RESORT_AFTER` more (or at every answer while few)."""

    __slots__ = ("times", "added", "sorted_at", "median")

    def __init__(self) -> None:
        self.times: collections.deque = collections.deque(maxlen=MEDIAN_SAMPLE)
        self.added = self.sorted_at = 0
        self.median = 0.0


_times: dict[int, _Times] = {}


def forget_all() -> None:
    """A new database (start-up, tests): no project's answer times carry over."""
    _times.clear()


def answered(project_id: int, seconds: float) -> None:
    """A live answer took `seconds`: it joins this process's sample of the project's answer times."""
    times = _times.get(project_id) or _times.setdefault(project_id, _Times())
    times.times.append(seconds)
    times.added += 1


def median_seconds(project: Project) -> float:
    """The median time of the project's recent live answers; 0 before any.

    Kept in memory from the answers this process takes in, not read back from the database:
    a sample of them is what the median needs, and the query it replaced ran inside the
    submit's write transaction at a cost that grew with the project (on PostgreSQL, once its
    prepared plan went generic, a merge join over every task: 2-8 s per submit)."""
    times = _times.get(project.id)
    if times is None:
        return 0.0
    if times.added != times.sorted_at and (len(times.times) < 50 or times.added - times.sorted_at >= RESORT_AFTER):
        ordered = sorted(times.times)
        times.median, times.sorted_at = ordered[len(ordered) // 2], times.added
    return times.median


def context(project: Project, standing: TaskerStanding | None = None, detail: bool = True, **parts) -> dict:
    """A full context (every name present, so a condition never meets a missing one)."""
    found = rule_engine.sample_context()
    found["project"] = project_context(project)
    if standing is not None:
        found["tasker"] = tasker_context(standing, detail)
    for key, value in parts.items():
        found[key] = {**found.get(key, {}), **value}
    return found
