"""The server under test: a `quorum serve` subprocess on a fresh database, measured per phase
(bench/procstat.py: the `quorum serve` process and every descendant, from /proc), and a direct
(read-mostly) line to its database for checks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.procstat import TreeMeter, free_port, pids_named, process_tree

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
QUORUM = str(VENV_BIN / "quorum") if (VENV_BIN / "quorum").exists() else shutil.which("quorum") or "quorum"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "quorum_bench"


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

    def size_bytes(self, settled: bool = False) -> dict[str, int]:
        """File sizes; `settled`: first copy the log back and empty it (a TRUNCATE checkpoint), so
        the sizes say what is stored rather than how far the log has grown since it last restarted."""
        if settled:
            import sqlite3

            conn = sqlite3.connect(self.data_dir / "quorum.db", timeout=60)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                conn.close()
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
                cur.execute(pg_literal(sql), params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def service_pids(self) -> list[int]:
        return pids_named("postgres", "redis-server")

    def settings(self) -> dict:
        names = ("server_version", "autovacuum", "shared_buffers", "synchronous_commit", "max_connections")
        rows = self.query("SELECT name, setting FROM pg_settings WHERE name IN (%s)" % ",".join("?" * len(names)),
                          names)
        return dict(rows)

    def size_bytes(self, settled: bool = False) -> dict[str, int]:
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


def pg_literal(sql: str) -> str:
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
