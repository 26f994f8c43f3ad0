"""Every API endpoint walked with every role: who gets what, and what a tasker can never see."""

from __future__ import annotations

import httpx
import pytest

from server.core import users
from server.models import Space
from tests.conftest import Api, image_items, jsonl, load_items, make_project

ROLES = ("anonymous", "outsider", "tasker", "reviewer", "owner")


@pytest.fixture
def world(server, people):
    outsider_space = Space.create(name="Elsewhere")
    users.create_user("otto", "otto-pw", "owner", outsider_space)
    apis = {"owner": server.login("olivia", "olivia-pw"), "reviewer": server.login("rey", "rey-pw"),
            "tasker": server.login("tom", "tom-pw"), "outsider": server.login("otto", "otto-pw"),
            "anonymous": Api(server.url), "other_tasker": server.login("tina", "tina-pw")}
    project = make_project(apis["owner"])
    load_items(apis["owner"], project["id"], image_items(6))
    return apis, project


def expect(apis, method, path, allowed: dict[str, int], **kwargs):
    for role in ROLES:
        status = allowed.get(role, {"anonymous": 401, "outsider": 404}.get(role, 403))
        apis[role].call(method, path, expect=status, **kwargs)


def test_project_endpoints_by_role(world):
    apis, project = world
    pid = project["id"]
    body = {"name": "x", "task_type": "classification"}
    expect(apis, "POST", "/projects", {"owner": 201, "outsider": 201}, json=body)   # otto owns his own space
    expect(apis, "GET", "/projects", {r: 200 for r in ROLES[1:]})
    expect(apis, "GET", f"/projects/{pid}", {"tasker": 200, "reviewer": 200, "owner": 200})
    items = {"content": jsonl(image_items(2, start=50)), "headers": {"content-type": "application/x-ndjson"}}
    expect(apis, "POST", f"/projects/{pid}/items", {"owner": 201}, **items)
    expect(apis, "POST", f"/projects/{pid}/items/detect", {"owner": 200}, **items)
    expect(apis, "POST", f"/projects/{pid}/batches", {"owner": 201}, json={"kind": "production"})
    expect(apis, "GET", f"/projects/{pid}/tasks", {"reviewer": 200, "owner": 200})
    expect(apis, "GET", f"/projects/{pid}/export", {"reviewer": 200, "owner": 200})
    expect(apis, "POST", f"/projects/{pid}/claim", {"tasker": 200})


def test_a_tasker_sees_inputs_only_never_settings_or_counts(world):
    apis, project = world
    seen = apis["tasker"].get(f"/projects/{project['id']}").json()
    assert seen["counts"] is None and seen["overlap"] is None and seen["input_map"] is None
    listed = apis["tasker"].get("/projects").json()
    assert [p["id"] for p in listed] == [project["id"]] and listed[0]["judges"] is None
    assert apis["outsider"].get("/projects").json() == []


def test_assignments_belong_to_their_tasker(world):
    apis, project = world
    claim = apis["tasker"].post(f"/projects/{project['id']}/claim").json()
    aid = claim["assignment_id"]
    answer = {"json": {"response": {"label": "Infographics"}}}
    for role in ("other_tasker", "owner", "reviewer", "outsider"):
        apis[role].post(f"/assignments/{aid}/submit", expect=404, **answer)
        apis[role].post(f"/assignments/{aid}/skip", expect=404)
    apis["anonymous"].post(f"/assignments/{aid}/submit", expect=401, **answer)
    apis["tasker"].post(f"/assignments/{aid}/submit", **answer)


def test_task_detail_and_review_by_role(world):
    apis, project = world
    claim = apis["tasker"].post(f"/projects/{project['id']}/claim").json()
    apis["tasker"].post(f"/assignments/{claim['assignment_id']}/submit", json={"response": {"label": "Infographics"}})
    tid = claim["task_id"]
    expect(apis, "GET", f"/tasks/{tid}", {"reviewer": 200, "owner": 200})
    reject = {"json": {"decision": "reject", "comment": "blurry"}}
    for role in ("anonymous", "outsider", "tasker"):
        apis[role].post(f"/tasks/{tid}/review", expect={"anonymous": 401, "outsider": 404}.get(role, 403), **reject)
    apis["reviewer"].post(f"/tasks/{tid}/review", **reject)
    apis["owner"].post(f"/tasks/{tid}/review", expect=409, **reject)   # already back in the queue


def test_account_endpoints(world):
    apis, _ = world
    assert apis["tasker"].get("/me").json()["roles"] == {"Default": "tasker"}
    assert apis["tasker"].get("/ping").json()["user_id"] > 0
    apis["anonymous"].get("/me", expect=401)
    bad = httpx.post(apis["anonymous"].client.base_url.join("/api/v1/auth/token"),
                     json={"username": "tom", "password": "nope"})
    assert bad.status_code == 401 and "wrong username or password" in bad.json()["error"]
    forged = Api(str(apis["anonymous"].client.base_url), token="forged")
    assert forged.get("/ping", expect=401).json()["error"] == "invalid or expired token"
