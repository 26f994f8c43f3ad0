"""SQLite's WAL checkpoints, moved off the write path: a background thread of one web worker
copies the log back into the database file while the workers go on writing.

By default the commit that pushes the log past 1,000 pages runs the checkpoint itself,
holding the write lock while it copies pages and syncs the file. A claim and a submit
write about 35 pages between them (rows and index leaves), so every 28th pair or so paid
for a checkpoint and every other writer waited for it: in-process, the loop ran 25-30%
faster with checkpoints elsewhere. A checkpoint needs no write lock (PASSIVE: it copies
what no reader still needs and lets writers append meanwhile), and one taken every
`INTERVAL` writes each hot page (the index leaves every claim touches) once instead of
once per thousand pages of log.

But a writer starts the log over from its beginning only if the log was wholly copied back
when it began, and writers that never stop have always added a page since: with PASSIVE
checkpoints alone the log grew to 1.2 GB in 30 s of labeling. So once the log is past
`RESET_PAGES`, the thread copies what the last round left while holding the write lock (a
short hold: a few hundred pages and the file's sync), and the next writer starts over.

The web workers' connections stop checkpointing on commit (`wal_autocheckpoint=0`); the
first worker to flock `<database>-checkpointer.lock` runs the thread, and the lock goes
with the process, so another worker takes over if that one dies. Every other process (the
CLI, a standalone queue consumer) keeps SQLite's own checkpoints.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading

import peewee

from server.db import writer

log = logging.getLogger("quorum")

INTERVAL = 0.2       # seconds between checkpoints while the log grows
RETRY = 5.0          # seconds between attempts to become the checkpointer
RESET_PAGES = 4096   # past this (16 MB of log), finish a checkpoint under the write lock
LOG_LIMIT = 64 << 20  # a log reset truncates the file back to this (journal_size_limit)


class Checkpointer:
    """The background thread; `stop()` ends it (and lets another process take over)."""

    def __init__(self, db: peewee.SqliteDatabase) -> None:
        self.db = db
        self.stopping = threading.Event()
        self.elected = threading.Event()
        self.thread = threading.Thread(target=self._run, name="quorum-wal-checkpoint", daemon=True)

    def _run(self) -> None:
        fd = os.open(f"{self.db.database}-checkpointer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            while not _elected(fd):
                if self.stopping.wait(RETRY):
                    return
            self.elected.set()
            log.info("WAL checkpoints for %s run in this process", self.db.database)
            while not self.stopping.wait(INTERVAL):
                try:
                    round_of(self.db)
                except peewee.DatabaseError as exc:     # a locked or busy database: the next round retries
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            os.close(fd)
            self.db.close()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()


def start(db: peewee.Database) -> Checkpointer | None:
    """Checkpoint `db` in a background thread of this process (or of whichever process holds
    the checkpointer lock) instead of on commit; nothing for PostgreSQL or an in-memory database."""
    if not isinstance(db, peewee.SqliteDatabase) or db.database == ":memory:" or db.database.startswith("file:"):
        return None
    db.pragma("wal_autocheckpoint", 0, permanent=True)    # this thread's connection and every later one
    db.pragma("journal_size_limit", LOG_LIMIT, permanent=True)
    checkpointer = Checkpointer(db)
    checkpointer.thread.start()
    return checkpointer


def _elected(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def round_of(db: peewee.SqliteDatabase) -> tuple[int, int, int]:
    """Copy the log back without stopping writers; past `RESET_PAGES`, copy the rest holding
    the write lock, so the next writer starts the log over."""
    busy, pages, copied = checkpoint(db)
    if pages >= RESET_PAGES:
        writer.acquire(db.database, loop=True)     # short: only what was written since the last copy
        try:
            busy, pages, copied = checkpoint(db)
        finally:
            writer.release()
    return busy, pages, copied


def checkpoint(db: peewee.SqliteDatabase) -> tuple[int, int, int]:
    """One PASSIVE checkpoint: (busy, pages in the log, pages copied back)."""
    return tuple(db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
