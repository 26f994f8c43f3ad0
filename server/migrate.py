"""Schema migrations: the ordered files in migrations/, recorded in the schema_version table."""

from __future__ import annotations

from pathlib import Path

import peewee
from playhouse.migrations import Runner

import migrations

DIRECTORY = Path(migrations.__file__).parent
TABLE = "schema_version"


def runner(database: peewee.Database) -> Runner:
    return Runner(database, directory=str(DIRECTORY), table_name=TABLE)


def apply(database: peewee.Database) -> list[str]:
    """Apply every pending migration in order; returns the names applied."""
    return runner(database).up()


def status(database: peewee.Database) -> list[tuple[str, bool]]:
    return [(m.name, bool(m.applied)) for m in runner(database).status()]
