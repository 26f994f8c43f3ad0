"""Export setup: a stored response in every still-queued task of a project, written straight into
the database (not measured), so the export phase has a million responses without an hour of loop."""

from __future__ import annotations

import json
import time

from bench.server import LABELS, Backend, pg_literal

def stored_response(label: str) -> str:
    """A response as the server stores it (the classification type's normalised form)."""
    subtype = "technical" if label == "Diagrams" else None
    return json.dumps({"label": label, "subtype": subtype, "explanation": ""}, separators=(",", ":"))


def _required_columns(backend: Backend, table: str) -> dict[str, str]:
    """Columns that are NOT NULL without a default: name -> a neutral SQL literal for their type."""
    if backend.name == "sqlite":
        rows = [(name, decl or "", notnull, default) for _, name, decl, notnull, default, pk
                in backend.query(f"PRAGMA table_info({table})") if not pk]
    else:
        rows = [(name, dtype, nullable == "NO", default) for name, dtype, nullable, default in backend.query(
            "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = current_schema()", (table,))]
    required = {}
    for name, decl, notnull, default in rows:
        if not notnull or default is not None or name == "id":
            continue
        decl = decl.lower()
        if "bool" in decl:
            required[name] = "0" if backend.name == "sqlite" else "false"
        elif any(k in decl for k in ("int", "real", "float", "double", "numeric")):
            required[name] = "0"
        else:
            required[name] = "''"
    return required


def seed_responses(backend: Backend, project_id: int, tasker_id: int) -> int:
    """Give every still-queued task of the project one submitted response, straight in the database.

    Setup only (not measured): it lets the export phase run at 100k–1M responses, which the
    HTTP loop would need an hour to produce. Rows look like the submit path's; columns the
    schema has grown since (NOT NULL, no default) get a neutral value."""
    now = time.time()
    false = "0" if backend.name == "sqlite" else "false"
    case = "CASE (a.task_id % 6) " + " ".join(
        f"WHEN {i} THEN '{stored_response(label)}'" for i, label in enumerate(LABELS)) + " END"
    a_cols = {"task_id": "t.id", "tasker_id": "?", "project_id": "t.project_id", "status": "'submitted'",
              "claimed_at": "?", "expires_at": "?", "finished_at": "?"}
    r_cols = {"assignment_id": "a.id", "task_id": "a.task_id", "tasker_id": "a.tasker_id",
              "project_id": "a.project_id", "version": "1", "data": case, "duration_seconds": "1.0",
              "judged": "'passed'", "rejected": false, "created_at": "?"}
    for cols, table in ((a_cols, "assignment"), (r_cols, "response")):
        for name, literal in _required_columns(backend, table).items():
            cols.setdefault(name, literal)
    statements = [
        (f"INSERT INTO assignment ({', '.join(a_cols)}) SELECT {', '.join(a_cols.values())} FROM task t "
         "WHERE t.project_id = ? AND t.status = 'queued' AND t.responses_count = 0",
         (tasker_id, now, now + 1800, now, project_id)),
        (f"INSERT INTO response ({', '.join(r_cols)}) SELECT {', '.join(r_cols.values())} FROM assignment a "
         "WHERE a.project_id = ? AND a.tasker_id = ?",
         (now, project_id, tasker_id)),
        ("UPDATE task SET responses_count = responses_count + 1, open_slots = 0, claimable = 0, "
         "status = 'ready_for_review', updated_at = ? WHERE project_id = ? AND id IN "
         "(SELECT task_id FROM assignment WHERE project_id = ? AND tasker_id = ?)",
         (now, project_id, project_id, tasker_id)),
    ]
    conn = backend.connect()
    try:
        if backend.name == "sqlite":
            conn.execute("BEGIN IMMEDIATE")
            try:
                seeded = conn.execute(*statements[0]).rowcount
                for sql, params in statements[1:]:
                    conn.execute(sql, params)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        else:
            conn.autocommit = False
            with conn.cursor() as cur:
                cur.execute(pg_literal(statements[0][0]), statements[0][1])
                seeded = cur.rowcount
                for sql, params in statements[1:]:
                    cur.execute(pg_literal(sql), params)
            conn.commit()
            conn.autocommit = True
            with conn.cursor() as cur:   # what autovacuum does after a bulk insert (it is off on this machine):
                # without it the export, first to read the million new rows, writes their hint bits (~2 s)
                cur.execute("VACUUM (ANALYZE) task, assignment, response")
    finally:
        conn.close()
    return seeded


# ---------------------------------------------------------------- users
