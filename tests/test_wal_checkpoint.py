"""WAL checkpoints off the write path (server/wal_checkpoint.py): the log stays small while
writers never stop, serving connections do not checkpoint on commit, and one process at a
time runs the checkpoints, another taking over when it stops."""

from __future__ import annotations

import os
import threading
import time

import pytest

from server import wal_checkpoint
from server.db import open_database, writer

FRAME = 4096 + 24


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(wal_checkpoint, "INTERVAL", 0.005)
    monkeypatch.setattr(wal_checkpoint, "RETRY", 0.02)
    monkeypatch.setattr(wal_checkpoint, "RESET_PAGES", 64)


def _database(tmp_path):
    db = open_database(f"sqlite:///{tmp_path}/quorum.db")
    db.execute_sql("CREATE TABLE item (id INTEGER PRIMARY KEY, body BLOB)")
    return db


def _write(db, rows: int) -> None:
    """Transactions one after another, the way the hot path takes them: each a page or two of log,
    and the interpreter let go between them, as an event loop does waiting on its sockets. (A
    thread that takes the lock again without ever letting go keeps the checkpointer's turn from
    coming: Python's mutex is not first come, first served.)"""
    for _ in range(rows):
        writer.acquire(db.database, loop=True)
        try:
            with db.atomic(lock_type="IMMEDIATE"):
                db.execute_sql("INSERT INTO item (body) VALUES (?)", (os.urandom(3000),))
        finally:
            writer.release()
        time.sleep(0)


def _writers(db, threads: int, rows: int) -> None:
    running = [threading.Thread(target=_write, args=(db, rows)) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()


def test_the_log_starts_over_while_writers_never_stop(tmp_path, quick):
    db = _database(tmp_path)
    checkpointer = wal_checkpoint.start(db)
    try:
        assert checkpointer.elected.wait(5)
        _writers(db, threads=2, rows=1500)
    finally:
        checkpointer.stop()
    written = db.execute_sql("SELECT COUNT(*) FROM item").fetchone()[0]
    assert written == 3000
    # 3,000 rows of 3 KB: about 9,000 pages of log if it never started over (with PASSIVE
    # checkpoints alone), 800 to 1,200 here when it does
    assert os.path.getsize(f"{tmp_path}/quorum.db-wal") < 3000 * FRAME


def test_serving_connections_leave_checkpoints_to_the_thread(tmp_path, quick):
    db = _database(tmp_path)
    checkpointer = wal_checkpoint.start(db)
    seen = []
    try:
        thread = threading.Thread(target=lambda: seen.append(db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()))
        thread.start()
        thread.join()
    finally:
        checkpointer.stop()
    assert seen == [(0,)]
    assert db.execute_sql("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    other = open_database(f"sqlite:///{tmp_path}/quorum.db")   # a CLI process keeps SQLite's own
    assert other.execute_sql("PRAGMA wal_autocheckpoint").fetchone() == (1000,)


def test_one_process_checkpoints_and_another_takes_over_when_it_stops(tmp_path, quick):
    first = wal_checkpoint.start(_database(tmp_path))
    assert first.elected.wait(5)        # started together, either could win the lock
    second = wal_checkpoint.start(open_database(f"sqlite:///{tmp_path}/quorum.db"))
    try:
        time.sleep(0.1)
        assert not second.elected.is_set()
        first.stop()
        assert second.elected.wait(5)
    finally:
        second.stop()
        first.stop()


def test_nothing_to_do_for_postgresql_or_memory():
    assert wal_checkpoint.start(open_database("sqlite:///:memory:")) is None
    assert wal_checkpoint.start(open_database("postgresql://postgres@127.0.0.1:5432/test")) is None
