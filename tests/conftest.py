"""Shared fixtures: a booted Quorum on a real SQLite file (or PostgreSQL), a live HTTP server, API clients."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import msgspec
import pytest
import uvicorn

from server import db
from server.boot import boot
from server.config import load
from server.core import users
from server.web.fast_lane import FastLane

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def pg_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def reset_postgres() -> None:
    import psycopg2

    conn = psycopg2.connect(PG_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    conn.close()


def make_config(tmp_path: Path, database_url: str | None = None, **env):
    environ = {"QUORUM_DATA_DIR": str(tmp_path / "data"), "QUORUM_QUEUE_BACKEND": "memory",
               "QUORUM_QUEUE_IMMEDIATE": "true", **env}
    if database_url:
        environ["QUORUM_DATABASE_URL"] = database_url
    return load(environ=environ)


@pytest.fixture(params=["sqlite"])
def backend(request):
    return request.param


@pytest.fixture
def quorum(tmp_path, backend):
    """A booted Quorum (database migrated, plugins loaded, queue inline) on a fresh database."""
    url = None
    if backend == "postgres":
        if not pg_available():
            pytest.fail("PostgreSQL is not answering on 127.0.0.1:5432 (.ci/run starts it)")
        reset_postgres()
        url = PG_URL
    config = boot(make_config(tmp_path, url))
    yield config
    close_all()


def close_all() -> None:
    """Close this thread's connection and, for a pool, every pooled one (other threads' too)."""
    database = db.database.obj
    if hasattr(database, "close_all"):
        database.close_all()
    elif not database.is_closed():
        database.close()


class Api:
    """A small JSON client for one user, over real HTTP."""

    def __init__(self, base: str, token: str | None = None):
        self.client = httpx.Client(base_url=base, timeout=30,
                                   headers={"authorization": f"Bearer {token}"} if token else {})

    def call(self, method: str, path: str, expect: int | None = 200, **kwargs) -> httpx.Response:
        response = self.client.request(method, "/api/v1" + path, **kwargs)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, **kw):
        return self.call("POST", path, **kw)


class LiveServer:
    """`app` (a Litestar) served as `quorum serve` serves it: behind the labeling fast lane
    (`fast_lane=False`: litestar alone, to compare the two)."""

    def __init__(self, app, fast_lane: bool = True):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lane = FastLane(app) if fast_lane else None
        self.server = uvicorn.Server(uvicorn.Config(self.lane or app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    loop="asyncio", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def login(self, username: str, password: str) -> Api:
        response = httpx.post(f"{self.url}/api/v1/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return Api(self.url, response.json()["token"])


@pytest.fixture
def server(quorum):
    from server.web.app import create_app

    with LiveServer(create_app(quorum)) as live:
        yield live


@pytest.fixture
def people(quorum):
    """An owner, a reviewer and two taskers in the Default space."""
    made = {}
    for name, role in (("olivia", "owner"), ("rey", "reviewer"), ("tom", "tasker"), ("tina", "tasker")):
        users.create_user(name, f"{name}-pw", role)
        made[name] = f"{name}-pw"
    return made


@pytest.fixture
def apis(server, people):
    return {name: server.login(name, password) for name, password in people.items()}


def jsonl(rows: list[dict]) -> bytes:
    return b"\n".join(msgspec.json.encode(r) for r in rows) + b"\n"


def image_items(n: int, start: int = 1) -> list[dict]:
    return [{"ext_id": f"t{i:07d}", "image": f"http://127.0.0.1:9/img/{i:07d}.jpg"} for i in range(start, start + n)]


def make_project(api: Api, **settings) -> dict:
    body = {"name": "Images", "task_type": "classification", "require_calibration": False, **settings}
    return api.post("/projects", json=body, expect=201).json()


def load_items(api: Api, project_id: int, rows: list[dict], batch: bool = True) -> dict:
    result = api.post(f"/projects/{project_id}/items", content=jsonl(rows),
                      headers={"content-type": "application/x-ndjson"}, expect=201).json()
    if batch:
        api.post(f"/projects/{project_id}/batches", json={"kind": "production"}, expect=201)
    return result
