"""The load generator: C taskers spread over several client processes, each an asyncio loop.

Every tasker is its own user with its own bearer token and its own keep-alive connection.
The loop is claim → submit one of six classes, no think time; the floor is GET /api/v1/ping.
Processes are spawned per level, connect and warm up (one ping per tasker), wait on a shared
start time, run a warm-up that is not recorded, then a measured window; each sends back its
raw latencies, counts, errors, the (task, assignment) pairs it was handed and its own CPU time.

Two transports, same protocol:
* `httpx`: one httpx.AsyncClient per tasker (the reference client the issue names);
* `raw`: a minimal HTTP/1.1 keep-alive client on asyncio streams with httptools' parser, about
  a tenth of httpx's CPU per request, so on a 2-core machine more of the CPU goes to the server.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import random
import time
from array import array
from collections import Counter

import msgspec

from bench.server import LABELS

RESPONSES = [{"label": label, **({"subtype": "technical"} if label == "Diagrams" else {})} for label in LABELS]
SUBMIT_BODIES = [msgspec.json.encode({"response": response}) for response in RESPONSES]


class Transport:
    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class HttpxTransport(Transport):
    def __init__(self, host: str, port: int, token: str):
        import httpx

        self.client = httpx.AsyncClient(
            base_url=f"http://{host}:{port}", timeout=60,
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))

    async def request(self, method, path, body=None):
        response = await self.client.request(method, path, content=body)
        return response.status_code, response.content

    async def close(self):
        await self.client.aclose()


class RawTransport(Transport):
    """HTTP/1.1 with keep-alive over one asyncio stream; reconnects when the server closes."""

    def __init__(self, host: str, port: int, token: str):
        import httptools

        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n".encode()
        self.reader = self.writer = None
        self._parser_type = httptools.HttpResponseParser

    async def _connect(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    # httptools callbacks
    def on_body(self, chunk: bytes) -> None:
        self._body.append(chunk)

    def on_message_complete(self) -> None:
        self._done = True

    async def request(self, method, path, body=None):
        if self.writer is None:
            await self._connect()
        body = body or b""
        extra = b"Content-Type: application/json\r\n" if body else b""
        self.writer.write(b"%s %s HTTP/1.1\r\n%s%sContent-Length: %d\r\n\r\n%s"
                          % (method.encode(), path.encode(), self.head, extra, len(body), body))
        parser = self._parser_type(self)
        self._body, self._done = [], False
        try:
            while not self._done:
                data = await self.reader.read(262144)
                if not data:
                    raise ConnectionError("server closed the connection")
                parser.feed_data(data)
        except BaseException:
            await self.close()
            raise
        if not parser.should_keep_alive():
            await self.close()
        return parser.get_status_code(), b"".join(self._body)

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except Exception:  # noqa: BLE001
                pass
        self.reader = self.writer = None


TRANSPORTS = {"httpx": HttpxTransport, "raw": RawTransport}


class Recorder:
    def __init__(self):
        self.claim = array("d")
        self.submit = array("d")
        self.ping = array("d")
        self.submits = self.claims = self.pings = self.empties = self.submits_all = 0
        self.errors: Counter = Counter()
        self.error_samples: list[str] = []
        self.assignments = array("q")      # task id, assignment id, task id, assignment id, …
        self.stopped: list[float] = []
        self.done_at = array("d")          # wall time of each measured submit / ping

    def error(self, key: str, detail: str) -> None:
        self.errors[key] += 1
        if len(self.error_samples) < 8:
            self.error_samples.append(f"{key}: {detail[:300]}")


async def _tasker(transport: Transport, spec: dict, rec: Recorder, measure_from: float, deadline: float,
                  rng: random.Random) -> None:
    perf, wall = time.perf_counter, time.time
    claim_path = f"/api/v1/projects/{spec['project_id']}/claim"
    decode = msgspec.json.decode
    while wall() < deadline:
        measuring = wall() >= measure_from
        t0 = perf()
        try:
            status, body = await transport.request("POST", claim_path)
        except Exception as exc:  # noqa: BLE001
            rec.error(f"claim {type(exc).__name__}", str(exc))
            await asyncio.sleep(0.01)
            continue
        t1 = perf()
        if status == 204:
            rec.empties += 1
            rec.stopped.append(wall())
            return
        if status != 200:
            rec.error(f"claim {status}", body.decode(errors="replace"))
            await asyncio.sleep(0.01)
            continue
        claimed = decode(body)
        aid = claimed["assignment_id"]
        rec.assignments.append(claimed["task_id"])
        rec.assignments.append(aid)
        if measuring:
            rec.claims += 1
            rec.claim.append(t1 - t0)
        t2 = perf()
        try:
            status, body = await transport.request("POST", f"/api/v1/assignments/{aid}/submit",
                                                   SUBMIT_BODIES[rng.randrange(6)])
        except Exception as exc:  # noqa: BLE001
            rec.error(f"submit {type(exc).__name__}", str(exc))
            continue
        t3 = perf()
        if status != 200:
            rec.error(f"submit {status}", body.decode(errors="replace"))
            continue
        rec.submits_all += 1
        now = wall()
        if measuring and now <= deadline:
            rec.submits += 1
            rec.submit.append(t3 - t2)
            rec.done_at.append(now)


async def _pinger(transport: Transport, spec: dict, rec: Recorder, measure_from: float, deadline: float,
                  rng: random.Random) -> None:
    perf, wall = time.perf_counter, time.time
    while wall() < deadline:
        measuring = wall() >= measure_from
        t0 = perf()
        try:
            status, body = await transport.request("GET", "/api/v1/ping")
        except Exception as exc:  # noqa: BLE001
            rec.error(f"ping {type(exc).__name__}", str(exc))
            await asyncio.sleep(0.01)
            continue
        t1 = perf()
        now = wall()
        if status != 200:
            rec.error(f"ping {status}", body.decode(errors="replace"))
            continue
        if measuring and now <= deadline:
            rec.pings += 1
            rec.ping.append(t1 - t0)
            rec.done_at.append(now)


async def _process_main(spec: dict, tokens: list[str], ready, go, start_at, results) -> None:
    transports = [TRANSPORTS[spec["client"]](spec["host"], spec["port"], token) for token in tokens]
    rec = Recorder()
    for t in transports:             # open every connection and warm the server's token cache
        status, body = await t.request("GET", "/api/v1/ping")
        if status != 200:
            rec.error(f"warm-up ping {status}", body.decode(errors="replace"))
    ready.put(os.getpid())
    await asyncio.get_running_loop().run_in_executor(None, go.wait)
    begin = start_at.value
    await asyncio.sleep(max(0.0, begin - time.time()))
    measure_from = begin + spec["warmup"]
    deadline = measure_from + spec["seconds"]
    cpu0 = time.process_time()
    worker = _tasker if spec["mode"] == "loop" else _pinger
    rng = random.Random(os.getpid())
    await asyncio.gather(*(worker(t, spec, rec, measure_from, deadline, rng) for t in transports))
    cpu = time.process_time() - cpu0
    for t in transports:
        await t.close()
    results.put({
        "pid": os.getpid(), "cpu_s": cpu, "claim": rec.claim.tobytes(), "submit": rec.submit.tobytes(),
        "ping": rec.ping.tobytes(), "submits": rec.submits, "submits_all": rec.submits_all, "claims": rec.claims,
        "pings": rec.pings,
        "empties": rec.empties, "errors": dict(rec.errors), "error_samples": rec.error_samples,
        "assignments": rec.assignments.tobytes(), "stopped": rec.stopped, "done_at": rec.done_at.tobytes(),
        "measure_from": measure_from, "deadline": deadline, "taskers": len(tokens),
    })


def _process_entry(spec, tokens, ready, go, start_at, results) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_process_main(spec, tokens, ready, go, start_at, results))


def _percentiles(samples: array) -> dict:
    import numpy as np

    if not samples:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    values = np.frombuffer(samples, dtype="d") * 1000
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"n": int(values.size), "p50_ms": round(float(p50), 2), "p95_ms": round(float(p95), 2),
            "p99_ms": round(float(p99), 2), "max_ms": round(float(values.max()), 2),
            "mean_ms": round(float(values.mean()), 2)}


def run_load(*, mode: str, host: str, port: int, tokens: list[str], seconds: float, warmup: float,
             procs: int, client: str, project_id: int | None = None, overlap: int = 1,
             on_start=None, on_end=None) -> dict:
    """Run `len(tokens)` taskers (loop) or pingers (floor) over `procs` processes; aggregated results."""
    ctx = mp.get_context("spawn")
    procs = max(1, min(procs, len(tokens)))
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    start_at = ctx.Value("d", 0.0)
    spec = {"mode": mode, "host": host, "port": port, "seconds": seconds, "warmup": warmup, "client": client,
            "project_id": project_id}
    shares = [tokens[i::procs] for i in range(procs)]
    workers = [ctx.Process(target=_process_entry, args=(spec, share, ready, go, start_at, results), daemon=True)
               for share in shares]
    for w in workers:
        w.start()
    try:
        for _ in workers:
            ready.get(timeout=120)
        start_at.value = time.time() + 0.1
        if on_start:
            on_start()
        go.set()
        parts = [results.get(timeout=seconds + warmup + 180) for _ in workers]
        if on_end:
            on_end()
    finally:
        for w in workers:
            w.join(timeout=30)
            if w.is_alive():
                w.kill()
    return aggregate(parts, mode, len(tokens), procs, client, seconds, overlap)


def aggregate(parts: list[dict], mode: str, concurrency: int, procs: int, client: str, seconds: float,
              overlap: int) -> dict:
    join = lambda key: array("d", b"".join(p[key] for p in parts))  # noqa: E731
    measure_from = min(p["measure_from"] for p in parts)
    deadline = max(p["deadline"] for p in parts)
    stopped = [t for p in parts for t in p["stopped"]]
    taskers = sum(p["taskers"] for p in parts)
    ran_dry = mode == "loop" and len(stopped) == taskers
    window_end = min(deadline, max(stopped)) if ran_dry else deadline
    window = max(0.0, window_end - measure_from)
    errors: Counter = Counter()
    for p in parts:
        errors.update(p["errors"])
    done_at = join("done_at")
    per_second = [0] * (int(seconds) + 1)
    for t in done_at:
        idx = int(t - measure_from)
        if 0 <= idx < len(per_second):
            per_second[idx] += 1
    out = {
        "mode": mode, "concurrency": concurrency, "client_processes": procs, "client": client,
        "window_s": round(window, 3), "ran_dry": ran_dry,
        "ran_dry_after_s": round(window, 2) if ran_dry else None,
        "errors": sum(errors.values()), "errors_by_kind": dict(errors),
        "error_samples": [s for p in parts for s in p["error_samples"]][:10],
        "client_cpu_s": round(sum(p["cpu_s"] for p in parts), 2),
        "per_second": per_second[: max(1, int(window))],
    }
    if mode == "loop":
        pairs = array("q", b"".join(p["assignments"] for p in parts))
        holders: dict[int, set[int]] = {}
        for i in range(0, len(pairs), 2):
            holders.setdefault(pairs[i], set()).add(pairs[i + 1])
        over = sum(1 for held in holders.values() if len(held) > overlap)
        submits = sum(p["submits"] for p in parts)
        out.update({
            "submissions": submits, "submissions_all": sum(p["submits_all"] for p in parts),
            "claims": sum(p["claims"] for p in parts),
            "submissions_per_s": round(submits / window, 1) if window else 0.0,
            "requests_per_s": round(2 * submits / window, 1) if window else 0.0,
            "claim": _percentiles(join("claim")), "submit": _percentiles(join("submit")),
            "tasks_claimed": len(holders), "assignments_seen": len(pairs) // 2,
            "over_assigned_seen_by_clients": over,
        })
    else:
        pings = sum(p["pings"] for p in parts)
        out.update({"requests": pings, "requests_per_s": round(pings / window, 1) if window else 0.0,
                    "ping": _percentiles(join("ping"))})
    return out
