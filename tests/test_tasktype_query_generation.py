"""The query-generation task type: entities, validation, criteria, scoring, agreement, aggregation, export and form."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest

from plugins.judges.static import StaticJudge
from plugins.tasktypes.query_generation import QueryGeneration
from server.core.imports import detect
from server.plugin_types import JudgeRequest, ResponseInvalid, TaskView

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples"
TEMPLATES = Path(__file__).resolve().parents[1] / "plugins" / "tasktypes" / "templates"
RECORDS = json.loads((SAMPLES / "image_links.json").read_text())

TYPE = QueryGeneration()
OPTIONS = TYPE.parse_options({})
RECORD = RECORDS[0]
TASK = TaskView(id=1, ext_id=RECORD["id"], inputs={"link": RECORD["link"]}, data=RECORD)
Q1 = "quarterly cost overview for the finance team"
Q2 = "what a controller checks before the budget review"


def check(raw: dict):
    return TYPE.validate(OPTIONS, TASK, TYPE.decode(raw))


def test_input_is_the_sample_datasets_link():
    assert [(e.name, e.type) for e in TYPE.inputs(OPTIONS)] == [("link", "IMAGE")]
    assert "link" in RECORD
    detection = detect(enumerate(RECORDS, 1), TYPE.inputs(OPTIONS))
    assert (detection.input_map, detection.id_field) == ({"link": "link"}, "id")


def test_outputs_are_two_texts_with_word_limits():
    assert [(e.name, e.type, e.min_words, e.max_words) for e in TYPE.outputs(OPTIONS)] == [
        ("query_1", "text", 3, 20), ("query_2", "text", 3, 20),
    ]
    options = TYPE.parse_options({"min_words": 2, "max_words": 8})
    assert [(e.min_words, e.max_words) for e in TYPE.outputs(options)] == [(2, 8), (2, 8)]
    with pytest.raises(ResponseInvalid) as caught:
        TYPE.parse_options({"min_words": 5, "max_words": 4})
    assert caught.value.field == "options.max_words"


def test_valid_response_is_normalised():
    response = check({"query_1": f"  {Q1} ", "query_2": Q2.replace(" ", "  \n")})
    assert (response.query_1, response.query_2) == (Q1, Q2)


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"query_2": Q2}, "query_1", "is required (3 to 20 words)"),
        ({"query_1": "dashboard", "query_2": Q2}, "query_1", "has 1 word; at least 3 required"),
        ({"query_1": Q1, "query_2": "sales"}, "query_2", "has 1 word; at least 3 required"),
        ({"query_1": Q1, "query_2": "word " * 21}, "query_2", "has 21 words; at most 20 allowed"),
        ({"query_1": Q1, "query_2": Q1.upper()}, "query_2", "must differ from query_1"),
        ({"query_1": Q1, "query_2": f"  {Q1.title()}?!"}, "query_2", "must differ from query_1"),
        ({"query_1": Q1, "query_2": ["a", "list"]}, "query_2", "Expected `str`"),
        ({"query_1": Q1, "query_2": Q2, "query_3": Q2}, "query_3", "unknown field"),
    ],
)
def test_invalid_response_names_the_field(raw, field, words):
    with pytest.raises(ResponseInvalid) as caught:
        check(raw)
    assert caught.value.field == field
    assert words in caught.value.message


def test_default_criteria_static_where_a_rule_decides():
    criteria = TYPE.default_criteria(OPTIONS)
    assert [c.name for c in criteria] == [
        "Word count", "Two distinct queries", "Implicit style", "Naturalness", "Specificity balance",
        "Different angles",
    ]
    assert [bool(c.checks) for c in criteria] == [True, True, False, False, False, False]
    assert all(bool(c.checks) != bool(c.rule) for c in criteria)      # a check decides, or a model judges
    assert criteria[-1].severity == "advisory"


@pytest.mark.parametrize(
    "response",
    [
        {"query_1": Q1, "query_2": Q2},
        {"query_1": Q1, "query_2": Q1.upper()},
        {"query_1": "too short", "query_2": Q2},
        {"query_1": "word " * 25, "query_2": "word " * 25},
        {"query_1": Q1},
        {},
    ],
)
def test_score_is_the_share_of_static_criteria_the_static_judge_passes(response):
    criteria = TYPE.default_criteria(OPTIONS)
    request = JudgeRequest(project_name="p", description="", guidelines="", criteria=criteria, task=TASK,
                           response=response)
    verdicts = StaticJudge().judge(request)
    share = sum(v.verdict == "pass" for v in verdicts) / len(verdicts)
    assert TYPE.score(OPTIONS, response, {"query_1": "anything", "query_2": "else"}) == share


def test_score_known_values():
    assert TYPE.score(OPTIONS, {"query_1": Q1, "query_2": Q2}, {}) == 1.0
    assert TYPE.score(OPTIONS, {"query_1": Q1, "query_2": Q1}, {}) == 0.5      # word count passes, distinct fails
    assert TYPE.score(OPTIONS, {"query_1": "a b", "query_2": "a b"}, {}) == 0.0


def test_agreement_is_token_jaccard_paired_either_way():
    a = {"query_1": "sales by region", "query_2": "monthly revenue trend"}
    assert TYPE.agreement(OPTIONS, a, a) == 1.0
    swapped = {"query_1": a["query_2"], "query_2": a["query_1"]}
    assert TYPE.agreement(OPTIONS, a, swapped) == 1.0
    # J("sales by region", "sales by country") = 2/4; J("monthly revenue trend", "weekly cost chart") = 0
    b = {"query_1": "weekly cost chart", "query_2": "Sales by country"}
    assert TYPE.agreement(OPTIONS, a, b) == TYPE.agreement(OPTIONS, b, a) == 0.25
    assert TYPE.agreement(OPTIONS, a, {"query_1": "x y z", "query_2": "u v w"}) == 0.0


def test_aggregate_picks_the_most_central_response():
    responses = [
        {"query_1": "sales by region", "query_2": "monthly revenue trend"},
        {"query_1": "a b c", "query_2": "d e f"},
        {"query_1": "sales by region", "query_2": "monthly revenue chart"},
    ]
    # agreements: r0-r1 0, r0-r2 (1 + 2/4) / 2 = 0.75, r1-r2 0 -> means 0.375, 0, 0.375: the first wins the tie
    assert TYPE.aggregate(OPTIONS, responses) == {**responses[0], "agreement": 0.375}
    assert TYPE.aggregate(OPTIONS, responses[1:2]) == {**responses[1], "agreement": 1.0}
    assert TYPE.aggregate(OPTIONS, []) is None


def test_export_row():
    responses = [{"query_1": Q1, "query_2": Q2}]
    row = TYPE.export_row(OPTIONS, TASK, responses, TYPE.aggregate(OPTIONS, responses))
    assert row == {"id": "IMG001", "link": "images/img-001.png", "query_1": Q1, "query_2": Q2, "agreement": 1.0,
                   "responses": 1}
    assert TYPE.export_row(OPTIONS, TASK, [], None)["query_1"] is None


class _Form(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.controls: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in ("input", "textarea", "img", "span"):
            self.controls.append({"tag": tag, **dict(attrs)})


def render(previous=None) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template(TYPE.template).render(inputs=TASK.inputs, options=OPTIONS,
                                                  outputs=TYPE.outputs(OPTIONS), previous=previous)


def test_form_shows_the_image_then_two_counted_text_inputs():
    html = render()
    form = _Form(html)
    assert form.controls[0]["src"] == "images/img-001.png"
    inputs = [c for c in form.controls if c["tag"] == "input"]
    assert [(c["name"], c["type"], c["value"], c["data-min-words"], c["data-max-words"]) for c in inputs] == [
        ("query_1", "text", "", "3", "20"), ("query_2", "text", "", "3", "20"),
    ]
    counters = [c["data-count-for"] for c in form.controls if "data-count-for" in c]
    assert counters == [c["id"] for c in inputs]
    assert '"dashboard" alone fails' in html


def test_form_prefills_a_previous_response_escaped():
    html = render({"query_1": 'sales "by" <region>', "query_2": Q2})
    values = {c["name"]: c["value"] for c in _Form(html).controls if c["tag"] == "input"}
    assert values == {"query_1": 'sales "by" <region>', "query_2": Q2}
    assert "<region>" not in html
