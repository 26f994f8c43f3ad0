"""Assignment, the hot path: claim the next task under a lease, skip it, and reclaim expired leases.

A claim is one short write transaction over one index (project, kind, claimable,
queue_rank, id), so it costs the same at a million tasks as at a thousand. SQLite takes
the write lock up front (BEGIN IMMEDIATE); PostgreSQL skips rows other claims hold
(FOR NO KEY UPDATE SKIP LOCKED). The unique (task, tasker) index makes "never the same
task twice to one tasker" a database fact, not a hope. The statements are written out
by hand: on this path the query builder cost more than the database.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

import msgspec

from server.core import events, standing
from server.db import execute, is_sqlite, write_transaction
from server.errors import Conflict, NotFound
from server.models import Project

_sweep_lock = threading.Lock()
_last_sweep = [0.0]
_decode = msgspec.json.decode

HELD = ("SELECT a.id, a.task_id, a.expires_at, t.ext_id, t.data, t.kind FROM assignment a JOIN task t ON t.id = a.task_id "
        "WHERE a.tasker_id = ? AND a.project_id = ? AND a.status = 'active' AND a.expires_at > ? "
        "ORDER BY a.id LIMIT 1")
NEXT = ("SELECT t.id, t.ext_id, t.data FROM task t WHERE t.project_id = ? AND t.kind = 'live' AND t.claimable = 1 "
        "AND NOT EXISTS (SELECT 1 FROM assignment a WHERE a.task_id = t.id AND a.tasker_id = ?) "
        "ORDER BY t.queue_rank, t.id LIMIT 1")
SKIP_LOCKED = " FOR NO KEY UPDATE SKIP LOCKED"
TAKE_SLOT = ("UPDATE task SET open_slots = open_slots - 1, claimable = CASE WHEN open_slots > 1 THEN 1 ELSE 0 END, "
             "status = 'in_progress', updated_at = ? WHERE id = ?")
NEXT_TRAINING = ("SELECT t.id, t.ext_id, t.data FROM task t WHERE t.project_id = ? AND t.kind = 'training' "
                 "AND NOT EXISTS (SELECT 1 FROM assignment a WHERE a.task_id = t.id AND a.tasker_id = ? "
                 "AND a.attempt = ?) ORDER BY t.claimable, t.queue_rank, t.id LIMIT 1")
NEXT_EVALUATION = ("SELECT t.id, t.ext_id, t.data FROM task t WHERE t.project_id = ? AND t.kind = 'evaluation' "
                   "AND NOT EXISTS (SELECT 1 FROM assignment a WHERE a.task_id = t.id AND a.tasker_id = ?) "
                   "ORDER BY t.claimable, t.queue_rank, t.id LIMIT 1")   # the kind index's order: no scan
NEW_ASSIGNMENT = ("INSERT INTO assignment (task_id, tasker_id, project_id, status, attempt, claimed_at, expires_at) "
                  "VALUES (?, ?, ?, 'active', ?, ?, ?) RETURNING id")
LOCK_TASK = "SELECT {fields} FROM task WHERE id = ?"


@dataclass
class Claimed:
    assignment_id: int
    task_id: int
    ext_id: str
    data: dict
    expires_at: float
    kind: str = "live"
    fresh: bool = True    # a new lease: no earlier answer of it can have been sent back


def claim(project: Project, tasker_id: int, sweep_every: float = 5.0, chance=random.random) -> Claimed | None:
    """The tasker's next task with a fresh lease, or their unfinished one; None when nothing is left.

    A tasker still onboarding gets the training course in order; an active one gets live
    work, where a share of claims (the project's evaluation rate) serves an evaluation
    task instead, never the same one twice, and only while live work remains."""
    sweep_if_due(sweep_every)
    now = time.time()
    tasker = standing.get(project, tasker_id)
    standing.may_work(tasker, now)
    with write_transaction():
        held = execute(HELD, (tasker_id, project.id, now)).fetchone()
        if held:
            return Claimed(held[0], held[1], held[3], _decode(held[4]), held[2], held[5], fresh=False)
        attempt, live, kind = 0, False, "live"
        if tasker.status == "onboarding":
            attempt, kind = tasker.training_attempt, "training"
            row = execute(NEXT_TRAINING, (project.id, tasker_id, attempt)).fetchone()
        else:
            row = _next_task(project.id, tasker_id)
            live = row is not None
            if live and project.evaluation_rate > 0 and chance() < project.evaluation_rate \
                    and not _calibrating(row[0]):
                gold = execute(NEXT_EVALUATION, (project.id, tasker_id)).fetchone()
                if gold is not None:
                    row, live, kind = gold, False, "evaluation"
        if row is None:
            return None
        task_id, ext_id, data = row
        if live:
            execute(TAKE_SLOT, (now, task_id))
        expires_at = now + project.lease_seconds
        assignment_id = execute(NEW_ASSIGNMENT, (task_id, tasker_id, project.id, attempt, now,
                                                 expires_at)).fetchone()[0]
        events.record("task.claimed", actor=tasker_id, project=project.id, task=task_id, assignment=assignment_id)
    return Claimed(assignment_id, task_id, ext_id, _decode(data), expires_at, kind)


def _calibrating(task_id: int) -> bool:
    """Calibration answers are audited one by one: no evaluation task is mixed into a round."""
    return execute("SELECT b.kind FROM task t JOIN batch b ON b.id = t.batch_id WHERE t.id = ?",
                   (task_id,)).fetchone() == ("calibration",)


def _next_task(project_id: int, tasker_id: int, attempts: int = 3) -> tuple | None:
    """The first claimable task this tasker has never held. On PostgreSQL rows other claims
    hold are skipped; if all that is left is held, look again briefly before saying "none"."""
    if is_sqlite():
        return execute(NEXT, (project_id, tasker_id)).fetchone()
    for _ in range(attempts):
        row = execute(NEXT + SKIP_LOCKED, (project_id, tasker_id)).fetchone()
        if row is not None:
            return row
        if execute(NEXT, (project_id, tasker_id)).fetchone() is None:
            return None
        time.sleep(0.01)
    return None


def locked_task(task_id: int, *fields: str) -> tuple:
    """Read a task's columns holding its row lock until the transaction ends.

    Every write transaction that touches a task locks the task row first, so locks are
    always taken task → assignment → response and two writers cannot deadlock. On
    PostgreSQL the lock is FOR NO KEY UPDATE, which does not block foreign-key checks
    of rows inserted beside it; SQLite's BEGIN IMMEDIATE already holds the database."""
    text = LOCK_TASK.format(fields=", ".join(fields or ("id",)))
    if not is_sqlite():
        text += " FOR NO KEY UPDATE"
    row = execute(text, (task_id,)).fetchone()
    if row is None:
        raise NotFound(f"task {task_id} not found")
    return row


def release_slot(task_id: int, now: float) -> None:
    """A lease ended without a response (skip, expiry, revocation): the slot opens again."""
    status, open_slots, responses, overlap, kind = execute(
        "SELECT t.status, t.open_slots, t.responses_count, p.overlap, t.kind FROM task t "
        "JOIN project p ON p.id = t.project_id WHERE t.id = ?", (task_id,)).fetchone()
    if kind != "live":
        return   # quality tasks hold no slots: any tasker who has not had one may get it
    active = overlap - open_slots - responses - 1
    if status in ("queued", "in_progress"):
        status = "in_progress" if active > 0 else "queued"
    execute("UPDATE task SET open_slots = open_slots + 1, claimable = 1, status = ?, updated_at = ? WHERE id = ?",
            (status, now, task_id))


def held_by(assignment_id: int, tasker_id: int) -> tuple:
    """(task id, project id, status, claimed_at) of the tasker's own assignment; someone
    else's is reported as missing, not forbidden."""
    row = execute("SELECT task_id, project_id, status, claimed_at, tasker_id FROM assignment WHERE id = ?",
                  (assignment_id,)).fetchone()
    if row is None or row[4] != tasker_id:
        raise NotFound(f"assignment {assignment_id} not found")
    return row[:4]


def finish(assignment_id: int, status: str, now: float) -> None:
    """Close an active assignment (submitted, skipped, expired, revoked), or say why it cannot be."""
    changed = execute("UPDATE assignment SET status = ?, finished_at = ? WHERE id = ? AND status = 'active'",
                      (status, now, assignment_id)).rowcount
    if not changed:
        state = execute("SELECT status FROM assignment WHERE id = ?", (assignment_id,)).fetchone()[0]
        raise Conflict(f"assignment {assignment_id} is {state}; claim a new task")


def skip(assignment_id: int, tasker_id: int) -> None:
    now = time.time()
    task_id, project_id, _, _ = held_by(assignment_id, tasker_id)
    with write_transaction():
        locked_task(task_id)
        finish(assignment_id, "skipped", now)
        release_slot(task_id, now)
        events.record("task.skipped", actor=tasker_id, project=project_id, task=task_id, assignment=assignment_id)


def sweep_if_due(every: float) -> int:
    """Reclaim expired leases at most once per `every` seconds per process."""
    if time.time() - _last_sweep[0] < every or not _sweep_lock.acquire(blocking=False):
        return 0
    try:
        _last_sweep[0] = time.time()
        return sweep()
    finally:
        _sweep_lock.release()


def sweep(limit: int = 1000) -> int:
    """Expire leases past their time and open their slots again; returns how many."""
    now = time.time()
    expired = 0
    while True:
        with write_transaction():
            rows = execute("SELECT id, task_id, project_id, tasker_id FROM assignment "
                           "WHERE status = 'active' AND expires_at <= ? LIMIT ?", (now, limit)).fetchall()
            for assignment_id, task_id, project_id, tasker_id in rows:
                locked_task(task_id)
                changed = execute("UPDATE assignment SET status = 'expired', finished_at = ? "
                                  "WHERE id = ? AND status = 'active'", (now, assignment_id)).rowcount
                if changed:
                    release_slot(task_id, now)
                    events.record("lease.expired", actor=tasker_id, project=project_id, task=task_id,
                                  assignment=assignment_id)
        expired += len(rows)
        if len(rows) < limit:
            return expired
