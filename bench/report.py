"""Printed tables and the JSON results file."""

from __future__ import annotations

import json
from pathlib import Path

from bench.budgets import LABEL_STUDIO, Row, summary


def table(title: str, header: list[str], rows: list[list], right: set[int] | None = None) -> str:
    right = right if right is not None else set(range(1, len(header)))
    cells = [[str(c) for c in header]] + [["—" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(row):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))

    out = [title, line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def n(value, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def render(results: dict, budget_rows: list[Row]) -> str:
    meta = results["meta"]
    load = results.get("load_average")
    parts = [f"Quorum benchmark — {meta['backend']} — {meta['started']} — {meta['cpus']} CPUs, "
             f"{meta['server_workers']} server worker(s), client {meta['client']} × up to {meta['client_procs']} "
             f"processes{' — QUICK (smoke test, not a verdict)' if meta['quick'] else ''}",
             f"database: {meta['database']}"
             + (" (" + ", ".join(f"{k}={v}" for k, v in meta["db_settings"].items()) + ")" if meta.get("db_settings") else "")
             + (f"; 1-min load average before/after: {load['before']:.2f} / {n(load.get('after'), 2)}" if load else "")]
    probe = results.get("cpu_probe_ms")
    if probe:
        parts.append(f"CPU probe (fixed pure-Python work, best of 5; lower = faster machine right now): "
                     f"{probe['before']} ms before / {n(probe.get('after'), 1)} ms after")

    floor = results.get("floor")
    if floor:
        p = floor["ping"]
        best = max((r["requests_per_s"] for r in results["loops"]), default=None)
        parts.append(table(
            "\nFloor: GET /api/v1/ping (token check only) — the stack's own limit with this client",
            ["clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "server CPU s", "client CPU s",
             "db CPU s", "other CPU s", "best loop req/s ÷ floor"],
            [[floor["concurrency"], n(floor["requests_per_s"]), p["p50_ms"], p["p95_ms"], p["p99_ms"],
              floor["errors"], floor["server"]["cpu_s"], floor["client_cpu_s"], floor.get("db_cpu_s"),
              floor.get("other_cpu_s"),
              f"{best / floor['requests_per_s']:.2f}" if best and floor["requests_per_s"] else "—"]]))

    if results["imports"]:
        parts.append(table(
            "\nImport (one request per import; CLI = `quorum import`, streamed) — then one production batch",
            ["items", "via", "seconds", "items/s", "peak RSS MB tree/proc", "server CPU s", "batch s",
             "batch peak proc MB", "disk B/item", "LS items/s"],
            [[n(r["size"]), r["via"], n(r["seconds"], 2), n(r["items_per_s"]),
              f"{r['peak_rss_mb']} (CLI)" if r["via"] == "cli" else f"{r['peak_rss_mb']} / {r['peak_process_mb']}",
              r["server"]["cpu_s"],
              n(r["batch_seconds"], 2), (r.get("batch_server") or {}).get("hwm_max_mb"), n(r["db_bytes_per_item"]),
              n({10_000: LABEL_STUDIO["import_10k_items_per_s"],
                 100_000: LABEL_STUDIO["import_100k_items_per_s"]}.get(r["size"]))]
             for r in results["imports"]], right={0, 2, 3, 4, 5, 6, 7, 8, 9}))
        growth = results.get("import_rss_growth")
        if growth:
            parts.append(f"RSS growth with file size: {growth['condition']} = {growth['ratio']}×")

    if results["loops"]:
        rows = []
        for r in results["loops"]:
            c, s = r["claim"], r["submit"]
            cpu = r["server"]["cpu_s"]
            wall = r["server"]["seconds"] or 1
            rows.append([n(r["size"]), r["concurrency"], n(r["submissions_per_s"], 1),
                         f"{c['p50_ms']}/{c['p95_ms']}/{c['p99_ms']}", f"{s['p50_ms']}/{s['p95_ms']}/{s['p99_ms']}",
                         r["errors"], r["over_assigned"], r["lost_or_phantom"],
                         f"{cpu} ({cpu / wall:.1f} cores)", r["client_cpu_s"], r.get("db_cpu_s"), r.get("other_cpu_s"),
                         f"{r['server']['peak_rss_mb']} / {r['server']['hwm_max_mb']}",
                         n(LABEL_STUDIO["loop_subs_per_s"].get(r["concurrency"]), 1),
                         f"after {r['ran_dry_after_s']}s" if r["ran_dry"] else ""])
        parts.append(table(
            "\nLabeling loop: claim → submit, no think time (latencies p50/p95/p99 in ms)",
            ["items", "taskers", "subs/s", "claim ms", "submit ms", "errors", "over-assigned", "lost",
             "server CPU s", "client CPU s", "db CPU s", "other CPU s", "peak RSS MB tree/proc", "LS subs/s",
             "ran dry"],
            rows))
        parts.append("db CPU s = PostgreSQL + Redis processes (SQLite runs inside the server); other CPU s = the rest "
                     "of the machine meanwhile (busy CPU from /proc/stat minus server, db and client): much above 0 "
                     "means the figures were taken on a shared machine.")

    if any(not r.get("error") for r in results["exports"]):
        parts.append(table(
            "\nExport (streamed)",
            ["format", "responses", "rows", "MB", "seconds", "responses/s", "first byte s", "peak RSS MB tree/proc",
             "server CPU s"],
            [[r["format"], n(r["responses"]), n(r["rows"]) if r["rows"] is not None else "—", n(r["bytes"] / 1e6, 1),
              n(r["seconds"], 2), n(r["responses_per_s"]), r["first_byte_s"], f"{r['peak_rss_mb']} / {r['peak_process_mb']}",
              r["server"]["cpu_s"]] for r in results["exports"] if not r.get("error")], right={1, 2, 3, 4, 5, 6, 7, 8}))
        for r in results["exports"]:
            if r.get("error"):
                parts.append(f"export {r['format']} FAILED: {r['error']}")

    db = results.get("db_size") or {}
    if db:
        parts.append("\nDatabase on disk: " + ", ".join(f"{k} {v / 1e6:,.1f} MB" for k, v in db.items()))

    if results.get("server_log"):
        sl = results["server_log"]
        parts.append(f"\nSERVER ERRORS: {sl['tracebacks']} tracebacks in the server log: {sl['first_error']} "
                     f"(log kept in {sl['path']})")
    if results.get("export_seed_error"):
        parts.append(f"export seeding failed: {results['export_seed_error']}")

    parts.append(table(
        "\nBudgets (issue 6; ratio = measured ÷ budget)",
        ["phase", "metric", "measured at", "budget", "measured", "ratio", "status"],
        [[r.phase, r.metric, r.condition, r.budget, r.measured, r.ratio, r.status] for r in budget_rows],
        right={3, 4, 5}))
    s = summary(budget_rows)
    verdict = f"{s['met']}/{s['binding']} binding budgets met"
    if s["missed"]:
        verdict += "; missed: " + "; ".join(s["missed"])
    parts.append(verdict)
    return "\n".join(parts)


def write(results: dict, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    meta = results["meta"]
    path = directory / f"{meta['stamp']}-{meta['backend']}{'-quick' if meta['quick'] else ''}.json"
    path.write_text(json.dumps(results, indent=1, default=str))
    return path
