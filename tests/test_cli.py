"""The `quorum` command as outside scripts use it: real processes, real files, the documented forms."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import msgspec
import pytest

from tests.conftest import image_items, jsonl

QUORUM = shutil.which("quorum") or str(Path(sys.executable).parent / "quorum")


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "QUORUM_DATA_DIR": str(tmp_path / "data"),
            "QUORUM_DATABASE_URL": f"sqlite:///{tmp_path}/data/quorum.db"}


def run(env, *args, ok=True):
    result = subprocess.run([QUORUM, *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert result.returncode == 0, result.stderr + result.stdout
    return result


def test_user_create_is_idempotent_and_roles_are_checked(env):
    assert "created user ann (owner)" in run(env, "user", "create", "--username", "ann", "--password", "pw-ann",
                                             "--role", "owner").stdout
    assert "updated user ann" in run(env, "user", "create", "--username", "ann", "--password", "pw-ann",
                                     "--role", "owner").stdout
    bad = run(env, "user", "create", "--username", "ann", "--password", "x", "--role", "king", ok=False)
    assert bad.returncode != 0 and "role" in bad.stderr


def test_plugins_lists_builtins(env):
    out = run(env, "plugins").stdout
    assert "task type  classification" in out and "judge      static" in out and "exporter   jsonl" in out


def test_migrate_reports_then_says_up_to_date(env):
    assert "0001_initial" in run(env, "migrate").stdout
    assert "up to date" in run(env, "migrate").stdout


def test_a_wrong_config_stops_start_up_naming_the_key(env):
    result = run({**env, "QUORUM_SERVER_PORTT": "1"}, "migrate", ok=False)
    assert result.returncode != 0 and "QUORUM_SERVER_PORTT" in result.stderr and "Traceback" not in result.stderr


def test_import_and_export_round_trip_and_a_bad_line_is_named(env, tmp_path):
    run(env, "demo")
    good = tmp_path / "items.jsonl"
    good.write_bytes(jsonl(_demo_shaped(image_items(500))))
    out = run(env, "import", "1", str(good)).stdout
    assert "imported 500 items" in out
    assert "imported 0 items (500 already there)" in run(env, "import", "1", str(good)).stdout
    bad = tmp_path / "bad.jsonl"
    rows = _demo_shaped(image_items(3, start=1000))
    bad.write_bytes(jsonl(rows[:2]) + b'{"id": "x", "image": }\n')
    result = run(env, "import", "1", str(bad), ok=False)
    assert result.returncode == 1 and "line 3" in result.stderr and "Traceback" not in result.stderr
    target = tmp_path / "out.jsonl"
    run(env, "export", "1", "--format", "jsonl", "-o", str(target))
    assert target.read_text() == ""      # nothing labelled yet: nothing to export


def _demo_shaped(rows: list[dict]) -> list[dict]:
    """The demo project took `id` as its id field on its first import; later files keep it."""
    return [{"id": r["ext_id"], "image": r["image"]} for r in rows]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _serving(env, *options):
    """`quorum serve` on a free port until the block ends; yields its base URL once it answers."""
    port = _free_port()
    server = subprocess.Popen([QUORUM, "serve", "--host", "127.0.0.1", "--port", str(port), *options], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.TransportError:
                assert time.time() < deadline and server.poll() is None, "server did not start"
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)


def test_demo_then_serve_lets_a_tasker_label(env):
    out = run(env, "demo").stdout
    assert "tasker    tasker / tasker-pass" in out
    assert "demo project 1" in run(env, "demo").stdout, "demo is idempotent"
    with _serving(env) as base:
        token = httpx.post(f"{base}/api/v1/auth/token",
                           json={"username": "tasker", "password": "tasker-pass"}).json()["token"]
        headers = {"authorization": f"Bearer {token}"}
        claim = httpx.post(f"{base}/api/v1/projects/1/claim", headers=headers).json()
        image = httpx.get(base + claim["inputs"]["image"])
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        done = httpx.post(f"{base}/api/v1/assignments/{claim['assignment_id']}/submit", headers=headers,
                          json={"response": {"label": "Graphs and Charts"}}).json()
        assert done["task_status"] == "ready_for_review"
    assert msgspec.json.decode(run(env, "export", "1").stdout)[0]["label"] == "Graphs and Charts"


def test_serve_with_two_workers_shares_one_secret_and_runs_one_queue_consumer(env, tmp_path):
    """Two web workers start at once: a session made by one is honoured by the other (they agree on
    the generated secret), exactly one of them runs the queue consumer, and a bad database stops
    `serve` with the reason, not a traceback."""
    import fcntl

    run(env, "demo")
    with _serving(env, "--workers", "2") as base:
        with httpx.Client(base_url=base) as browser:
            browser.get("/login")
            login = browser.post("/login", data={"username": "owner", "password": "owner-pass"},
                                 headers={"x-csrftoken": browser.cookies.get("csrftoken", "")})
            assert login.status_code in (200, 303), login.text
            pages = [browser.get("/").status_code for _ in range(30)]   # spread over both workers
        assert pages == [200] * 30
        with open(tmp_path / "data" / "queue-consumer.lock", "rb") as lock:
            with pytest.raises(BlockingIOError):
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    bad = {**env, "QUORUM_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    failed = subprocess.run([QUORUM, "serve", "--port", str(_free_port()), "--workers", "2"], env=bad,
                            capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert "start-up failed" in failed.stderr and "Traceback" not in failed.stderr
