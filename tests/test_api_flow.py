"""The classification slice end to end through the JSON API, as a script would drive it."""

from __future__ import annotations

import msgspec

from tests.conftest import image_items, jsonl, load_items, make_project


def test_owner_imports_tasker_labels_owner_reviews_and_exports(apis):
    owner, tom = apis["olivia"], apis["tom"]
    project = make_project(owner)
    assert [e["name"] for e in project["inputs"]] == ["image"]
    result = load_items(owner, project["id"], image_items(3))
    assert result["created"] == 3 and result["id_field"] == "ext_id" and result["input_map"] == {"image": "image"}

    labels = ["Graphs and Charts", "Infographics", "Uncategorized"]
    for label in labels:
        claim = tom.post(f"/projects/{project['id']}/claim").json()
        assert set(claim) == {"assignment_id", "task_id", "project_id", "inputs", "expires_at", "feedback",
                              "review_of"}
        assert claim["feedback"] is None and claim["review_of"] is None
        assert claim["inputs"]["image"].startswith("http://127.0.0.1:9/img/")
        submitted = tom.post(f"/assignments/{claim['assignment_id']}/submit", json={"response": {"label": label}}).json()
        assert submitted["task_status"] == "ready_for_review"
    assert tom.post(f"/projects/{project['id']}/claim", expect=204).content == b""

    page = owner.get(f"/projects/{project['id']}/tasks", params={"status": "ready_for_review"}).json()
    assert page["total"] == 3
    first, second, third = page["items"]
    owner.post(f"/tasks/{first['id']}/review", json={"decision": "accept"})
    fixed = owner.post(f"/tasks/{second['id']}/review",
                       json={"decision": "fix", "response": {"label": "Diagrams", "subtype": "technical"}}).json()
    assert fixed["status"] == "completed"
    rejected = owner.post(f"/tasks/{third['id']}/review", json={"decision": "reject", "comment": "not a guess"}).json()
    assert rejected["status"] == "queued" and rejected["responses"][0]["rejected"] is True

    counts = owner.get(f"/projects/{project['id']}").json()["counts"]
    assert counts["completed"] == 2 and counts["queued"] == 1

    exported = owner.get(f"/projects/{project['id']}/export", params={"format": "json"})
    assert exported.headers["content-type"].startswith("application/json")
    rows = {row["id"]: row for row in exported.json()}
    assert rows[first["ext_id"]]["label"] == "Graphs and Charts"
    assert rows[second["ext_id"]]["label"] == "Diagrams" and rows[second["ext_id"]]["subtype"] == "technical"
    assert third["ext_id"] not in rows          # its only response was rejected
    lines = owner.get(f"/projects/{project['id']}/export", params={"format": "jsonl"}).text.splitlines()
    assert len(lines) == 2 and all(msgspec.json.decode(line)["status"] == "completed" for line in lines)
    csv_text = owner.get(f"/projects/{project['id']}/export", params={"format": "csv"}).text
    assert csv_text.splitlines()[0].startswith("id,image,label")


def test_invalid_responses_name_the_field_and_keep_the_lease(apis):
    owner, tom = apis["olivia"], apis["tom"]
    project = make_project(owner)
    load_items(owner, project["id"], image_items(1))
    claim = tom.post(f"/projects/{project['id']}/claim").json()
    url = f"/assignments/{claim['assignment_id']}/submit"
    cases = [
        ({"label": "Cats"}, "label"),
        ({"label": "Diagrams"}, "subtype"),
        ({"label": "Infographics", "subtype": "technical"}, "subtype"),
        ({"label": 5}, "label"),
        ({}, "label"),
        ({"label": "Infographics", "colour": "red"}, "colour"),
    ]
    for response, field in cases:
        error = tom.post(url, json={"response": response}, expect=422).json()
        assert error["field"] == field, error
    ok = tom.post(url, json={"response": {"label": "Diagrams", "subtype": "technical"}}).json()
    assert ok["task_status"] == "ready_for_review"
    again = tom.post(url, json={"response": {"label": "Infographics"}}, expect=409).json()
    assert "submitted" in again["error"]


def test_skip_gives_the_task_to_someone_else_never_back(apis):
    owner, tom, tina = apis["olivia"], apis["tom"], apis["tina"]
    project = make_project(owner)
    load_items(owner, project["id"], image_items(1))
    claim = tom.post(f"/projects/{project['id']}/claim").json()
    tom.post(f"/assignments/{claim['assignment_id']}/skip")
    tom.post(f"/projects/{project['id']}/claim", expect=204)
    other = tina.post(f"/projects/{project['id']}/claim").json()
    assert other["task_id"] == claim["task_id"]


def test_claim_returns_the_unfinished_task_before_a_new_one(apis):
    owner, tom = apis["olivia"], apis["tom"]
    project = make_project(owner)
    load_items(owner, project["id"], image_items(2))
    first = tom.post(f"/projects/{project['id']}/claim").json()
    again = tom.post(f"/projects/{project['id']}/claim").json()
    assert again["assignment_id"] == first["assignment_id"]


def test_import_is_all_or_nothing_and_names_line_and_field(apis):
    owner = apis["olivia"]
    project = make_project(owner)
    rows = image_items(5)
    del rows[3]["image"]
    body = jsonl(rows[:2]) + b"{not json}\n" + jsonl(rows[2:])
    error = owner.post(f"/projects/{project['id']}/items", content=body,
                       headers={"content-type": "application/x-ndjson"}, expect=422).json()
    assert "line 3" in error["error"]
    error = owner.post(f"/projects/{project['id']}/items", content=jsonl(rows),
                       headers={"content-type": "application/x-ndjson"}, expect=422).json()
    assert error["field"] == "image" and error["errors"][0]["line"] == 4
    assert owner.get(f"/projects/{project['id']}").json()["counts"]["unbatched"] == 0

    first = load_items(owner, project["id"], image_items(3), batch=False)
    again = load_items(owner, project["id"], image_items(5), batch=False)
    assert (first["created"], again["created"], again["duplicates"]) == (3, 2, 3)


def test_import_csv_and_json_array_with_detected_fields(apis):
    owner = apis["olivia"]
    project = make_project(owner)
    csv_body = "image_id,picture,caption\n1,http://x/a.png,first\n2,http://x/b.jpg,second\n"
    detection = owner.post(f"/projects/{project['id']}/items/detect", content=csv_body,
                           headers={"content-type": "text/csv"}).json()
    types = {f["name"]: f["type"] for f in detection["fields"]}
    assert types == {"image_id": "NUMBER", "picture": "IMAGE", "caption": "TEXT"}
    assert detection["id_field"] == "image_id" and detection["input_map"] == {"image": "picture"}
    result = owner.post(f"/projects/{project['id']}/items", content=csv_body,
                        headers={"content-type": "text/csv"}, expect=201).json()
    assert result["created"] == 2
    array = msgspec.json.encode([{"id": "a", "picture": "http://x/c.png"}, {"id": "b", "picture": "http://x/d.png"}])
    result = owner.post(f"/projects/{project['id']}/items", content=array, params={"id_field": "id"},
                        headers={"content-type": "application/json"}, expect=201).json()
    assert result["created"] == 2


def test_unknown_content_type_and_missing_id_field_are_explained(apis):
    owner = apis["olivia"]
    project = make_project(owner)
    error = owner.post(f"/projects/{project['id']}/items", content=b"a\tb", headers={"content-type": "text/tab"},
                       expect=422).json()
    assert error["field"] == "Content-Type"
    error = owner.post(f"/projects/{project['id']}/items", content=jsonl([{"name": "x", "image": "http://x/a.png"}]),
                       headers={"content-type": "application/x-ndjson"}, expect=422).json()
    assert error["field"] == "id_field" and "name" in error["error"]
