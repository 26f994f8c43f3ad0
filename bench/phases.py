"""The phases: floor, import, labeling loop, export; each measured on the server's process tree."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec

from bench import client as load
from bench.seeding import seed_responses
from bench.server import QUORUM, Backend, Server, create_users, over_assigned, response_count, run_measured

PASSWORD = "bench-pass"
OWNER = "bench-owner"
SEED_USER = "bench-seed"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _other(server: dict, result: dict) -> float:
    """Busy CPU seconds of everything but the server, its database/queue and the client."""
    return round(server["machine_cpu_s"] - server["cpu_s"] - server["db_cpu_s"] - result["client_cpu_s"], 2)


def items_file(directory: Path, size: int) -> Path:
    """The classification workload: {"image": "http://127.0.0.1:9/img/0000001.jpg", "ext_id": "t0000001"} per line."""
    path = directory / f"items-{size}.jsonl"
    if not path.exists():
        with open(path, "wb") as out:
            step = 100_000
            for start in range(1, size + 1, step):
                out.write("".join(f'{{"image": "http://127.0.0.1:9/img/{i:07d}.jpg", "ext_id": "t{i:07d}"}}\n'
                                  for i in range(start, min(size, start + step - 1) + 1)).encode())
    return path


@dataclass
class Project:
    id: int
    size: int
    name: str
    used_by: list[str] = field(default_factory=list)


class Bench:
    def __init__(self, opts, backend: Backend, server: Server, work_dir: Path):
        self.opts = opts
        self.backend = backend
        self.server = server
        self.work_dir = work_dir
        self.results: dict = {"floor": None, "imports": [], "setup_imports": [], "loops": [], "exports": [],
                              "db_size": {}}
        self.floor_rps: float | None = None
        self.current: dict[int, Project] = {}      # size -> the project loops draw from
        self.seq = 0

    # ------------------------------------------------------------ setup

    def setup(self) -> None:
        taskers = max(max(self.opts.clients), self.opts.floor_clients)
        names = [f"bench-t{i:03d}" for i in range(1, taskers + 1)]
        started = time.perf_counter()
        ids = create_users(self.server.env, [(OWNER, PASSWORD, "owner"), (SEED_USER, PASSWORD, "tasker")]
                           + [(n, PASSWORD, "tasker") for n in names])
        self.seed_user_id = ids[SEED_USER]
        log(f"created {len(ids)} users in {time.perf_counter() - started:.1f}s")
        self.admin = httpx.Client(base_url=self.server.base + "/api/v1", timeout=3600)
        self.admin.headers["authorization"] = f"Bearer {self.login(OWNER)}"
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            self.tokens = list(pool.map(self.login, names))
        log(f"{len(self.tokens)} taskers logged in in {time.perf_counter() - started:.1f}s")

    def login(self, username: str) -> str:
        response = httpx.post(self.server.base + "/api/v1/auth/token",
                              json={"username": username, "password": PASSWORD}, timeout=120)
        response.raise_for_status()
        return response.json()["token"]

    def call(self, method: str, path: str, expect: int = 200, **kwargs) -> httpx.Response:
        response = self.admin.request(method, path, **kwargs)
        if response.status_code != expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response

    def create_project(self, size: int, purpose: str) -> Project:
        self.seq += 1
        name = f"bench {self.seq}: {size:,} items ({purpose})"
        body = {"name": name, "task_type": "classification", "overlap": self.opts.overlap,
                "require_calibration": False}
        created = self.call("POST", "/projects", 201, json=body).json()
        self.neutralise_rules(created["id"])
        return Project(id=created["id"], size=size, name=name)

    STOPPING = ("pause", "remove", "require_retraining", "reject_submission")

    def neutralise_rules(self, project_id: int) -> None:
        """Keep tasker-standing rules that would stop a no-think-time tasker (daily limit, "too fast to
        be reading") evaluating on every submission, as in production, but never firing: the project
        overrides each with the same rule and `(<condition>) && false`. Recorded in the results."""
        response = self.admin.get(f"/projects/{project_id}/rules")
        if response.status_code != 200:      # a server without tasker rules
            return
        blocks, names = [], []
        for rule in response.json().get("effective", []):
            if not rule.get("enabled", True) or rule.get("then") not in self.STOPPING:
                continue
            names.append(rule["name"])
            lines = ["[[rule]]", f"name = {json.dumps(rule['name'])}", f"on = {json.dumps(rule['on'])}",
                     f"when = {json.dumps('(' + rule['when'] + ') && false')}", f"then = {json.dumps(rule['then'])}"]
            if rule.get("params"):
                lines.append("params = { " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in rule["params"].items())
                             + " }")
            blocks.append("\n".join(lines))
        if blocks:
            self.call("PUT", f"/projects/{project_id}/rules", 200, content="\n\n".join(blocks).encode(),
                      headers={"content-type": "application/toml"})
            self.results.setdefault("rules_neutralised", sorted(set(names)))

    def counts(self, project: Project) -> dict[str, int]:
        return self.call("GET", f"/projects/{project.id}").json()["counts"]

    def _load(self, **kw) -> dict:
        return load.run_load(host="127.0.0.1", port=self.server.port, client=self.opts.client, **kw)

    # ------------------------------------------------------------ floor

    def floor(self) -> dict:
        c = self.opts.floor_clients
        log(f"floor: GET /api/v1/ping, {c} clients, {self.opts.floor_seconds}s")
        meter = {}
        result = self._load(mode="floor", tokens=self.tokens[:c], seconds=self.opts.floor_seconds,
                            warmup=self.opts.warmup, procs=self.procs_for(c),
                            on_start=lambda: meter.update(m=self.server.meter()),
                            on_end=lambda: meter.update(r=meter["m"].stop()))
        result["server"] = meter["r"]
        result["db_cpu_s"] = meter["r"]["db_cpu_s"]
        result["other_cpu_s"] = _other(meter["r"], result)
        self.floor_rps = result["requests_per_s"]
        self.results["floor"] = result
        p = result["ping"]
        log(f"  floor {result['requests_per_s']:,.0f} req/s  p50 {p['p50_ms']} ms  p99 {p['p99_ms']} ms  "
            f"errors {result['errors']}  (client CPU {result['client_cpu_s']}s, server CPU {meter['r']['cpu_s']}s)")
        return result

    def procs_for(self, concurrency: int) -> int:
        return max(1, min(concurrency, self.opts.client_procs))

    # ------------------------------------------------------------ import

    def import_items(self, size: int, purpose: str = "import", record: bool = True, via: str | None = None) -> Project:
        project = self.create_project(size, purpose)
        path = items_file(self.work_dir, size)
        via = via or ("cli" if size >= self.opts.cli_import_from else "http")
        db_before = self.backend.size_bytes(settled=True)["database"]
        meter = self.server.meter()
        if via == "http":
            started = time.perf_counter()
            with open(path, "rb") as body:
                response = self.call("POST", f"/projects/{project.id}/items", 201, content=body,
                                     headers={"content-type": "application/x-ndjson"})
            seconds = time.perf_counter() - started
            server = meter.stop()
            outcome = response.json()
            created, reported = outcome["created"], outcome["seconds"]
            cli = None
        else:
            cli = run_measured([QUORUM, "import", str(project.id), str(path)], self.server.env)
            server = meter.stop()
            if cli["returncode"] != 0:
                raise RuntimeError(f"quorum import failed:\n{cli['output'][-3000:]}")
            seconds = cli["seconds"]
            line = next((ln for ln in cli["output"].splitlines() if ln.startswith("imported")), "")
            match = re.search(r"imported ([\d,]+) items .* in ([\d.]+)s \(([\d,]+)/s\)", line)
            created = int(match.group(1).replace(",", "")) if match else size
            reported = float(match.group(2)) if match else None
            cli["printed"] = line
            cli.pop("output")
        batch_meter = self.server.meter()
        started = time.perf_counter()
        batch = self.call("POST", f"/projects/{project.id}/batches", 201, json={"kind": "production"}).json()
        batch_seconds = time.perf_counter() - started
        batch_server = batch_meter.stop()
        db_after = self.backend.size_bytes(settled=True)["database"]
        row = {
            "size": size, "via": via, "purpose": purpose, "project_id": project.id, "created": created,
            "seconds": round(seconds, 3), "server_seconds": reported,
            "items_per_s": round(size / seconds, 1), "server": server, "cli": cli,
            "peak_rss_mb": cli["peak_rss_mb"] if cli else server["peak_rss_mb"],
            "peak_process_mb": cli["peak_rss_mb"] if cli else server["hwm_max_mb"],
            "batch_seconds": round(batch_seconds, 3), "batch_size": batch["size"], "batch_server": batch_server,
            "db_growth_bytes": db_after - db_before,
            "db_bytes_per_item": round((db_after - db_before) / size, 1),
        }
        if created != size or batch["size"] != size:
            row["warning"] = f"created {created}, batched {batch['size']} of {size}"
        (self.results["imports"] if record else self.results["setup_imports"]).append(row)
        rss = f"CLI peak RSS {cli['peak_rss_mb']} MB, server peak {server['peak_rss_mb']} MB" if cli \
            else f"server peak RSS {server['peak_rss_mb']} MB (largest process {server['hwm_max_mb']} MB)"
        log(f"  import {size:,} via {via}: {seconds:.2f}s = {size / seconds:,.0f} items/s; {rss}; "
            f"batch {batch_seconds:.2f}s (largest process {batch_server['hwm_max_mb']} MB); "
            f"+{(db_after - db_before) / 1e6:.1f} MB on disk")
        return project

    # ------------------------------------------------------------ labeling loop

    def loop_project(self, size: int, concurrency: int) -> Project:
        """A project of `size` items with enough queued tasks for this level (a fresh one if not)."""
        estimate = (self.floor_rps or 3000) / 2 * (self.opts.seconds + self.opts.warmup) * 1.2
        need = min(size, estimate)
        project = self.current.get(size)
        if project is not None and self.counts(project).get("queued", 0) >= need:
            return project
        log(f"  fresh project of {size:,} items for the loop at {concurrency} taskers")
        project = self.import_items(size, purpose=f"loop c={concurrency}", record=False)
        self.current[size] = project
        return project

    def loop(self, size: int, concurrency: int) -> dict:
        project = self.loop_project(size, concurrency)
        queued = self.counts(project).get("queued", 0)
        before = response_count(self.backend, project.id)
        log(f"loop: {concurrency} taskers on project {project.id} ({size:,} items, {queued:,} queued), "
            f"{self.opts.seconds}s")
        meter = {}
        result = self._load(mode="loop", tokens=self.tokens[:concurrency], seconds=self.opts.seconds,
                            warmup=self.opts.warmup, procs=self.procs_for(concurrency), project_id=project.id,
                            overlap=self.opts.overlap,
                            on_start=lambda: meter.update(m=self.server.meter()),
                            on_end=lambda: meter.update(r=meter["m"].stop()))
        after = response_count(self.backend, project.id)
        checks = over_assigned(self.backend, project.id, self.opts.overlap)
        result.update({
            "size": size, "project_id": project.id, "queued_at_start": queued, "server": meter["r"],
            "db_cpu_s": meter["r"]["db_cpu_s"], "other_cpu_s": _other(meter["r"], result),
            "db_responses_added": after - before,
            "lost_or_phantom": (after - before) - result["submissions_all"],
            **checks,
            "over_assigned": max(result["over_assigned_seen_by_clients"], checks["tasks_over_overlap_assignments"],
                                 checks["tasks_over_overlap_responses"]),
        })
        project.used_by.append(f"c={concurrency}")
        self.results["loops"].append(result)
        c, s = result["claim"], result["submit"]
        dry = f"  RAN DRY after {result['ran_dry_after_s']}s" if result["ran_dry"] else ""
        log(f"  {result['submissions_per_s']:,.1f} submissions/s; claim p50/p95/p99 {c['p50_ms']}/{c['p95_ms']}/"
            f"{c['p99_ms']} ms; submit {s['p50_ms']}/{s['p95_ms']}/{s['p99_ms']} ms; errors {result['errors']}; "
            f"over-assigned {result['over_assigned']}; server CPU {meter['r']['cpu_s']}s, client CPU "
            f"{result['client_cpu_s']}s, database {result['db_cpu_s']}s, other processes {result['other_cpu_s']}s{dry}")
        for sample in result["error_samples"][:3]:
            log(f"    error: {sample}")
        return result

    # ------------------------------------------------------------ export

    def export(self, project: Project, seed: bool) -> None:
        seeded = 0
        if seed:
            started = time.perf_counter()
            try:
                seeded = seed_responses(self.backend, project.id, self.seed_user_id)
            except Exception as exc:  # noqa: BLE001 - export what the loop left instead
                log(f"export: seeding responses FAILED ({type(exc).__name__}: {exc}); exporting the loop's only")
                self.results["export_seed_error"] = f"{type(exc).__name__}: {exc}"
            else:
                log(f"export: seeded {seeded:,} responses into project {project.id} in "
                    f"{time.perf_counter() - started:.1f}s (setup, not measured)")
        responses = int(self.backend.query("SELECT COUNT(*) FROM response WHERE project_id = ? AND rejected = ?",
                                           (project.id, False))[0][0])
        tasks_with = int(self.backend.query(
            "SELECT COUNT(DISTINCT task_id) FROM response WHERE project_id = ? AND rejected = ?",
            (project.id, False))[0][0])
        for fmt in self.opts.export_formats:
            try:
                self._export_one(project, fmt, responses, tasks_with, seeded)
            except Exception as exc:  # noqa: BLE001 - a failed export is a result, not the end of the run
                self.results["exports"].append({"format": fmt, "project_id": project.id, "size": project.size,
                                                "responses": responses, "error": f"{type(exc).__name__}: {exc}"})
                log(f"  export {fmt} FAILED: {type(exc).__name__}: {exc}")

    def _export_one(self, project: Project, fmt: str, responses: int, tasks_with: int, seeded: int) -> None:
        meter = self.server.meter()
        started = time.perf_counter()
        first = None
        size = lines = 0
        head = tail = b""
        keep = bytearray() if fmt == "json" and responses <= 300_000 else None
        try:
            with self.admin.stream("GET", f"/projects/{project.id}/export", params={"format": fmt}) as response:
                if response.status_code != 200:
                    raise RuntimeError(f"export {fmt}: {response.status_code} {response.read()[:500]!r}")
                for chunk in response.iter_raw(1 << 20):
                    if first is None:
                        first = time.perf_counter() - started
                        head = chunk[:64]
                    size += len(chunk)
                    lines += chunk.count(b"\n")
                    tail = (tail + chunk)[-64:]
                    if keep is not None:
                        keep += chunk
        finally:
            seconds = time.perf_counter() - started
            server = meter.stop()
        rows = lines if fmt == "jsonl" else None
        if keep is not None:
            rows = len(msgspec.json.decode(bytes(keep)))
        ok = rows is None or rows == tasks_with
        row = {"format": fmt, "project_id": project.id, "size": project.size, "responses": responses,
               "tasks_with_responses": tasks_with, "rows": rows, "rows_match": ok, "bytes": size,
               "seconds": round(seconds, 3), "first_byte_s": round(first or 0, 3),
               "responses_per_s": round(responses / seconds, 1), "server": server,
               "peak_rss_mb": server["peak_rss_mb"], "peak_process_mb": server["hwm_max_mb"], "seeded": seeded,
               "head": head.decode(errors="replace")[:40], "tail": tail.decode(errors="replace")[-20:]}
        self.results["exports"].append(row)
        log(f"  export {fmt}: {responses:,} responses, {size / 1e6:.1f} MB in {seconds:.2f}s = "
            f"{responses / seconds:,.0f} responses/s; first byte {row['first_byte_s']}s; server peak RSS "
            f"{server['peak_rss_mb']} MB; "
            + (f"rows {rows:,} {'OK' if ok else 'MISMATCH'}" if rows is not None else "rows not counted (large JSON)"))
