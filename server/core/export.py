"""Export: every task with responses, shaped by its task type, streamed through an exporter plugin.

Rows come from one ordered query read in batches (a cursor declared in the export's
transaction on PostgreSQL), so memory stays flat at a million responses and the first
row leaves before the last is read.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from server import plugins
from server.core import projects
from server.db import database, fetch_batches
from server.models import Project, Review

FETCH = 2000
ROWS = ("SELECT t.id, t.ext_id, t.data, t.status, r.data FROM task t "
        "JOIN response r ON r.task_id = t.id AND r.rejected = ? "
        "WHERE t.project_id = ? AND r.project_id = ? ORDER BY r.task_id, r.id")   # the response index's order: no sort


def _fixes(project: Project) -> dict[int, dict]:
    """Task id -> the reviewer's corrected answer, for tasks whose last review was a fix."""
    fixes: dict[int, dict] = {}
    for task_id, decision, fixed in (Review.select(Review.task, Review.decision, Review.fixed)
                                     .join_from(Review, Review.task.rel_model)
                                     .where(Review.task.rel_model.project == project)
                                     .order_by(Review.id).tuples()):
        if decision == "fix":
            fixes[task_id] = fixed
        else:
            fixes.pop(task_id, None)
    return fixes


def rows(project: Project) -> Iterator[dict]:
    """One export row per task that has responses, in task order."""
    rt = projects.runtime(project)
    fixes = _fixes(project)
    decode = msgspec.json.decode
    view = projects.viewer(project)
    task_type, options = rt.task_type, rt.options

    def row(current: tuple, responses: list[dict]) -> dict:
        task_id, ext_id, data, status = current
        final = fixes.get(task_id) or task_type.aggregate(options, responses)
        found = task_type.export_row(options, view(task_id, ext_id, decode(data)), responses, final)
        found["status"] = status
        return found

    with database.atomic():
        current, responses = None, []
        for batch in fetch_batches(ROWS, (False, project.id, project.id), FETCH, name="quorum_export"):
            for task_id, ext_id, data, status, response in batch:
                if current is not None and current[0] != task_id:
                    yield row(current, responses)
                    responses = []
                current = (task_id, ext_id, data, status)
                responses.append(decode(response))
        if current is not None:
            yield row(current, responses)


def stream(project: Project, fmt: str) -> Iterator[bytes]:
    exporter = plugins.registry().exporter(fmt)
    return exporter.chunks(rows(project))
