"""Many taskers at once: no task gets more than `overlap` responses, none is lost, none is given twice."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from server.core import assignment, batches, imports, projects, rule_sets, submissions, users
from server.core.projects import ProjectSettings
from server.models import Assignment, Response, Task
from tests.conftest import image_items, jsonl

TASKERS = 32
# These taskers are threads answering at machine speed: the bot rule would rightly pause them.
MACHINE_SPEED_IS_FINE = """
[[rule]]
name = "too fast to be reading"
on = "submission.created"
when = "false"
then = "pause"
enabled = false
"""


def _project(quorum, tmp_path, items: int, overlap: int):
    owner, _ = users.create_user("owner", "owner-pw", "owner")
    project = projects.create(ProjectSettings(name="Load", task_type="classification", overlap=overlap,
                                              require_calibration=False),
                              owner.id, users.default_space())
    path = tmp_path / "items.jsonl"
    path.write_bytes(jsonl(image_items(items)))
    imports.import_file(project, path)
    batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    taskers = [users.create_user(f"tasker{i}", "tasker-pw", "tasker")[0].id for i in range(TASKERS)]
    rule_sets.replace(project, MACHINE_SPEED_IS_FINE, None)
    return project, taskers


def _label_until_empty(project, tasker_id: int, errors: list, skip_every: int = 0) -> None:
    """A tasker who keeps asking while others still hold tasks they might give back."""
    done, deadline = 0, time.time() + 120
    while True:
        try:
            claimed = assignment.claim(project, tasker_id, sweep_every=0.05)
            if claimed is None:
                if time.time() > deadline:
                    errors.append("gave up waiting for tasks others still held")
                    return
                if Assignment.select().where(Assignment.status == "active").exists():
                    time.sleep(0.01)
                    continue
                return
            done += 1
            if skip_every and done % skip_every == 0:
                assignment.skip(claimed.assignment_id, tasker_id)
                continue
            submissions.submit(claimed.assignment_id, tasker_id, {"label": "Infographics"})
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(exc))
            return


def _run_all(project, taskers, skip_every: int = 0) -> list:
    errors: list = []
    threads = [threading.Thread(target=_label_until_empty, args=(project, t, errors, skip_every)) for t in taskers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return errors


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
@pytest.mark.parametrize("overlap", [1, 3])
def test_32_taskers_at_once_never_overfill_or_lose_a_task(quorum, tmp_path, overlap):
    project, taskers = _project(quorum, tmp_path, items=150, overlap=overlap)
    errors = _run_all(project, taskers, skip_every=7)
    assert errors == []
    per_task = Counter(task for (task,) in Response.select(Response.task).tuples())
    assert len(per_task) == 150, "every task got responses"
    assert set(per_task.values()) == {overlap}, "every task got exactly `overlap` responses"
    pairs = Counter(Response.select(Response.task, Response.tasker).tuples())
    assert max(pairs.values()) == 1, "no tasker answered a task twice"
    assert Task.select().where(Task.status != "ready_for_review").count() == 0
    assert Task.select().where(Task.open_slots != 0).count() == 0
    assert Assignment.select().where(Assignment.status == "active").count() == 0


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_expired_leases_go_back_to_the_queue(quorum, tmp_path):
    project, taskers = _project(quorum, tmp_path, items=3, overlap=1)
    first = assignment.claim(project, taskers[0])
    Assignment.update(expires_at=0).where(Assignment.id == first.assignment_id).execute()
    assert assignment.sweep() == 1
    assert Assignment.get_by_id(first.assignment_id).status == "expired"
    claimed = [assignment.claim(project, t).task_id for t in taskers[1:4]]
    assert first.task_id in claimed, "the expired task is claimable again"
    again = assignment.claim(project, taskers[0])
    assert again is None, "the expired tasker never gets the same task back, and the rest are taken"


def test_a_late_submit_is_kept_until_the_lease_is_swept(quorum, tmp_path):
    project, taskers = _project(quorum, tmp_path, items=2, overlap=1)
    late = assignment.claim(project, taskers[0])
    Assignment.update(expires_at=0).where(Assignment.id == late.assignment_id).execute()
    kept = submissions.submit(late.assignment_id, taskers[0], {"label": "Infographics"})
    assert kept.task_status == "ready_for_review"
    swept = assignment.claim(project, taskers[1])
    Assignment.update(expires_at=0).where(Assignment.id == swept.assignment_id).execute()
    assignment.sweep()
    with pytest.raises(Exception, match="expired"):
        submissions.submit(swept.assignment_id, taskers[1], {"label": "Infographics"})
