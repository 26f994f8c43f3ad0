"""Export streams every labelled task on SQLite and PostgreSQL (a server-side cursor on the latter)."""

from __future__ import annotations

import msgspec
import pytest

from server.core import assignment, batches, export, imports, projects, rule_sets, submissions, users
from server.core.projects import ProjectSettings
from tests.conftest import image_items, jsonl


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_export_streams_on_both_backends(quorum, tmp_path):
    project = _labelled_project(tmp_path, items=40, answers=25)
    rows = msgspec.json.decode(b"".join(export.stream(project, "json")))
    assert len(rows) == 25 and {r["label"] for r in rows} == {"Infographics"}
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows), "in task order"
    lines = b"".join(export.stream(project, "jsonl")).splitlines()
    assert len(lines) == 25


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgres_export_streams_from_an_open_cursor(quorum, tmp_path):
    """PostgreSQL runs the export's query as rows are fetched: when the first row is out, its
    cursor is open inside the export's transaction, not a holdable one whose whole result
    PostgreSQL had to build before answering (the first byte then waits for all of it)."""
    from server.db import database

    project = _labelled_project(tmp_path, items=3, answers=3)
    rows = export.rows(project)
    first = next(rows)
    cursors = database.execute_sql("SELECT name, is_holdable FROM pg_cursors").fetchall()
    assert cursors == [("quorum_export", False)]
    assert database.in_transaction()
    assert first["label"] == "Infographics" and len(list(rows)) == 2
    assert not database.in_transaction(), "the export's transaction ends with it"


def _labelled_project(tmp_path, items: int, answers: int):
    """A classification project of `items` tasks, `answers` of them answered "Infographics"."""
    owner, _ = users.create_user("owner", "owner-pw", "owner")
    tasker, _ = users.create_user("tasker", "tasker-pw", "tasker")
    project = projects.create(ProjectSettings(name="Export", task_type="classification", require_calibration=False),
                              owner.id, users.default_space())
    path = tmp_path / "items.jsonl"
    path.write_bytes(jsonl(image_items(items)))
    imports.import_file(project, path)
    batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    rule_sets.replace(project, '[[rule]]\nname = "too fast to be reading"\non = "submission.created"\n'
                               'when = "false"\nthen = "pause"\nenabled = false\n', owner.id)
    project = projects.get(project.id)
    for _ in range(answers):
        claimed = assignment.claim(project, tasker.id)
        submissions.submit(claimed.assignment_id, tasker.id, {"label": "Infographics"})
    return project
