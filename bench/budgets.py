"""The budgets of issue 6, checked against a run's results.

Each row: phase, metric, the condition it was measured at, the budget, the measured value,
ratio = measured / budget, and a status:

  OK / MISS     the budget, measured at exactly the condition it names;
  OK~ / MISS~   measured at the nearest condition this run had (e.g. --quick's 2,000 items
                instead of 100,000): a smoke reading, not a verdict;
  (OK)/(MISS)   a SQLite budget shown for a PostgreSQL run: for reference, not binding;
  n/a           this run did not measure it (e.g. 1M items not in --sizes).

For "≥" budgets a ratio ≥ 1 passes; for "≤" budgets a ratio ≤ 1 passes; "= 0" budgets have no ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

# Label Studio 1.23.2 on a machine like ours (issue 6), for the reader's orientation.
LABEL_STUDIO = {
    "import_10k_items_per_s": 6_600, "import_100k_items_per_s": 9_200, "import_peak_rss_mb": 763,
    "loop_subs_per_s": {1: 6.3, 8: 12.1, 32: 6.3}, "loop_next_p99_ms_32": 15_600, "export_10k_json_s": 6.9,
}

IMPORT_SIZE = 100_000
BIG = 1_000_000
LOOP_C = 32
FLAT_SMALL, FLAT_BIG = 10_000, 1_000_000


@dataclass
class Row:
    phase: str
    metric: str
    condition: str
    budget: str
    measured: str
    ratio: str
    status: str
    ok: bool | None = None

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value < 100:
        text = f"{value:,.2f}"
    else:
        text = f"{value:,.0f}" if isinstance(value, (int, float)) else str(value)
    return f"{text}{unit}"


def _row(phase, metric, condition, op, budget, measured, unit="", exact=True, binding=True) -> Row:
    if measured is None:
        return Row(phase, metric, condition, f"{op} {_fmt(budget, unit)}", "—", "—", "n/a")
    if op == "≥":
        ok, ratio = measured >= budget, f"{measured / budget:.2f}" if budget else "—"
    elif op == "≤":
        ok, ratio = measured <= budget, f"{measured / budget:.2f}" if budget else "—"
    else:  # "="
        ok, ratio = measured == budget, "—"
    status = ("OK" if ok else "MISS") + ("" if exact else "~")
    if not binding:
        status = f"({status})"
    return Row(phase, metric, condition, f"{op} {_fmt(budget, unit)}", _fmt(measured, unit), ratio, status,
               ok if (exact and binding) else None)


def _nearest(rows: list[dict], key: str, want):
    """The row whose `key` equals `want`, else the one nearest below it (else above); (row, exact)."""
    if not rows:
        return None, False
    exact = [r for r in rows if r[key] == want]
    if exact:
        return exact[0], True
    below = [r for r in rows if r[key] < want]
    pick = max(below, key=lambda r: r[key]) if below else min(rows, key=lambda r: r[key])
    return pick, False


def evaluate(results: dict) -> list[Row]:
    backend = results["meta"]["backend"]
    sqlite = backend == "sqlite"
    rows: list[Row] = []

    # ---- import
    imports = results["imports"]
    http = [r for r in imports if r["via"] == "http"]
    imp, exact = _nearest(http or imports, "size", IMPORT_SIZE)
    cond = f"{imp['size']:,} items, {imp['via']}" if imp else f"{IMPORT_SIZE:,} items"
    rows.append(_row("import", "items/s", cond, "≥", 100_000, imp and imp["items_per_s"], "", exact, sqlite))
    rows.append(_row("import", "peak server RSS", cond, "≤", 250, imp and imp["peak_rss_mb"], " MB", exact, sqlite))
    big = next((r for r in imports if r["size"] >= BIG), None)
    rows.append(_row("import", "peak RSS (CLI process)" if big and big["via"] == "cli" else "peak RSS",
                     f"{BIG:,} items" + (f", {big['via']}" if big else ""), "≤", 250,
                     big and big["peak_rss_mb"], " MB", True, sqlite))
    growth = results.get("import_rss_growth")
    rows.append(_row("import", "RSS growth with file size", growth["condition"] if growth else "largest ÷ smallest",
                     "≤", 1.2, growth and growth["ratio"], "×", bool(growth and growth["largest"] >= BIG), sqlite))

    # ---- labeling loop
    loops = results["loops"]
    sizes = sorted({r["size"] for r in loops})
    small = [r for r in loops if sizes and r["size"] == sizes[0]]
    at32, exact32 = _nearest(small, "concurrency", LOOP_C)
    cond = f"{at32['concurrency']} taskers, {at32['size']:,} items" if at32 else f"{LOOP_C} taskers"
    rows.append(_row("loop", "submissions/s", cond, "≥", 600 if sqlite else 400,
                     at32 and at32["submissions_per_s"], "", exact32))
    rows.append(_row("loop", "claim p99", cond, "≤", 100, at32 and at32["claim"]["p99_ms"], " ms", exact32))
    rows.append(_row("loop", "over-assigned tasks", "every level", "=", 0,
                     sum(r["over_assigned"] for r in loops) if loops else None))
    rows.append(_row("loop", "errors", "every level", "=", 0, sum(r["errors"] for r in loops) if loops else None))
    rows.append(_row("loop", "lost or phantom submissions", "every level", "=", 0,
                     sum(abs(r["lost_or_phantom"]) for r in loops) if loops else None))
    if len(sizes) >= 2:
        big_rows = [r for r in loops if r["size"] == sizes[-1]]
        a, ea = _nearest(small, "concurrency", LOOP_C)
        b, eb = _nearest(big_rows, "concurrency", a["concurrency"])
        ratio = b["submissions_per_s"] / a["submissions_per_s"] if a["submissions_per_s"] else None
        exact = ea and eb and sizes[0] == FLAT_SMALL and sizes[-1] >= FLAT_BIG
        rows.append(_row("loop", "flat cost: rate(big) ÷ rate(small)",
                         f"{b['size']:,} vs {a['size']:,} items, {a['concurrency']} taskers", "≥", 0.9,
                         ratio and round(ratio, 3), "×", exact, sqlite))
    else:
        rows.append(_row("loop", "flat cost: rate(1M) ÷ rate(10k)", "needs two loop sizes", "≥", 0.9, None, "×"))

    # ---- export
    for fmt in ("json", "jsonl"):
        exp = next((r for r in results["exports"] if r["format"] == fmt), None)
        if exp and exp.get("error"):
            rows.append(Row("export", f"{fmt} export", f"{exp['responses']:,} responses", "completes",
                            "failed", "—", "ERROR", False))
            continue
        cond = f"{exp['responses']:,} responses" if exp else "—"
        exact = bool(exp and exp["responses"] >= BIG)
        rows.append(_row("export", f"{fmt} responses/s", cond, "≥", 200_000, exp and exp["responses_per_s"], "",
                         exact, sqlite))
        rows.append(_row("export", f"{fmt} peak server RSS", cond, "≤", 300, exp and exp["peak_rss_mb"], " MB",
                         exact, sqlite))
        if exp and not exp["rows_match"]:
            rows.append(Row("export", f"{fmt} rows = tasks with responses", cond, "= 0 missing",
                            f"{exp['rows']} vs {exp['tasks_with_responses']}", "—", "MISS", False))
    return rows


def summary(rows: list[Row]) -> dict:
    binding = [r for r in rows if r.ok is not None]
    return {"binding": len(binding), "met": sum(1 for r in binding if r.ok),
            "missed": [f"{r.phase}: {r.metric} ({r.condition})" for r in binding if not r.ok]}
