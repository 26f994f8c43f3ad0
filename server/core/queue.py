"""The core's view of the queue: work to run after the current transaction commits.

`jobs.py` registers a huey task under each name at start-up; without one (scripts,
some tests) the work runs inline, right after the commit. So the core never imports
the queue, and nothing is queued for a change that was rolled back.
"""

from __future__ import annotations

from collections.abc import Callable

from server.db import database

_jobs: dict[str, Callable] = {}


def register(name: str, enqueue: Callable) -> None:
    _jobs[name] = enqueue


def clear() -> None:
    _jobs.clear()


def later(name: str, inline: Callable, *args) -> None:
    """Run `name` with `args` on the queue after commit, or `inline(*args)` when no queue is installed."""
    job = _jobs.get(name, inline)
    database.obj.after_commit(lambda: job(*args))
