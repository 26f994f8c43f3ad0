"""Hand-written SQL on PostgreSQL as prepared statements, once a statement has proven frequent.

Planning cost more than running for the claim's query (300 µs a call against 145 µs
prepared). A text run PREPARE_AFTER times in this process is prepared on each pooled
connection the first time that connection runs it (PREPARE, then EXECUTE with the
values), as psycopg 3's prepare_threshold does. A statement PostgreSQL will not prepare
(a parameter whose type it cannot infer) is run plainly from then on; the PREPARE runs
under a savepoint inside a transaction, so its failure never breaks the caller's.

After five runs PostgreSQL may keep one generic plan for a prepared statement, chosen
without its values. That suits the lookups by key the hot path makes; a query whose best
plan depends on the values (the most recent rows of one project, joined to another table)
can go badly wrong: the project median once became a merge join over every task, 2-8 s a
call. Keep such queries off paths that run them often.
"""

from __future__ import annotations

import threading
import weakref

import peewee

PREPARE_AFTER = 5
MOST = 200                 # distinct statements prepared, at most

_names: dict[str, str | None] = {}     # text -> statement name, or None: run it plainly
_seen: dict[str, int] = {}
_done: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # connection -> names prepared on it
_lock = threading.Lock()


def execute(db: peewee.Database, text: str, plain: str, params):
    """Run `text` (`?` placeholders; `plain` is it with `%s`) with `params` on `db`, prepared once frequent."""
    name = _names.get(text, "")
    if name == "":
        name = _consider(text, params)
    if not name:
        return db.execute_sql(plain, params)
    conn = db.connection()
    done = _done.setdefault(conn, set())
    if name not in done:
        if not _prepare(db, name, text):
            return db.execute_sql(plain, params)
        done.add(name)
    return db.execute_sql(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)


def _consider(text: str, params) -> str | None:
    with _lock:
        seen = _seen[text] = _seen.get(text, 0) + 1
        if seen < PREPARE_AFTER:
            return None
        if not params or "%" in text or len([n for n in _names.values() if n]) >= MOST:
            _names[text] = None
        else:
            _names[text] = f"quorum_{len(_names)}"
        return _names[text]


def _prepare(db: peewee.Database, name: str, text: str) -> bool:
    parts = text.split("?")
    numbered = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], 1))
    statement = f"PREPARE {name} AS {numbered}"
    try:
        if db.in_transaction():
            with db.atomic():                      # a savepoint: a refused PREPARE rolls back alone
                db.execute_sql(statement)
        else:
            db.execute_sql(statement)
    except peewee.DatabaseError:
        _names[text] = None
        return False
    return True
