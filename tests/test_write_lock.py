"""SQLite's write lock: writers in other processes are waited for, and a long writer never freezes the server.

The hot path (claim, submit) runs on the event loop and holds the lock for its write
transactions (server/web/hot_path.py).
These tests hold the lock from another process and from a thread, the way an import does,
and check what a user would see: the other side waits and then gets through, and the
server keeps answering while it waits.
"""

from __future__ import annotations

import multiprocessing
import threading

import httpx

from server.db import database, write_transaction
from server.write_lock import WriterLock
from tests.conftest import image_items, load_items, make_project


def _hold(path: str, loop: bool, held, release) -> None:
    lock = WriterLock()
    lock.acquire(path, loop=loop)
    held.set()
    release.wait(30)
    lock.release()


def _other_process_holds(path: str, loop: bool):
    ctx = multiprocessing.get_context("spawn")
    held, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold, args=(path, loop, held, release))
    child.start()
    assert held.wait(30), "the other process never got the lock"
    return child, release


def test_a_slow_writer_in_another_process_is_seen_and_waited_for(tmp_path):
    path = str(tmp_path / "quorum.db")
    child, release = _other_process_holds(path, loop=False)
    lock = WriterLock()
    try:
        assert not lock.acquire(path, blocking=False, loop=True)
        assert lock.slow_holder(path)
    finally:
        release.set()
    lock.wait_until_free(path)
    child.join(30)
    assert lock.acquire(path, blocking=False, loop=True)
    assert not lock.slow_holder(path)       # an event loop's hold is not a slow one
    lock.release()


def test_an_event_loop_holder_is_not_taken_for_a_slow_one(tmp_path):
    path = str(tmp_path / "quorum.db")
    child, release = _other_process_holds(path, loop=True)
    lock = WriterLock()
    try:
        assert not lock.acquire(path, blocking=False, loop=True)
        assert not lock.slow_holder(path)
    finally:
        release.set()
    assert lock.acquire(path, loop=True)     # waits on the spot until the other lets go
    lock.release()
    child.join(30)


def test_the_lock_is_reentrant_for_its_holder_only(tmp_path):
    path = str(tmp_path / "quorum.db")
    lock = WriterLock()
    assert lock.acquire(path)
    assert lock.acquire(path, blocking=False)            # the same thread again
    got = []
    other = threading.Thread(target=lambda: got.append(lock.acquire(path, blocking=False)))
    other.start()
    other.join()
    assert got == [False]
    lock.release()
    lock.release()
    other = threading.Thread(target=lambda: got.append(lock.acquire(path, blocking=False)) or lock.release())
    other.start()
    other.join()
    assert got == [False, True]


def test_the_server_answers_while_a_long_writer_holds_the_database(server, apis):
    """A claim waits for an import-like write in a thread, and meanwhile the event loop is free:
    pings are answered, and the claim goes through once the writer commits."""
    owner, tom = apis["olivia"], apis["tom"]
    project = make_project(owner)
    load_items(owner, project["id"], image_items(3))
    holding, release = threading.Event(), threading.Event()

    def long_writer():
        with write_transaction():
            database.execute_sql("UPDATE project SET description = 'being imported' WHERE id = ?",
                                 (project["id"],))
            holding.set()
            release.wait(30)

    writer = threading.Thread(target=long_writer)
    writer.start()
    assert holding.wait(10)
    claim: list[httpx.Response] = []
    claimer = threading.Thread(target=lambda: claim.append(tom.post(f"/projects/{project['id']}/claim",
                                                                     expect=None)))
    claimer.start()
    try:
        for _ in range(3):
            assert tom.get("/ping").status_code == 200
        claimer.join(0.5)
        assert claim == [], "the claim did not wait for the writer"
    finally:
        release.set()
    writer.join(30)
    claimer.join(30)
    assert claim and claim[0].status_code == 200, claim and claim[0].text
    assert claim[0].json()["task_id"]
