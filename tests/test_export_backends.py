"""Export streams every labelled task on SQLite and PostgreSQL (a server-side cursor on the latter)."""

from __future__ import annotations

import msgspec
import pytest

from server.core import assignment, batches, export, imports, projects, rule_sets, submissions, users
from server.core.projects import ProjectSettings
from tests.conftest import image_items, jsonl


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_export_streams_on_both_backends(quorum, tmp_path):
    owner, _ = users.create_user("owner", "owner-pw", "owner")
    tasker, _ = users.create_user("tasker", "tasker-pw", "tasker")
    project = projects.create(ProjectSettings(name="Export", task_type="classification", require_calibration=False),
                              owner.id, users.default_space())
    path = tmp_path / "items.jsonl"
    path.write_bytes(jsonl(image_items(40)))
    imports.import_file(project, path)
    batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    rule_sets.replace(project, '[[rule]]\nname = "too fast to be reading"\non = "submission.created"\n'
                               'when = "false"\nthen = "pause"\nenabled = false\n', owner.id)
    project = projects.get(project.id)
    for _ in range(25):
        claimed = assignment.claim(project, tasker.id)
        submissions.submit(claimed.assignment_id, tasker.id, {"label": "Infographics"})
    rows = msgspec.json.decode(b"".join(export.stream(project, "json")))
    assert len(rows) == 25 and {r["label"] for r in rows} == {"Infographics"}
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows), "in task order"
    lines = b"".join(export.stream(project, "jsonl")).splitlines()
    assert len(lines) == 25
