"""The labeling fast lane (server/web/fast_lane.py) answers claim, submit, skip and ping itself and
reads to a client exactly as litestar's routes do: same status, headers and body, errors
included; a request it cannot answer cleanly goes to litestar as it came."""

from __future__ import annotations

import httpx
import pytest

from server.web.app import create_app
from tests.conftest import LiveServer, image_items, load_items, make_project


class Counting:
    """An ASGI app that counts the HTTP requests reaching it."""

    def __init__(self, app):
        self.app, self.calls = app, []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.calls.append(scope["path"])
        await self.app(scope, receive, send)


@pytest.fixture
def both(quorum, people):
    """The same Quorum served twice: behind the fast lane, and by litestar alone."""
    with LiveServer(create_app(quorum)) as fast, LiveServer(create_app(quorum), fast_lane=False) as plain:
        fast.lane.app = Counting(fast.lane.app)
        yield fast, plain


def _seen(response: httpx.Response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k not in ("date", "server")}
    if "allow" in headers:     # litestar lists the methods in no fixed order
        headers["allow"] = sorted(headers["allow"].split(", "))
    return response.status_code, headers, response.content


def test_well_formed_requests_never_reach_litestar_and_answer_alike(both):
    fast, plain = both
    owner, tom = fast.login("olivia", "olivia-pw"), fast.login("tom", "tom-pw")
    tina = plain.login("tina", "tina-pw")
    project = make_project(owner)
    load_items(owner, project["id"], image_items(3))
    fast.lane.app.calls.clear()

    mine, theirs = tom.post(f"/projects/{project['id']}/claim"), tina.post(f"/projects/{project['id']}/claim")
    assert mine.headers["content-type"] == theirs.headers["content-type"] == "application/json"
    assert set(mine.json()) == set(theirs.json())
    assert mine.json()["task_id"] != theirs.json()["task_id"]
    body = {"response": {"label": "Infographics"}}
    done = tom.post(f"/assignments/{mine.json()['assignment_id']}/submit", json=body)
    also = tina.post(f"/assignments/{theirs.json()['assignment_id']}/submit", json=body)
    assert done.json().keys() == also.json().keys() and done.json()["task_status"] == "ready_for_review"
    skipped = tom.post(f"/projects/{project['id']}/claim").json()
    gone = tom.post(f"/assignments/{skipped['assignment_id']}/skip")
    assert gone.json() == {"assignment_id": skipped["assignment_id"], "status": "skipped"}
    last = tina.post(f"/projects/{project['id']}/claim").json()
    assert last["task_id"] == skipped["task_id"]
    tina.post(f"/assignments/{last['assignment_id']}/submit", json=body)
    nothing, none_either = (tom.post(f"/projects/{project['id']}/claim", expect=204),
                            tina.post(f"/projects/{project['id']}/claim", expect=204))
    assert _seen(nothing)[1:] == _seen(none_either)[1:]
    tinas_token = tina.client.headers["authorization"]
    pings = [httpx.get(f"{server.url}/api/v1/ping", headers={"authorization": tinas_token}) for server in both]
    assert _seen(pings[0]) == _seen(pings[1]) and pings[0].json()["user_id"] > 0
    assert fast.lane.app.calls == [], "the fast lane handed a well-formed request to litestar"


def test_every_error_reads_as_litestar_writes_it(both):
    fast, plain = both
    owner = fast.login("olivia", "olivia-pw")
    project = make_project(owner)
    load_items(owner, project["id"], image_items(4))
    token = {"authorization": fast.login("tom", "tom-pw").client.headers["authorization"]}
    tina = {"authorization": fast.login("tina", "tina-pw").client.headers["authorization"]}

    def claim(server):
        return httpx.post(f"{server.url}/api/v1/projects/{project['id']}/claim", headers=token).json()

    def both_say(method, path, headers=token, **kwargs):
        fast_answer = httpx.request(method, f"{fast.url}/api/v1{path}", headers=headers, **kwargs)
        plain_answer = httpx.request(method, f"{plain.url}/api/v1{path}", headers=headers, **kwargs)
        assert _seen(fast_answer) == _seen(plain_answer), path
        return fast_answer

    held = claim(fast)["assignment_id"]
    submit = f"/assignments/{held}/submit"
    fast.lane.app.calls.clear()
    assert both_say("POST", f"/projects/{project['id']}/claim", headers={}).status_code == 401
    assert both_say("POST", submit, headers={"authorization": "Bearer nope"}, json={}).status_code == 401
    assert both_say("POST", f"/projects/{project['id'] + 99}/claim").status_code == 404
    assert both_say("POST", submit, content=b"{not json").status_code == 400
    assert both_say("POST", submit, json={"response": {"label": "x"}, "extra": 1}).status_code == 400
    assert both_say("POST", submit, json={"response": "Infographics"}).status_code == 400
    assert both_say("POST", submit, json={"response": {"label": "Cats"}}).json()["field"] == "label"
    assert both_say("POST", submit, headers=tina, json={"response": {"label": "Cats"}}).status_code == 404
    assert both_say("POST", "/assignments/999999/skip").status_code == 404
    assert both_say("GET", submit).status_code == 405
    # no or a bad token, a body that does not decode, a GET: litestar's to answer; the 404s
    # and the 422 were the fast lane's own
    assert len(fast.lane.app.calls) == 6, fast.lane.app.calls

    httpx.post(f"{fast.url}/api/v1{submit}", headers=token, json={"response": {"label": "Infographics"}})
    conflict = both_say("POST", submit, json={"response": {"label": "Infographics"}})
    assert conflict.status_code == 409 and "submitted" in conflict.json()["error"]
