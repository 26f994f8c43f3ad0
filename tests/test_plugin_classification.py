"""The image-classification task type: options, validation, scoring, aggregation, export and its form."""

from __future__ import annotations

from html.parser import HTMLParser

import jinja2
import pytest

from plugins.tasktypes.classification import Classification, quorum_template_dirs
from server.plugin_types import ResponseInvalid, TaskView

TYPE = Classification()
OPTIONS = TYPE.parse_options({})
TASK = TaskView(id=1, ext_id="IMG002", inputs={"image": "images/img-002.png"}, data={})


def check(raw: dict):
    return TYPE.validate(OPTIONS, TASK, TYPE.decode(raw))


def test_default_options_are_the_six_categories_with_diagram_subtypes():
    assert OPTIONS.classes == [
        "Graphs and Charts", "Diagrams", "Data and Process Flow",
        "Infographics", "Multi-Figure Images", "Uncategorized",
    ]
    assert OPTIONS.subtypes == {
        "Diagrams": ["technical", "categorization", "hierarchical/timeline", "product/user-manual"],
    }


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"classes": ["Only"]}, "options.classes", "at least two"),
        ({"classes": ["A", "B", "A"]}, "options.classes", "repeated: A"),
        ({"classes": ["A", " "]}, "options.classes", "blank"),
        ({"classes": ["A", "B"], "subtypes": {"C": ["x"]}}, "options.subtypes", "'C' is not one of the classes"),
        ({"classes": ["A", "B"], "subtypes": {"A": []}}, "options.subtypes", "at least one subtype"),
        ({"classes": "A,B"}, "classes", "Expected `array`"),
        ({"colours": ["red"]}, "colours", "unknown field"),
    ],
)
def test_bad_options_name_the_option(raw, field, words):
    with pytest.raises(ResponseInvalid) as caught:
        TYPE.parse_options(raw)
    assert caught.value.field == field
    assert words in caught.value.message


def test_entities_follow_the_options():
    options = TYPE.parse_options({"classes": ["Cat", "Dog", "Bird"], "subtypes": {"Dog": ["puppy", "adult"]}, "image_field": "photo"})
    assert [(e.name, e.type) for e in TYPE.inputs(options)] == [("photo", "IMAGE")]
    label, subtype, explanation = TYPE.outputs(options)
    assert (label.name, label.type, label.required, label.choices) == ("label", "single_choice", True, ["Cat", "Dog", "Bird"])
    assert (subtype.name, subtype.required, subtype.choices) == ("subtype", False, ["puppy", "adult"])
    assert (explanation.name, explanation.type, explanation.required, explanation.max_words) == ("explanation", "text", False, 200)
    without = TYPE.parse_options({"explanation": False})
    assert "explanation" not in [e.name for e in TYPE.outputs(without)]


def test_valid_response_is_normalised():
    response = check({"label": " Diagrams ", "subtype": " technical\n", "explanation": "  a flow of boxes  "})
    assert (response.label, response.subtype, response.explanation) == ("Diagrams", "technical", "a flow of boxes")
    assert check({"label": "Infographics", "subtype": ""}).subtype is None


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"label": "Photo"}, "label", "must be one of: Graphs and Charts, Diagrams"),
        ({"label": "Diagrams"}, "subtype", "required for Diagrams"),
        ({"label": "Diagrams", "subtype": "  "}, "subtype", "required for Diagrams"),
        ({"label": "Diagrams", "subtype": "flowchart"}, "subtype", "must be one of: technical"),
        ({"label": "Infographics", "subtype": "technical"}, "subtype", "Infographics has no subtypes"),
        ({"label": "Uncategorized", "explanation": "word " * 201}, "explanation", "has 201 words; at most 200"),
        ({"label": 3}, "label", "Expected `str`"),
        ({"label": "Diagrams", "subtype": "technical", "confidence": 0.9}, "confidence", "unknown field"),
    ],
)
def test_invalid_response_names_the_field(raw, field, words):
    with pytest.raises(ResponseInvalid) as caught:
        check(raw)
    assert caught.value.field == field
    assert words in caught.value.message


def test_explanation_is_refused_when_the_project_takes_none():
    options = TYPE.parse_options({"explanation": False})
    assert TYPE.validate(options, TASK, TYPE.decode({"label": "Infographics", "explanation": " "})).explanation == ""
    with pytest.raises(ResponseInvalid) as caught:
        TYPE.validate(options, TASK, TYPE.decode({"label": "Infographics", "explanation": "because"}))
    assert caught.value.field == "explanation"


@pytest.mark.parametrize(
    ("response", "expected", "score"),
    [
        ({"label": "Diagrams", "subtype": "technical"}, {"label": "Diagrams", "subtype": "technical"}, 1.0),
        ({"label": "Infographics", "subtype": None}, {"label": "Infographics"}, 1.0),
        ({"label": "Diagrams", "subtype": "categorization"}, {"label": "Diagrams", "subtype": "technical"}, 0.5),
        ({"label": "Diagrams"}, {"label": "Diagrams", "subtype": "technical"}, 0.5),
        ({"label": "Infographics"}, {"label": "Diagrams", "subtype": "technical"}, 0.0),
        ({}, {}, 0.0),
    ],
)
def test_score_gives_half_for_the_right_category_alone(response, expected, score):
    assert TYPE.score(OPTIONS, response, expected) == score
    assert TYPE.agreement(OPTIONS, response, expected) == TYPE.agreement(OPTIONS, expected, response) == score


def test_aggregate_takes_the_majority_category_then_its_majority_subtype():
    responses = [
        {"label": "Diagrams", "subtype": "technical"},
        {"label": "Infographics", "subtype": None},
        {"label": "Diagrams", "subtype": "categorization"},
        {"label": "Diagrams", "subtype": "categorization"},
    ]
    assert TYPE.aggregate(OPTIONS, responses) == {
        "label": "Diagrams",
        "subtype": "categorization",
        "votes": {"Diagrams": 3, "Infographics": 1},
        "agreement": 0.75,
    }


def test_aggregate_ties_go_to_the_first_seen():
    responses = [
        {"label": "Infographics", "subtype": None},
        {"label": "Diagrams", "subtype": "technical"},
        {"label": "Diagrams", "subtype": "categorization"},
        {"label": "Infographics", "subtype": None},
    ]
    result = TYPE.aggregate(OPTIONS, responses)
    assert (result["label"], result["subtype"], result["agreement"]) == ("Infographics", None, 0.5)
    tied_subtypes = TYPE.aggregate(OPTIONS, responses[1:3])
    assert (tied_subtypes["label"], tied_subtypes["subtype"]) == ("Diagrams", "technical")
    assert TYPE.aggregate(OPTIONS, []) is None


def test_export_row_pairs_the_image_with_its_category():
    responses = [{"label": "Diagrams", "subtype": "technical"}] * 2
    row = TYPE.export_row(OPTIONS, TASK, responses, TYPE.aggregate(OPTIONS, responses))
    assert row == {
        "id": "IMG002", "image": "images/img-002.png", "label": "Diagrams",
        "subtype": "technical", "agreement": 1.0, "responses": 2,
    }
    unlabeled = TYPE.export_row(OPTIONS, TASK, [], None)
    assert (unlabeled["id"], unlabeled["label"], unlabeled["responses"]) == ("IMG002", None, 0)


class _Inputs(HTMLParser):
    """Collects the form controls of a rendered fragment."""

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


def render(options, previous=None) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(quorum_template_dirs()), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return env.get_template(TYPE.template).render(
        inputs={options.image_field: "images/img-002.png"}, options=options,
        outputs=TYPE.outputs(options), previous=previous,
    )


def test_form_shows_the_image_and_number_keyed_categories():
    html = render(OPTIONS)
    form = _Inputs(html)
    (image,) = [c for c in form.controls if c["tag"] == "img"]
    assert image["src"] == "images/img-002.png"
    labels = [c for c in form.controls if c.get("name") == "label"]
    assert [(c["value"], c["data-shortcut"]) for c in labels] == [
        (cls, str(n)) for n, cls in enumerate(OPTIONS.classes, 1)
    ]
    subtypes = [c["value"] for c in form.controls if c.get("name") == "subtype"]
    assert subtypes == [*OPTIONS.subtypes["Diagrams"], ""]
    assert not any("data-shortcut" in c for c in form.controls if c.get("name") == "subtype")
    assert "Subtype (required for Diagrams)" in html
    assert "explanation" in form.texts
    assert not any("checked" in c for c in labels)


def test_form_prefills_a_previous_response_escaped():
    previous = {"label": "Diagrams", "subtype": "hierarchical/timeline", "explanation": "a <b>tree</b> & a timeline"}
    form = _Inputs(render(OPTIONS, previous))
    checked = [(c["name"], c["value"]) for c in form.controls if "checked" in c]
    assert checked == [("label", "Diagrams"), ("subtype", "hierarchical/timeline")]
    assert form.texts["explanation"] == "a <b>tree</b> & a timeline"
    assert "<b>tree" not in render(OPTIONS, previous)


def test_form_leaves_out_the_explanation_when_the_project_takes_none():
    form = _Inputs(render(TYPE.parse_options({"explanation": False})))
    assert "explanation" not in form.texts
