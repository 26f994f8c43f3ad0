"""The htmx pages over real HTTP, as a browser without JavaScript would drive them (plus htmx's headers)."""

from __future__ import annotations

import re

import httpx
import msgspec
import pytest

from server import plugins
from server.models import Task
from server.plugin_types import InputEntity, OutputEntity, ResponseInvalid, TaskType
from tests.conftest import image_items, jsonl, load_items, make_project

GUIDELINES = "## Look closely\nPick **one** category.\n<script>alert('x')</script>"


class Visitor:
    """One person in a browser: cookies kept; htmx calls carry the CSRF token from the cookie like the page does."""

    def __init__(self, base: str):
        self.client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)

    @property
    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken")

    def login(self, username: str, password: str, next_page: str = "/") -> httpx.Response:
        form = self.client.get("/login")
        assert form.status_code == 200 and 'name="_csrf_token"' in form.text
        return self.client.post("/login", data={"username": username, "password": password, "next": next_page,
                                                "_csrf_token": self.csrf})

    def get(self, path: str, **kw) -> httpx.Response:
        return self.client.get(path, **kw)

    def htmx(self, path: str, data: dict | None = None, **kw) -> httpx.Response:
        return self.client.post(path, data=data or {}, headers={"hx-request": "true", "x-csrftoken": self.csrf}, **kw)


def visitor(server, people, name: str) -> Visitor:
    person = Visitor(server.url)
    assert person.login(name, people[name]).status_code == 303
    return person


def assignment_of(fragment: str) -> int:
    found = re.search(r'data-assignment="(\d+)"', fragment)
    assert found, fragment
    return int(found.group(1))


@pytest.fixture
def project(apis):
    """Olivia's classification project with three images in a production batch."""
    owner = apis["olivia"]
    made = make_project(owner, guidelines=GUIDELINES)
    load_items(owner, made["id"], image_items(3))
    return made


def test_login_works_and_a_wrong_password_is_told(server, people):
    anonymous = Visitor(server.url)
    home = anonymous.get("/")
    assert home.status_code in (302, 303) and home.headers["location"] == "/login?next=/"

    anonymous.get("/login")
    swap = anonymous.client.post("/projects/1/label/next", headers={
        "hx-request": "true", "x-csrftoken": anonymous.csrf, "hx-current-url": f"{server.url}/projects/1/label"})
    assert swap.headers.get("hx-redirect") == "/login?next=/projects/1/label"   # not a login page inside #task

    tom = Visitor(server.url)
    wrong = tom.login("tom", "not-his")
    assert wrong.status_code == 401
    assert "wrong username or password" in wrong.text and 'value="tom"' in wrong.text
    ok = tom.login("tom", people["tom"], next_page="//evil.example/")
    assert ok.status_code == 303 and ok.headers["location"] == "/"     # no open redirect
    page = tom.get("/")
    assert page.status_code == 200 and ">tom<" in page.text

    out = tom.client.post("/logout", data={"_csrf_token": tom.csrf})
    assert out.status_code == 303 and tom.get("/").status_code in (302, 303)


def test_a_post_without_the_csrf_token_is_refused(server, people, project):
    tom = Visitor(server.url)
    tom.get("/login")
    refused = tom.client.post("/login", data={"username": "tom", "password": people["tom"]})
    assert refused.status_code == 403
    tom = visitor(server, people, "tom")
    no_header = tom.client.post(f"/projects/{project['id']}/label/next", headers={"hx-request": "true"})
    assert no_header.status_code == 403
    assert tom.htmx(f"/projects/{project['id']}/label/next").status_code == 200


def test_tasker_labels_with_submit_and_next(server, people, project, apis):
    tom = visitor(server, people, "tom")
    home = tom.get("/").text
    assert f'href="/projects/{project["id"]}/label"' in home and "Start labeling" in home

    page = tom.get(f"/projects/{project['id']}/label")
    assert page.status_code == 200
    assert "<strong>one</strong>" in page.text                       # guidelines as markdown …
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text   # … with raw HTML escaped
    assert f'hx-post="/projects/{project["id"]}/label/next"' in page.text
    assert 'hx-headers=\'{"x-csrftoken": "' in page.text

    first = tom.htmx(f"/projects/{project['id']}/label/next")
    assert first.status_code == 200 and "<html" not in first.text     # a fragment, not a page
    assert 'data-shortcut="1"' in first.text and "http://127.0.0.1:9/img/0000001.jpg" in first.text
    held = assignment_of(first.text)
    assert tom.htmx(f"/projects/{project['id']}/label/next").text.count(f'data-assignment="{held}"') == 1  # same lease

    after = tom.htmx(f"/assignments/{held}/submit", {"label": "Infographics", "subtype": "", "explanation": ""})
    assert after.status_code == 200 and "Submitted." in after.text
    following = assignment_of(after.text)
    assert following != held and "0000002.jpg" in after.text

    skipped = tom.htmx(f"/assignments/{following}/skip")
    assert "Skipped" in skipped.text and "0000003.jpg" in skipped.text
    last = tom.htmx(f"/assignments/{assignment_of(skipped.text)}/submit", {"label": "Graphs and Charts"})
    assert "Nothing left to label" in last.text

    rows = apis["olivia"].get(f"/projects/{project['id']}/tasks", params={"status": "ready_for_review"}).json()
    assert rows["total"] == 2


def test_an_invalid_answer_comes_back_with_the_fields_error_and_the_answers_kept(server, people, project):
    tom = visitor(server, people, "tom")
    held = assignment_of(tom.htmx(f"/projects/{project['id']}/label/next").text)

    missing = tom.htmx(f"/assignments/{held}/submit", {"explanation": "because"})
    assert missing.status_code == 200 and 'data-field="label"' in missing.text
    assert assignment_of(missing.text) == held and ">because</textarea>" in missing.text

    bad = tom.htmx(f"/assignments/{held}/submit", {"label": "Diagrams", "subtype": "", "explanation": "a chart"})
    assert 'data-field="subtype"' in bad.text and "required for Diagrams" in bad.text
    assert re.search(r'value="Diagrams"[^>]*checked', bad.text)          # the choice is kept
    assert assignment_of(bad.text) == held

    good = tom.htmx(f"/assignments/{held}/submit", {"label": "Diagrams", "subtype": "technical"})
    assert "Submitted." in good.text


def test_a_tasker_never_sees_another_taskers_answer_or_the_expected_one(server, people, apis):
    owner = apis["olivia"]
    made = make_project(owner, overlap=2)
    load_items(owner, made["id"], image_items(1))
    Task.update(expected={"label": "GOLD-ANSWER-123"}).where(Task.project == made["id"]).execute()
    tom, tina = visitor(server, people, "tom"), visitor(server, people, "tina")
    held = assignment_of(tom.htmx(f"/projects/{made['id']}/label/next").text)
    tom.htmx(f"/assignments/{held}/submit", {"label": "Infographics", "explanation": "tom-secret-words"})
    seen = tina.htmx(f"/projects/{made['id']}/label/next").text
    assignment_of(seen)
    assert "tom-secret-words" not in seen and "GOLD-ANSWER-123" not in seen and " checked" not in seen.replace(
        'value="" checked', "")


def test_owner_sees_counts_and_reviews(server, people, project):
    tom = visitor(server, people, "tom")
    held = assignment_of(tom.htmx(f"/projects/{project['id']}/label/next").text)
    for label in ("Infographics", "Uncategorized", "Graphs and Charts"):
        page = tom.htmx(f"/assignments/{held}/submit", {"label": label, "explanation": f"chose {label}"}).text
        held = assignment_of(page) if "data-assignment" in page else None

    olivia = visitor(server, people, "olivia")
    dashboard = olivia.get(f"/projects/{project['id']}")
    assert dashboard.status_code == 200
    assert re.search(r'data-status="ready_for_review">.*?<td class="num">3</td>', dashboard.text, re.S)
    for link in ("/upload", "/tasks", "/export.json", "tasks?status=ready_for_review"):
        assert f'/projects/{project["id"]}{link}' in dashboard.text or link in dashboard.text

    table = olivia.get(f"/projects/{project['id']}/tasks", params={"status": "ready_for_review"})
    ids = [int(i) for i in re.findall(r'data-task="(\d+)"', table.text)]
    assert len(ids) == 3 and "<html" in table.text
    swapped = olivia.client.get(f"/projects/{project['id']}/tasks", params={"status": "completed"},
                                headers={"hx-request": "true"})
    assert swapped.text.lstrip().startswith('<div id="task-table">') and "No tasks" in swapped.text

    review = olivia.get(f"/tasks/{ids[0]}/review")
    assert review.status_code == 200
    assert "tom" in review.text and "chose Infographics" in review.text and "Accept" in review.text

    accepted = olivia.htmx(f"/tasks/{ids[0]}/review", {"decision": "accept", "comment": ""})
    assert accepted.headers.get("hx-redirect") == f"/tasks/{ids[1]}/review"

    no_reason = olivia.htmx(f"/tasks/{ids[1]}/review", {"decision": "reject", "comment": " "})
    assert no_reason.status_code == 200 and "say why the task is rejected" in no_reason.text
    assert no_reason.text.lstrip().startswith('<section class="card" id="decision"')
    rejected = olivia.htmx(f"/tasks/{ids[1]}/review", {"decision": "reject", "comment": "not uncategorized"})
    assert rejected.headers.get("hx-redirect") == f"/tasks/{ids[2]}/review"

    bad_fix = olivia.htmx(f"/tasks/{ids[2]}/review", {"decision": "fix", "label": "Diagrams"})
    assert "required for Diagrams" in bad_fix.text
    fixed = olivia.client.post(f"/tasks/{ids[2]}/review", data={"decision": "fix", "label": "Diagrams",
                                                                  "subtype": "technical", "_csrf_token": olivia.csrf})
    assert fixed.status_code == 303 and fixed.headers["location"] == f"/projects/{project['id']}?reviewed=1"

    after = olivia.get(f"/projects/{project['id']}").text
    assert re.search(r'data-status="completed">.*?<td class="num">2</td>', after, re.S)
    assert re.search(r'data-status="queued">.*?<td class="num">1</td>', after, re.S)
    again = olivia.htmx(f"/tasks/{ids[0]}/review", {"decision": "accept"})
    assert "only tasks Ready for Review" in again.text


def test_upload_shows_detected_fields_then_imports(server, people, apis, quorum):
    made = make_project(apis["olivia"])
    olivia = visitor(server, people, "olivia")
    form = olivia.get(f"/projects/{made['id']}/upload")
    assert form.status_code == 200 and 'type="file"' in form.text

    rows = [{"id": f"u{i}", "picture": f"https://example.org/{i}.png", "note": "hello"} for i in range(4)]
    detected = olivia.htmx(f"/projects/{made['id']}/upload",
                           files={"file": ("items.jsonl", jsonl(rows), "application/octet-stream")})
    assert detected.status_code == 200
    assert 'data-field="picture"' in detected.text and "IMAGE" in detected.text and "https://example.org/0.png" in detected.text
    assert re.search(r'<option value="id" selected>', detected.text)                       # the id field
    assert re.search(r'name="map.image".*?<option value="picture" selected>', detected.text, re.S)  # the mapping
    assert "Sampled 4 records" in detected.text
    token = re.search(r"/upload/([0-9a-f]{32})/confirm", detected.text).group(1)
    uploads = quorum.data_dir / "uploads"
    assert [p.stem for p in uploads.iterdir()] == [token]

    done = olivia.htmx(f"/projects/{made['id']}/upload/{token}/confirm",
                       {"id_field": "id", "map.image": "picture", "send_now": "1"})
    assert done.status_code == 200
    assert '<strong class="created">4</strong>' in done.text and "Sent 4 items to taskers" in done.text
    assert list(uploads.iterdir()) == []                                   # the stored file is gone
    counts = apis["olivia"].get(f"/projects/{made['id']}").json()["counts"]
    assert counts["queued"] == 4

    again = olivia.htmx(f"/projects/{made['id']}/upload/{token}/confirm", {"id_field": "id"})
    assert again.status_code == 200 and "no such upload" in again.text
    assert olivia.htmx(f"/projects/{made['id']}/upload/..%2F..%2Fsecret_key/confirm", {}).status_code in (200, 404)
    assert "no such upload" in olivia.htmx(f"/projects/{made['id']}/upload/secret_key/confirm", {}).text

    broken = [{"id": "v1", "picture": "https://example.org/a.png"}, {"id": "v2", "picture": ""}]
    detected = olivia.htmx(f"/projects/{made['id']}/upload",
                           files={"file": ("more.jsonl", jsonl(broken), "application/octet-stream")})
    token = re.search(r"/upload/([0-9a-f]{32})/confirm", detected.text).group(1)
    failed = olivia.htmx(f"/projects/{made['id']}/upload/{token}/confirm", {"id_field": "id", "map.image": "picture"})
    assert "Nothing was imported" in failed.text and "line 2" in failed.text and "<code>picture</code>" in failed.text
    assert list(uploads.iterdir()) == []
    assert apis["olivia"].get(f"/projects/{made['id']}").json()["counts"]["unbatched"] == 0

    nothing = olivia.htmx(f"/projects/{made['id']}/upload", files={"file": ("empty.jsonl", b"", "text/plain")})
    assert "holds no records" in nothing.text


def test_a_tasker_is_refused_the_owner_pages(server, people, project):
    tom = visitor(server, people, "tom")
    task_id = Task.select(Task.id).where(Task.project == project["id"]).scalar()
    for path in (f"/projects/{project['id']}", f"/projects/{project['id']}/tasks", f"/projects/{project['id']}/upload",
                 f"/tasks/{task_id}/review", f"/projects/{project['id']}/export.json", "/projects/new"):
        refused = tom.get(path)
        assert refused.status_code == 403, path
        assert "image" not in refused.text and "Tasks by status" not in refused.text
    assert tom.htmx(f"/tasks/{task_id}/review", {"decision": "accept"}).text.startswith('<div class="error"')
    olivia = visitor(server, people, "olivia")
    assert olivia.get(f"/projects/{project['id']}/label").status_code == 403     # owners do not claim


def test_owner_creates_a_project_from_the_form(server, people):
    olivia = visitor(server, people, "olivia")
    form = olivia.get("/projects/new")
    assert form.status_code == 200 and '<option value="classification"' in form.text
    bad = olivia.client.post("/projects", data={"name": "Cats", "task_type": "classification",
                                                "options": '{"classes": ["cat"]}', "_csrf_token": olivia.csrf})
    assert bad.status_code == 422 and "at least two classes" in bad.text and 'value="Cats"' in bad.text
    made = olivia.client.post("/projects", data={"name": "Cats", "task_type": "classification", "overlap": "2",
                                                 "price_cents": "5", "guidelines": "Be kind",
                                                 "_csrf_token": olivia.csrf})
    assert made.status_code == 303
    dashboard = olivia.get(made.headers["location"])
    assert dashboard.status_code == 200 and "Cats" in dashboard.text and "overlap 2" in dashboard.text


def test_export_downloads_with_the_session(server, people, project, apis):
    tom = visitor(server, people, "tom")
    held = assignment_of(tom.htmx(f"/projects/{project['id']}/label/next").text)
    tom.htmx(f"/assignments/{held}/submit", {"label": "Infographics"})
    olivia = visitor(server, people, "olivia")
    exported = olivia.get(f"/projects/{project['id']}/export.json")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/json")
    assert 'filename="project-' in exported.headers["content-disposition"]
    rows = msgspec.json.decode(exported.content)
    assert len(rows) == 1 and rows[0]["label"] == "Infographics"
    assert olivia.get(f"/projects/{project['id']}/export.csv").text.startswith("id,image,label")
    assert olivia.get(f"/projects/{project['id']}/export.xml").status_code == 400
    assert olivia.get(f"/projects/{project['id']}/nothing-here").status_code == 404


class RatingResponse(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    score: int
    tags: list[str] = []
    comment: str = ""


class Rating(TaskType):
    """A task type with no template of its own: the page draws the generic form from its output entities."""

    name = "ui-test-rating"
    title = "Rate a text"
    response_type = RatingResponse

    def inputs(self, options):
        return [InputEntity(name="text", type="TEXT", label="Text")]

    def outputs(self, options):
        return [OutputEntity(name="score", type="score", label="Score", minimum=0, maximum=5),
                OutputEntity(name="tags", type="multi_choice", choices=["rude", "spam"], required=False),
                OutputEntity(name="comment", type="text", min_words=2, max_words=5, required=False)]

    def validate(self, options, task, response):
        if not 0 <= response.score <= 5:
            raise ResponseInvalid("score", "must be between 0 and 5")
        words = len(response.comment.split())
        if response.comment and not 2 <= words <= 5:
            raise ResponseInvalid("comment", f"has {words} words; give 2 to 5")
        return response


@pytest.fixture
def rating_type(server):
    registry = plugins.registry()
    registry.task_types[Rating.name] = Rating()
    yield Rating.name
    registry.task_types.pop(Rating.name, None)


def test_a_task_type_without_a_template_gets_the_generic_form(server, people, apis, rating_type):
    owner = apis["olivia"]
    made = make_project(owner, task_type=rating_type)
    owner.post(f"/projects/{made['id']}/items", content=jsonl([{"id": "r1", "text": "<b>you</b> are\nwrong"}]),
               headers={"content-type": "application/x-ndjson"}, expect=201)
    owner.post(f"/projects/{made['id']}/batches", json={"kind": "production"}, expect=201)
    tom = visitor(server, people, "tom")
    form = tom.htmx(f"/projects/{made['id']}/label/next").text
    assert "&lt;b&gt;you&lt;/b&gt; are\nwrong" in form
    assert re.search(r'type="number"[^>]*min="0"[^>]*max="5"', form, re.S)
    assert form.count('type="checkbox" name="tags"') == 2 and "Between 2 and 5 words." in form
    held = assignment_of(form)

    not_a_number = tom.htmx(f"/assignments/{held}/submit", {"score": "lots", "tags": ["rude", "spam"]})
    assert re.search(r'aria-describedby="error-score"', not_a_number.text)
    assert 'id="error-score"' in not_a_number.text and "must be a number" in not_a_number.text
    assert not_a_number.text.count(" checked") == 2                            # both tags kept
    wordy = tom.htmx(f"/assignments/{held}/submit", {"score": "3", "comment": "one two three four five six"})
    assert 'id="error-comment"' in wordy.text and "has 6 words" in wordy.text and 'value="3"' in wordy.text

    done = tom.htmx(f"/assignments/{held}/submit", {"score": "4", "tags": "rude", "comment": "rude but fair"})
    assert "Submitted." in done.text and "Nothing left to label" in done.text
    task = owner.get(f"/projects/{made['id']}/tasks").json()["items"][0]
    detail = owner.get(f"/tasks/{task['id']}").json()
    assert detail["responses"][0]["data"] == {"score": 4, "tags": ["rude"], "comment": "rude but fair"}
