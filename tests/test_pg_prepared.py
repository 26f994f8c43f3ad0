"""PostgreSQL runs frequent hand-written statements prepared: same results, and a statement it
cannot prepare still runs, without breaking the transaction around it."""

from __future__ import annotations

import pytest

from server import pg_prepared
from server.db import database, execute, write_transaction
from server.core import users

pytestmark = pytest.mark.postgres
POSTGRES = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@POSTGRES
def test_a_frequent_statement_is_prepared_and_answers_the_same(quorum):
    for name in ("ann", "bob"):
        users.create_user(name, f"{name}-pw", "tasker")
    text = "SELECT username FROM \"user\" WHERE username = ? AND is_active = ?"
    answers = [execute(text, ("bob", True)).fetchone() for _ in range(pg_prepared.PREPARE_AFTER + 3)]
    assert answers == [("bob",)] * len(answers)
    name = pg_prepared._names[text]
    assert name, "the statement was not prepared"
    prepared = database.execute_sql("SELECT statement FROM pg_prepared_statements WHERE name = %s",
                                    (name,)).fetchone()
    assert prepared and "$1" in prepared[0]
    assert execute(text, ("ann", True)).fetchone() == ("ann",)   # new values, same plan


@POSTGRES
def test_a_statement_postgres_cannot_prepare_runs_plainly_inside_a_transaction(quorum):
    text = "SELECT ? IS NULL"          # the parameter's type cannot be inferred: PREPARE is refused
    with write_transaction():
        answers = [execute(text, (None,)).fetchone() for _ in range(pg_prepared.PREPARE_AFTER + 2)]
        assert execute("SELECT 1").fetchone() == (1,)    # the transaction is still usable
    assert answers == [(True,)] * len(answers)
    assert pg_prepared._names[text] is None
