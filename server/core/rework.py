"""Rework: a blocking judge fail sends the answer back to its tasker, with the judges' comments.

Whether a fail goes back to the tasker or on to review (marked failed) is the project's
`on_blocking_fail` setting. The assignment is reopened with a fresh lease, so the same
tasker gets the same task back; the failed answer is kept, marked `reworked`. After
MAX_REWORKS round trips the answer goes on to review marked failed instead.
"""

from __future__ import annotations

import time

from server.core import events
from server.db import execute
from server.models import Project

MAX_REWORKS = 2


def wanted(project: Project, response_id: int | None = None, assignment_id: int | None = None) -> bool:
    """Should a blocking fail on this answer go back to its tasker?"""
    if project.on_blocking_fail != "rework":
        return False
    if assignment_id is None:
        assignment_id = execute("SELECT assignment_id FROM response WHERE id = ?", (response_id,)).fetchone()[0]
    done = execute("SELECT COUNT(*) FROM response WHERE assignment_id = ? AND reworked = ?",
                   (assignment_id, True)).fetchone()[0]
    return done < MAX_REWORKS


def send_back(response_id: int, project: Project, comments: list[str]) -> None:
    """Reopen the answer's assignment for its tasker (inside the caller's transaction)."""
    now = time.time()
    assignment_id, task_id, tasker_id = execute(
        "SELECT assignment_id, task_id, tasker_id FROM response WHERE id = ?", (response_id,)).fetchone()
    execute("UPDATE response SET reworked = ?, judged = 'failed' WHERE id = ?", (True, response_id))
    execute("UPDATE assignment SET status = 'active', expires_at = ?, finished_at = NULL WHERE id = ?",
            (now + project.lease_seconds, assignment_id))
    execute("UPDATE task SET responses_count = responses_count - 1, status = 'in_progress', updated_at = ? "
            "WHERE id = ?", (now, task_id))
    events.record("response.sent_back", actor=None, project=project.id, task=task_id, response=response_id,
                  tasker=tasker_id, comments=comments)


def feedback(assignment_id: int) -> dict | None:
    """What the tasker sees on a reopened assignment: their last answer and the judges' comments."""
    row = execute("SELECT id, data FROM response WHERE assignment_id = ? AND reworked = ? ORDER BY id DESC LIMIT 1",
                  (assignment_id, True)).fetchone()
    if row is None:
        return None
    from msgspec.json import decode

    comments = [{"criterion": c, "comment": m} for c, m in execute(
        "SELECT criterion_name, comment FROM judge_verdict WHERE response_id = ? AND verdict = 'fail' ORDER BY id",
        (row[0],)).fetchall()]
    return {"previous": decode(row[1]), "comments": comments}
