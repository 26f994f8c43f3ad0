"""Benchmark Quorum end to end: `python -m bench.run [--backend sqlite|postgres] [--quick] …`.

Starts its own `quorum serve` on a fresh database, creates an owner and one user per tasker,
and runs the phases of issue 6: floor (GET /api/v1/ping), import, labeling loop, export.
Prints every figure beside its budget and writes bench/results/<timestamp>-<backend>.json.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

from bench import budgets, report
from bench.phases import Bench, log
from bench.procstat import cpu_probe_ms, process_tree
from bench.server import Server, make_backend

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    cpus = os.cpu_count() or 2
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite",
                    help="sqlite (default) or postgres (PostgreSQL 127.0.0.1:5432 + Redis queue)")
    ap.add_argument("--sizes", type=_ints, default=None,
                    help="project sizes to import, comma-separated (default 10000,100000,1000000; sizes from "
                         "--cli-import-from up go through the streamed CLI import)")
    ap.add_argument("--clients", type=_ints, default=None, help="tasker counts for the loop (default 1,8,32,64)")
    ap.add_argument("--seconds", type=float, default=None, help="measured seconds per loop level (default 30)")
    ap.add_argument("--loop-sizes", type=_ints, default=None,
                    help="project sizes the loop runs at (default: the smallest and the largest of --sizes)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test in about a minute: 2,000 items, clients 1,8, 3 s per level")
    ap.add_argument("--workers", type=int, default=cpus, help=f"server worker processes (default {cpus}: the CPUs)")
    ap.add_argument("--client", choices=["httpx", "raw"], default="raw",
                    help="raw (default: asyncio + httptools, cheap) or httpx (AsyncClient per tasker)")
    ap.add_argument("--client-procs", type=int, default=2 * cpus,
                    help=f"client processes the taskers are spread over (default {2 * cpus}: twice the CPUs)")
    ap.add_argument("--warmup", type=float, default=None, help="unrecorded seconds before each level (default 1)")
    ap.add_argument("--floor-seconds", type=float, default=None, help="seconds of the ping floor (default 5)")
    ap.add_argument("--floor-clients", type=int, default=32, help="clients of the ping floor (default 32)")
    ap.add_argument("--overlap", type=int, default=1, help="responses wanted per task (default 1)")
    ap.add_argument("--cli-import-from", type=int, default=1_000_000,
                    help="sizes from this one up are imported with `quorum import` (default 1000000)")
    ap.add_argument("--no-seed", action="store_true",
                    help="export only the loop's responses instead of filling the largest project first")
    ap.add_argument("--skip", default="", help="phases to leave out, comma-separated: floor,loop,export")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary data directory (its path is printed) and the PostgreSQL database")
    ap.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    opts = ap.parse_args(argv)
    quick = opts.quick
    opts.sizes = opts.sizes or ([2_000] if quick else [10_000, 100_000, 1_000_000])
    opts.clients = opts.clients or ([1, 8] if quick else [1, 8, 32, 64])
    opts.seconds = opts.seconds if opts.seconds is not None else (3.0 if quick else 30.0)
    opts.warmup = opts.warmup if opts.warmup is not None else (0.5 if quick else 1.0)
    opts.floor_seconds = opts.floor_seconds if opts.floor_seconds is not None else (2.0 if quick else 5.0)
    opts.loop_sizes = opts.loop_sizes or sorted({min(opts.sizes), max(opts.sizes)})
    opts.export_formats = ["json", "jsonl"]
    opts.skip = {s.strip() for s in opts.skip.split(",") if s.strip()}
    for size in opts.loop_sizes:
        if size not in opts.sizes:
            opts.sizes.append(size)
    opts.sizes.sort()
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix=f"quorum-bench-{opts.backend}-"))
    backend = make_backend(opts.backend, work / "data")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results: dict = {}
    server = None
    failed = None
    try:
        backend.prepare()
        server = Server(backend, opts.workers, work)
        started = time.perf_counter()
        server.start()
        log(f"server up on {server.base} in {time.perf_counter() - started:.1f}s "
            f"({len(process_tree(server.pid))} processes; {backend.describe()}); data in {work}")
        bench = Bench(opts, backend, server, work)
        results = bench.results
        results["load_average"] = {"before": load_before, "after": None}
        results["cpu_probe_ms"] = {"before": cpu_probe_ms(), "after": None}
        results["meta"] = {
            "stamp": stamp, "started": time.strftime("%Y-%m-%d %H:%M:%S"), "backend": opts.backend,
            "database": backend.describe(), "quick": opts.quick, "cpus": os.cpu_count(),
            "server_workers": opts.workers, "client": opts.client, "client_procs": opts.client_procs,
            "sizes": opts.sizes, "loop_sizes": opts.loop_sizes, "clients": opts.clients, "seconds": opts.seconds,
            "warmup": opts.warmup, "overlap": opts.overlap, "python": sys.version.split()[0],
            "argv": sys.argv[1:] if argv is None else argv, "db_settings": backend.settings(),
        }
        if backend.settings().get("autovacuum") == "off":
            log("WARNING: PostgreSQL runs with autovacuum = off: dead tuples of claimed tasks are never cleaned "
                "during the run, so the claim's index scan grows with every claim")
        bench.setup()
        idle = server.meter()
        time.sleep(0.3)
        results["server_idle"] = idle.stop()

        if "floor" not in opts.skip:
            bench.floor()

        log(f"import: sizes {', '.join(f'{s:,}' for s in opts.sizes)}")
        import_projects = {}
        for size in opts.sizes:
            import_projects[size] = bench.current[size] = bench.import_items(size)
        _rss_growth(bench, results, opts)

        if "loop" not in opts.skip:
            for size in opts.loop_sizes:
                for concurrency in opts.clients:
                    bench.loop(size, concurrency)

        if "export" not in opts.skip:
            largest = max(opts.sizes)
            bench.export(import_projects[largest], seed=not opts.no_seed)

        results["db_size"] = backend.size_bytes()
        results["load_average"]["after"] = os.getloadavg()[0]
        results["cpu_probe_ms"]["after"] = cpu_probe_ms()
        log("database on disk: " + ", ".join(f"{k} {v / 1e6:,.1f} MB" for k, v in results["db_size"].items()))
    except KeyboardInterrupt:
        failed = "interrupted"
    except Exception as exc:  # noqa: BLE001 - report what we have, then fail
        failed = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        if server is not None:
            print("--- server log (tail) ---\n" + server.log_text(), file=sys.stderr)
    finally:
        if server is not None:
            server.stop()
            server_log = _keep_server_log(server, opts.results_dir, stamp, opts)
            if server_log and results is not None:
                results["server_log"] = server_log
        backend.cleanup(keep=opts.keep)
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")

    if not results.get("meta"):
        print(f"benchmark failed before it started: {failed}", file=sys.stderr)
        return 2
    if failed:
        results["failed"] = failed
    rows = budgets.evaluate(results)
    results["budgets"] = [r.as_dict() for r in rows]
    results["summary"] = budgets.summary(rows)
    path = report.write(results, opts.results_dir)
    print()
    print(report.render(results, rows))
    print(f"\nresults: {path}")
    if failed:
        print(f"INCOMPLETE: {failed}", file=sys.stderr)
        return 2
    return 0


def _keep_server_log(server: Server, directory: Path, stamp: str, opts) -> dict | None:
    """When the server logged errors, keep its log beside the results and say what the first one was."""
    text = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
    errors = text.count("Traceback")
    if not errors:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stamp}-{opts.backend}{'-quick' if opts.quick else ''}-server.log"
    path.write_text(text[-2_000_000:])
    kinds = Counter(m.group(1)[:300] for m in re.finditer(
        r"^[\s|]*([A-Za-z_][\w.]*(?:Error|Exception)\w*: .*)$", text, re.MULTILINE))
    summary = "; ".join(f"{n}× {kind}" for kind, n in kinds.most_common(3))
    log(f"server logged {errors} tracebacks: {summary} (log kept in {path})")
    return {"tracebacks": errors, "first_error": summary, "path": str(path)}


def _rss_growth(bench: Bench, results: dict, opts) -> None:
    """Peak RSS of the largest import ÷ the smallest, through the same path (HTTP server or CLI process)."""
    imports = results["imports"]
    cli = [r for r in imports if r["via"] == "cli"]
    if cli and min(opts.sizes) < max(r["size"] for r in cli):
        smallest = min(opts.sizes)
        log(f"import: CLI reference import of {smallest:,} items (for RSS growth; not in the import table)")
        bench.import_items(smallest, purpose="cli reference", record=False, via="cli")
        ref = results["setup_imports"][-1]
        largest = max(cli, key=lambda r: r["size"])
        results["import_rss_growth"] = {
            "condition": f"CLI {largest['size']:,} ÷ CLI {smallest:,} items", "largest": largest["size"],
            "ratio": round(largest["peak_rss_mb"] / ref["peak_rss_mb"], 2)}
    http = [r for r in imports if r["via"] == "http"]
    if len(http) >= 2 and not cli:
        a, b = min(http, key=lambda r: r["size"]), max(http, key=lambda r: r["size"])
        results["import_rss_growth"] = {
            "condition": f"server {b['size']:,} ÷ {a['size']:,} items", "largest": b["size"],
            "ratio": round(b["peak_rss_mb"] / a["peak_rss_mb"], 2)}


if __name__ == "__main__":
    sys.exit(main())
