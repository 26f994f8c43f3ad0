"""The quality lab: calibration gate, onboarding course, evaluation tasks served unannounced, and taskers
removed or paused by rules. The simulation runs scripted taskers of known accuracy through the real claim
and submit paths and reports how many evaluations it took to remove the weak one."""

from __future__ import annotations

import random
import time

import pytest

from server.core import assignment, batches, calibration, imports, projects, quality_tasks, review, rule_sets
from server.core import standing, submissions, users
from server.core.projects import ProjectSettings
from server.errors import Conflict, Forbidden
from server.models import Assignment, EvaluationScore, Event, Task, TaskerStanding
from tests.conftest import jsonl

CLASSES = ["Graphs and Charts", "Data and Process Flow", "Infographics", "Multi-Figure Images", "Uncategorized"]


def _items(n: int, start: int = 1) -> list[dict]:
    return [{"ext_id": f"t{i:05d}", "image": f"http://127.0.0.1:9/img/{i}.png", "kind": CLASSES[i % len(CLASSES)]}
            for i in range(start, start + n)]


def _project(tmp_path, n: int, **settings):
    owner, _ = users.create_user("owner", "owner-pw", "owner")
    project = projects.create(ProjectSettings(name="Lab", task_type="classification", **settings), owner.id,
                              users.default_space())
    path = tmp_path / f"items-{n}.jsonl"
    path.write_bytes(jsonl(_items(n)))
    imports.import_file(project, path)
    return owner, projects.get(project.id)


def _tasker(name: str) -> int:
    return users.create_user(name, f"{name}-pw", "tasker")[0].id


def _truth(task_id: int) -> str:
    task = Task.get_by_id(task_id)
    if task.expected:
        return task.expected["label"]
    source = Task.get_by_id(task.source_task) if task.source_task else task
    return source.data["kind"]


def _answer(truth: str, accuracy: float, rng: random.Random) -> dict:
    return {"label": truth if rng.random() < accuracy else rng.choice([c for c in CLASSES if c != truth])}


def _gold(owner, project, kind: str, count: int, phase: str = "initial") -> list[Task]:
    """Quality tasks made from reviewed tasks, with the item's true class as expected answer."""
    made = []
    sources = (Task.select().where(Task.project == project.id, Task.kind == "live", Task.status == "unbatched")
               .order_by(Task.id.desc()).limit(count))
    for source in sources:
        made.append(quality_tasks.make(source.id, quality_tasks.QualityTaskIn(
            kind=kind, phase=phase, expected={"label": source.data["kind"]},
            explanation=f"It is {source.data['kind']}: its dominant purpose."), owner.id))
    return made


def _work(project, tasker_id: int, accuracy: float, seconds: float, rng: random.Random):
    """One claim and submit as a scripted tasker taking `seconds` per task; returns the claimed task or None."""
    claimed = assignment.claim(project, tasker_id)
    if claimed is None:
        return None
    Assignment.update(claimed_at=time.time() - seconds).where(Assignment.id == claimed.assignment_id).execute()
    submissions.submit(claimed.assignment_id, tasker_id, _answer(_truth(claimed.task_id), accuracy, rng))
    return claimed


def _status(project, tasker_id: int) -> str:
    return standing.get(project, tasker_id).status


def simulate(tmp_path, seed: int) -> dict:
    """Four scripted taskers until the live work runs out; returns what happened to each."""
    rng = random.Random(seed)
    random.seed(seed)          # the claim's evaluation draw, so a seed replays exactly
    owner, project = _project(tmp_path, 700, require_calibration=False, evaluation_rate=0.3, overlap=1)
    _gold(owner, project, "evaluation", 60)
    batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    scripted = {"good95": (0.95, 20.0), "good85": (0.85, 18.0), "weak40": (0.40, 22.0), "bot": (0.90, 1.0)}
    ids = {name: _tasker(f"{name}-{seed}") for name in scripted}
    outcome = {name: {"status": "active", "evaluations": 0, "submissions": 0} for name in scripted}
    working = set(scripted)
    while working:
        for name in sorted(working):
            accuracy, seconds = scripted[name]
            try:
                claimed = _work(project, ids[name], accuracy, seconds * rng.uniform(0.8, 1.2), rng)
            except Forbidden:
                working.discard(name)
                continue
            if claimed is None:
                working.discard(name)
    for name, tasker_id in ids.items():
        st = TaskerStanding.get(TaskerStanding.project == project.id, TaskerStanding.tasker == tasker_id)
        outcome[name] = {"status": st.status, "evaluations": st.evaluations, "submissions": st.submissions,
                         "rule": st.rule}
    return outcome


def test_simulation_removes_the_weak_pauses_the_bot_and_never_touches_the_good(tmp_path, quorum):
    results = [simulate(tmp_path, seed) for seed in range(3)]
    for outcome in results:
        assert outcome["good95"]["status"] == "active" and outcome["good85"]["status"] == "active"
        assert (outcome["weak40"]["status"], outcome["weak40"]["rule"]) in {
            ("removed", "low evaluation accuracy"), ("paused", "slipping evaluation accuracy")}
        assert 10 <= outcome["weak40"]["evaluations"] <= 60, "stopped soon after the rule's minimum count"
        assert outcome["bot"]["status"] == "paused" and outcome["bot"]["rule"] == "too fast to be reading"
        assert outcome["bot"]["submissions"] == 20, "paused at the first submission the rule may look at"
    print("\nsimulation:", [{k: (v["status"], v["evaluations"], v["submissions"]) for k, v in r.items()}
                            for r in results])


def test_fast_answers_are_measured_against_the_median_of_recent_live_answers(tmp_path, quorum):
    """The project's median answer time comes from its recent live answers only (evaluation
    answers, which the tasker cannot tell apart, are scored, not timed into it), follows the
    work as it changes, and an answer under a quarter of it counts as fast."""
    owner, project = _project(tmp_path, 700, require_calibration=False, evaluation_rate=0.5)
    _gold(owner, project, "evaluation", 40)
    batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    off = '[[rule]]\nname = "{}"\non = "submission.created"\nwhen = "false"\nthen = "pause"\nenabled = false\n'
    rule_sets.replace(project, off.format("too fast to be reading"), owner.id)
    project = projects.get(project.id)
    assert standing.median_seconds(project) == 0.0, "no answers yet: nothing to compare with"
    slow, rng = _tasker("slow"), random.Random(5)
    kinds = [Task.get_by_id(_work(project, slow, 1.0, 40.0 if n % 2 else 30.0, rng).task_id).kind
             for n in range(80)]
    assert "evaluation" in kinds and "live" in kinds
    assert 29 <= standing.median_seconds(project) <= 41
    quick = _tasker("quick")
    for _ in range(10):
        _work(project, quick, 1.0, 2.0, rng)
    assert standing.get(project, quick).fast == 10, "2 s against a median over 29 s"
    assert standing.get(project, slow).fast == 0
    for _ in range(600):                    # the work changes: 8 s answers push the old ones out
        _work(project, quick, 1.0, 8.0, rng)
    assert 7.9 <= standing.median_seconds(project) <= 8.1


def test_a_removed_tasker_loses_leases_at_once_and_keeps_their_work_marked(tmp_path, quorum):
    owner, project = _project(tmp_path, 30, require_calibration=False, evaluation_rate=0.5)
    _gold(owner, project, "evaluation", 12)
    batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    rule_sets.replace(project, '[[rule]]\nname = "one strike"\non = "evaluation.scored"\n'
                               'when = "submission.score < 1.0"\nthen = "remove"\n', owner.id)
    weak, rng = _tasker("weak"), random.Random(1)
    while _status(project, weak) != "removed":
        _work(project, weak, 0.0, 10, rng)
    fired = Event.select().where(Event.kind == "rule.fired").order_by(Event.id.desc()).get()
    assert fired.data["rule"] == "one strike" and fired.data["values"]["submission"]["score"] == 0.0
    with pytest.raises(Forbidden, match="removed in this project: rule 'one strike'"):
        assignment.claim(project, weak)
    assert Assignment.select().where(Assignment.tasker == weak, Assignment.status == "active").count() == 0
    from server.models import Response
    assert {r.flag for r in Response.select().where(Response.tasker == weak)} == {"tasker_removed"}


def test_calibration_gate_blocks_production_until_a_round_passes(tmp_path, quorum):
    owner, project = _project(tmp_path, 40)
    with pytest.raises(Conflict, match="run a calibration round first"):
        batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    rng = random.Random(3)
    tom, tina = _tasker("tom"), _tasker("tina")
    first = calibration.start(project, calibration.RoundRequest(size=10, stratify_by="kind"), owner.id)
    assert {Task.get_by_id(t.id).data["kind"] for t in first.tasks} == set(CLASSES), "spread across the classes"
    with pytest.raises(Exception, match="confidence"):
        claimed = assignment.claim(project, tom)
        submissions.submit(claimed.assignment_id, tom, {"label": "Infographics"})
    _label_round(project, [tom, tina], accuracy=0.5, confidence=90, rng=rng)
    with pytest.raises(Conflict, match="not fully audited"):
        batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    low = _audit_all(first, owner)
    assert low.score < project.calibration_bar and low.passed is False
    with pytest.raises(Conflict, match=f"scored {low.score:.2f}, below the bar"):
        batches.create(project, batches.BatchRequest(kind="production"), owner.id)

    second = calibration.start(project, calibration.RoundRequest(size=10), owner.id)
    _label_round(project, [tom, tina], accuracy=1.0, confidence=95, rng=rng)
    high = _audit_all(second, owner)
    assert high.score == pytest.approx(1.0 * (1 - 0.05 ** 2), abs=1e-4) and high.passed is True
    assert batches.create(project, batches.BatchRequest(kind="production"), owner.id).size == 20
    history = calibration.rounds(project)
    assert [r.passed for r in history] == [False, True]
    assert any(f["feedback"] == "the Diagrams definition is unclear" for f in history[0].feedback)


def _label_round(project, taskers: list[int], accuracy: float, confidence: int, rng: random.Random) -> None:
    while True:
        progressed = False
        for tasker_id in taskers:
            claimed = assignment.claim(project, tasker_id)
            if claimed is None:
                continue
            progressed = True
            submissions.submit(claimed.assignment_id, tasker_id, _answer(_truth(claimed.task_id), accuracy, rng),
                               confidence=confidence, feedback="the Diagrams definition is unclear")
        if not progressed:
            return


def _audit_all(batch, owner) -> calibration.RoundOut:
    from server.models import Response
    grades = []
    for response in Response.select().join(Task).where(Task.batch == batch.id):
        truth = response.task.data["kind"]
        right = response.data["label"] == truth
        grades.append(calibration.AuditIn(response_id=response.id, correct=right,
                                          corrected=None if right else {"label": truth}))
    for task in Task.select().where(Task.batch == batch.id, Task.status == "ready_for_review"):
        review.review(task.id, owner.id, review.ReviewRequest(decision="accept"))
    return calibration.audit(batch.id, grades, owner.id)


def test_onboarding_blocks_live_tasks_until_the_course_is_passed(tmp_path, quorum):
    owner, project = _project(tmp_path, 40, require_calibration=False)
    course = _gold(owner, project, "training", 5)
    batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    tom, rng = _tasker("tom"), random.Random(5)
    seen = []
    for _ in range(5):                       # the first attempt, all wrong: retake
        claimed = assignment.claim(project, tom)
        seen.append(claimed.task_id)
        done = submissions.submit(claimed.assignment_id, tom, _answer(_truth(claimed.task_id), 0.0, rng))
        assert done.training["expected"] == {"label": _truth(claimed.task_id), "subtype": None, "explanation": ""}
        assert done.training["explanation"].startswith("It is ")
    assert seen == sorted(t.id for t in course), "the course in order, and only the course"
    assert done.training["result"] == ["require_retraining"] and _status(project, tom) == "onboarding"
    for _ in range(5):                       # the retake, all right: active
        claimed = assignment.claim(project, tom)
        assert Task.get_by_id(claimed.task_id).kind == "training"
        done = submissions.submit(claimed.assignment_id, tom, _answer(_truth(claimed.task_id), 1.0, rng))
    assert done.training["result"] == ["activate"] and _status(project, tom) == "active"
    assert Task.get_by_id(assignment.claim(project, tom).task_id).kind in ("live", "evaluation")


def test_three_failed_attempts_remove_the_tasker(tmp_path, quorum):
    owner, project = _project(tmp_path, 20, require_calibration=False)
    _gold(owner, project, "training", 5)
    tina, rng = _tasker("tina"), random.Random(9)
    for _attempt in range(3):
        for _ in range(5):
            claimed = assignment.claim(project, tina)
            submissions.submit(claimed.assignment_id, tina, _answer(_truth(claimed.task_id), 0.0, rng))
    assert _status(project, tina) == "removed"


def test_evaluation_share_within_tolerance_and_never_twice(tmp_path, quorum):
    owner, project = _project(tmp_path, 2200, require_calibration=False, evaluation_rate=0.1)
    off = '[[rule]]\nname = "{}"\non = "submission.created"\nwhen = "false"\nthen = "pause"\nenabled = false\n'
    rule_sets.replace(project, off.format("too fast to be reading") + off.format("daily annotation limit"), owner.id)
    _gold(owner, project, "evaluation", 200)
    batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    tom, rng = _tasker("tom"), random.Random(11)
    kinds = []
    for _ in range(1500):
        claimed = _work(project, tom, 0.9, 15, rng)
        kinds.append(Task.get_by_id(claimed.task_id).kind)
    share = kinds.count("evaluation") / len(kinds)
    assert 0.08 <= share <= 0.12, share      # 10% ± 2 points over 1,500 claims (about 2.5 standard deviations)
    served = [a.task_id for a in Assignment.select().join(Task).where(Assignment.tasker == tom,
                                                                       Task.kind == "evaluation")]
    assert len(served) == len(set(served)), "no evaluation task twice to one tasker"
    assert EvaluationScore.select().where(EvaluationScore.tasker == tom).count() == len(served)


def test_rule_errors_are_refused_with_their_position(tmp_path, quorum):
    from server.errors import Invalid

    owner, project = _project(tmp_path, 2, require_calibration=False)
    bad = '[[rule]]\nname = "typo"\non = "evaluation.scored"\nwhen = "tasker.evaluation.count >= && 1"\nthen = "remove"\n'
    with pytest.raises(Invalid) as raised:
        rule_sets.replace(project, bad, owner.id)
    assert raised.value.extra["line"] == 4 and raised.value.extra["column"] == 36
    assert "line 4, column 36" in raised.value.message
    unknown = bad.replace("count >= && 1", "cuont >= 1")
    with pytest.raises(Invalid, match="unknown name 'cuont'"):
        rule_sets.replace(project, unknown, owner.id)
    with pytest.raises(Invalid, match="then = 'explode' is not an action"):
        rule_sets.replace(project, bad.replace("count >= && 1", "count >= 1").replace('"remove"', '"explode"'),
                          owner.id)
    assert len(rule_sets.rules_for(project)) == len(rule_sets.defaults()), "nothing was saved"


def test_an_evaluation_task_looks_exactly_like_a_live_one(apis):
    owner, tom = apis["olivia"], apis["tom"]
    made = owner.post("/projects", json={"name": "Gold", "task_type": "classification", "require_calibration": False,
                                         "evaluation_rate": 0.5}, expect=201).json()
    pid = made["id"]
    owner.post(f"/projects/{pid}/items", content=jsonl(_items(60)), headers={"content-type": "application/x-ndjson"},
               expect=201)
    sources = owner.get(f"/projects/{pid}/tasks", params={"per_page": 10}).json()["items"]
    for source in sources:
        owner.post(f"/tasks/{source['id']}/quality", json={"kind": "evaluation", "expected": {
            "label": "Infographics"}}, expect=201)
    owner.post(f"/projects/{pid}/batches", json={"kind": "production", "size": 40}, expect=201)
    payloads = {"live": [], "evaluation": []}
    results = {"live": [], "evaluation": []}
    for _ in range(30):
        claim = tom.post(f"/projects/{pid}/claim")
        body = claim.json()
        kind = Task.get_by_id(body["task_id"]).kind
        payloads[kind].append((claim.headers.get("content-type"), body))
        done = tom.post(f"/assignments/{body['assignment_id']}/submit", json={"response": {"label": "Infographics"}})
        results[kind].append(done.json())
    assert payloads["live"] and payloads["evaluation"], "both kinds were served"

    def shape(value):
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        return type(value).__name__

    live_shapes = {msgspec_shape(shape(b)) for _, b in payloads["live"]}
    gold_shapes = {msgspec_shape(shape(b)) for _, b in payloads["evaluation"]}
    assert live_shapes == gold_shapes, "same keys, same types, in the same order"
    assert {h for h, _ in payloads["live"]} == {h for h, _ in payloads["evaluation"]}
    for live, gold in zip(payloads["live"], payloads["evaluation"]):
        assert gold[1]["inputs"]["image"].startswith("http://127.0.0.1:9/img/")
        assert live[1]["feedback"] is None and gold[1]["feedback"] is None
    assert {msgspec_shape(shape(r)) for r in results["live"]} == {msgspec_shape(shape(r)) for r in results["evaluation"]}
    assert {r["task_status"] for r in results["live"]} == {r["task_status"] for r in results["evaluation"]}
    assert "evaluation" not in str(payloads["evaluation"]) and "expected" not in str(results["evaluation"])


def msgspec_shape(value) -> str:
    import msgspec

    return msgspec.json.encode(value).decode()


def test_taskers_table_owner_actions_and_own_standing_over_the_api(apis):
    owner, tom = apis["olivia"], apis["tom"]
    made = owner.post("/projects", json={"name": "Standing", "task_type": "classification",
                                         "require_calibration": False}, expect=201).json()
    pid = made["id"]
    owner.post(f"/projects/{pid}/items", content=jsonl(_items(5)), headers={"content-type": "application/x-ndjson"},
               expect=201)
    owner.post(f"/projects/{pid}/batches", json={"kind": "production"}, expect=201)
    claim = tom.post(f"/projects/{pid}/claim").json()
    tom_id = tom.get("/me").json()["id"]
    paused = owner.post(f"/projects/{pid}/taskers/{tom_id}/pause", json={"reason": "checking your answers"}).json()
    assert paused["status"] == "paused" and paused["reason"] == "checking your answers"
    refused = tom.post(f"/projects/{pid}/claim", expect=403).json()
    assert "paused in this project: checking your answers" in refused["error"]
    tom.post(f"/assignments/{claim['assignment_id']}/submit", json={"response": {"label": "Infographics"}},
             expect=409)   # the lease was revoked at once
    mine = tom.get(f"/projects/{pid}/standing").json()
    assert mine["status"] == "paused" and mine["reason"] == "checking your answers"
    owner.post(f"/projects/{pid}/taskers/{tom_id}/resume")
    tom.post(f"/projects/{pid}/claim")
    table = owner.get(f"/projects/{pid}/taskers").json()
    assert [(r["username"], r["status"]) for r in table] == [("tom", "active")]
    tom.post(f"/projects/{pid}/taskers/{tom_id}/remove", expect=403)
    owner.post(f"/projects/{pid}/taskers/{tom_id}/explode", expect=422)


def test_rules_over_the_api_refuse_a_bad_rule_with_its_position(apis):
    owner = apis["olivia"]
    pid = owner.post("/projects", json={"name": "Rules", "task_type": "classification"}, expect=201).json()["id"]
    rules = owner.get(f"/projects/{pid}/rules").json()
    assert "low evaluation accuracy" in rules["defaults"] and rules["own"] == ""
    bad = '[[rule]]\nname = "strict"\non = "evaluation.scored"\nwhen = "tasker.evaluation.accuracy <"\nthen = "pause"\n'
    error = owner.call("PUT", f"/projects/{pid}/rules", content=bad.encode(),
                       headers={"content-type": "application/toml"}, expect=422).json()
    assert error["field"] == "line 4, column 37" and "does not parse" in error["error"]
    good = bad.replace("accuracy <", "accuracy < 0.9").replace("strict", "low evaluation accuracy")
    saved = owner.call("PUT", f"/projects/{pid}/rules", content=good.encode(),
                       headers={"content-type": "application/toml"}).json()
    effective = {r["name"]: r for r in saved["effective"]}
    assert effective["low evaluation accuracy"]["when"] == "tasker.evaluation.accuracy < 0.9"
    assert effective["low evaluation accuracy"]["origin"].startswith("project")
    error = owner.post(f"/projects/{pid}/batches", json={"kind": "production"}, expect=409).json()
    assert "run a calibration round first" in error["error"] and "require_calibration" in error["error"]


def test_the_sweep_ends_run_out_pauses_and_runs_sweep_rules(tmp_path, quorum):
    from server.core import actions

    owner, project = _project(tmp_path, 5, require_calibration=False)
    tom = _tasker("tom")
    st = standing.get(project, tom)
    standing.set_status(st, "paused", "daily limit", "daily annotation limit", time.time(), paused_until=time.time() - 1)
    rule_sets.replace(project, '[[rule]]\nname = "idle note"\non = "sweep"\nwhen = "tasker.submissions.total == 0"\n'
                               'then = "notify"\nparams = { message = "has not started" }\n', owner.id)
    assert actions.sweep() == 1
    assert _status(project, tom) == "active"
    note = Event.select().where(Event.kind == "notify").get()
    assert note.data["message"] == "has not started" and note.data["tasker"] == tom


def test_a_review_phase_training_task_shows_the_answer_to_correct(apis):
    owner, tom = apis["olivia"], apis["tom"]
    pid = owner.post("/projects", json={"name": "Review course", "task_type": "classification",
                                        "require_calibration": False}, expect=201).json()["id"]
    owner.post(f"/projects/{pid}/items", content=jsonl(_items(3)), headers={"content-type": "application/x-ndjson"},
               expect=201)
    source = owner.get(f"/projects/{pid}/tasks").json()["items"][0]
    error = owner.post(f"/tasks/{source['id']}/quality", json={"kind": "training", "phase": "review",
                                                               "expected": {"label": "Infographics"}},
                       expect=422).json()
    assert error["field"] == "seed"
    owner.post(f"/tasks/{source['id']}/quality", json={
        "kind": "training", "phase": "review", "expected": {"label": "Infographics"},
        "seed": {"label": "Graphs and Charts"}, "explanation": "The icons and text tell a story."}, expect=201)
    claim = tom.post(f"/projects/{pid}/claim").json()
    assert claim["review_of"] == {"label": "Graphs and Charts", "subtype": None, "explanation": ""}
    done = tom.post(f"/assignments/{claim['assignment_id']}/submit",
                    json={"response": {"label": "Infographics"}}).json()
    assert done["training"]["score"] == 1.0 and done["training"]["explanation"] == "The icons and text tell a story."
