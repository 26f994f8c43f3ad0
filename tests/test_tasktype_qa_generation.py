"""The image question–answer task type: entities, validation, criteria, scoring, agreement, aggregation, export, form."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest

from plugins.judges.static import StaticJudge
from plugins.tasktypes.qa_generation import QaGeneration
from server.core.imports import detect
from server.plugin_types import JudgeRequest, ResponseInvalid, TaskView

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples"
TEMPLATES = Path(__file__).resolve().parents[1] / "plugins" / "tasktypes" / "templates"
RECORDS = json.loads((SAMPLES / "image_links.json").read_text())

TYPE = QaGeneration()
OPTIONS = TYPE.parse_options({})
RECORD = RECORDS[0]
TASK = TaskView(id=1, ext_id=RECORD["id"], inputs={"link": RECORD["link"]}, data=RECORD)
GOOD = {"question_type": "Lookup", "question": "What were the total costs in March?", "answer": "About 4,200 dollars"}


def check(raw: dict):
    return TYPE.validate(OPTIONS, TASK, TYPE.decode(raw))


def test_input_is_the_sample_datasets_link():
    assert [(e.name, e.type) for e in TYPE.inputs(OPTIONS)] == [("link", "IMAGE")]
    assert "link" in RECORD
    assert detect(enumerate(RECORDS, 1), TYPE.inputs(OPTIONS)).input_map == {"link": "link"}


def test_outputs():
    question_type, question, answer = TYPE.outputs(OPTIONS)
    assert (question_type.name, question_type.type, question_type.choices) == (
        "question_type", "single_choice", ["Lookup", "Summarization", "Analytical"])
    assert (question.name, question.type, question.min_words, question.max_words) == ("question", "text", 4, 40)
    assert (answer.name, answer.type, answer.min_words, answer.max_words) == ("answer", "text", 1, 100)
    with pytest.raises(ResponseInvalid) as caught:
        TYPE.parse_options({"answer_min_words": 3, "answer_max_words": 2})
    assert caught.value.field == "options.answer_max_words"


def test_valid_response_is_normalised():
    response = check({"question_type": " analytical ", "question": "  How much did costs grow from Q1 to Q2? ",
                      "answer": "42\n"})
    assert (response.question_type, response.question, response.answer) == (
        "Analytical", "How much did costs grow from Q1 to Q2?", "42")
    assert check(GOOD).question_type == "Lookup"


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({**GOOD, "question_type": "Trivia"}, "question_type", "must be one of: Lookup, Summarization, Analytical"),
        ({"question": GOOD["question"], "answer": "x"}, "question_type", "must be one of"),
        ({**GOOD, "question": ""}, "question", "is required (4 to 40 words)"),
        ({**GOOD, "question": "Costs in March?"}, "question", "has 3 words; at least 4 required"),
        ({**GOOD, "question": "why " * 41}, "question", "has 41 words; at most 40 allowed"),
        ({**GOOD, "answer": "  "}, "answer", "is required (1 to 100 words)"),
        ({**GOOD, "answer": "many " * 101}, "answer", "has 101 words; at most 100 allowed"),
        ({**GOOD, "answer": "what were the TOTAL costs in march"}, "answer", "only repeats the question"),
        ({**GOOD, "answer": 42}, "answer", "Expected `str`"),
        ({**GOOD, "source": "chart"}, "source", "unknown field"),
    ],
)
def test_invalid_response_names_the_field(raw, field, words):
    with pytest.raises(ResponseInvalid) as caught:
        check(raw)
    assert caught.value.field == field
    assert words in caught.value.message


def test_default_criteria_static_where_a_rule_decides():
    criteria = TYPE.default_criteria(OPTIONS)
    assert all(bool(c.checks) != bool(c.rule) for c in criteria)      # a check decides, or a model judges
    assert [(c.name, bool(c.checks)) for c in criteria] == [
        ("Question and answer within word limits", True), ("Answer does not repeat the question", True),
        ("Type matches the question", False), ("Relevant to the image", False), ("Clear and correct", False),
    ]
    assert "Analytical: calculate, infer or reason" in criteria[2].rule


@pytest.mark.parametrize(
    "response",
    [GOOD, {**GOOD, "answer": GOOD["question"]}, {**GOOD, "question": "Costs?"}, {"question_type": "Lookup"}, {}],
)
def test_static_parts_of_the_score_agree_with_the_static_judge(response):
    criteria = TYPE.default_criteria(OPTIONS)
    request = JudgeRequest(project_name="p", description="", guidelines="", criteria=criteria, task=TASK,
                           response=response)
    verdicts = StaticJudge().judge(request)
    share = sum(v.verdict == "pass" for v in verdicts) / len(verdicts)
    assert TYPE.score(OPTIONS, response, {}) == share     # no expected type: the static parts only


@pytest.mark.parametrize(
    ("response", "score"),
    [
        (GOOD, 1.0),
        ({**GOOD, "question_type": "Analytical"}, 2 / 3),
        ({**GOOD, "answer": GOOD["question"]}, 2 / 3),
        ({**GOOD, "question_type": "Summarization", "question": "Costs?"}, 1 / 3),
        ({}, 0.0),
    ],
)
def test_score_counts_the_type_as_one_part(response, score):
    expected = {"question_type": "Lookup", "question": "something else entirely", "answer": "no"}
    assert TYPE.score(OPTIONS, response, expected) == pytest.approx(score)


def test_agreement_is_half_type_and_a_quarter_each_question_and_answer_jaccard():
    assert TYPE.agreement(OPTIONS, GOOD, GOOD) == 1.0
    other = {"question_type": "Lookup", "question": "What were the costs in April?", "answer": "About 4,200 euros"}
    # questions share {what, were, the, costs, in} of 8 tokens; answers share {about, 4, 200} of 5
    expected = 0.5 + 0.25 * 5 / 8 + 0.25 * 3 / 5
    assert TYPE.agreement(OPTIONS, GOOD, other) == TYPE.agreement(OPTIONS, other, GOOD) == pytest.approx(expected)
    assert TYPE.agreement(OPTIONS, GOOD, {**GOOD, "question_type": "Analytical"}) == 0.5
    assert TYPE.agreement(OPTIONS, {}, {}) == 0.5      # no type given: no credit for it; empty texts agree


def test_aggregate_picks_the_most_central_response():
    responses = [
        {"question_type": "Analytical", "question": "a b c d", "answer": "x"},
        {"question_type": "Lookup", "question": "a b c d", "answer": "x"},
        {"question_type": "Lookup", "question": "a b c e", "answer": "x"},
    ]
    # r0-r1 = 0 + 0.25 + 0.25 = 0.5; r0-r2 = 0 + 0.25 * 3/5 + 0.25 = 0.4; r1-r2 = 0.5 + 0.15 + 0.25 = 0.9
    # mean agreement with the others: r0 0.45, r1 0.7, r2 0.65
    assert TYPE.aggregate(OPTIONS, responses) == {**responses[1], "agreement": 0.7}
    assert TYPE.aggregate(OPTIONS, [GOOD]) == {**GOOD, "agreement": 1.0}
    assert TYPE.aggregate(OPTIONS, []) is None


def test_export_row():
    row = TYPE.export_row(OPTIONS, TASK, [GOOD], TYPE.aggregate(OPTIONS, [GOOD]))
    assert row == {"id": "IMG001", "link": "images/img-001.png", **GOOD, "agreement": 1.0, "responses": 1}
    assert TYPE.export_row(OPTIONS, TASK, [], None)["question"] is None


class _Form(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.controls: list[dict] = []
        self.texts: dict[str, str] = {}
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in ("input", "textarea", "img"):
            self.controls.append({"tag": tag, **dict(attrs)})
        if tag == "textarea":
            self._textarea = dict(attrs)["name"]
            self.texts[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.texts[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def render(previous=None) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template(TYPE.template).render(inputs=TASK.inputs, options=OPTIONS,
                                                  outputs=TYPE.outputs(OPTIONS), previous=previous)


def test_form_shows_the_image_beside_number_keyed_types_then_question_and_answer():
    html = render()
    form = _Form(html)
    assert form.controls[0]["src"] == "images/img-001.png"
    radios = [c for c in form.controls if c.get("name") == "question_type"]
    assert [(c["value"], c["data-shortcut"]) for c in radios] == [
        ("Lookup", "1"), ("Summarization", "2"), ("Analytical", "3")]
    assert form.texts == {"question": "", "answer": ""}
    areas = {c["name"]: (c["data-min-words"], c["data-max-words"]) for c in form.controls if c["tag"] == "textarea"}
    assert areas == {"question": ("4", "40"), "answer": ("1", "100")}
    assert "directly visible" in html


def test_form_prefills_a_previous_response_escaped():
    previous = {"question_type": "Summarization", "question": "What does <this> show?", "answer": "costs & sales"}
    html = render(previous)
    form = _Form(html)
    assert [(c["name"], c["value"]) for c in form.controls if "checked" in c] == [("question_type", "Summarization")]
    assert form.texts == {"question": "What does <this> show?", "answer": "costs & sales"}
    assert "<this>" not in html
