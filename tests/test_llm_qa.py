"""LLM QA end to end: a query-selection project judged by static checks and a local model (a loopback fake
speaking the Ollama API through the real client), on a real queue consumer; review per criterion, agreement,
a new version learning from the disagreements, the "not judged" escape, rework, and self-check."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from plugins.judges.ollama import client, configure
from server import jobs
from server.boot import boot
from server.models import JudgeRun, Response, Task
from tests.conftest import LiveServer, close_all, jsonl, make_config
from tests.fake_ollama import answer, fake_ollama, malformed  # noqa: F401
from tests.test_cli import QUORUM

CRITERIA = [
    {"name": "Reason given", "entities": ["selection_reason"], "checks": {"required": ["selection_reason"],
                                                                         "min_words": {"selection_reason": 8}}},
    {"name": "Selection accuracy", "entities": ["selected_query"], "severity": "blocking",
     "rule": "The chosen query has enough context to single out the image among similar ones."},
    {"name": "Reasoning quality", "entities": ["selection_reason"], "severity": "advisory",
     "rule": "The reason explains the choice and does not merely repeat the query."},
]
GOOD_REASON = "It names the report year and topic that set this chart apart."


def _items(n: int) -> list[dict]:
    return [{"image_id": f"IMG{i:03d}", "image_link": f"http://127.0.0.1:9/img/{i}.png",
             "suggested_query_1": f"costs report {2000 + i} line chart", "suggested_query_2": "a chart"}
            for i in range(1, n + 1)]


def _model_says(fake, accuracy: str, reasoning: str = "pass"):
    fake.script(answer({"Selection accuracy": (accuracy, f"accuracy looks {accuracy}", 0.8),
                        "Reasoning quality": (reasoning, f"reasoning {reasoning}", 0.7)}))


@pytest.fixture
def qa(tmp_path, fake_ollama):  # noqa: F811 - the fixture
    """Quorum with the Ollama judge pointed at the fake, a real SQLite-backed queue and a live HTTP server."""
    configure({})
    client.forget()
    config = make_config(tmp_path, QUORUM_QUEUE_BACKEND="sqlite", QUORUM_QUEUE_IMMEDIATE="false",
                         QUORUM_QUEUE_NAME=f"qa-{uuid.uuid4().hex[:6]}", QUORUM_OLLAMA_HOST=fake_ollama.url,
                         QUORUM_OLLAMA_MODEL="llama3.2", QUORUM_JUDGING_ATTEMPTS="2",
                         QUORUM_JUDGING_BACKOFF_SECONDS="0.2")
    boot(config)
    consumer = jobs.start_embedded(workers=2)
    from server.core import users
    from server.web.app import create_app

    users.create_user("olivia", "olivia-pw", "owner")
    users.create_user("tom", "tom-pw", "tasker")
    with LiveServer(create_app(config)) as live:
        owner, tom = live.login("olivia", "olivia-pw"), live.login("tom", "tom-pw")
        yield owner, tom, fake_ollama, config
    consumer.stop(graceful=True)
    configure({})
    client.forget()
    close_all()


def _project(owner, n: int = 4, **settings) -> int:
    body = {"name": "Queries", "task_type": "query_selection", "judges": ["static", "ollama"],
            "require_calibration": False, **settings}
    project = owner.post("/projects", json=body, expect=201).json()
    owner.call("PUT", f"/projects/{project['id']}/criteria", json=CRITERIA)
    owner.post(f"/projects/{project['id']}/items", content=jsonl(_items(n)),
               headers={"content-type": "application/x-ndjson"}, expect=201)
    owner.post(f"/projects/{project['id']}/batches", json={"kind": "production"}, expect=201)
    return project["id"]


def _label(tom, project_id: int, reason: str = GOOD_REASON) -> dict:
    claim = tom.post(f"/projects/{project_id}/claim").json()
    done = tom.post(f"/assignments/{claim['assignment_id']}/submit",
                    json={"response": {"selected_query": "query_1", "selection_reason": reason}}).json()
    return {**claim, **done}


def _wait(predicate, seconds: float = 20.0):
    deadline = time.time() + seconds
    while not predicate():
        assert time.time() < deadline, "timed out waiting"
        time.sleep(0.05)


def _status(task_id: int) -> str:
    return Task.get_by_id(task_id).status


def test_model_verdicts_arrive_through_the_queue_with_the_prompt_kept(qa):
    owner, tom, fake, _ = qa
    pid = _project(owner)
    _model_says(fake, "fail", "pass")
    done = _label(tom, pid)
    assert done["task_status"] == "quality_check" and done["judged"] == "pending"
    assert [v["criterion"] for v in done["verdicts"]] == ["Reason given"]     # the static half, at once
    _wait(lambda: _status(done["task_id"]) == "ready_for_review")
    detail = owner.get(f"/tasks/{done['task_id']}").json()
    verdicts = {(v["judge"], v["criterion"]): v for v in detail["responses"][0]["verdicts"]}
    assert verdicts[("ollama", "Selection accuracy")]["verdict"] == "fail"
    assert verdicts[("ollama", "Selection accuracy")]["comment"] == "accuracy looks fail"
    assert verdicts[("static", "Reason given")]["verdict"] == "pass"
    assert detail["responses"][0]["judged"] == "failed"       # a blocking criterion failed: on to review, marked

    runs = owner.get(f"/responses/{done['response_id']}/judge-runs").json()
    assert len(runs) == 1 and runs[0]["judge"] == "ollama" and runs[0]["judge_version"] == "1+llama3.2"
    prompt = runs[0]["prompt"]
    for text in (CRITERIA[1]["rule"], CRITERIA[2]["rule"], GOOD_REASON, "costs report 2001 line chart"):
        assert text in prompt
    assert CRITERIA[0]["name"] not in prompt, "criteria decided by static checks are not the model's"
    sent = fake.chats[-1]
    assert sent["options"]["temperature"] == 0 and sent["format"]["type"] == "object"


def test_review_per_criterion_agreement_and_a_new_version_that_learns(qa):
    owner, tom, fake, _ = qa
    pid = _project(owner, n=4)
    said = ["fail", "pass", "pass", "fail"]          # the model on Selection accuracy, task by task
    owner_grades = ["pass", "pass", "fail", "fail"]  # the owner: two disagreements
    tasks = []
    for verdict in said:
        _model_says(fake, verdict)
        done = _label(tom, pid)
        _wait(lambda: _status(done["task_id"]) == "ready_for_review")
        tasks.append(done)
    first = tasks[0]
    grades = [{"response_id": first["response_id"], "criterion": "Selection accuracy", "verdict": "pass"}]
    error = owner.post(f"/tasks/{first['task_id']}/review", json={"decision": "accept", "grades": grades},
                       expect=422).json()
    assert error["field"] == "grades[0].reason" and "ollama judge said fail" in error["error"]
    for done, grade in zip(tasks, owner_grades):
        reason = "the year singles it out" if grade == "pass" else "too vague for a set of similar charts"
        owner.post(f"/tasks/{done['task_id']}/review", json={"decision": "accept", "grades": [
            {"response_id": done["response_id"], "criterion": "Selection accuracy", "verdict": grade,
             "reason": reason}]})

    table = owner.get(f"/projects/{pid}/agreement", params={"purpose": "live"}).json()
    row = next(r for r in table["rows"] if r["criterion"] == "Selection accuracy" and r["judge"] == "ollama")
    assert (row["count"], row["agree"], row["rate"], row["kappa"]) == (4, 2, 0.5, 0.0)
    assert {d["task_id"] for d in table["disagreements"]} == {tasks[0]["task_id"], tasks[2]["task_id"]}

    owner.call("PATCH", f"/projects/{pid}", json={"guidelines": "A good query names the year and the topic."})
    versions = owner.get(f"/projects/{pid}/versions").json()
    assert versions[-1]["number"] == 3 and versions[-1]["examples"] == 2
    fake.script(*[answer({"Selection accuracy": (g, "learned", 0.9), "Reasoning quality": ("pass", "ok", 0.9)})
                  for g in owner_grades])
    assert owner.post(f"/projects/{pid}/versions/3/rejudge", expect=202).json()["answers"] == 4
    _wait(lambda: len(owner.get(f"/projects/{pid}/agreement", params={"purpose": "rejudge"}).json()["rows"]) > 0)
    _wait(lambda: next(r for r in owner.get(f"/projects/{pid}/agreement", params={"purpose": "rejudge"}).json()[
        "rows"] if r["criterion"] == "Selection accuracy")["count"] == 4)
    after = owner.get(f"/projects/{pid}/agreement", params={"purpose": "rejudge", "version": 3}).json()["rows"]
    row = next(r for r in after if r["criterion"] == "Selection accuracy" and r["judge"] == "ollama")
    assert (row["rate"], row["kappa"]) == (1.0, 1.0)
    last_prompt = fake.chats[-1]["messages"]
    text = json.dumps(last_prompt)
    assert "too vague for a set of similar charts" in text and "the year singles it out" in text


def test_a_host_that_keeps_failing_moves_on_not_judged(qa):
    owner, tom, fake, config = qa
    pid = _project(owner, n=1)
    fake.stop()
    started = time.time()
    done = _label(tom, pid)
    _wait(lambda: _status(done["task_id"]) == "ready_for_review")
    assert time.time() - started >= 0.2, "it waited for the backoff before the last attempt"
    detail = owner.get(f"/tasks/{done['task_id']}").json()
    assert detail["responses"][0]["judged"] == "not_judged"
    errors = [v for v in detail["responses"][0]["verdicts"] if v["judge"] == "ollama"]
    assert errors and all(v["verdict"] == "error" and "unreachable" in v["comment"] for v in errors)
    run = JudgeRun.get(JudgeRun.response == done["response_id"])
    assert run.transient and "unreachable" in run.error


def test_malformed_output_is_an_error_never_a_pass(qa):
    owner, tom, fake, _ = qa
    pid = _project(owner, n=1)
    fake.script(malformed("I think it is fine."))
    done = _label(tom, pid)
    _wait(lambda: _status(done["task_id"]) == "ready_for_review")
    response = Response.get_by_id(done["response_id"])
    assert response.judged == "not_judged"
    assert len(fake.chats) == 3, "the first try and two retries"


def test_a_blocking_fail_goes_back_to_the_tasker_with_the_comments(qa):
    owner, tom, fake, _ = qa
    pid = _project(owner, n=2, on_blocking_fail="rework")
    _model_says(fake, "fail")
    done = _label(tom, pid)
    _wait(lambda: _status(done["task_id"]) == "in_progress")
    back = tom.post(f"/projects/{pid}/claim").json()
    assert back["assignment_id"] == done["assignment_id"], "the same task comes back to the same tasker"
    assert back["feedback"]["previous"]["selection_reason"] == GOOD_REASON
    assert back["feedback"]["comments"] == [{"criterion": "Selection accuracy", "comment": "accuracy looks fail"}]
    _model_says(fake, "pass")
    again = tom.post(f"/assignments/{back['assignment_id']}/submit",
                     json={"response": {"selected_query": "query_2", "selection_reason": GOOD_REASON}}).json()
    _wait(lambda: _status(done["task_id"]) == "ready_for_review")
    detail = owner.get(f"/tasks/{done['task_id']}").json()
    assert [(r["id"], r["judged"]) for r in detail["responses"]] == [
        (done["response_id"], "failed"), (again["response_id"], "passed")]


def test_a_static_blocking_fail_is_sent_back_at_once(qa):
    owner, tom, fake, _ = qa
    pid = _project(owner, n=1, on_blocking_fail="rework")
    claim = tom.post(f"/projects/{pid}/claim").json()
    done = tom.post(f"/assignments/{claim['assignment_id']}/submit",
                    json={"response": {"selected_query": "query_1", "selection_reason": "the year and topic fit"}}
                    ).json()
    assert done["sent_back"] is True and done["task_status"] == "in_progress"
    assert any(v["verdict"] == "fail" and "at least 8" in v["comment"] for v in done["verdicts"])
    assert fake.chats == [], "no model call for an answer the static checks already sent back"


def test_self_check_comes_back_with_verdicts_and_counts_nowhere(qa):
    owner, tom, fake, _ = qa
    pid = _project(owner, n=3)
    samples = owner.get(f"/projects/{pid}/self-check").json()
    assert len(samples) == 3
    _model_says(fake, "pass", "fail")
    check = owner.post(f"/projects/{pid}/self-check", json={"task_id": samples[0]["task_id"], "response": {
        "selected_query": "query_1", "selection_reason": GOOD_REASON}}, expect=201).json()
    assert check["status"] == "judging" and [v["judge"] for v in check["verdicts"]] == ["static"]
    _wait(lambda: owner.get(f"/projects/{pid}/self-check/{check['id']}").json()["status"] == "done")
    final = owner.get(f"/projects/{pid}/self-check/{check['id']}").json()
    assert {(v["judge"], v["criterion"], v["verdict"]) for v in final["verdicts"]} >= {
        ("ollama", "Selection accuracy", "pass"), ("ollama", "Reasoning quality", "fail")}
    assert owner.get(f"/projects/{pid}").json()["counts"]["ready_for_review"] == 0
    assert Response.select().count() == 0
    tom.post(f"/projects/{pid}/self-check", json={"task_id": samples[0]["task_id"], "response": {}}, expect=403)


def test_judge_check_command_talks_to_the_host(fake_ollama, tmp_path):  # noqa: F811
    import os
    import subprocess

    env = {**os.environ, "QUORUM_DATA_DIR": str(tmp_path), "QUORUM_OLLAMA_HOST": fake_ollama.url,
           "QUORUM_OLLAMA_MODEL": "llama3.2"}
    ok = subprocess.run([QUORUM, "judge", "check"], env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "ok: model llama3.2 on" in ok.stdout
    missing = subprocess.run([QUORUM, "judge", "check"], env={**env, "QUORUM_OLLAMA_MODEL": "mistral"},
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "model mistral is not on" in missing.stdout


def test_criteria_are_checked_when_saved_and_editing_makes_a_version(qa):
    owner, tom, _, _ = qa
    pid = _project(owner, n=1)
    bad = [{**CRITERIA[0], "checks": {"min_words": {"selection_reasn": 3}}}]
    error = owner.call("PUT", f"/projects/{pid}/criteria", json=bad, expect=422).json()
    assert error["field"] == "criteria[0].checks" and "selection_reasn" in error["error"]
    error = owner.call("PUT", f"/projects/{pid}/criteria", json=[{"name": "x", "entities": ["colour"], "rule": "r"}],
                       expect=422).json()
    assert error["field"] == "criteria[0].entities"
    error = owner.call("PUT", f"/projects/{pid}/criteria", json=[CRITERIA[1], CRITERIA[1]], expect=422).json()
    assert error["field"] == "criteria[1].name"
    before = owner.get(f"/projects/{pid}").json()["version"]
    owner.call("PUT", f"/projects/{pid}/criteria", json=CRITERIA[1:])
    assert owner.get(f"/projects/{pid}").json()["version"] == before + 1
    assert [c["name"] for c in owner.get(f"/projects/{pid}/criteria").json()] == ["Selection accuracy",
                                                                                  "Reasoning quality"]
    owner.call("PATCH", f"/projects/{pid}", json={"price_cents": 250})
    assert owner.get(f"/projects/{pid}").json()["version"] == before + 1, "a price is not an instruction"
    tom.call("PUT", f"/projects/{pid}/criteria", json=CRITERIA, expect=403)
