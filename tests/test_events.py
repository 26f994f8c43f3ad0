"""The event log: every transition leaves a row, and listener plugins hear of it after commit."""

from __future__ import annotations

from server import plugins
from server.core import assignment, batches, imports, projects, review, submissions, users
from server.core.projects import ProjectSettings
from server.hookspecs import hookimpl
from server.models import Event
from tests.conftest import image_items, jsonl


class Listener:
    def __init__(self):
        self.heard: list[tuple[str, dict]] = []

    @hookimpl
    def quorum_event(self, kind, data):
        self.heard.append((kind, data))


def test_a_task_lifecycle_is_written_down_and_heard(quorum, tmp_path):
    listener = Listener()
    plugins.configure(entry_points=False, extra=(listener,))
    owner, _ = users.create_user("owner", "owner-pw", "owner")
    tasker, _ = users.create_user("tasker", "tasker-pw", "tasker")
    project = projects.create(ProjectSettings(name="Events", task_type="classification", require_calibration=False), owner.id,
                              users.default_space())
    path = tmp_path / "items.jsonl"
    path.write_bytes(jsonl(image_items(1)))
    imports.import_file(project, path, actor=owner.id)
    batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    claimed = assignment.claim(project, tasker.id)
    submissions.submit(claimed.assignment_id, tasker.id, {"label": "Infographics"})
    review.review(claimed.task_id, owner.id, review.ReviewRequest(decision="reject", comment="wrong"))

    kinds = [e.kind for e in Event.select().order_by(Event.id)]
    assert kinds == ["project.created", "items.imported", "batch.created", "task.claimed", "response.submitted",
                     "task.ready_for_review", "task.rejected"]
    rejected = Event.select().where(Event.kind == "task.rejected").get()
    assert (rejected.actor, rejected.task, rejected.data["comment"]) == (owner.id, claimed.task_id, "wrong")
    assert [k for k, _ in listener.heard] == kinds
    heard = dict(listener.heard)
    assert heard["response.submitted"]["judged"] == "passed" or heard["response.submitted"]["judged"] == "failed"


def test_a_rolled_back_change_is_never_announced(quorum):
    listener = Listener()
    plugins.configure(entry_points=False, extra=(listener,))
    owner, _ = users.create_user("owner", "owner-pw", "owner")
    try:
        projects.create(ProjectSettings(name="Bad", task_type="classification", judges=["nope"]), owner.id,
                        users.default_space())
    except Exception:  # noqa: BLE001 - the refusal is the point
        pass
    assert listener.heard == [] and Event.select().count() == 0


def test_events_of_a_write_transaction_are_written_with_it_or_not_at_all(quorum):
    """Inside a write transaction events wait and go in as one statement when it ends: a
    rollback leaves none behind, a nested one rolled back takes only its own, and a
    transaction of many keeps them all, in order."""
    from server.core import events
    from server.db import write_transaction

    class Boom(Exception):
        pass

    try:
        with write_transaction():
            events.record("test.lost", n=0)
            raise Boom
    except Boom:
        pass
    with write_transaction():
        events.record("test.kept", n=1)
        try:
            with write_transaction():
                events.record("test.lost", n=2)
                raise Boom
        except Boom:
            pass
        for n in range(3, 603):   # more rows than one statement takes
            events.record("test.kept", n=n)
        assert Event.select().where(Event.kind.startswith("test.")).count() == 0   # not yet: at the end
    written = [(e.kind, e.data["n"]) for e in Event.select().where(Event.kind.startswith("test.")).order_by(Event.id)]
    assert written == [("test.kept", 1)] + [("test.kept", n) for n in range(3, 603)]
    events.record("test.now", n=603)   # outside a write transaction: at once
    assert Event.select().where(Event.kind == "test.now").count() == 1
