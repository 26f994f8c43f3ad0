"""Assignment, the hot path: claim the next task under a lease, skip it, and reclaim expired leases.

A claim is one short write transaction over one index (project, kind, claimable,
queue_rank, id), so it costs the same at a million tasks as at a thousand. SQLite takes
the write lock up front (BEGIN IMMEDIATE); PostgreSQL skips rows other claims hold
(FOR UPDATE SKIP LOCKED). The unique (task, tasker) index makes "never the same task
twice to one tasker" a database fact, not a hope.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from peewee import Case

from server.core import events
from server.db import database, is_sqlite, write_transaction
from server.errors import Conflict, NotFound
from server.models import Assignment, Project, Task

_sweep_lock = threading.Lock()
_last_sweep = [0.0]


@dataclass
class Claimed:
    assignment_id: int
    task_id: int
    ext_id: str
    data: dict
    expires_at: float


def _next_task_sql() -> str:
    p = "?" if is_sqlite() else "%s"
    lock = "" if is_sqlite() else " FOR NO KEY UPDATE SKIP LOCKED"
    return (
        f"SELECT t.id FROM task t WHERE t.project_id = {p} AND t.kind = 'live' AND t.claimable = 1 "
        f"AND NOT EXISTS (SELECT 1 FROM assignment a WHERE a.task_id = t.id AND a.tasker_id = {p}) "
        f"ORDER BY t.queue_rank, t.id LIMIT 1{lock}"
    )


def claim(project: Project, tasker_id: int, sweep_every: float = 5.0) -> Claimed | None:
    """The tasker's next task with a fresh lease, or their unfinished one; None when nothing is left."""
    sweep_if_due(sweep_every)
    now = time.time()
    with write_transaction():
        held = (Assignment.select(Assignment.id, Assignment.task, Assignment.expires_at)
                .where(Assignment.tasker == tasker_id, Assignment.project == project.id,
                       Assignment.status == "active", Assignment.expires_at > now)
                .order_by(Assignment.id).limit(1).tuples().first())
        if held:
            assignment_id, task_id, expires_at = held
        else:
            task_id = _next_task(project.id, tasker_id)
            if task_id is None:
                return None
            _take_slot(task_id, now)
            expires_at = now + project.lease_seconds
            assignment_id = Assignment.insert(task=task_id, tasker=tasker_id, project=project.id,
                                              status="active", claimed_at=now, expires_at=expires_at).execute()
            events.record("task.claimed", actor=tasker_id, project=project.id, task=task_id,
                          assignment=assignment_id)
        ext_id, data = Task.select(Task.ext_id, Task.data).where(Task.id == task_id).tuples().get()
    return Claimed(assignment_id, task_id, ext_id, data, expires_at)


def _next_task(project_id: int, tasker_id: int, attempts: int = 3) -> int | None:
    """The first claimable task this tasker has never held. On PostgreSQL rows other claims
    hold are skipped; if all that is left is held, look again briefly before saying "none"."""
    for _ in range(attempts):
        row = database.execute_sql(_next_task_sql(), (project_id, tasker_id)).fetchone()
        if row is not None:
            return row[0]
        if is_sqlite() or not _any_claimable(project_id, tasker_id):
            return None
        time.sleep(0.01)
    return None


def _any_claimable(project_id: int, tasker_id: int) -> bool:
    sql = _next_task_sql().replace(" FOR NO KEY UPDATE SKIP LOCKED", "")
    return database.execute_sql(sql, (project_id, tasker_id)).fetchone() is not None


def _take_slot(task_id: int, now: float) -> None:
    (Task.update(open_slots=Task.open_slots - 1,
                 claimable=Case(None, [(Task.open_slots > 1, 1)], 0),
                 status="in_progress", updated_at=now)
     .where(Task.id == task_id).execute())


def locked_task(task_id: int, *fields) -> tuple:
    """Read a task's fields holding its row lock until the transaction ends.

    Every write transaction that touches a task locks the task row first, so locks are
    always taken task → assignment → response and two writers cannot deadlock. On
    PostgreSQL the lock is FOR NO KEY UPDATE, which does not block foreign-key checks
    of rows inserted beside it; SQLite's BEGIN IMMEDIATE already holds the database."""
    query = Task.select(*fields).where(Task.id == task_id)
    if not is_sqlite():
        query = query.for_update("FOR NO KEY UPDATE")
    return query.tuples().get()


def release_slot(task_id: int, now: float) -> None:
    """A lease ended without a response (skip, expiry, revocation): the slot opens again."""
    status, open_slots, responses, project_id = locked_task(
        task_id, Task.status, Task.open_slots, Task.responses_count, Task.project)
    overlap = Project.select(Project.overlap).where(Project.id == project_id).scalar()
    active = overlap - open_slots - responses - 1
    if status in ("queued", "in_progress"):
        status = "in_progress" if active > 0 else "queued"
    (Task.update(open_slots=Task.open_slots + 1, claimable=1, status=status, updated_at=now)
     .where(Task.id == task_id).execute())


def active_assignment(assignment_id: int, tasker_id: int) -> Assignment:
    """The tasker's own assignment; someone else's is reported as missing, not forbidden."""
    assignment = Assignment.get_or_none(Assignment.id == assignment_id)
    if assignment is None or assignment.tasker_id != tasker_id:
        raise NotFound(f"assignment {assignment_id} not found")
    return assignment


def skip(assignment_id: int, tasker_id: int) -> None:
    now = time.time()
    assignment = active_assignment(assignment_id, tasker_id)
    with write_transaction():
        locked_task(assignment.task_id, Task.id)
        changed = (Assignment.update(status="skipped", finished_at=now)
                   .where(Assignment.id == assignment_id, Assignment.status == "active").execute())
        if not changed:
            state = Assignment.select(Assignment.status).where(Assignment.id == assignment_id).scalar()
            raise Conflict(f"assignment {assignment_id} is {state}, not active")
        release_slot(assignment.task_id, now)
        events.record("task.skipped", actor=tasker_id, project=assignment.project_id, task=assignment.task_id,
                      assignment=assignment_id)


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
            rows = list(Assignment.select(Assignment.id, Assignment.task, Assignment.project, Assignment.tasker)
                        .where(Assignment.status == "active", Assignment.expires_at <= now)
                        .limit(limit).tuples())
            for assignment_id, task_id, project_id, tasker_id in rows:
                locked_task(task_id, Task.id)
                changed = (Assignment.update(status="expired", finished_at=now)
                           .where(Assignment.id == assignment_id, Assignment.status == "active").execute())
                if changed:
                    release_slot(task_id, now)
                    events.record("lease.expired", actor=tasker_id, project=project_id, task=task_id,
                                  assignment=assignment_id)
        expired += len(rows)
        if len(rows) < limit:
            return expired
