"""Migrating an empty database gives exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import peewee
import pytest

from server import migrate
from server.db import open_database
from server.models import MODELS
from tests.conftest import PG_URL, pg_available

ADMIN_URL = PG_URL.rsplit("/", 1)[0] + "/postgres"


def schema(database: peewee.Database) -> dict:
    """Every table's columns (type, null, primary key), indexes and foreign keys, comparable across builds."""
    found = {}
    for table in sorted(set(database.get_tables()) - {migrate.TABLE}):
        columns = {(c.name, c.data_type.lower(), c.null, c.primary_key) for c in database.get_columns(table)}
        indexes = {(tuple(i.columns), i.unique) for i in database.get_indexes(table)}
        keys = {(k.column, k.dest_table, k.dest_column) for k in database.get_foreign_keys(table)}
        found[table] = (columns, indexes, keys)
    return found


def _fresh_postgres(name: str) -> str:
    import psycopg2

    conn = psycopg2.connect(ADMIN_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}")
        cur.execute(f"CREATE DATABASE {name}")
    conn.close()
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


def _pair(kind: str, tmp_path):
    if kind == "sqlite":
        return open_database(f"sqlite:///{tmp_path}/migrated.db"), open_database(f"sqlite:///{tmp_path}/models.db")
    if not pg_available():
        pytest.fail("PostgreSQL is not answering on 127.0.0.1:5432 (.ci/run starts it)")
    return open_database(_fresh_postgres("quorum_migrated")), open_database(_fresh_postgres("quorum_models"))


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migrations_build_exactly_the_models_schema(kind, tmp_path):
    migrated, modelled = _pair(kind, tmp_path)
    applied = migrate.apply(migrated)
    assert applied and applied[0] == "0001_initial"
    with modelled.bind_ctx(MODELS):
        modelled.create_tables(MODELS)
    assert schema(migrated) == schema(modelled)
    assert migrate.apply(migrated) == [], "a second run applies nothing"
    assert all(done for _, done in migrate.status(migrated))
    migrated.close()
    modelled.close()


def test_schema_version_table_records_each_migration(tmp_path):
    database = open_database(f"sqlite:///{tmp_path}/q.db")
    migrate.apply(database)
    names = [row[0] for row in database.execute_sql(f"SELECT name FROM {migrate.TABLE} ORDER BY id")]
    assert names == [name for name, _ in migrate.status(database)]


@pytest.mark.postgres
def test_postgres_queue_tables_are_vacuumed_after_a_fixed_number_of_changes():
    """Claims leave dead index entries the next claim walks past: the queue tables get a fixed
    autovacuum threshold instead of a fifth of the table (200,000 rows at a million tasks)."""
    migrated = open_database(_fresh_postgres("quorum_migrated"))
    migrate.apply(migrated)
    options = dict(migrated.execute_sql("SELECT relname, reloptions FROM pg_class WHERE relname IN "
                                        "('task', 'assignment', 'response')").fetchall())
    migrated.close_all()
    for table in ("task", "assignment"):
        assert "autovacuum_vacuum_scale_factor=0" in options[table]
        assert "autovacuum_vacuum_threshold=10000" in options[table]
    assert options["response"] is None, "insert-only tables keep the defaults"

