"""Slow judges run on a real queue consumer (SQLite-backed and Redis-backed), never on the submit path."""

from __future__ import annotations

import time
import uuid

import pytest

from server import jobs, plugins
from server.boot import boot
from server.core import assignment, batches, imports, projects, submissions, users
from server.core.projects import ProjectSettings
from server.hookspecs import hookimpl
from server.models import JudgeVerdict, Response, Task
from server.plugin_types import Judge, Verdict
from tests.conftest import close_all, image_items, jsonl, make_config


class SlowJudge(Judge):
    """Takes its time and fails answers without an explanation."""

    name = "slow-test"
    version = "2"
    cheap = False

    def judge(self, request):
        time.sleep(0.2)
        verdict = "pass" if request.response.get("explanation") else "fail"
        return [Verdict(criterion=c.name, verdict=verdict, comment="explain your choice") for c in request.criteria]


class BrokenJudge(Judge):
    name = "broken-test"
    cheap = False

    def judge(self, request):
        raise RuntimeError("model host unreachable")


class TestJudges:
    @hookimpl
    def quorum_judges(self):
        return [SlowJudge(), BrokenJudge()]


@pytest.fixture(params=["sqlite", "redis"])
def queued(request, tmp_path):
    config = make_config(tmp_path, QUORUM_QUEUE_BACKEND=request.param, QUORUM_QUEUE_IMMEDIATE="false",
                         QUORUM_QUEUE_NAME=f"test-{uuid.uuid4().hex[:8]}")
    boot(config)
    plugins.configure(entry_points=False, extra=(TestJudges(),))
    consumer = jobs.start_embedded(workers=2)
    yield config
    consumer.stop(graceful=True)
    jobs.huey().flush()
    close_all()


def _labelled(tmp_path, judge: str) -> tuple[int, submissions.Submitted]:
    owner, _ = users.create_user("owner", "owner-pw", "owner")
    tasker, _ = users.create_user("tasker", "tasker-pw", "tasker")
    project = projects.create(ProjectSettings(name="Queued", task_type="classification", judges=["static", judge],
                                              require_calibration=False),
                              owner.id, users.default_space())
    path = tmp_path / "items.jsonl"
    path.write_bytes(jsonl(image_items(1)))
    imports.import_file(project, path)
    batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    claimed = assignment.claim(project, tasker.id)
    started = time.perf_counter()
    submitted = submissions.submit(claimed.assignment_id, tasker.id, {"label": "Infographics"})
    assert time.perf_counter() - started < 0.2, "the submit did not wait for the slow judge"
    return claimed.task_id, submitted


def _wait_for(task_id: int, status: str, seconds: float = 20) -> None:
    deadline = time.time() + seconds
    while Task.get_by_id(task_id).status != status:
        assert time.time() < deadline, f"task stayed {Task.get_by_id(task_id).status}"
        time.sleep(0.05)


def test_slow_judge_runs_on_the_consumer_then_the_task_moves_on(queued, tmp_path):
    task_id, submitted = _labelled(tmp_path, "slow-test")
    assert submitted.task_status == "quality_check" and submitted.judged == "pending"
    _wait_for(task_id, "ready_for_review")
    verdicts = list(JudgeVerdict.select().where(JudgeVerdict.judge == "slow-test"))
    assert verdicts and {v.verdict for v in verdicts} == {"fail"} and verdicts[0].judge_version == "2"
    assert Response.get().judged == "failed"


def test_a_judge_that_errors_is_reported_not_judged_never_passed(queued, tmp_path):
    task_id, _ = _labelled(tmp_path, "broken-test")
    _wait_for(task_id, "ready_for_review")
    errors = list(JudgeVerdict.select().where(JudgeVerdict.judge == "broken-test"))
    assert errors and all(v.verdict == "error" and "unreachable" in v.comment for v in errors)
    assert Response.get().judged == "not_judged"
