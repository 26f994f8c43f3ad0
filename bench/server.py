"""The server under test: a `quorum serve` subprocess on a fresh database, its process tree's
memory and CPU per phase, and a direct (read-mostly) line to its database for checks.

Memory and CPU come from /proc, so the benchmark needs nothing beyond the project's own
dependencies: the tree is the `quorum serve` process and every descendant (uvicorn's worker
processes, multiprocessing helpers). Per phase we report

* `peak_rss_mb`: the highest sum of VmRSS over the tree, sampled every 20 ms;
* `hwm_sum_mb`: the sum of each process's VmHWM (high-water mark) since the phase began
  (reset by writing 5 to /proc/<pid>/clear_refs), an upper bound that no short spike escapes;
* `cpu_s`: user + system CPU seconds the tree used during the phase.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
QUORUM = str(VENV_BIN / "quorum") if (VENV_BIN / "quorum").exists() else shutil.which("quorum") or "quorum"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "quorum_bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- /proc readings


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(rest[1]), []).append(int(entry))
    return children


def process_tree(root: int) -> list[int]:
    children = _children_map()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _status_kb(pid: int, *keys: str) -> dict[str, int]:
    found = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in keys:
                    found[key] = int(value.split()[0])
    except OSError:
        pass
    return found


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_KB
    except OSError:
        return 0


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return 0.0
    rest = stat[stat.rfind(b")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK     # utime + stime


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all CPUs; /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def _pids_named(*names: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() in names:
                        found.append(int(entry))
            except OSError:
                pass
    return found


def _clear_hwm(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class TreeMeter:
    """Peak RSS and CPU seconds of a process tree between start() and stop()."""

    def __init__(self, root: int, interval: float = 0.02, services=None):
        self.root = root
        self.services = services or (lambda: [])
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "TreeMeter":
        self.pids = process_tree(self.root)
        self.cpu0 = {pid: _cpu_seconds(pid) for pid in self.pids}
        self.hwm_reset = all(_clear_hwm(pid) for pid in self.pids)
        self.rss_start_mb = sum(_rss_kb(p) for p in self.pids) / 1024
        self.machine0 = machine_busy_seconds()
        self.service0 = {pid: _cpu_seconds(pid) for pid in self.services()}
        self.peak_kb = 0
        self.samples = 0
        self.started = time.perf_counter()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, name="bench-meter", daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        refresh = 0
        while not self._stop.is_set():
            if refresh == 0:
                for pid in process_tree(self.root):
                    if pid not in self.cpu0:
                        self.cpu0[pid] = 0.0
                        self.pids.append(pid)
                refresh = 25
            refresh -= 1
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in self.pids))
            self.samples += 1
            self._stop.wait(self.interval)

    def stop(self) -> dict:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in self.pids))
        hwm = [_status_kb(p, "VmHWM").get("VmHWM", 0) for p in self.pids]
        live = [p for p in self.pids if os.path.exists(f"/proc/{p}")]
        return {
            "seconds": round(time.perf_counter() - self.started, 3),
            "cpu_s": round(sum(_cpu_seconds(p) - self.cpu0.get(p, 0.0) for p in live), 2),
            "machine_cpu_s": round(machine_busy_seconds() - self.machine0, 2),
            "db_cpu_s": round(sum(_cpu_seconds(p) - self.service0.get(p, 0.0) for p in self.services()), 2),
            "peak_rss_mb": round(self.peak_kb / 1024, 1),
            "hwm_sum_mb": round(sum(hwm) / 1024, 1) if self.hwm_reset else None,
            "hwm_max_mb": round(max(hwm) / 1024, 1) if hwm and self.hwm_reset else None,
            "rss_start_mb": round(self.rss_start_mb, 1),
            "rss_end_mb": round(sum(_rss_kb(p) for p in live) / 1024, 1),
            "processes": len(live),
        }


# ---------------------------------------------------------------- backends


class Backend:
    """Where the server keeps its data, and a direct connection for the checks the API does not offer."""

    name = "sqlite"

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir

    def env(self) -> dict[str, str]:
        return {"QUORUM_DATA_DIR": str(self.data_dir), "QUORUM_QUEUE_BACKEND": "sqlite"}

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def describe(self) -> str:
        return f"SQLite {self.data_dir / 'quorum.db'} (WAL), queue SQLite"

    def connect(self):
        import sqlite3

        conn = sqlite3.connect(self.data_dir / "quorum.db", timeout=60, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 60000")
        return conn

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = self.connect()
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def size_bytes(self) -> dict[str, int]:
        sizes = {}
        for name in ("quorum.db", "quorum.db-wal", "quorum.db-shm", "queue.db", "queue.db-wal"):
            path = self.data_dir / name
            if path.exists():
                sizes[name] = path.stat().st_size
        sizes["database"] = sum(v for k, v in sizes.items() if k.startswith("quorum.db"))
        return sizes

    def cleanup(self, keep: bool = False) -> None:
        pass

    def service_pids(self) -> list[int]:
        """Processes of the database and queue servers (none for SQLite: it runs inside the server)."""
        return []

    def settings(self) -> dict:
        return {}


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, data_dir: Path, redis_url: str, queue_name: str):
        super().__init__(data_dir)
        self.url = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"
        self.redis_url = redis_url
        self.queue_name = queue_name

    def env(self) -> dict[str, str]:
        return {"QUORUM_DATA_DIR": str(self.data_dir), "QUORUM_DATABASE_URL": self.url,
                "QUORUM_QUEUE_BACKEND": "redis", "QUORUM_QUEUE_REDIS_URL": self.redis_url,
                "QUORUM_QUEUE_NAME": self.queue_name}

    def prepare(self) -> None:
        import psycopg2

        super().prepare()
        conn = psycopg2.connect(PG_ADMIN_URL)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (PG_DB,))
            cur.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
            cur.execute(f"CREATE DATABASE {PG_DB}")
        conn.close()

    def describe(self) -> str:
        return f"PostgreSQL {self.url}, queue Redis {self.redis_url} ({self.queue_name})"

    def connect(self):
        import psycopg2

        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        return conn

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(_pg(sql), params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def service_pids(self) -> list[int]:
        return _pids_named("postgres", "redis-server")

    def settings(self) -> dict:
        names = ("server_version", "autovacuum", "shared_buffers", "synchronous_commit", "max_connections")
        rows = self.query("SELECT name, setting FROM pg_settings WHERE name IN (%s)" % ",".join("?" * len(names)),
                          names)
        return dict(rows)

    def size_bytes(self) -> dict[str, int]:
        size = self.query("SELECT pg_database_size(current_database())")[0][0]
        return {"database": int(size)}

    def cleanup(self, keep: bool = False) -> None:
        if not keep:
            try:
                import psycopg2

                conn = psycopg2.connect(PG_ADMIN_URL)
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
                conn.close()
            except Exception:  # noqa: BLE001 - best effort
                pass
        try:
            import redis

            client = redis.Redis.from_url(self.redis_url)
            keys = list(client.scan_iter(f"*{self.queue_name}*"))
            if keys:
                client.delete(*keys)
        except Exception:   # noqa: BLE001 - best effort
            pass


def _pg(sql: str) -> str:
    """`?` placeholders to psycopg2's `%s` (a literal % becomes %%)."""
    return sql.replace("%", "%%").replace("?", "%s")


def make_backend(name: str, data_dir: Path) -> Backend:
    if name == "sqlite":
        return Backend(data_dir)
    if name == "postgres":
        return PostgresBackend(data_dir, os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
                               f"quorum-bench-{os.getpid()}")
    raise SystemExit(f"unknown backend {name!r} (sqlite or postgres)")


# ---------------------------------------------------------------- checks and seeding through the database


def over_assigned(backend: Backend, project_id: int, overlap: int) -> dict[str, int]:
    """Tasks whose live + submitted assignments, or whose responses, come from more than `overlap` taskers."""
    leases = backend.query(
        "SELECT COUNT(*) FROM (SELECT task_id FROM assignment WHERE project_id = ? "
        "AND status IN ('active', 'submitted') GROUP BY task_id HAVING COUNT(DISTINCT tasker_id) > ?) x",
        (project_id, overlap))[0][0]
    responses = backend.query(
        "SELECT COUNT(*) FROM (SELECT task_id FROM response WHERE project_id = ? "
        "GROUP BY task_id HAVING COUNT(DISTINCT tasker_id) > ?) x", (project_id, overlap))[0][0]
    return {"tasks_over_overlap_assignments": int(leases), "tasks_over_overlap_responses": int(responses)}


def response_count(backend: Backend, project_id: int) -> int:
    return int(backend.query("SELECT COUNT(*) FROM response WHERE project_id = ?", (project_id,))[0][0])


LABELS = ["Graphs and Charts", "Diagrams", "Data and Process Flow", "Infographics", "Multi-Figure Images",
          "Uncategorized"]


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
                cur.execute(_pg(statements[0][0]), statements[0][1])
                seeded = cur.rowcount
                for sql, params in statements[1:]:
                    cur.execute(_pg(sql), params)
            conn.commit()
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("ANALYZE")
    finally:
        conn.close()
    return seeded


# ---------------------------------------------------------------- users


def create_users(env: dict[str, str], users: list[tuple[str, str, str]]) -> dict[str, int]:
    """Create (or update) users in one process booted like the server; returns name -> id."""
    proc = subprocess.run([sys.executable, "-m", "bench.server", "users"], input=json.dumps(users),
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"creating users failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _users_main() -> None:
    from server.boot import boot
    from server.config import load
    from server.core.users import create_user

    boot(load())
    ids = {}
    for name, password, role in json.loads(sys.stdin.read()):
        user, _ = create_user(name, password, role)
        ids[name] = user.id
    print(json.dumps(ids))


# ---------------------------------------------------------------- the server process


class Server:
    """`quorum serve` on a free port with the backend's environment; stop() ends its whole tree."""

    def __init__(self, backend: Backend, workers: int, log_dir: Path):
        self.backend = backend
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **backend.env(), "QUORUM_SERVER_WORKERS": str(workers),
                    "QUORUM_SERVER_PORT": str(self.port), "PYTHONUNBUFFERED": "1"}
        self.env.pop("QUORUM_CONFIG", None)
        self.log_path = log_dir / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "Server":
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [QUORUM, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if httpx.get(self.base + "/api/v1/ping", timeout=1).status_code == 401:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log_text()}")
        # every worker process up: uvicorn starts them one by one
        wanted = 1 + self.workers if self.workers > 1 else 1
        while len(process_tree(self.proc.pid)) < wanted and time.time() < deadline:
            time.sleep(0.1)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def meter(self) -> TreeMeter:
        return TreeMeter(self.pid, services=self.backend.service_pids).start()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
            self.proc.wait(timeout=20)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        finally:
            self.log.close()


def run_measured(cmd: list[str], env: dict[str, str], timeout: float = 3600) -> dict:
    """Run a command to completion; its wall time, CPU seconds and peak RSS (from wait4)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                proc.kill()
                raise RuntimeError(f"{cmd[:3]} timed out")
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    return {"returncode": proc.returncode, "output": text, "seconds": round(time.perf_counter() - started, 3),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


if __name__ == "__main__":
    if sys.argv[1:] == ["users"]:
        _users_main()
    else:
        raise SystemExit("usage: python -m bench.server users < [[name, password, role], ...]")
