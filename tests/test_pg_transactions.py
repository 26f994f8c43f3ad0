"""PostgreSQL transactions send BEGIN with their first statement (server/db.py
`PostgresqlDatabase`): still all or nothing, savepoints still roll back alone, a failing
first statement leaves the connection usable, BEGIN travels on its own only ahead of the
driver's own cursor calls, and those are inside the transaction too."""

from __future__ import annotations

import pytest

from server.db import database, execute, write_transaction

pytestmark = pytest.mark.postgres
POSTGRES = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


class Boom(Exception):
    pass


def _names() -> list[str]:
    return [row[0] for row in execute("SELECT name FROM space ORDER BY name").fetchall()]


def _add(name: str) -> None:
    execute("INSERT INTO space (name, created_at) VALUES (?, 0)", (name,))


@POSTGRES
def test_a_transaction_is_all_or_nothing_and_savepoints_roll_back_alone(quorum):
    before = _names()
    with pytest.raises(Boom):
        with write_transaction():
            _add("lost-1")
            _add("lost-2")
            raise Boom
    with write_transaction():
        with pytest.raises(Boom):
            with database.atomic():          # a savepoint as the transaction's first statement
                _add("lost-3")
                raise Boom
        _add("kept")
    assert _names() == sorted(before + ["kept"])


@POSTGRES
def test_a_failing_first_statement_rolls_back_and_the_connection_goes_on(quorum):
    with pytest.raises(Exception):
        with write_transaction():
            execute("INSERT INTO no_such_table VALUES (1)")
    with write_transaction():
        pass                                 # nothing ran: nothing is sent
    assert execute("SELECT 1").fetchone() == (1,)
    with write_transaction():
        _add("after")
    assert "after" in _names()


@POSTGRES
def test_begin_travels_with_the_first_statement(quorum):
    sent = []
    hook = lambda event: sent.append(event.sql)   # noqa: E731
    database.obj.query_hooks.append(hook)
    try:
        with write_transaction():
            execute("SELECT 1")
            execute("SELECT 2")
    finally:
        database.obj.query_hooks.remove(hook)
    assert sent[0].startswith("BEGIN; SELECT 1") and sent[1] == "SELECT 2", sent
    assert "BEGIN" not in sent


@POSTGRES
def test_a_raw_cursor_first_in_a_transaction_rolls_back_with_it(quorum):
    """executemany and execute_values take the driver's cursor, not `execute`: as a transaction's
    first statement theirs must still be inside it (verdicts, imported rows)."""
    before = _names()
    with pytest.raises(Boom):
        with write_transaction():
            database.cursor().executemany("INSERT INTO space (name, created_at) VALUES (%s, 0)",
                                          [("raw-1",), ("raw-2",)])
            raise Boom
    assert _names() == before
    with write_transaction():
        database.cursor().executemany("INSERT INTO space (name, created_at) VALUES (%s, 0)", [("raw-3",)])
    assert "raw-3" in _names()
