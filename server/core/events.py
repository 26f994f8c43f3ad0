"""The append-only event log: every decision and change writes one row here."""

from __future__ import annotations

from server import plugins
from server.db import database
from server.models import Event


def record(kind: str, /, *, actor: int | None = None, project: int | None = None,
           task: int | None = None, **data) -> None:
    """Write an event inside the caller's transaction; listeners hear of it after commit."""
    Event.insert(kind=kind, actor=actor, project=project, task=task, data=data).execute()
    payload = {"actor": actor, "project": project, "task": task, **data}
    database.obj.after_commit(lambda: plugins.notify(kind, payload))


def record_many(rows: list[dict]) -> None:
    """Bulk events (imports); each row has kind, actor, project, task, data."""
    if rows:
        Event.insert_many(rows).execute()
