"""Where the labeling hot path (claim, submit, skip) runs: on the event loop, taking SQLite's
write lock only for its write transactions.

SQLite has one writer. Run from the thread pool, the thread holding the write lock shared
its process's interpreter lock with every other request thread, so each hold stretched
from 0.3 ms to 0.9 ms of wall time, and the loop stalled near 470 submissions/s on two
workers while the second core idled. So a handler runs whole on the event loop (nothing
else of its process runs meanwhile) and its write transactions are short holds: another
worker's loop that wants the lock waits for them on the spot. The reads and the work
around the transaction (validating an answer, judging it, building the reply) run
outside the lock, so the two workers do them at the same time: holding the lock for the
whole handler, the lock was busy 77% of the time at 358 submissions/s and every other
acquisition waited for it.

When a holder that may be slow holds the lock (an import, the queue, a page's thread; see
server/write_lock.py), a worker thread waits until it is free before the handler starts,
so the event loop is never frozen behind a long writer.

On PostgreSQL the handlers run on the event loop too (420 submissions/s at 32 taskers
against 372 from threads): each worker then runs one claim or submit at a time, a few
round trips of about 0.1 ms. They wait on no other transaction's locks in practice: a
claim skips locked rows, and a submit locks only its own task, which bulk operations
(imports, new batches) do not touch.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from anyio import to_thread

from server.db import database, is_sqlite, writer

T = TypeVar("T")


async def run(fn: Callable[..., T], *args) -> T:
    db = database.obj
    if not is_sqlite(db):
        return fn(*args)
    path = db.database
    if writer.slow_holder(path):
        await to_thread.run_sync(writer.wait_until_free, path)
    with writer.short_holds():
        return fn(*args)
