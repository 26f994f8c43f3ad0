"""The owner's setup steps, self-check, review per criterion, judge–owner agreement and rework, as htmx pages
over real HTTP (a browser without JavaScript plus htmx's headers). Judges here are the static one and two
small test judges registered like a plugin's: one cheap with a prompt, one slow that the test drives."""

from __future__ import annotations

import re

import msgspec
import pytest

from server import plugins
from server.core import projects, queue, selfcheck
from server.models import Batch, JudgeRun, Project, Response, SelfCheck, Task
from server.plugin_types import (CriterionView, InputEntity, Judge, JudgeFailure, JudgeReport, OutputEntity,
                                 ProjectTemplate, TaskType, Verdict)
from tests.conftest import jsonl
from tests.test_ui_pages import assignment_of, visitor

STEPS = ["describe", "upload", "entities", "criteria", "preview", "guidelines", "self-check", "price", "launch"]
CRITERIA = [
    {"name": "Note explains", "entities": ["note"], "checks": {"min_words": {"note": 3}}},
    {"name": "Choice is sound", "entities": ["verdict"], "rule": "The verdict fits the text."},
]


class NoteResponse(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    verdict: str
    note: str = ""


class Note(TaskType):
    """A small text task type drawn by the generic form: a verdict and a note on a text."""

    name = "ui-quality-note"
    title = "Judge a text"
    description = "Say whether a text is good and why."
    response_type = NoteResponse

    def inputs(self, options):
        return [InputEntity(name="text", type="TEXT", label="Text")]

    def outputs(self, options):
        return [OutputEntity(name="verdict", type="single_choice", label="Verdict", choices=["good", "bad"]),
                OutputEntity(name="note", type="text", label="Note", required=False, max_words=40)]


class Echo(Judge):
    """A cheap model-like judge: passes every rule criterion and keeps its prompt; "BROKEN" notes make it fail."""

    name = "echo"
    cheap = True

    def covers(self, criterion):
        return bool(criterion.rule)

    def run(self, request):
        prompt = f"ECHO PROMPT: judge {request.response.get('note', '')!r} on " + \
                 ", ".join(c.name for c in request.criteria)
        if "BROKEN" in request.response.get("note", ""):
            raise JudgeFailure("the echo host is down", prompt=prompt)
        return JudgeReport([Verdict(criterion=c.name, verdict="pass", comment="reads fine", confidence=0.9)
                            for c in request.criteria], "1", prompt=prompt)


class Slow(Judge):
    """A judge that runs on the queue: the test holds its job and runs it when it wants."""

    name = "slowtest"

    def covers(self, criterion):
        return bool(criterion.rule)

    def judge(self, request):
        return [Verdict(criterion=c.name, verdict="fail", comment="slow judge disagrees") for c in request.criteria]


@pytest.fixture
def registered(server):
    registry = plugins.registry()
    registry.task_types[Note.name] = Note()
    registry.judges.update({Echo.name: Echo(), Slow.name: Slow()})
    yield
    registry.task_types.pop(Note.name, None)
    for name in (Echo.name, Slow.name):
        registry.judges.pop(name, None)


def _project(api, n: int = 3, batch: bool = False, **settings) -> int:
    body = {"name": "Notes", "task_type": Note.name, "judges": ["static", "echo"], "require_calibration": False,
            **settings}
    made = api.post("/projects", json=body, expect=201).json()
    api.call("PUT", f"/projects/{made['id']}/criteria", json=CRITERIA)
    rows = [{"id": f"n{i}", "body": f"text number {i}", "text": f"text {i}"} for i in range(1, n + 1)]
    api.post(f"/projects/{made['id']}/items", content=jsonl(rows), headers={"content-type": "application/x-ndjson"},
             expect=201)
    if batch:
        api.post(f"/projects/{made['id']}/batches", json={"kind": "production"}, expect=201)
    return made["id"]


def _version(pid: int) -> int:
    return Project.get_by_id(pid).version


def test_setup_steps_come_in_order_and_each_saves(server, people, apis, registered):
    pid = _project(apis["olivia"])
    olivia = visitor(server, people, "olivia")
    base = f"/projects/{pid}"
    paths = {"describe": "/setup/describe", "upload": "/upload", "entities": "/setup/entities",
             "criteria": "/setup/criteria", "preview": "/setup/preview", "guidelines": "/setup/guidelines",
             "self-check": "/setup/self-check", "price": "/setup/price", "launch": "/setup/launch"}
    for step, path in paths.items():
        shown = olivia.get(base + path)
        assert shown.status_code == 200, (step, shown.text[:300])
        assert re.findall(r'data-step="([\w-]+)"', shown.text) == STEPS, step
        assert re.search(rf'data-step="{step}">\s*<a href="{base}{path}" aria-current="step"', shown.text), step
    dashboard = olivia.get(base).text
    assert re.findall(r'data-step="([\w-]+)"', dashboard) == STEPS and "3 items" in dashboard

    # describe
    named = olivia.htmx(f"{base}/setup/describe", {"name": "Notes on texts", "description": "Say if it is good."})
    assert named.status_code == 200 and "Saved" in named.text and "<html" not in named.text
    empty = olivia.htmx(f"{base}/setup/describe", {"name": " ", "description": "Say if it is good."})
    assert empty.status_code == 422 and 'id="error-name"' in empty.text

    # inputs and outputs: the text comes from "text"; point it at "body" instead
    entities = olivia.get(f"{base}/setup/entities").text
    assert re.search(r'name="map.text".*?<option value="text" selected>', entities, re.S)
    assert 'data-output="verdict"' in entities and "good" in entities and "0–40" in entities
    wrong = olivia.htmx(f"{base}/setup/entities", {"map.text": "nowhere"})
    assert wrong.status_code == 422 and 'id="error-map-text"' in wrong.text and "no field &#39;nowhere&#39;" in wrong.text
    mapped = olivia.htmx(f"{base}/setup/entities", {"map.text": "body"})
    assert mapped.status_code == 200 and "Saved" in mapped.text
    assert Project.get_by_id(pid).input_map == {"text": "body"}

    # criteria: a refused save shows the core's message beside the row's field; a good one makes a version
    editor = olivia.get(f"{base}/setup/criteria").text
    assert 'value="Note explains"' in editor and 'id="judges"' in editor
    assert f'<span class="muted" id="project-version">{Note.name} · project version {_version(pid)}</span>' in editor
    before = _version(pid)
    form = {"c0.name": "Note explains", "c0.entities": "note", "c0.rule": "", "c0.severity": "blocking",
            "c0.checks": '{"min_words": {"note": 3}}',
            "c1.name": "Choice is sound", "c1.entities": ["verdict", "colour"], "c1.rule": "Fits the text.",
            "c1.checks": "", "c1.severity": "advisory"}
    refused = olivia.htmx(f"{base}/setup/criteria", form)
    assert refused.status_code == 422 and 'id="error-c1-entities"' in refused.text
    assert "&#39;colour&#39; is not an output entity" in refused.text and 'value="Choice is sound"' in refused.text
    bad_json = olivia.htmx(f"{base}/setup/criteria", {**form, "c1.entities": "verdict", "c0.checks": "{min: 3"})
    assert bad_json.status_code == 422 and 'id="error-c0-checks"' in bad_json.text and "not valid JSON" in bad_json.text
    unknown_check = olivia.htmx(f"{base}/setup/criteria", {**form, "c1.entities": "verdict",
                                                             "c0.checks": '{"min_wrds": {"note": 3}}'})
    assert unknown_check.status_code == 422 and 'id="error-c0-checks"' in unknown_check.text
    assert _version(pid) == before
    blank = olivia.get(f"{base}/setup/criteria/blank", headers={"hx-request": "true"}).text
    new_index = re.search(r'name="c(\d+)\.name"', blank).group(1)
    saved = olivia.htmx(f"{base}/setup/criteria", {**form, "c1.entities": "verdict", f"c{new_index}.name": "Polite",
                                                    f"c{new_index}.rule": "The note is polite.",
                                                    f"c{new_index}.entities": "note"})
    assert saved.status_code == 200 and f"as version {before + 1}" in saved.text
    assert f'id="project-version" hx-swap-oob="true">{Note.name} · project version {before + 1}<' in saved.text
    assert [c.name for c in projects.criteria(Project.get_by_id(pid)).views] == ["Note explains", "Choice is sound",
                                                                                "Polite"]
    removed = olivia.htmx(f"{base}/setup/criteria", {k: v for k, v in form.items() if k.startswith("c0.")})
    assert removed.status_code == 200 and [c.name for c in projects.criteria(Project.get_by_id(pid)).views] == [
        "Note explains"]

    # judges: the model for this project and what a blocking fail does
    judged = olivia.htmx(f"{base}/setup/judges", {"judges": ["static", "echo"], "model": "llama3.2",
                                                  "on_blocking_fail": "rework"})
    assert judged.status_code == 200 and "Saved as version" in judged.text
    project = Project.get_by_id(pid)
    assert project.judge_settings == {"ollama": {"model": "llama3.2"}} and project.on_blocking_fail == "rework"
    same = olivia.htmx(f"{base}/setup/judges", {"judges": ["static", "echo"], "model": "llama3.2",
                                                "on_blocking_fail": "rework"})
    assert "Nothing changed" in same.text
    assert "choose at least one judge" in olivia.htmx(f"{base}/setup/judges", {"on_blocking_fail": "review"}).text

    # labeling page preview: the first item's form, read-only, through the mapping
    shown = olivia.get(f"{base}/setup/preview").text
    assert 'id="preview-form"' in shown and "<fieldset disabled" in shown and "text number 1" in shown
    assert 'name="verdict"' in shown and "hx-post=\"/assignments" not in shown

    # guidelines: a live preview (markdown, raw HTML escaped); saving makes a new version
    preview = olivia.htmx(f"{base}/setup/guidelines/preview", {"guidelines": "## Be **fair**\n<script>x</script>"})
    assert "<strong>fair</strong>" in preview.text and "<script>" not in preview.text
    version = _version(pid)
    saved = olivia.htmx(f"{base}/setup/guidelines", {"guidelines": "## Be **fair**\nSay why."})
    assert saved.status_code == 200 and f"Saved as version {version + 1}" in saved.text
    assert _version(pid) == version + 1 and "<strong>fair</strong>" in saved.text

    # price, overlap, tasks: the estimate is price × overlap × tasks
    price = olivia.get(f"{base}/setup/price").text
    assert 'name="tasks"' in price and 'value="3"' in price
    estimate = olivia.get(f"{base}/setup/price/estimate", params={"price_cents": "25", "overlap": "3", "tasks": "4"},
                          headers={"hx-request": "true"}).text
    assert "$3.00" in estimate and '<span class="estimate-cents">300</span>' in estimate and "12 answers" in estimate
    assert "Give a price" in olivia.get(f"{base}/setup/price/estimate", params={"price_cents": "x"}).text
    saved = olivia.htmx(f"{base}/setup/price", {"price_cents": "25", "overlap": "2", "tasks": "3"})
    assert saved.status_code == 200 and "$1.50" in saved.text and "Saved" in saved.text
    assert (Project.get_by_id(pid).price_cents, Project.get_by_id(pid).overlap) == (25, 2)
    negative = olivia.htmx(f"{base}/setup/price", {"price_cents": "-1", "overlap": "2", "tasks": "3"})
    assert negative.status_code == 422 and 'id="error-price_cents"' in negative.text

    # launch: a production batch of the waiting items
    launch = olivia.get(f"{base}/setup/launch").text
    assert '<dd class="waiting">3</dd>' in launch and "$1.50" in launch
    launched = olivia.htmx(f"{base}/setup/launch", {"size": ""})
    assert launched.headers.get("hx-redirect") == f"{base}?sent=3"
    assert Batch.get(Batch.project == pid).kind == "production"
    assert Task.select().where(Task.project == pid, Task.status == "queued").count() == 3


def test_launch_says_why_while_calibration_is_required(server, people, apis, registered):
    pid = _project(apis["olivia"], require_calibration=True)
    olivia = visitor(server, people, "olivia")
    refused = olivia.htmx(f"/projects/{pid}/setup/launch", {})
    assert refused.status_code == 409 and "production is locked until a calibration batch passes" in refused.text
    plain = olivia.client.post(f"/projects/{pid}/setup/launch", data={"_csrf_token": olivia.csrf})
    assert plain.status_code == 409 and "<html" in plain.text and "calibration" in plain.text
    assert Batch.select().where(Batch.project == pid).count() == 0
    tom = visitor(server, people, "tom")
    assert tom.get(f"/projects/{pid}/setup/criteria").status_code == 403
    assert tom.htmx(f"/projects/{pid}/setup/launch", {}).text.startswith('<div class="error"')


def test_a_new_project_from_a_template_is_one_form(server, people, registered):
    template = ProjectTemplate(name="ui-test-notes", title="Notes (test)", task_type=Note.name,
                               description="Judge short texts.", guidelines="## Good\nA clear note.", price_cents=12,
                               overlap=2, judges=["static"],
                               criteria=[CriterionView(name="Has a note", entities=["note"],
                                                       checks={"required": ["note"]})])
    plugins.registry().templates[template.name] = template
    try:
        olivia = visitor(server, people, "olivia")
        form = olivia.get("/projects/new").text
        assert '<option value="ui-test-notes"' in form and 'hx-get="/projects/new"' in form
        filled = olivia.get("/projects/new", params={"template": "ui-test-notes", "name": "Mine"}).text
        assert 'value="Mine"' in filled and "Judge short texts." in filled and 'value="12"' in filled
        assert re.search(rf'<option value="{Note.name}" selected>', filled)
        assert re.search(r'<option value="ui-test-notes" selected>', filled)
        made = olivia.client.post("/projects", data={"name": "Mine", "template": "ui-test-notes", "task_type": Note.name,
                                                     "description": "Judge short texts.", "price_cents": "12",
                                                     "overlap": "", "_csrf_token": olivia.csrf})
        assert made.status_code == 303
        project = Project.get_by_id(int(made.headers["location"].rsplit("/", 1)[1]))
        assert (project.task_type, project.price_cents, project.overlap) == (Note.name, 12, 2)
        assert project.guidelines == "## Good\nA clear note." and [c.name for c in project.criteria] == ["Has a note"]
        wrong = olivia.client.post("/projects", data={"name": "X", "template": "ui-test-notes",
                                                      "task_type": "classification", "_csrf_token": olivia.csrf})
        assert wrong.status_code == 422 and "is for task type" in wrong.text
    finally:
        plugins.registry().templates.pop(template.name, None)


def test_self_check_verdicts_come_back_by_polling_and_count_nowhere(server, people, apis, registered, monkeypatch):
    pid = _project(apis["olivia"], judges=["static", "slowtest"])
    held: list[int] = []
    monkeypatch.setitem(queue._jobs, "judge_self_check", held.append)     # the test runs the queue's job itself
    olivia = visitor(server, people, "olivia")
    page = olivia.get(f"/projects/{pid}/setup/self-check").text
    assert "Counts in no statistics" in page and page.count('href="/projects/%d/setup/self-check?sample=' % pid) == 3
    task_id = int(re.search(r'data-task="(\d+)"', page).group(1))

    invalid = olivia.htmx(f"/projects/{pid}/setup/self-check/{task_id}", {"note": "no verdict given here"})
    assert invalid.status_code == 422 and 'id="error-verdict"' in invalid.text, invalid.text
    answered = olivia.htmx(f"/projects/{pid}/setup/self-check/{task_id}", {"verdict": "good", "note": "too short"})
    assert answered.status_code == 200
    check_id = int(re.search(r'id="check-(\d+)" data-status="judging"', answered.text).group(1))
    assert 'hx-trigger="every 1s"' in answered.text and "judging…" in answered.text
    assert re.search(r'data-judge="static" data-criterion="Note explains">.*?fail.*?at least 3', answered.text, re.S)

    poll = f"/projects/{pid}/setup/self-check/results/{check_id}"
    still = olivia.get(poll, headers={"hx-request": "true"}).text
    assert 'hx-trigger="every 1s"' in still and "slow judge" not in still
    assert held == [check_id]
    selfcheck.judge_slow(check_id)                                        # the queue's turn
    done = olivia.get(poll, headers={"hx-request": "true"}).text
    assert 'data-status="done"' in done and "hx-trigger" not in done           # polling stops
    assert re.search(r'data-judge="slowtest" data-criterion="Choice is sound">.*?fail.*?slow judge disagrees',
                     done, re.S)
    assert SelfCheck.get_by_id(check_id).status == "done"
    assert Response.select().count() == 0 and Task.select().where(Task.status != "unbatched").count() == 0
    again = olivia.get(f"/projects/{pid}/setup/self-check").text
    assert f'id="check-{check_id}" data-status="done"' in again
    assert olivia.get(f"/projects/{pid}/setup/self-check", params={"sample": 9}).status_code == 404


def _label(server, people, pid: int, answers: list[dict]) -> None:
    tom = visitor(server, people, "tom")
    fragment = tom.htmx(f"/projects/{pid}/label/next").text
    for answer in answers:
        fragment = tom.htmx(f"/assignments/{assignment_of(fragment)}/submit", answer).text
        assert "Submitted." in fragment, fragment


def test_review_grades_per_criterion_and_the_agreement_page(server, people, apis, registered):
    pid = _project(apis["olivia"], batch=True)
    _label(server, people, pid, [{"verdict": "good", "note": "clear and well argued"},
                                 {"verdict": "good", "note": "short"},
                                 {"verdict": "bad", "note": "BROKEN host text here"}])
    ids = [t.id for t in Task.select().where(Task.project == pid).order_by(Task.id)]
    responses = {r.task_id: r.id for r in Response.select().where(Response.project == pid)}
    assert {Task.get_by_id(i).status for i in ids} == {"ready_for_review"}
    olivia = visitor(server, people, "olivia")

    first = olivia.get(f"/tasks/{ids[0]}/review").text
    rid = responses[ids[0]]
    assert f'name="grade.{rid}.0"' in first and f'name="reason.{rid}.1"' in first
    assert re.search(r'data-criterion="Choice is sound".*?pass.*?echo.*?90% sure.*?reads fine.*?show prompt', first, re.S)
    run = JudgeRun.get(JudgeRun.response == rid)
    assert f'hx-get="/judge-runs/{run.id}"' in first
    prompt = olivia.get(f"/judge-runs/{run.id}", headers={"hx-request": "true"}).text
    assert "ECHO PROMPT: judge &#39;clear and well argued&#39; on Choice is sound" in prompt
    accepted = olivia.htmx(f"/tasks/{ids[0]}/review", {"decision": "accept", "crit.0": "Note explains",
                                                       "crit.1": "Choice is sound", f"grade.{rid}.0": "pass",
                                                       f"grade.{rid}.1": "pass"})
    assert accepted.headers.get("hx-redirect") == f"/tasks/{ids[1]}/review"

    rid = responses[ids[1]]
    second = olivia.get(f"/tasks/{ids[1]}/review").text
    assert re.search(r'data-criterion="Note explains".*?fail.*?static.*?note has 1 word; at least 3', second, re.S)
    grades = {"crit.0": "Note explains", "crit.1": "Choice is sound", f"grade.{rid}.0": "pass",
              f"grade.{rid}.1": "pass"}
    refused = olivia.htmx(f"/tasks/{ids[1]}/review", {"decision": "accept", **grades})
    assert refused.status_code == 200 and refused.text.lstrip().startswith('<section class="card" id="decision"')
    inline = re.search(rf'id="reason-{rid}-0"[^>]*aria-invalid="true"[^>]*>\s*<p class="field-error inline" '
                       rf'id="error-reason-{rid}-0" role="alert">([^<]*)</p>', refused.text)
    assert inline and "the static judge said fail; say why you disagree" in inline.group(1)
    assert re.search(rf'name="grade.{rid}.0" value="pass" checked', refused.text)          # the grades are kept
    assert Task.get_by_id(ids[1]).status == "ready_for_review"
    accepted = olivia.htmx(f"/tasks/{ids[1]}/review", {"decision": "accept", **grades,
                                                       f"reason.{rid}.0": "short is enough for this text"})
    assert accepted.headers.get("hx-redirect") == f"/tasks/{ids[2]}/review"

    rid = responses[ids[2]]
    third = olivia.get(f"/tasks/{ids[2]}/review").text
    assert "Not judged:</strong> echo: the echo host is down" in third
    olivia.htmx(f"/tasks/{ids[2]}/review", {"decision": "accept", "crit.0": "Note explains", f"grade.{rid}.0": "fail",
                                            f"reason.{rid}.0": "the note is noise"})
    assert Task.get_by_id(ids[2]).status == "completed"

    table = olivia.get(f"/projects/{pid}/agreement").text
    row = re.search(r'<tr data-criterion="Note explains" data-judge="static">(.*?)</tr>', table, re.S).group(1)
    assert '<td class="num count">3</td>' in row and '<td class="num rate">33.3%</td>' in row
    assert '<td class="num kappa">-0.50</td>' in row
    echo = re.search(r'<tr data-criterion="Choice is sound" data-judge="echo">(.*?)</tr>', table, re.S).group(1)
    assert '<td class="num count">2</td>' in echo and "100.0%" in echo and "undefined" in echo
    assert f'href="/tasks/{ids[1]}/review"' in table and f'href="/tasks/{ids[2]}/review"' in table
    assert "short is enough for this text" in table and "the note is noise" in table
    assert "3 graded answers" in table

    olivia.htmx(f"/projects/{pid}/setup/guidelines", {"guidelines": "Learn from the disagreements."})
    version = _version(pid)
    table = olivia.get(f"/projects/{pid}/agreement").text
    assert re.search(rf'<tr data-version="{version}">.*?<td class="num examples">2</td>', table, re.S)
    rejudged = olivia.htmx(f"/projects/{pid}/versions/{version}/rejudge")
    assert rejudged.headers.get("hx-redirect", "").startswith(f"/projects/{pid}/agreement?rejudging={version}")
    after = olivia.get(rejudged.headers["hx-redirect"].split("#")[0]).text
    assert f"Re-judging 3 graded answers under version {version}" in after
    compare = re.search(rf'aria-label="Before and after, version {version}"(.*?)</table>', after, re.S).group(1)
    assert re.search(r'data-criterion="Note explains" data-judge="static">.*?class="before"><div>3 · 33.3% · κ -0.50'
                     r'.*?class="after">3 · 33.3% · κ -0.50', compare, re.S)
    rey = visitor(server, people, "rey")
    assert rey.get(f"/projects/{pid}/agreement").status_code == 200                 # a reviewer reads it …
    assert "Re-judge graded answers" not in rey.get(f"/projects/{pid}/agreement").text
    assert rey.htmx(f"/projects/{pid}/versions/{version}/rejudge").text.startswith('<div class="error"')  # … not runs it


def test_a_tasker_sees_the_judges_comments_on_an_answer_sent_back(server, people, apis, registered):
    pid = _project(apis["olivia"], n=1, batch=True, on_blocking_fail="rework")
    tom = visitor(server, people, "tom")
    held = assignment_of(tom.htmx(f"/projects/{pid}/label/next").text)
    back = tom.htmx(f"/assignments/{held}/submit", {"verdict": "bad", "note": "too short"})
    assert back.status_code == 200 and "Sent back by the quality check" in back.text
    assert "<strong>Note explains</strong>: note has 2 words; at least 3 required" in back.text
    assert assignment_of(back.text) == held and ">too short</textarea>" in back.text
    assert re.search(r'value="bad"[^>]*checked', back.text)
    again = tom.htmx(f"/projects/{pid}/label/next").text                      # on a fresh claim, the same
    assert "Sent back by the quality check" in again and assignment_of(again) == held and ">too short</textarea>" in again
    invalid = tom.htmx(f"/assignments/{held}/submit", {"note": "now long enough here"})
    assert 'id="error-verdict"' in invalid.text and "Sent back by the quality check" in invalid.text
    done = tom.htmx(f"/assignments/{held}/submit", {"verdict": "bad", "note": "the text says nothing useful"})
    assert "Submitted." in done.text and "Sent back" not in done.text
