"""The peewee database, chosen by URL: SQLite (default) or PostgreSQL for scale-out.

Models bind to `database`, a DatabaseProxy initialised once at start-up by `connect()`.
Connections are per thread and kept open (peewee's autoconnect), so a request does not
pay for connection set-up; PostgreSQL uses a pool.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import peewee
from playhouse.pool import PooledPostgresqlDatabase

from server import pg_prepared
from server.write_lock import WriterLock

database = peewee.DatabaseProxy()


def is_sqlite(db: peewee.Database | None = None) -> bool:
    db = db or database.obj
    return isinstance(db, peewee.SqliteDatabase)


def open_database(url: str, busy_timeout_ms: int = 10000, pool_size: int = 40) -> peewee.Database:
    """A peewee Database for `url` (sqlite:///path or postgresql://…), not yet bound."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else parsed.path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return peewee.SqliteDatabase(
            path,
            timeout=busy_timeout_ms / 1000,
            pragmas={
                "journal_mode": "wal",
                "synchronous": "normal",
                "foreign_keys": 1,
                "busy_timeout": busy_timeout_ms,
                # per connection, and every request thread has its own: at 8 MB the workers grew by
                # 30 MB each over a loop phase; the file's pages stay in the OS cache anyway
                "cache_size": -2000,
            },
            autoconnect=True,
        )
    if parsed.scheme in ("postgres", "postgresql"):
        return PostgresqlDatabase(
            parsed.path.lstrip("/"),
            user=parsed.username,
            password=parsed.password,
            host=parsed.hostname,
            port=parsed.port or 5432,
            max_connections=pool_size,
            stale_timeout=600,
            autoconnect=True,
        )
    raise ValueError(f"database url: unknown scheme {parsed.scheme!r} (use sqlite:/// or postgresql://)")


class PostgresqlDatabase(PooledPostgresqlDatabase):
    """The pool, with a transaction's BEGIN sent in front of its first statement instead of on
    its own: every statement is a round trip to the server (about 0.3 ms here), and a claim
    and a submit are two transactions. A transaction in which nothing ran sends nothing."""

    def begin(self, isolation_level=None):
        if isolation_level is not None or self._isolation_level:
            return super().begin(isolation_level)
        self.connection()                      # connect now, as BEGIN would have
        self._state.begin_pending = True

    def _execute_cursor(self, sql, params, **cursor_options):
        if self._take_pending_begin():
            sql = "BEGIN; " + sql
        return super()._execute_cursor(sql, params, **cursor_options)

    def cursor(self, named_cursor=None):
        """A cursor for the driver's own calls (executemany, execute_values), which bypass
        `_execute_cursor`: a BEGIN still pending is sent first, on its own, or their statements
        would run in autocommit outside the transaction and survive its rollback."""
        cursor = super().cursor(named_cursor)
        if self._take_pending_begin():
            cursor.execute("BEGIN")
        return cursor

    def commit(self):
        if not self._take_pending_begin():     # never began on the server: nothing to end
            super().commit()

    def rollback(self):
        if not self._take_pending_begin():
            super().rollback()

    def _take_pending_begin(self) -> bool:
        """Whether this thread's transaction has not yet sent its BEGIN; it is then no longer pending."""
        pending = getattr(self._state, "begin_pending", False)
        self._state.begin_pending = False
        return pending

def connect(url: str, **options) -> peewee.Database:
    """Open the database for `url` and bind every model to it."""
    db = open_database(url, **options)
    database.initialize(db)
    return db


writer = WriterLock()


@contextmanager
def write_lock():
    """Hold SQLite's write lock (server/write_lock.py); nothing on PostgreSQL."""
    db = database.obj
    if not is_sqlite(db):
        yield
        return
    writer.acquire(db.database)
    try:
        yield
    finally:
        writer.release()


_later = threading.local()   # .rows: {INSERT head: [rows]} waiting in this thread's innermost write transaction


@contextmanager
def write_transaction():
    """A transaction that takes the write lock first (SQLite BEGIN IMMEDIATE), so two
    writers never both read and then collide; PostgreSQL relies on row locks instead.
    Rows given to `insert_later` inside it are written as it ends, before the commit."""
    db = database.obj
    outer = getattr(_later, "rows", None)
    _later.rows = rows = {}
    try:
        if is_sqlite(db):
            with write_lock(), db.atomic(lock_type="IMMEDIATE") as txn:
                yield txn
                _insert(rows)
        else:
            with db.atomic() as txn:
                yield txn
                _insert(rows)
    finally:
        _later.rows = outer


def insert_later(head: str, row: tuple) -> None:
    """Insert `row` (`head` is "INSERT INTO table (columns)"): inside a write transaction, as it
    ends, in one statement with the other rows of the same head (on PostgreSQL each statement
    is a round trip); outside one, now. A nested write transaction that rolls back takes its
    rows with it; a plain `atomic()` savepoint inside one does not (none of ours catches one)."""
    rows = getattr(_later, "rows", None)
    if rows is None:
        _insert({head: [row]})
    else:
        rows.setdefault(head, []).append(row)


def _insert(rows: dict[str, list[tuple]], most: int = 256) -> None:
    """Each head's rows, `most` to a statement (SQLite takes at most 32,766 parameters)."""
    for head, values in rows.items():
        one = "(" + ", ".join("?" * len(values[0])) + ")"
        for start in range(0, len(values), most):
            part = values[start:start + most]
            execute(f"{head} VALUES {', '.join([one] * len(part))}", [v for row in part for v in row])


_adapted: dict[tuple[str, bool], str] = {}


def sql(text: str) -> str:
    """Hand-written SQL uses `?` placeholders; PostgreSQL's driver wants `%s`. Cached per text."""
    sqlite = is_sqlite()
    key = (text, sqlite)
    adapted = _adapted.get(key)
    if adapted is None:
        adapted = text if sqlite else text.replace("?", "%s")
        _adapted[key] = adapted
    return adapted


def execute(text: str, params: tuple | list = ()):
    """Run hand-written SQL (the hot paths skip the query builder) and return the cursor;
    on PostgreSQL a frequent statement runs prepared (server/pg_prepared.py)."""
    db = database.obj
    if is_sqlite(db):
        return db.execute_sql(text, params)
    return pg_prepared.execute(db, text, sql(text), params)


def fetch_batches(text: str, params: tuple | list = (), size: int = 2000, name: str = "quorum_batches"):
    """The rows of a query (`?` placeholders) in lists of `size`, read as they are fetched so
    memory stays flat; call it inside `database.atomic()`. PostgreSQL: a cursor DECLAREd in that
    transaction (psycopg2's named cursors refuse the pool's autocommit connections, and a WITH
    HOLD one makes PostgreSQL build the whole result before the first row: 3.6 s at a million
    responses); SQLite steps its cursor as rows are fetched."""
    db = database.obj
    if is_sqlite(db):
        cursor = db.execute_sql(text, params)
        while batch := cursor.fetchmany(size):
            yield batch
        return
    if not db.in_transaction():
        raise RuntimeError("fetch_batches needs a transaction: call it inside database.atomic()")
    db.execute_sql(f"DECLARE {name} NO SCROLL CURSOR FOR {sql(text)}", params)
    while batch := db.execute_sql(f"FETCH FORWARD {size} FROM {name}").fetchall():
        yield batch
    db.execute_sql(f"CLOSE {name}")
