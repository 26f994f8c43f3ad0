"""Where the labeling hot path (claim, submit, skip) runs: on the event loop, holding SQLite's write lock.

SQLite has one writer. Run from the thread pool, the thread holding the write lock shared
its process's interpreter lock with every other request thread, so each hold stretched
from 0.3 ms to 0.9 ms of wall time, and the loop stalled near 470 submissions/s on two
workers while the second core idled. So on SQLite a handler takes the write lock first
and then runs whole on the event loop (about 0.3 ms, nothing else of the process running
meanwhile): 840 submissions/s. When the lock is held by another event loop, waiting for
it on the spot is short; when a holder that may be slow holds it (an import, the queue,
a page's thread; see server/write_lock.py), a worker thread waits until it is free, so
the event loop is never frozen behind a long writer. PostgreSQL waits on row locks and
the network, so there the handlers run in threads.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, TypeVar

from anyio import to_thread

from server.db import database, is_sqlite, writer

T = TypeVar("T")


async def run(fn: Callable[..., T], *args) -> T:
    db = database.obj
    if not is_sqlite(db):
        return await to_thread.run_sync(partial(fn, *args))
    path = db.database
    while not writer.acquire(path, blocking=False, loop=True):
        if writer.slow_holder(path):
            await to_thread.run_sync(writer.wait_until_free, path)
        else:
            writer.acquire(path, loop=True)
            break
    try:
        return fn(*args)
    finally:
        writer.release()
