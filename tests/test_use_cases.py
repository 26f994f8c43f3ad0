"""The five use cases end to end through the API: each project starts from its template, takes its sample
dataset, is labelled with valid and invalid responses, reviewed and exported in the shape USE_CASES.md implies."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples"
USE_CASES = {
    "query_selection": "images_with_queries.json",
    "query_generation": "image_links.json",
    "classification": "image_links.json",
    "qa_generation": "image_links.json",
    "image_comparison": "images_to_compare.json",
}
TASKS = 3   # tasks sent out per use case


def records(dataset: str) -> list[dict]:
    return json.loads((SAMPLES / dataset).read_text())


def words(n: int) -> str:
    return " ".join(["word"] * n)


def start(owner, template: str) -> dict:
    """A project from the template, the whole sample dataset imported, the first TASKS items sent as a batch."""
    listed = {t["name"]: t for t in owner.get("/templates").json()}[template]
    project = owner.post("/projects", json={"name": f"{template} from its template", "template": template,
                                          "require_calibration": False},
                         expect=201).json()
    assert (project["task_type"], project["price_cents"], project["overlap"]) == (
        template, listed["price_cents"], listed["overlap"])
    assert project["guidelines"] == listed["guidelines"] and project["description"] == listed["description"]
    criteria = owner.get(f"/projects/{project['id']}/criteria").json()
    assert any(c["checks"] for c in criteria), "a template starts with static checks"
    body = (SAMPLES / USE_CASES[template]).read_bytes()
    imported = owner.post(f"/projects/{project['id']}/items", content=body,
                          headers={"content-type": "application/json"}, expect=201).json()
    assert imported["created"] == len(records(USE_CASES[template])) and imported["duplicates"] == 0
    owner.post(f"/projects/{project['id']}/batches", json={"kind": "production", "size": TASKS}, expect=201)
    return {**project, "imported": imported}


def label(tasker, project: dict, answer: Callable[[dict], dict],
          invalid: Callable[[dict], list[tuple[dict, str]]] = lambda inputs: []) -> int:
    """Claim until nothing is left. The first task first gets each invalid response (a 422 that names the
    field, the lease kept), then every task gets `answer(inputs)`, which every static check passes."""
    done = 0
    while True:
        claimed = tasker.post(f"/projects/{project['id']}/claim", expect=None)
        if claimed.status_code == 204:
            return done
        assert claimed.status_code == 200, claimed.text
        claim = claimed.json()
        url = f"/assignments/{claim['assignment_id']}/submit"
        for response, field in invalid(claim["inputs"]) if done == 0 else []:
            error = tasker.post(url, json={"response": response}, expect=422).json()
            assert error["field"] == field, (response, error)
            assert error["error"], error
        submitted = tasker.post(url, json={"response": answer(claim["inputs"])}).json()
        assert not submitted["sent_back"] and submitted["verdicts"], submitted
        assert all(v["verdict"] == "pass" for v in submitted["verdicts"]), submitted["verdicts"]
        done += 1


def review_and_export(reviewer, owner, project: dict, fix: Callable[[dict], dict],
                      bad_fix: tuple[dict, str]) -> tuple[dict, dict, list[dict]]:
    """Accept the first task Ready for Review, fix the second (a bad fix is a 422 naming the field) and
    export JSON; returns the accepted and fixed task rows and the export."""
    ready = reviewer.get(f"/projects/{project['id']}/tasks", params={"status": "ready_for_review"}).json()
    assert ready["total"] == TASKS
    accepted, fixed, _ = ready["items"]
    assert reviewer.post(f"/tasks/{accepted['id']}/review", json={"decision": "accept"}).json()["status"] == "completed"
    response, field = bad_fix
    error = reviewer.post(f"/tasks/{fixed['id']}/review", json={"decision": "fix", "response": response},
                          expect=422).json()
    assert error["field"] == field, error
    done = reviewer.post(f"/tasks/{fixed['id']}/review",
                         json={"decision": "fix", "response": fix(fixed["inputs"])}).json()
    assert done["status"] == "completed"
    exported = owner.get(f"/projects/{project['id']}/export", params={"format": "json"})
    assert exported.headers["content-type"].startswith("application/json")
    rows = exported.json()
    assert len(rows) == TASKS
    assert sorted(row["status"] for row in rows) == ["completed", "completed", "ready_for_review"]
    return accepted, fixed, rows


def by_id(rows: list[dict], key: str = "id") -> dict[str, dict]:
    return {row[key]: row for row in rows}


def test_templates_list_the_five_use_cases_with_prices_and_guidelines(apis):
    templates = {t["name"]: t for t in apis["olivia"].get("/templates").json()}
    assert set(USE_CASES) <= set(templates)
    for name, dataset in USE_CASES.items():
        template = templates[name]
        assert template["task_type"] == name and template["title"] and template["description"]
        assert 100 <= template["price_cents"] <= 400, "hosted products run $1–4 per task"
        assert template["overlap"] in (1, 2) and template["judges"] == ["static"]
        assert template["sample_dataset"] == dataset and (SAMPLES / dataset).is_file()
        guidelines = template["guidelines"]
        for heading in ("## What to do", "## Good example", "## Bad example", "## Edge cases"):
            assert heading in guidelines, (name, heading)
        assert guidelines.count("Why it is good") == 1 and guidelines.count("Why it is bad") == 1, name
    assert "a chart inside an infographic" in templates["classification"]["guidelines"].lower()
    assert "when in doubt: uncategorized" in templates["classification"]["guidelines"].lower()
    assert "equal totals" in templates["image_comparison"]["guidelines"].lower()
    assert "both queries are weak" in templates["query_selection"]["guidelines"].lower()
    assert apis["tom"].get("/templates").status_code == 200


def test_a_template_fills_only_what_the_request_leaves_out(apis):
    owner = apis["olivia"]
    made = owner.post("/projects", json={"name": "Cheaper", "template": "classification", "price_cents": 80,
                                         "overlap": 3}, expect=201).json()
    assert (made["task_type"], made["price_cents"], made["overlap"]) == ("classification", 80, 3)
    assert "## Edge cases" in made["guidelines"]
    names = [c["name"] for c in owner.get(f"/projects/{made['id']}/criteria").json()]
    assert names[-1] == "Consistent with the definitions" and "Subtype is right" in names
    error = owner.post("/projects", json={"name": "x", "template": "nope"}, expect=422).json()
    assert error["field"] == "template" and "query_selection" in error["error"]
    error = owner.post("/projects", json={"name": "x", "template": "classification", "task_type": "qa_generation"},
                       expect=422).json()
    assert error["field"] == "task_type"


# 1. Query selection ----------------------------------------------------------------------------------------

REASON = "The first one names the report and the year, so it singles this image out; the second is vague."


def test_query_selection_from_its_template(apis):
    owner, tom, tina, rey = apis["olivia"], apis["tom"], apis["tina"], apis["rey"]
    project = start(owner, "query_selection")
    assert project["imported"]["id_field"] == "image_id"
    assert project["imported"]["input_map"] == {n: n for n in ("image_link", "suggested_query_1", "suggested_query_2")}

    def invalid(inputs):
        return [
            ({"selected_query": "query_3", "selection_reason": REASON}, "selected_query"),
            ({"selection_reason": REASON}, "selected_query"),
            ({"selected_query": "query_1"}, "selection_reason"),
            ({"selected_query": "query_1", "selection_reason": "Less vague"}, "selection_reason"),
            ({"selected_query": "query_1", "selection_reason": words(61)}, "selection_reason"),
            ({"selected_query": "query_1", "selection_reason": inputs["suggested_query_1"]}, "selection_reason"),
            ({"selected_query": "query_1", "selection_reason": 42}, "selection_reason"),
            ({"selected_query": "query_1", "selection_reason": REASON, "confidence": 3}, "confidence"),
        ]

    def answer(inputs):
        return {"selected_query": "query_1", "selection_reason": REASON}

    assert label(tom, project, answer, invalid) == TASKS
    assert label(tina, project, answer) == TASKS          # overlap 2: a second opinion on every task
    accepted, fixed, rows = review_and_export(
        rey, owner, project,
        fix=lambda inputs: {"selected_query": "query_2", "selection_reason": "Shorter and closer to what a "
                                                                             "person would type for this image."},
        bad_fix=({"selected_query": "both", "selection_reason": REASON}, "selected_query"))

    sample = by_id(records("images_with_queries.json"), "image_id")
    for row in rows:
        assert set(row) == {"id", "image_link", "selected_query", "query", "selection_reason", "agreement",
                            "responses", "status"}
        assert row["image_link"] == sample[row["id"]]["image_link"] and row["responses"] == 2
    exported = by_id(rows)
    first = exported[accepted["ext_id"]]
    assert (first["selected_query"], first["selection_reason"], first["agreement"]) == ("query_1", REASON, 1.0)
    assert first["query"] == sample[accepted["ext_id"]]["suggested_query_1"]
    second = exported[fixed["ext_id"]]
    assert second["selected_query"] == "query_2" and second["query"] == sample[fixed["ext_id"]]["suggested_query_2"]


# 2. Search query generation --------------------------------------------------------------------------------

QUERY_1 = "which departments drove the rise in costs this year"
QUERY_2 = "annual cost breakdown a finance manager would bring to a budget review"


def test_query_generation_from_its_template(apis):
    owner, tom, rey = apis["olivia"], apis["tom"], apis["rey"]
    project = start(owner, "query_generation")
    assert (project["imported"]["id_field"], project["imported"]["input_map"]) == ("id", {"link": "link"})

    def invalid(inputs):
        return [
            ({"query_1": "costs dashboard", "query_2": QUERY_2}, "query_1"),
            ({"query_1": QUERY_1, "query_2": words(21)}, "query_2"),
            ({"query_1": QUERY_1, "query_2": QUERY_1.upper() + "!"}, "query_2"),
            ({"query_1": QUERY_1, "query_2": "  " + QUERY_1.replace(" ", "   ")}, "query_2"),
            ({"query_2": QUERY_2}, "query_1"),
            ({"query_1": QUERY_1, "query_2": ["a", "list"]}, "query_2"),
            ({"query_1": QUERY_1, "query_2": QUERY_2, "query_3": QUERY_2}, "query_3"),
        ]

    assert label(tom, project, lambda inputs: {"query_1": QUERY_1, "query_2": QUERY_2}, invalid) == TASKS
    better = {"query_1": "how costs changed across departments over the year",
              "query_2": "slide an analyst would use to explain spending to the board"}
    accepted, fixed, rows = review_and_export(
        rey, owner, project, fix=lambda inputs: better,
        bad_fix=({"query_1": better["query_1"], "query_2": better["query_1"]}, "query_2"))

    sample = by_id(records("image_links.json"))
    for row in rows:
        assert set(row) == {"id", "link", "query_1", "query_2", "agreement", "responses", "status"}
        assert row["link"] == sample[row["id"]]["link"] and row["responses"] == 1
    exported = by_id(rows)
    assert (exported[accepted["ext_id"]]["query_1"], exported[accepted["ext_id"]]["query_2"]) == (QUERY_1, QUERY_2)
    assert (exported[fixed["ext_id"]]["query_1"], exported[fixed["ext_id"]]["query_2"]) == (
        better["query_1"], better["query_2"])


# 3. Image classification -----------------------------------------------------------------------------------

def truth_answer(shown: str) -> dict:
    """The category each sample image was drawn as, with the task type's full subtype name. `shown` is the
    image as a claim gives it: the dataset's relative path, or the URL the server serves that path at."""
    image = next(r["id"] for r in records("image_links.json") if shown.endswith(r["link"]))
    truth = by_id(records("classification_truth.json"))[image]
    subtypes = ["technical", "categorization", "hierarchical/timeline", "product/user-manual"]
    subtype = next((s for s in subtypes if truth["subtype"] and s.startswith(truth["subtype"])), None)
    return {"label": truth["category"], "subtype": subtype,
            "explanation": f"The image's dominant purpose is that of {truth['category']}."}


def test_classification_from_its_template(apis):
    owner, tom, tina, rey = apis["olivia"], apis["tom"], apis["tina"], apis["rey"]
    project = start(owner, "classification")
    assert (project["imported"]["id_field"], project["imported"]["input_map"]) == ("id", {"image": "link"})

    def invalid(inputs):
        return [
            ({"label": "Diagrams"}, "subtype"),
            ({"label": "Diagrams", "subtype": "flowchart"}, "subtype"),
            ({"label": "Infographics", "subtype": "technical"}, "subtype"),
            ({"label": "Cats"}, "label"),
            ({"subtype": "technical"}, "label"),
            ({"label": "Graphs and Charts", "explanation": words(201)}, "explanation"),
        ]

    assert label(tom, project, lambda inputs: truth_answer(inputs["image"]), invalid) == TASKS
    assert label(tina, project, lambda inputs: truth_answer(inputs["image"])) == TASKS
    diagram = {"label": "Diagrams", "subtype": "technical", "explanation": "A system drawing of parts and links."}
    accepted, fixed, rows = review_and_export(rey, owner, project, fix=lambda inputs: diagram,
                                              bad_fix=({"label": "Diagrams"}, "subtype"))

    sample = by_id(records("image_links.json"))
    for row in rows:
        assert set(row) == {"id", "image", "label", "subtype", "agreement", "responses", "status"}
        assert row["image"] == sample[row["id"]]["link"] and row["responses"] == 2
    exported = by_id(rows)
    expected = truth_answer(sample[accepted["ext_id"]]["link"])
    first = exported[accepted["ext_id"]]
    assert (first["label"], first["subtype"], first["agreement"]) == (expected["label"], expected["subtype"], 1.0)
    second = exported[fixed["ext_id"]]
    assert (second["label"], second["subtype"]) == ("Diagrams", "technical")


# 4. Image question–answer generation -----------------------------------------------------------------------

QUESTION = "What does this image show about the report's main trend?"
ANSWER = "It shows how the figures change over the period the report covers."


def test_qa_generation_from_its_template(apis):
    owner, tom, rey = apis["olivia"], apis["tom"], apis["rey"]
    project = start(owner, "qa_generation")
    assert project["imported"]["input_map"] == {"link": "link"}

    def invalid(inputs):
        return [
            ({"question_type": "Trivia", "question": QUESTION, "answer": ANSWER}, "question_type"),
            ({"question": QUESTION, "answer": ANSWER}, "question_type"),
            ({"question_type": "Lookup", "question": "What is shown?", "answer": ANSWER}, "question"),
            ({"question_type": "Lookup", "question": words(41), "answer": ANSWER}, "question"),
            ({"question_type": "Lookup", "question": QUESTION, "answer": "  "}, "answer"),
            ({"question_type": "Lookup", "question": QUESTION, "answer": words(101)}, "answer"),
            ({"question_type": "Lookup", "question": QUESTION, "answer": QUESTION.lower()}, "answer"),
        ]

    answer = {"question_type": "summarization", "question": QUESTION, "answer": ANSWER}
    assert label(tom, project, lambda inputs: answer, invalid) == TASKS
    lookup = {"question_type": "lookup", "question": "What is the title printed at the top?",
              "answer": "Costs report 2015"}
    accepted, fixed, rows = review_and_export(
        rey, owner, project, fix=lambda inputs: lookup,
        bad_fix=({**lookup, "question": "Title?"}, "question"))

    sample = by_id(records("image_links.json"))
    for row in rows:
        assert set(row) == {"id", "link", "question_type", "question", "answer", "agreement", "responses", "status"}
        assert row["link"] == sample[row["id"]]["link"]
        assert row["question_type"] in ("Lookup", "Summarization", "Analytical")
    exported = by_id(rows)
    first = exported[accepted["ext_id"]]
    assert (first["question_type"], first["question"], first["answer"]) == ("Summarization", QUESTION, ANSWER)
    second = exported[fixed["ext_id"]]
    assert (second["question_type"], second["answer"]) == ("Lookup", "Costs report 2015")


# 5. Pairwise image comparison ------------------------------------------------------------------------------

METRICS = ("title_labelling", "grammar_language", "process_clarity", "standalone_understanding", "visual_design",
           "completeness")
SCORES = [f"image_{n}_{m}" for n in (1, 2) for m in METRICS]


def scored(first=(5, 4, 4, 3, 5, 4), second=(3, 4, 2, 3, 3, 4), **rest) -> dict:
    """Image 1 totals 25 and image 2 totals 19 by default; image 1 wins."""
    scores = dict(zip(SCORES, (*first, *second)))
    return {**scores, "winner": "image_1", "winner_title": "Quarterly costs by department",
            "reasoning": "Image 1 is titled and labelled and shows every step in order.", **rest}


def test_image_comparison_from_its_template(apis):
    owner, tom, rey = apis["olivia"], apis["tom"], apis["rey"]
    project = start(owner, "image_comparison")
    assert project["imported"]["id_field"] == "pair_id"
    assert project["imported"]["input_map"] == {"image_1": "image_1", "image_2": "image_2"}

    def invalid(inputs):
        missing = scored()
        del missing["image_1_grammar_language"]
        return [
            (scored(image_1_title_labelling=6), "image_1_title_labelling"),
            (scored(image_2_completeness=-1), "image_2_completeness"),
            (scored(image_2_visual_design="5"), "image_2_visual_design"),
            (missing, "image_1_grammar_language"),
            (scored(winner="image_2"), "winner"),                        # lower total
            (scored(winner="both"), "winner"),
            (scored(total_1=30), "total_1"),                             # not what the scores add up to
            (scored(tie_break="image_1", tie_break_basis="preference"), "tie_break"),   # totals differ
            (scored(second=(5, 4, 4, 3, 5, 4)), "tie_break"),            # equal totals, no tie-break
            (scored(second=(5, 4, 4, 3, 5, 4), tie_break="image_1"), "tie_break_basis"),
            (scored(second=(5, 4, 4, 3, 5, 4), tie_break="image_2", tie_break_basis="preference"), "winner"),
            (scored(winner_title="Chart"), "winner_title"),
            (scored(reasoning="Better."), "reasoning"),
            (scored(image_3_title_labelling=4), "image_3_title_labelling"),
        ]

    assert label(tom, project, lambda inputs: scored(), invalid) == TASKS
    tie = scored(second=(5, 4, 4, 3, 5, 4), winner="image_2", tie_break="image_2", tie_break_basis="preference",
                 winner_title="Onboarding steps at a glance",
                 reasoning="Equal totals; image 2 reads more easily, so it wins the tie.")
    accepted, fixed, rows = review_and_export(rey, owner, project, fix=lambda inputs: tie,
                                              bad_fix=(scored(image_1_process_clarity=9), "image_1_process_clarity"))

    sample = by_id(records("images_to_compare.json"), "pair_id")
    for row in rows:
        assert set(row) == {"pair_id", "image_1", "image_2", *SCORES, "total_1", "total_2", "winner",
                            "winner_title", "agreement", "responses", "status"}
        assert (row["image_1"], row["image_2"]) == (sample[row["pair_id"]]["image_1"], sample[row["pair_id"]]["image_2"])
        assert row["total_1"] == sum(row[f"image_1_{m}"] for m in METRICS)
        assert row["total_2"] == sum(row[f"image_2_{m}"] for m in METRICS)
        assert all(0 <= row[name] <= 5 for name in SCORES)
        if row["total_1"] != row["total_2"]:
            assert row["winner"] == ("image_1" if row["total_1"] > row["total_2"] else "image_2")
    exported = by_id(rows, "pair_id")
    first = exported[accepted["ext_id"]]
    assert (first["total_1"], first["total_2"], first["winner"]) == (25, 19, "image_1")
    assert first["winner_title"] == "Quarterly costs by department"
    second = exported[fixed["ext_id"]]
    assert (second["total_1"], second["total_2"], second["winner"]) == (25, 25, "image_2")
    assert second["winner_title"] == "Onboarding steps at a glance"


@pytest.mark.parametrize("template", sorted(USE_CASES))
def test_a_tasker_sees_the_inputs_of_the_sample_item(apis, template):
    """The claim hands the tasker the sample record's fields under the task type's input names."""
    owner, tom = apis["olivia"], apis["tom"]
    project = start(owner, template)
    claim = tom.post(f"/projects/{project['id']}/claim").json()
    names = [e["name"] for e in project["inputs"]]
    assert list(claim["inputs"]) == names
    images = [claim["inputs"][e["name"]] for e in project["inputs"] if e.get("type") == "IMAGE"]
    assert images and all(re.search(r"(^|/)images/img-\d{3}\.png$", i) for i in images), images
