"""PostgreSQL: vacuum the queue tables after a fixed number of changed rows, not a fifth of the table.

Every claim and submit leaves dead row versions of `task` (two) and `assignment` (one), and
their index entries stay until a vacuum: the claim's index scan walks past each one left by
the tasks claimed before it. 18,000 claims into a million-task project a claim read 123
buffers instead of 8 (0.5 ms of database CPU), and four loop levels in the loop ran 18%
slower there than on a fresh project; after a VACUUM of `task` (76 ms once the first has
run) the claim read 8 again. By default autovacuum waits for a fifth of a table to be dead:
200,000 rows at a million tasks. These tables get a fixed threshold instead, unthrottled,
since a pass over a table vacuumed before is short. With autovacuum on, the loop on the
million-task project then ran at 0.93-0.96x its rate on a fresh one. SQLite has no such
debt (its B-trees drop entries at once): nothing to do there."""
from peewee import *

QUEUE_TABLES = ("task", "assignment")
SETTINGS = {"autovacuum_vacuum_scale_factor": "0", "autovacuum_vacuum_threshold": "10000",
            "autovacuum_vacuum_cost_delay": "0", "autovacuum_analyze_scale_factor": "0.05"}


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        options = ", ".join(f"{name} = {value}" for name, value in SETTINGS.items())
        for table in QUEUE_TABLES:
            db.execute_sql(f"ALTER TABLE {table} SET ({options})")


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        for table in QUEUE_TABLES:
            db.execute_sql(f"ALTER TABLE {table} RESET ({', '.join(SETTINGS)})")
