"""The labeling hot path without HTTP: claim + submit pairs called in one process, one after
another, for figures steadier than the loop's over HTTP (which moves ±15% from run to run here).

    python -m bench.inprocess [--backend sqlite|postgres] [--items 5000] [--pairs 3000] [--profile] [--pages]

Prints pairs/s, wall and CPU µs per pair and, on SQLite, the statements SQLite ran per pair.
`--pages` pauses checkpoints while it measures and says how many pages of write-ahead log a
pair wrote, per table and index (each page is a frame the commit writes, two syscalls);
`--profile` prints cProfile's top functions. The same functions the fast lane calls, the
same WAL checkpointer as a web worker, a fresh database in a temporary directory.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import struct
import sys
import tempfile
import time
from pathlib import Path

from bench.client import RESPONSES
from bench.procstat import cpu_probe_ms
from bench.server import make_backend
FRAME = 4096 + 24


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--pairs", type=int, default=3000, help="measured claim+submit pairs (≤ items)")
    parser.add_argument("--taskers", type=int, default=32)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top 30 functions")
    parser.add_argument("--pages", action="store_true", help="SQLite: log pages per pair, by table and index")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    if opts.pairs + opts.taskers > opts.items:
        raise SystemExit(f"--pairs {opts.pairs} needs at least {opts.pairs + opts.taskers} --items (warm-up included)")
    with tempfile.TemporaryDirectory(prefix="quorum-inprocess-") as work:
        backend = make_backend(opts.backend, Path(work) / "data")
        backend.prepare()
        os.environ.update(backend.env())
        try:
            return _run(opts, Path(work))
        finally:
            backend.cleanup()


def _run(opts: argparse.Namespace, work: Path) -> int:
    from server import wal_checkpoint
    from server.boot import boot
    from server.config import load
    from server.core import batches, imports, projects, submissions, users
    from server.db import database, is_sqlite, writer
    from server.web.api.labeling import _claim

    config = boot(load())
    db = database.obj
    owner, _ = users.create_user("owner", "owner-pw", "owner")
    taskers = [users.create_user(f"t{i:03d}", "tasker-pw", "tasker")[0].id for i in range(opts.taskers)]
    project = projects.create(projects.ProjectSettings(name="in-process", task_type="classification",
                                                       require_calibration=False), owner.id, users.default_space())
    items = work / "items.jsonl"
    items.write_text("".join(f'{{"image": "http://127.0.0.1:9/img/{i:07d}.jpg", "ext_id": "t{i:07d}"}}\n'
                             for i in range(opts.items)))
    imports.import_file(project, items, actor=owner.id)
    batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    checkpointer = wal_checkpoint.start(db) if not opts.pages else None
    if opts.pages and is_sqlite(db):
        db.pragma("wal_autocheckpoint", 0, permanent=True)
    rng = random.Random(7)

    def pair(tasker: int) -> None:
        with writer.short_holds():
            claimed = _claim(project.id, tasker, config.assignment.sweep_seconds)
            submissions.submit(claimed.assignment_id, tasker, rng.choice(RESPONSES))

    for tasker in taskers:               # warm-up: caches, prepared statements
        pair(tasker)
    statements = [0]
    if is_sqlite(db):
        db.connection().set_trace_callback(lambda _: statements.__setitem__(0, statements[0] + 1))
        if opts.pages:
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    probe_before = cpu_probe_ms()
    profiler = None
    if opts.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(opts.pairs):
        pair(taskers[i % len(taskers)])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if profiler:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    if checkpointer:
        checkpointer.stop()
    print(f"Quorum in-process hot path — {opts.backend}, {opts.items:,} items, {opts.taskers} taskers"
          f"{' (profiled: slower)' if profiler else ''}")
    print(f"CPU probe: {probe_before} ms before / {cpu_probe_ms()} ms after (lower = faster machine right now)")
    print(f"{opts.pairs:,} claim+submit pairs: {opts.pairs / wall:,.0f} pairs/s, {wall / opts.pairs * 1e6:,.0f} µs "
          f"wall and {cpu / opts.pairs * 1e6:,.0f} µs CPU per pair")
    if is_sqlite(db):
        print(f"SQLite statements per pair (BEGIN and COMMIT included): {statements[0] / opts.pairs:.1f}")
        if opts.pages:
            _pages(db.database, opts.pairs)
    return 0


def _pages(path: str, pairs: int) -> None:
    """Pages of log per pair, by the table or index they belong to (from the frame headers)."""
    import sqlite3

    raw = Path(f"{path}-wal").read_bytes()
    pages = [struct.unpack(">I", raw[offset:offset + 4])[0] for offset in range(32, len(raw) - FRAME + 1, FRAME)]
    conn = sqlite3.connect(path)
    try:
        owner = dict(conn.execute("SELECT pageno, name FROM dbstat").fetchall())
    finally:
        conn.close()
    print(f"log pages per pair: {len(pages) / pairs:.1f} (checkpoints paused while measuring)")
    for name, count in collections.Counter(owner.get(p, "(freelist or new)") for p in pages).most_common():
        print(f"  {count / pairs:5.2f}  {name}")


if __name__ == "__main__":
    sys.exit(main())
