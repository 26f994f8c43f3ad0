"""The append-only event log: every decision and change writes one row here."""

from __future__ import annotations

import time

import msgspec

from server import plugins
from server.db import database, insert_later

INSERT = "INSERT INTO event (at, kind, actor, project, task, data)"
_encode = msgspec.json.encode


def record(kind: str, /, *, actor: int | None = None, project: int | None = None,
           task: int | None = None, **data) -> None:
    """Write an event inside the caller's transaction (as it ends, with its other events, when
    it is a write transaction); listeners hear of it after commit."""
    insert_later(INSERT, (time.time(), kind, actor, project, task, _encode(data).decode()))
    if plugins.has_listeners():
        payload = {"actor": actor, "project": project, "task": task, **data}
        database.obj.after_commit(lambda: plugins.notify(kind, payload))
