"""The query-selection task type: entities, validation, criteria, scoring, aggregation, export and its form."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest

from plugins.judges.static import StaticJudge
from plugins.tasktypes.query_selection import QuerySelection
from server.core.imports import detect
from server.plugin_types import JudgeRequest, ResponseInvalid, TaskView

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples"
TEMPLATES = Path(__file__).resolve().parents[1] / "plugins" / "tasktypes" / "templates"
RECORDS = json.loads((SAMPLES / "images_with_queries.json").read_text())

TYPE = QuerySelection()
OPTIONS = TYPE.parse_options({})
RECORD = RECORDS[0]
TASK = TaskView(id=1, ext_id=RECORD["image_id"], inputs={e.name: RECORD[e.name] for e in TYPE.inputs(OPTIONS)},
                data=RECORD)
REASON = "It names the report and the year, which sets this chart apart from similar ones"


def check(raw: dict):
    return TYPE.validate(OPTIONS, TASK, TYPE.decode(raw))


def test_inputs_are_named_like_the_sample_dataset_and_detected_by_name():
    names = [e.name for e in TYPE.inputs(OPTIONS)]
    assert names == ["image_link", "suggested_query_1", "suggested_query_2"]
    assert [e.type for e in TYPE.inputs(OPTIONS)] == ["IMAGE", "TEXT", "TEXT"]
    assert set(names) <= set(RECORD)
    detection = detect(enumerate(RECORDS, 1), TYPE.inputs(OPTIONS))
    assert detection.input_map == {name: name for name in names}
    assert detection.unmapped == []


def test_outputs_and_options():
    selected, reason = TYPE.outputs(OPTIONS)
    assert (selected.name, selected.type, selected.choices) == ("selected_query", "single_choice", ["query_1", "query_2"])
    assert (reason.name, reason.type, reason.min_words, reason.max_words) == ("selection_reason", "text", 5, 60)
    assert TYPE.outputs(TYPE.parse_options({"reason_min_words": 2, "reason_max_words": 9}))[1].max_words == 9


@pytest.mark.parametrize(
    ("raw", "field"),
    [({"reason_min_words": 0}, "options.reason_min_words"),
     ({"reason_min_words": 10, "reason_max_words": 5}, "options.reason_max_words"),
     ({"words": 3}, "words")],
)
def test_bad_options_name_the_option(raw, field):
    with pytest.raises(ResponseInvalid) as caught:
        TYPE.parse_options(raw)
    assert caught.value.field == field


def test_valid_response_is_normalised():
    response = check({"selected_query": " query_1 ", "selection_reason": f"  {REASON}\n"})
    assert (response.selected_query, response.selection_reason) == ("query_1", REASON)


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"selected_query": "query_3", "selection_reason": REASON}, "selected_query", "must be one of: query_1, query_2"),
        ({"selection_reason": REASON}, "selected_query", "must be one of"),
        ({"selected_query": "query_1"}, "selection_reason", "is required"),
        ({"selected_query": "query_1", "selection_reason": "Names the year"}, "selection_reason",
         "has 3 words; at least 5 required"),
        ({"selected_query": "query_1", "selection_reason": "word " * 61}, "selection_reason",
         "has 61 words; at most 60 allowed"),
        ({"selected_query": "query_1", "selection_reason": "find the Costs Report 2015, graphs and charts!"},
         "selection_reason", "only repeats query_1"),
        ({"selected_query": "query_2", "selection_reason": "Show me a graphs and charts ..."},
         "selection_reason", "only repeats query_2"),
        ({"selected_query": 1, "selection_reason": REASON}, "selected_query", "Expected `str`"),
        ({"selected_query": "query_1", "selection_reason": REASON, "confidence": 1}, "confidence", "unknown field"),
    ],
)
def test_invalid_response_names_the_field(raw, field, words):
    with pytest.raises(ResponseInvalid) as caught:
        check(raw)
    assert caught.value.field == field
    assert words in caught.value.message


def test_default_criteria_split_static_checks_from_rules_and_the_static_judge_runs_them():
    criteria = TYPE.default_criteria(OPTIONS)
    static = [c for c in criteria if c.checks]
    assert {c.name for c in static} == {"Reason given", "Reason does not repeat query 1", "Reason does not repeat query 2"}
    assert all(bool(c.checks) != bool(c.rule) for c in criteria)      # a check decides, or a model judges
    assert {c.severity for c in criteria} == {"blocking", "advisory"}

    def verdicts(response):
        request = JudgeRequest(project_name="p", description="", guidelines="", criteria=criteria, task=TASK,
                               response=response)
        return {v.criterion: v.verdict for v in StaticJudge().judge(request)}

    good = {"selected_query": "query_1", "selection_reason": REASON}
    assert set(verdicts(good).values()) == {"pass"}
    copied = {"selected_query": "query_1", "selection_reason": f"Because {RECORD['suggested_query_1']} is specific"}
    assert verdicts(copied)["Reason does not repeat query 1"] == "fail"
    assert verdicts({"selected_query": "query_1", "selection_reason": "short"})["Reason given"] == "fail"


@pytest.mark.parametrize(
    ("response", "expected", "score"),
    [
        ({"selected_query": "query_1", "selection_reason": "a"}, {"selected_query": "query_1", "selection_reason": "b"}, 1.0),
        ({"selected_query": "query_2"}, {"selected_query": "query_1"}, 0.0),
        ({}, {}, 0.0),
    ],
)
def test_score_and_agreement_are_exact_on_the_selected_query(response, expected, score):
    assert TYPE.score(OPTIONS, response, expected) == score
    assert TYPE.agreement(OPTIONS, response, expected) == TYPE.agreement(OPTIONS, expected, response) == score


def test_aggregate_is_the_majority_with_votes_and_its_share():
    responses = [
        {"selected_query": "query_2", "selection_reason": "first for two"},
        {"selected_query": "query_1", "selection_reason": "first for one"},
        {"selected_query": "query_2", "selection_reason": "second for two"},
        {"selected_query": "query_2", "selection_reason": "third for two"},
    ]
    assert TYPE.aggregate(OPTIONS, responses) == {
        "selected_query": "query_2", "selection_reason": "first for two",
        "votes": {"query_2": 3, "query_1": 1}, "agreement": 0.75,
    }
    assert TYPE.aggregate(OPTIONS, responses[:2])["selected_query"] == "query_2"   # a tie goes to the first seen
    assert TYPE.aggregate(OPTIONS, []) is None


def test_export_row_pairs_the_image_with_the_chosen_query_and_reason():
    responses = [{"selected_query": "query_1", "selection_reason": REASON}] * 2
    row = TYPE.export_row(OPTIONS, TASK, responses, TYPE.aggregate(OPTIONS, responses))
    assert row == {
        "id": "IMG001", "image_link": "images/img-001.png", "selected_query": "query_1",
        "query": RECORD["suggested_query_1"], "selection_reason": REASON, "agreement": 1.0, "responses": 2,
    }
    fixed = TYPE.export_row(OPTIONS, TASK, responses, {"selected_query": "query_2", "selection_reason": REASON})
    assert (fixed["query"], fixed["agreement"]) == (RECORD["suggested_query_2"], None)
    unlabeled = TYPE.export_row(OPTIONS, TASK, [], None)
    assert (unlabeled["selected_query"], unlabeled["query"], unlabeled["responses"]) == (None, None, 0)


class _Form(HTMLParser):
    """The form controls and textarea contents of a rendered fragment."""

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


def test_form_shows_the_image_first_and_the_two_queries_as_number_keyed_cards():
    html = render()
    form = _Form(html)
    assert form.controls[0] == {"tag": "img", "src": "images/img-001.png", "alt": "task image"}
    radios = [c for c in form.controls if c.get("name") == "selected_query"]
    assert [(c["value"], c["data-shortcut"]) for c in radios] == [("query_1", "1"), ("query_2", "2")]
    assert not any("checked" in c for c in radios)
    assert html.index(RECORD["suggested_query_1"]) < html.index(RECORD["suggested_query_2"])
    assert form.texts == {"selection_reason": ""}
    assert "not over-specific" in html and "natural and grammatical" in html


def test_form_prefills_a_previous_response_escaped():
    previous = {"selected_query": "query_2", "selection_reason": "it is <b>vague</b> & short"}
    html = render(previous)
    form = _Form(html)
    assert [(c["name"], c["value"]) for c in form.controls if "checked" in c] == [("selected_query", "query_2")]
    assert form.texts["selection_reason"] == "it is <b>vague</b> & short"
    assert "<b>vague" not in html
