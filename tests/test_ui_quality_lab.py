"""The quality lab in the browser, over real HTTP (htmx's headers, the CSRF token from the cookie): calibration rounds
started from the page, labelled with a confidence, audited answer by answer until the round scores and the gate
opens; quality tasks made from audited tasks; a training course walked through on the labeling page; evaluation
tasks that render exactly like live ones; the rules editor; the tasker table's buttons and a tasker's own standing."""

from __future__ import annotations

import html
import re

from server.models import Batch, Response, Task
from tests.conftest import jsonl
from tests.test_ui_pages import assignment_of, visitor

CLASSES = ["Graphs and Charts", "Data and Process Flow", "Infographics", "Multi-Figure Images", "Uncategorized"]


def _items(n: int) -> list[dict]:
    return [{"ext_id": f"q{i:04d}", "image": f"http://127.0.0.1:9/img/{i:04d}.png", "kind": CLASSES[i % 5]}
            for i in range(1, n + 1)]


def _project(api, n: int, **settings) -> int:
    body = {"name": "Lab", "task_type": "classification", "require_calibration": False, **settings}
    pid = api.post("/projects", json=body, expect=201).json()["id"]
    api.post(f"/projects/{pid}/items", content=jsonl(_items(n)), headers={"content-type": "application/x-ndjson"},
             expect=201)
    return pid


def _truth(assignment_id: int) -> str:
    task = Task.get_by_id(_task_of(assignment_id))
    if task.expected:
        return task.expected["label"]
    return (Task.get_by_id(task.source_task) if task.source_task else task).data["kind"]


def _task_of(assignment_id: int) -> int:
    from server.models import Assignment
    return Assignment.get_by_id(assignment_id).task_id


def _wrong(label: str) -> str:
    return next(c for c in CLASSES if c != label and c != "Data and Process Flow")


def _gate(text: str) -> str:
    found = re.search(r'<p id="gate" class="gate gate-(\w+)">\s*<span class="gate-word">\w+</span>\s*(.*?)</p>', text,
                      re.S)
    assert found, text[:2000]
    return found.group(1) + ": " + html.unescape(found.group(2).strip())


def _label_round(person, pid: int, confidence: int, wrong: int = 0, note: str = "") -> list[int]:
    """Label every calibration task offered, the first `wrong` of them wrongly; returns the assignments."""
    done = []
    shown = person.htmx(f"/projects/{pid}/label/next").text
    while 'data-assignment="' in shown:
        held = assignment_of(shown)
        assert 'name="confidence"' in shown and 'name="feedback"' in shown and "Training task" not in shown
        truth = _truth(held)
        label = _wrong(truth) if len(done) < wrong else truth
        shown = person.htmx(f"/assignments/{held}/submit", {"label": label, "subtype": "", "explanation": "",
                                                             "confidence": str(confidence), "feedback": note}).text
        done.append(held)
    return done


def _answers(batch_id: int) -> list[Response]:
    return list(Response.select(Response, Task).join(Task).where(Task.batch == batch_id).order_by(Response.id))


def test_a_calibration_round_from_the_page_through_the_audit_to_the_gate(server, people, apis):
    pid = _project(apis["olivia"], 12, require_calibration=True, evaluation_rate=0)
    olivia, tom = visitor(server, people, "olivia"), visitor(server, people, "tom")

    lab = olivia.get(f"/projects/{pid}/quality")
    assert lab.status_code == 200 and 'aria-current="page">Quality lab<' in lab.text
    assert _gate(lab.text).startswith("locked: Production is locked") and "run a calibration round first" in lab.text
    assert '<option value="kind">' in lab.text and "No calibration round yet" in lab.text
    assert "5 training tasks" not in lab.text and "0 training tasks: make at least 5" in lab.text

    refused = olivia.htmx(f"/projects/{pid}/calibration", {"size": "many", "stratify_by": ""})
    assert refused.status_code == 422 and 'id="error-size"' in refused.text and "<html" not in refused.text
    nowhere = olivia.htmx(f"/projects/{pid}/calibration", {"size": "3", "stratify_by": "colour"})
    assert nowhere.status_code == 422 and "no item has a field" in html.unescape(nowhere.text)
    started = olivia.htmx(f"/projects/{pid}/calibration", {"size": "3", "stratify_by": "kind", "name": "first"})
    target = started.headers["hx-redirect"]
    first = int(target.rsplit("=", 1)[1])
    shown = olivia.get(target).text
    assert f"Started calibration round #{first} with 3 items" in shown and f'data-round="{first}"' in shown
    assert {t.data["kind"] for t in Task.select().where(Task.batch == first)} == set(CLASSES[1:4]), "spread by kind"
    assert "round %d is not fully audited" % first in _gate(shown)

    # labelled with a confidence on the labeling page; the core's refusal comes back beside the field
    held = assignment_of(tom.htmx(f"/projects/{pid}/label/next").text)
    missing = tom.htmx(f"/assignments/{held}/submit", {"label": "Infographics", "feedback": "what is a chart?"})
    assert 'data-field="confidence"' in missing.text and "how sure you are" in missing.text
    assert assignment_of(missing.text) == held and ">what is a chart?</textarea>" in missing.text
    assert re.search(r'value="Infographics"[^>]*checked', missing.text)
    silly = tom.htmx(f"/assignments/{held}/submit", {"label": "Infographics", "confidence": "very"})
    assert 'data-field="confidence"' in silly.text and 'value="very"' in silly.text
    _label_round(tom, pid, confidence=90, wrong=1, note="the Infographics definition is unclear")
    answers = _answers(first)
    assert len(answers) == 3 and {a.confidence for a in answers} == {90}
    assert {a.feedback for a in answers} == {"the Infographics definition is unclear"}

    # the audit tool: each answer under its task's image, with its confidence and note
    audit = olivia.get(f"/batches/{first}/audit").text
    assert audit.count('data-answer="') == 3 and audit.count("confidence 90%") == 3
    assert audit.count("the Infographics definition is unclear") == 3
    assert all(a.task.data["image"] in audit for a in answers)
    ids = re.findall(r'\bid="([^"]+)"', audit)
    assert len(ids) == len(set(ids)), "the task type's form appears many times, never with the same id twice"
    assert 'aria-current="page">Quality lab<' in audit
    wrong, right = answers[0], answers[1:]
    assert wrong.data["label"] != wrong.task.data["kind"]

    grade_url = f"/batches/{first}/audit/{wrong.id}"
    unmarked = olivia.htmx(grade_url, {"audit.comment": "?"})
    assert unmarked.status_code == 422 and f'id="verdict-error-{wrong.id}"' in unmarked.text
    bad_fix = olivia.htmx(grade_url, {"audit.correct": "no", "label": "Nonsense", "audit.comment": "wrong class"})
    assert bad_fix.status_code == 422 and 'data-field="label"' in bad_fix.text and "must be one of" in bad_fix.text
    assert 'value="wrong class"' in bad_fix.text and "<details class=\"correction\" open>" in bad_fix.text
    graded = olivia.htmx(grade_url, {"audit.correct": "no", "label": wrong.task.data["kind"], "subtype": "",
                                     "audit.comment": "read the title"})
    assert graded.status_code == 200 and f'id="task-{wrong.task.id}"' in graded.text
    assert 'graded graded-incorrect' in graded.text and 'id="round-summary"' in graded.text
    assert 'hx-swap-oob="true"' in graded.text and "<strong class=\"audited\">1</strong> of 3" in graded.text
    assert "not fully audited" in _gate(graded.text)
    # the audited task offers a quality task, seeded with the tasker's (wrong) answer
    seed = re.search(rf'<fieldset class="seed" id="qt-{wrong.task.id}-seed">(.*?)</fieldset>\s*<div class="actions">',
                     graded.text, re.S).group(1)
    assert re.search(rf'value="{re.escape(wrong.data["label"])}"[^>]*checked', seed), "seeded with the tasker's answer"

    for answer in right:
        last = olivia.htmx(f"/batches/{first}/audit/{answer.id}", {"audit.correct": "yes", "label": "x"})
        assert last.status_code == 200
    assert 'class="result result-failed"' in last.text and "not passed" in last.text
    batch = Batch.get_by_id(first)
    assert batch.status == "audited" and f"<strong class=\"score\">{batch.score:.2f}</strong>" in last.text
    assert _gate(last.text).startswith(f"locked: Production is locked until a calibration batch passes: round {first} "
                                       f"scored {batch.score:.2f}")
    again = olivia.htmx(f"/batches/{first}/audit/{right[0].id}", {"audit.correct": "no", "label": "Infographics"})
    assert again.status_code in (200, 409) and "Save grade" not in again.text    # a scored round takes no more grades

    # a quality task from the audited task: inline refusals, then made, then refused as a repeat
    make = f"/tasks/{wrong.task.id}/quality-task"
    same_seed = olivia.htmx(make, {"quality.kind": "evaluation", "quality.phase": "review",
                                   "label": wrong.task.data["kind"]})
    assert same_seed.status_code == 422 and "has no error to correct" in same_seed.text
    assert f'id="seed-error-{wrong.task.id}"' in same_seed.text
    made = olivia.htmx(make, {"quality.kind": "training", "quality.phase": "initial",
                              "quality.explanation": "The title says it: an infographic."})
    assert made.status_code == 200 and "Made training task #" in made.text
    assert 'data-made="training-initial"' in made.text
    repeat = olivia.htmx(make, {"quality.kind": "training", "quality.phase": "initial"})
    assert repeat.status_code == 409 and "already has a initial-phase training task" in repeat.text
    seeded = olivia.htmx(make, {"quality.kind": "evaluation", "quality.phase": "review", "label": _wrong(
        wrong.task.data["kind"])})
    assert seeded.status_code == 200 and "Made evaluation task #" in seeded.text
    gold = Task.get(Task.source_task == wrong.task.id, Task.kind == "evaluation")
    assert gold.phase == "review" and gold.expected["label"] == wrong.task.data["kind"] != gold.seed["label"]
    training = Task.get(Task.source_task == wrong.task.id, Task.kind == "training")
    assert training.explanation == "The title says it: an infographic."
    lab = olivia.get(f"/projects/{pid}/quality").text
    assert re.search(r'data-kind="training">\s*<th scope="row">training</th>\s*<td class="num initial">1</td>', lab)
    assert re.search(r'data-kind="evaluation">.*?<td class="num review">1</td>', lab, re.S)

    # the taskers' notes sit beside the guidelines editor, with their task and confidence
    guidelines = olivia.get(f"/projects/{pid}/setup/guidelines").text
    assert 'id="instruction-feedback"' in guidelines and "the Infographics definition is unclear" in guidelines
    assert f'href="/batches/{first}/audit#task-{wrong.task.id}"' in guidelines and "confidence 90%" in guidelines

    # a second round, all right and sure: it passes and production opens
    second = int(olivia.htmx(f"/projects/{pid}/calibration", {"size": "3"}).headers["hx-redirect"].rsplit("=", 1)[1])
    _label_round(tom, pid, confidence=100)
    for answer in _answers(second):
        done = olivia.htmx(f"/batches/{second}/audit/{answer.id}", {"audit.correct": "yes"})
    assert 'class="result result-passed"' in done.text and "<strong class=\"score\">1.00</strong>" in done.text
    assert _gate(done.text) == f"open: Production is open: calibration round #{second} passed with a score of 1.00 " \
                               "(the bar is 0.70)."
    lab = olivia.get(f"/projects/{pid}/quality").text
    assert _gate(lab).startswith("open:") and lab.count('<span class="status status-completed">passed</span>') == 1
    assert apis["olivia"].post(f"/projects/{pid}/batches", json={"kind": "production"}, expect=201)

    # a reviewer reads the lab and the audit, but grades nothing
    rey = visitor(server, people, "rey")
    assert rey.get(f"/projects/{pid}/quality").status_code == 200
    assert 'id="round-form"' not in rey.get(f"/projects/{pid}/quality").text
    read_only = rey.get(f"/batches/{first}/audit").text
    assert "Save grade" not in read_only and "read the title" in read_only
    assert "needs the owner role" in rey.htmx(f"/batches/{second}/audit/{right[0].id}", {"audit.correct": "yes"}).text
    assert "needs the owner role" in rey.htmx(f"/projects/{pid}/calibration", {"size": "2"}).text


def _made(api, pid: int, source_ids: list[int], kind: str, phase: str = "initial",
          seed_wrong: bool = False) -> list[int]:
    made = []
    for task_id in source_ids:
        truth = Task.get_by_id(task_id).data["kind"]
        body = {"kind": kind, "phase": phase, "expected": {"label": truth},
                "explanation": f"It is **{truth}**: look at what the figure is for."}
        if seed_wrong:
            body["seed"] = {"label": _wrong(truth)}
        made.append(api.post(f"/tasks/{task_id}/quality", json=body, expect=201).json()["id"])
    return made


def test_a_training_course_on_the_labeling_page_with_feedback_after_each_answer(server, people, apis):
    owner = apis["olivia"]
    pid = _project(owner, 8, evaluation_rate=0)
    sources = [t.id for t in Task.select().where(Task.project == pid).order_by(Task.id).limit(2)]
    course = _made(owner, pid, sources[:1], "training") + _made(owner, pid, sources[1:], "training", "review",
                                                                  seed_wrong=True)
    owner.post(f"/projects/{pid}/batches", json={"kind": "production"}, expect=201)
    tom = visitor(server, people, "tom")

    def answer(shown: str, right: bool) -> str:
        held = assignment_of(shown)
        truth = _truth(held)
        return tom.htmx(f"/assignments/{held}/submit", {"label": truth if right else _wrong(truth), "subtype": ""}).text

    first = tom.htmx(f"/projects/{pid}/label/next").text
    assert "Training task 1 of 2" in first and 'name="confidence"' not in first
    assert Task.get_by_id(_task_of(assignment_of(first))).id == course[0]
    feedback = answer(first, right=False)
    assert "Training task 1 of 2:" in feedback and "not right (0%)" in feedback
    truth = Task.get_by_id(course[0]).expected["label"]
    assert f'<td class="expected">{html.escape(truth)}</td>' in feedback and 'class="differs"' in feedback
    assert f"It is <strong>{html.escape(truth)}</strong>" in feedback, "the owner's explanation, as markdown"
    assert "Next training task" in feedback and "course is over" not in feedback

    second = tom.htmx(f"/projects/{pid}/label/next").text
    assert "Training task 2 of 2" in second and "another tasker's answer is filled in below" in second
    seed = Task.get_by_id(course[1]).seed["label"]
    assert re.search(rf'value="{re.escape(html.escape(seed))}"[^>]*checked', second), "the seeded answer to correct"
    retake = answer(second, right=False)
    assert "The training course is over" in retake and "retake the course (attempt 2)" in retake
    assert "Retake the course" in retake and 'class="course-result course-retake"' in retake

    again = tom.htmx(f"/projects/{pid}/label/next").text
    assert "Training task 1 of 2" in again
    right = answer(again, right=True)
    assert "right (100%)" in right and 'class="same"' in right and "Next training task" in right
    passed = answer(tom.htmx(f"/projects/{pid}/label/next").text, right=True)
    assert "You passed with an accuracy of 100%" in passed and "Start labeling" in passed

    live = tom.htmx(f"/projects/{pid}/label/next").text
    assert "Training task" not in live and Task.get_by_id(_task_of(assignment_of(live))).kind == "live"
    standing = tom.get(f"/projects/{pid}/standing").text
    assert 'data-status="active"' in standing and 'class="course">passed' in standing

    tina = visitor(server, people, "tina")            # three failed attempts: removed, and told so
    for _ in range(3 * len(course)):
        held = assignment_of(tina.htmx(f"/projects/{pid}/label/next").text)
        result = tina.htmx(f"/assignments/{held}/submit", {"label": _wrong(_truth(held))}).text
    assert "you are removed from this project" in result and f'href="/projects/{pid}/standing"' in result
    assert "You are removed in this project: rule &#39;training failed&#39;" in tina.htmx(
        f"/projects/{pid}/label/next").text


_MASKS = [
    (r'data-assignment="\d+"', 'data-assignment="#"'),
    (r"/assignments/\d+/", "/assignments/#/"),
    (r"http://127\.0\.0\.1:9/img/\d+\.png", "IMAGE"),
    (r"Done in this project: \d+", "Done in this project: #"),
]


def _masked(fragment: str) -> str:
    for pattern, mask in _MASKS:
        fragment = re.sub(pattern, mask, fragment)
    return fragment


def test_an_evaluation_task_renders_exactly_like_a_live_one(server, people, apis):
    owner = apis["olivia"]
    pid = _project(owner, 40, evaluation_rate=0.5)
    sources = [t.id for t in Task.select().where(Task.project == pid).order_by(Task.id.desc()).limit(10)]
    _made(owner, pid, sources, "evaluation")
    owner.post(f"/projects/{pid}/batches", json={"kind": "production", "size": 20}, expect=201)
    tom = visitor(server, people, "tom")
    seen: dict[str, set[str]] = {"live": set(), "evaluation": set()}
    served = {"live": 0, "evaluation": 0}
    shown = tom.htmx(f"/projects/{pid}/label/next").text
    while 'data-assignment="' in shown:       # every answer swaps in the next task: compare those fragments
        held = assignment_of(shown)
        shown = tom.htmx(f"/assignments/{held}/submit", {"label": "Infographics", "subtype": ""}).text
        if 'data-assignment="' in shown:
            kind = Task.get_by_id(_task_of(assignment_of(shown))).kind
            served[kind] += 1
            seen[kind].add(_masked(shown))
    assert served["live"] >= 3 and served["evaluation"] >= 3, served
    assert len(seen["live"]) == 1 and seen["live"] == seen["evaluation"], "the same page, word for word"
    page = next(iter(seen["evaluation"]))
    assert "Submitted." in page and "IMAGE" in page and "evaluation" not in page.lower()
    assert "Training task" not in page and 'name="confidence"' not in page


def test_the_rules_editor_shows_a_parse_error_with_its_line_and_column(server, people, apis):
    pid = _project(apis["olivia"], 2)
    olivia, rey = visitor(server, people, "olivia"), visitor(server, people, "rey")
    shown = olivia.get(f"/projects/{pid}/rules").text
    assert 'aria-current="page">Rules<' in shown
    assert re.search(r'data-rule="low evaluation accuracy">.*?<td class="origin">rules/taskers.toml</td>', shown, re.S)
    assert '<textarea id="rules" name="rules"' in shown and "[[rule]]\nname = &#34;calibration gate&#34;" in shown

    bad = '[[rule]]\nname = "strict"\non = "evaluation.scored"\nwhen = "tasker.evaluation.accuracy <"\nthen = "pause"\n'
    refused = olivia.htmx(f"/projects/{pid}/rules", {"rules": bad})
    assert refused.status_code == 422 and "<html" not in refused.text
    assert '<strong class="where">line 4, column 37</strong>' in refused.text and "does not parse" in refused.text
    assert 'data-line="4" data-column="37"' in refused.text and 'aria-invalid="true"' in refused.text
    kept = re.search(r'<textarea id="rules" name="rules"[^>]*>(.*?)</textarea>', refused.text, re.S).group(1)
    assert html.unescape(kept) == bad, "the text is kept as typed"
    excerpt = re.search(r'<pre class="excerpt">(.*?)</pre>', refused.text, re.S).group(1)
    source, caret = html.unescape(excerpt).split("\n")
    assert source == '4 | when = "tasker.evaluation.accuracy <"' and caret.index("^") == len("4 | ") + 36
    toml_error = olivia.htmx(f"/projects/{pid}/rules", {"rules": '[[rule]]\nname = "x\n'})
    assert toml_error.status_code == 422 and '<strong class="where">line 2' in toml_error.text

    good = bad.replace("accuracy <", "accuracy < 0.9").replace("strict", "low evaluation accuracy")
    saved = olivia.htmx(f"/projects/{pid}/rules", {"rules": good})
    assert saved.status_code == 200 and "Saved 1 rule of your own" in saved.text
    assert re.search(r'data-rule="low evaluation accuracy">.*?tasker.evaluation.accuracy &lt; 0.9.*?'
                     rf'<td class="origin">project {pid}</td>', saved.text, re.S)
    assert "name = &#34;low evaluation accuracy&#34;" in olivia.get(f"/projects/{pid}/rules").text

    read = rey.get(f"/projects/{pid}/rules").text
    assert "tasker.evaluation.accuracy &lt; 0.9" in read and '<textarea id="rules"' not in read
    assert "needs the owner role" in rey.htmx(f"/projects/{pid}/rules", {"rules": ""}).text


def test_the_tasker_table_buttons_and_the_taskers_own_standing(server, people, apis):
    owner = apis["olivia"]
    pid = _project(owner, 6, evaluation_rate=0)
    owner.post(f"/projects/{pid}/batches", json={"kind": "production"}, expect=201)
    tom, olivia = visitor(server, people, "tom"), visitor(server, people, "olivia")
    tom.htmx(f"/assignments/{assignment_of(tom.htmx(f'/projects/{pid}/label/next').text)}/submit",
             {"label": "Infographics"})
    tom_id = apis["tom"].get("/me").json()["id"]

    table = olivia.get(f"/projects/{pid}/taskers").text
    assert 'aria-current="page">Taskers<' in table
    assert f'<tr id="tasker-{tom_id}" data-tasker="tom" data-status="active">' in table
    row = f"/projects/{pid}/taskers/{tom_id}"
    assert f'hx-post="{row}"' in table and re.search(r'value="resume"[^>]*disabled', table)

    paused = olivia.htmx(row, {"action": "pause", "reason": "checking your answers"})
    assert paused.status_code == 200 and paused.text.lstrip().startswith("<tr") and "<html" not in paused.text
    assert 'data-status="paused"' in paused.text and "checking your answers" in paused.text
    assert re.search(r'value="pause"[^>]*disabled', paused.text) and not re.search(r'value="resume"[^>]*disabled',
                                                                                  paused.text)
    refused = tom.htmx(f"/projects/{pid}/label/next").text
    assert "You cannot label in this project right now" in refused
    assert "You are paused in this project: checking your answers." in refused
    assert f'href="/projects/{pid}/standing"' in refused
    standing = tom.get(f"/projects/{pid}/standing").text
    assert 'data-status="paused"' in standing and "checking your answers" in standing and ">1</dd>" in standing
    assert f'href="/projects/{pid}/standing"' in tom.get(f"/projects/{pid}/label").text

    resumed = olivia.htmx(row, {"action": "resume"})
    assert 'data-status="active"' in resumed.text
    assert 'data-assignment="' in tom.htmx(f"/projects/{pid}/label/next").text
    unknown = olivia.htmx(row, {"action": "explode"})
    assert unknown.status_code == 422 and "action must be one of" in unknown.text
    assert 'data-status="active"' in unknown.text
    plain = olivia.client.post(row, data={"action": "retrain", "_csrf_token": olivia.csrf})
    assert plain.status_code == 303 and plain.headers["location"] == f"/projects/{pid}/taskers?changed=retrain"
    assert "Retrain: done." in olivia.get(plain.headers["location"]).text
    removed = olivia.htmx(row, {"action": "remove", "reason": "copied answers"})
    assert 'data-status="removed"' in removed.text
    assert "You are removed in this project: copied answers." in tom.htmx(f"/projects/{pid}/label/next").text

    rey = visitor(server, people, "rey")
    read = rey.get(f"/projects/{pid}/taskers").text
    assert 'data-tasker="tom"' in read and "hx-post" not in read
    assert "needs the owner role" in rey.htmx(row, {"action": "resume"}).text
    assert "only taskers" in rey.get(f"/projects/{pid}/standing").text


def test_a_rule_pauses_a_tasker_and_their_standing_page_says_which_rule(server, people, apis):
    owner = apis["olivia"]
    pid = _project(owner, 6, evaluation_rate=0)
    owner.post(f"/projects/{pid}/batches", json={"kind": "production"}, expect=201)
    olivia, tom = visitor(server, people, "olivia"), visitor(server, people, "tom")
    olivia.htmx(f"/projects/{pid}/rules", {"rules": '[[rule]]\nname = "one at a time"\non = "submission.created"\n'
                                                    'when = "tasker.submissions.total >= 1"\nthen = "pause"\n'})
    held = assignment_of(tom.htmx(f"/projects/{pid}/label/next").text)
    after = tom.htmx(f"/assignments/{held}/submit", {"label": "Infographics"}).text
    assert "You are paused in this project: rule &#39;one at a time&#39;" in after
    standing = tom.get(f"/projects/{pid}/standing").text
    assert 'data-status="paused"' in standing
    assert '<dd class="rule-name"><strong>one at a time</strong></dd>' in standing
    assert "<strong>one at a time</strong> →\n        pause" in standing
    table = olivia.get(f"/projects/{pid}/taskers").text
    assert re.search(r'data-tasker="tom".*?<td class="last-rule"><strong>one at a time</strong> → pause', table, re.S)


def test_a_quality_task_from_a_reviewed_task_on_the_review_page(server, people, apis):
    owner = apis["olivia"]
    pid = _project(owner, 3, evaluation_rate=0)
    owner.post(f"/projects/{pid}/batches", json={"kind": "production"}, expect=201)
    tom, olivia, rey = (visitor(server, people, name) for name in ("tom", "olivia", "rey"))
    held = assignment_of(tom.htmx(f"/projects/{pid}/label/next").text)
    tom.htmx(f"/assignments/{held}/submit", {"label": "Infographics"})
    task_id = _task_of(held)
    before = olivia.get(f"/tasks/{task_id}/quality-task", headers={"hx-request": "true"})
    assert before.status_code == 200 and before.text == "", "nothing to stand behind before the review"
    olivia.htmx(f"/tasks/{task_id}/review", {"decision": "accept"})
    page = olivia.get(f"/tasks/{task_id}/review").text
    assert f'hx-get="/tasks/{task_id}/quality-task"' in page
    form = olivia.get(f"/tasks/{task_id}/quality-task", headers={"hx-request": "true"}).text
    assert f'id="quality-{task_id}"' in form and "Expected answer" in form and "<dd>Infographics</dd>" in form
    assert rey.get(f"/tasks/{task_id}/quality-task", headers={"hx-request": "true"}).text == ""
    made = olivia.htmx(f"/tasks/{task_id}/quality-task", {"quality.kind": "evaluation", "quality.phase": "initial"})
    assert "Made evaluation task #" in made.text, made.text[:600]
    assert Task.get(Task.source_task == task_id).expected["label"] == "Infographics"
