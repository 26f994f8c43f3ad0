"""The pairwise image-comparison task type: the rubric, totals, winner and tie-break rules, scoring, export, form."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import msgspec
import pytest

from plugins.judges.static import StaticJudge
from plugins.tasktypes.image_comparison import METRICS, SCORES, ImageComparison
from server.core.imports import detect
from server.plugin_types import JudgeRequest, ResponseInvalid, TaskView

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples"
TEMPLATES = Path(__file__).resolve().parents[1] / "plugins" / "tasktypes" / "templates"
RECORDS = json.loads((SAMPLES / "images_to_compare.json").read_text())

TYPE = ImageComparison()
OPTIONS = TYPE.parse_options({})
RECORD = RECORDS[0]
TASK = TaskView(id=1, ext_id=RECORD["pair_id"], inputs={"image_1": RECORD["image_1"], "image_2": RECORD["image_2"]},
                data=RECORD)
KEYS = ["title_labelling", "grammar_language", "process_clarity", "standalone_understanding", "visual_design",
        "completeness"]


def answer(first=(5, 4, 4, 3, 5, 4), second=(3, 4, 2, 3, 3, 4), **rest) -> dict:
    """Image 1 totals 25, image 2 totals 19 by default."""
    scores = {f"image_1_{k}": v for k, v in zip(KEYS, first)} | {f"image_2_{k}": v for k, v in zip(KEYS, second)}
    return {**scores, "winner": "image_1", "winner_title": "Quarterly costs by department",
            "reasoning": "Image 1 has clear labels and a complete, ordered process.", **rest}


TIE = answer(second=(5, 4, 4, 3, 5, 4), winner="image_2", tie_break="image_2", tie_break_basis="overall_clarity")


def check(raw: dict):
    return msgspec.to_builtins(TYPE.validate(OPTIONS, TASK, TYPE.decode(raw)))


def test_inputs_are_the_sample_datasets_two_images():
    assert [(e.name, e.type) for e in TYPE.inputs(OPTIONS)] == [("image_1", "IMAGE"), ("image_2", "IMAGE")]
    assert {"image_1", "image_2"} <= set(RECORD)
    detection = detect(enumerate(RECORDS, 1), TYPE.inputs(OPTIONS))
    assert (detection.input_map, detection.id_field) == ({"image_1": "image_1", "image_2": "image_2"}, "pair_id")


def test_outputs_are_twelve_scores_two_computed_totals_and_the_verdict():
    outputs = TYPE.outputs(OPTIONS)
    assert list(METRICS) == KEYS
    scores = [e for e in outputs if e.type == "score"]
    assert [e.name for e in scores] == [f"image_{n}_{k}" for n in (1, 2) for k in KEYS] == list(SCORES)
    assert {(e.minimum, e.maximum, e.required) for e in scores} == {(0, 5, True)}
    rest = [(e.name, e.type, e.required, e.choices) for e in outputs if e.type != "score"]
    assert rest == [
        ("total_1", "computed", False, []), ("total_2", "computed", False, []),
        ("winner", "single_choice", True, ["image_1", "image_2"]),
        ("tie_break", "single_choice", False, ["image_1", "image_2"]),
        ("tie_break_basis", "single_choice", False, ["overall_clarity", "preference"]),
        ("winner_title", "text", True, []), ("reasoning", "text", True, []),
    ]
    assert [e.name for e in outputs if e.type == "single_choice" and e.shortcut_keys] == ["winner"]


def test_valid_response_gets_its_totals_filled_in():
    response = check(answer(winner_title="  Quarterly costs by department ", reasoning=" Image 1 is clearer overall "))
    assert (response["total_1"], response["total_2"]) == (25, 19)
    assert (response["winner"], response["tie_break"], response["tie_break_basis"]) == ("image_1", None, None)
    assert (response["winner_title"], response["reasoning"]) == ("Quarterly costs by department",
                                                                  "Image 1 is clearer overall")
    assert check(answer(total_1=25, total_2=19, tie_break="", tie_break_basis=""))["tie_break"] is None
    tie = check(TIE)
    assert (tie["total_1"], tie["total_2"], tie["winner"], tie["tie_break"]) == (25, 25, "image_2", "image_2")
    assert check(answer(first=(0,) * 6, second=(0,) * 6, winner="image_1", tie_break="image_1",
                        tie_break_basis="preference"))["total_1"] == 0


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (answer(image_1_visual_design=6), "image_1_visual_design", "is 6; it must be from 0 to 5"),
        (answer(image_2_completeness=-1), "image_2_completeness", "is -1; it must be from 0 to 5"),
        ({k: v for k, v in answer().items() if k != "image_2_grammar_language"}, "image_2_grammar_language",
         "is required"),
        (answer(image_1_title_labelling=4.5), "image_1_title_labelling", "Expected `int | null`, got `float`"),
        (answer(image_1_title_labelling="4"), "image_1_title_labelling", "Expected `int | null`, got `str`"),
        (answer(total_1=30), "total_1", "is 30, but the scores of image 1 add up to 25"),
        (answer(total_2=20), "total_2", "is 20, but the scores of image 2 add up to 19"),
        (answer(winner="image_2"), "winner", "must be image_1: it has the higher total (25 to 19)"),
        (answer(winner=""), "winner", "must be one of: image_1, image_2"),
        (answer(tie_break="image_1"), "tie_break", "only when the totals are equal (25 to 19)"),
        (answer(tie_break_basis="preference"), "tie_break_basis", "only when the totals are equal"),
        ({**TIE, "tie_break": None}, "tie_break", "required: the totals are equal (25 each)"),
        ({**TIE, "tie_break": "both"}, "tie_break", "must be one of: image_1, image_2"),
        ({**TIE, "tie_break_basis": None}, "tie_break_basis", "required on a tie"),
        ({**TIE, "tie_break_basis": "coin"}, "tie_break_basis", "must be one of: overall_clarity, preference"),
        ({**TIE, "winner": "image_1"}, "winner", "must be image_2: the totals are equal and the tie-break chose"),
        (answer(winner_title="Costs"), "winner_title", "has 1 word; at least 2 required"),
        (answer(winner_title="word " * 16), "winner_title", "has 16 words; at most 15 allowed"),
        (answer(reasoning=""), "reasoning", "is required (5 to 200 words)"),
        (answer(reasoning="Image 1 is better"), "reasoning", "has 4 words; at least 5 required"),
        (answer(confidence=0.9), "confidence", "unknown field"),
    ],
)
def test_invalid_response_names_the_field(raw, field, words):
    with pytest.raises(ResponseInvalid) as caught:
        check(raw)
    assert caught.value.field == field
    assert words in caught.value.message


def test_default_criteria_are_static_where_a_rule_decides_and_the_static_judge_passes_a_valid_response():
    criteria = TYPE.default_criteria(OPTIONS)
    assert all(bool(c.checks) != bool(c.rule) for c in criteria)      # a check decides, or a model judges
    assert [(c.name, bool(c.checks), c.severity) for c in criteria] == [
        ("Every metric scored", True, "blocking"),
        ("Winner consistent with totals", True, "blocking"),
        ("Winner titled and reasoning present", True, "blocking"),
        ("Scores follow the band rules", False, "blocking"),
        ("Reasoning explains the scores", False, "advisory"),
        ("Winner's title describes it", False, "advisory"),
    ]
    assert all(bands in criteria[3].rule for _, bands in METRICS.values())

    def verdicts(response):
        request = JudgeRequest(project_name="p", description="", guidelines="", criteria=criteria, task=TASK,
                               response=response)
        return {v.criterion: v.verdict for v in StaticJudge().judge(request)}

    assert set(verdicts(check(answer())).values()) == set(verdicts(check(TIE)).values()) == {"pass"}
    assert verdicts(answer(image_1_completeness=9))["Every metric scored"] == "fail"
    assert verdicts(answer())["Winner consistent with totals"] == "fail"     # a response that skipped validation


def test_score_is_half_winner_and_half_metric_distance():
    expected = answer()
    assert TYPE.score(OPTIONS, answer(), expected) == 1.0
    # winner differs; every score of image 2 off by 1: mean |diff| = 6/12 = 0.5 -> 0 + 0.5 * (1 - 0.5/5)
    other = answer(second=(4, 5, 3, 4, 4, 5), winner="image_2")
    assert TYPE.score(OPTIONS, other, expected) == pytest.approx(0.45)
    assert TYPE.score(OPTIONS, answer(first=(0, 4, 4, 3, 5, 4)), expected) == pytest.approx(0.5 + 0.5 * (1 - 5 / 12 / 5))
    assert TYPE.score(OPTIONS, {}, expected) == 0.0
    assert TYPE.agreement(OPTIONS, other, expected) == TYPE.agreement(OPTIONS, expected, other) == pytest.approx(0.45)


def test_aggregate_means_totals_and_the_winner_by_mean_totals():
    a = check(answer())                                                            # 25 : 19, image_1
    b = check(answer(first=(3, 3, 3, 3, 3, 3), second=(4, 4, 4, 4, 4, 4), winner="image_2",
                     winner_title="Signups pipeline overview"))                  # 18 : 24, image_2
    c = check(answer(first=(4, 4, 4, 4, 4, 4), second=(3, 3, 3, 3, 3, 3)))      # 24 : 18, image_1
    result = TYPE.aggregate(OPTIONS, [a, b, c])
    assert result["image_1_title_labelling"] == 4                               # (5 + 3 + 4) / 3
    assert result["image_2_process_clarity"] == 3                               # (2 + 4 + 3) / 3
    assert result["image_1_standalone_understanding"] == pytest.approx(3.33)     # (3 + 3 + 4) / 3
    assert (result["total_1"], result["total_2"]) == (22.33, 20.33)
    assert (result["winner"], result["tie_break"], result["winner_title"]) == ("image_1", None, a["winner_title"])
    assert (result["votes"], result["agreement"]) == ({"image_1": 2, "image_2": 1}, pytest.approx(2 / 3))
    # equal mean totals: the votes decide, the first seen on a tie of votes
    tied = TYPE.aggregate(OPTIONS, [a, b])                                         # 21.5 : 21.5
    assert (tied["total_1"], tied["total_2"], tied["winner"], tied["tie_break"]) == (21.5, 21.5, "image_1", "image_1")
    single = TYPE.aggregate(OPTIONS, [a])
    assert {k: single[k] for k in SCORES} == {k: a[k] for k in SCORES}
    assert isinstance(single["image_1_title_labelling"], int)
    assert TYPE.aggregate(OPTIONS, []) is None


def test_export_row_has_the_pair_scores_totals_winner_and_title():
    a = check(answer())
    row = TYPE.export_row(OPTIONS, TASK, [a], TYPE.aggregate(OPTIONS, [a]))
    assert list(row) == ["pair_id", "image_1", "image_2", *SCORES, "total_1", "total_2", "winner", "winner_title",
                         "agreement", "responses"]
    assert (row["pair_id"], row["image_1"], row["image_2"]) == ("pair-0001", "images/img-001.png", "images/img-002.png")
    assert (row["total_1"], row["total_2"], row["winner"], row["responses"]) == (25, 19, "image_1", 1)
    fixed = TYPE.export_row(OPTIONS, TASK, [a], a)     # a reviewer's fix is a response, not an aggregate
    assert (fixed["winner_title"], fixed["agreement"]) == (a["winner_title"], None)
    assert TYPE.export_row(OPTIONS, TASK, [], None)["winner"] is None


class _Form(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.controls: list[dict] = []
        self.texts: dict[str, str] = {}
        self.outputs: dict[str, str] = {}
        self._open: tuple[str, str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "textarea", "img"):
            self.controls.append({"tag": tag, **attrs})
        if tag == "textarea":
            self._open = ("text", attrs["name"])
            self.texts[attrs["name"]] = ""
        if tag == "output":
            self._open = ("output", attrs["data-total-for"])
            self.outputs[attrs["data-total-for"]] = ""

    def handle_data(self, data):
        if self._open:
            kind, name = self._open
            (self.texts if kind == "text" else self.outputs)[name] += data

    def handle_endtag(self, tag):
        if tag in ("textarea", "output"):
            self._open = None


def render(previous=None) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template(TYPE.template).render(inputs=TASK.inputs, options=OPTIONS,
                                                  outputs=TYPE.outputs(OPTIONS), previous=previous)


def test_form_shows_both_images_and_the_score_table():
    html = render()
    form = _Form(html)
    images = [c["src"] for c in form.controls if c["tag"] == "img"]
    assert images == ["images/img-001.png", "images/img-002.png"]
    numbers = [c for c in form.controls if c.get("type") == "number"]
    assert [c["name"] for c in numbers] == [f"image_{n}_{k}" for k in KEYS for n in (1, 2)]   # row by row
    assert {(c["min"], c["max"], c["value"]) for c in numbers} == {("0", "5", "")}
    assert all(bands in html for _, bands in METRICS.values())
    assert form.outputs == {"image_1": "0", "image_2": "0"}
    winner = [c for c in form.controls if c.get("name") == "winner"]
    assert [(c["value"], c["data-shortcut"]) for c in winner] == [("image_1", "1"), ("image_2", "2")]
    assert [c["value"] for c in form.controls if c.get("name") == "tie_break"] == ["image_1", "image_2", ""]
    assert [c["value"] for c in form.controls if c.get("name") == "tie_break_basis"] == [
        "overall_clarity", "preference", ""]
    assert not any("data-shortcut" in c for c in form.controls if c.get("name", "").startswith("tie_break"))
    assert [c["name"] for c in form.controls if c.get("type") == "text"] == ["winner_title"]
    assert form.texts == {"reasoning": ""}
    assert "total_1" not in [c.get("name") for c in form.controls]      # the totals are computed, never posted


def test_form_prefills_a_previous_response_with_its_totals():
    previous = {**TIE, "image_1_title_labelling": 0, "image_1_grammar_language": 4,
                "reasoning": "both <i>equal</i>; image 2 reads better"}
    previous["image_2_title_labelling"] = "0"              # after an error, the posted form: strings
    form = _Form(render(previous))
    values = {c["name"]: c["value"] for c in form.controls if c.get("type") == "number"}
    assert values["image_1_title_labelling"] == "0" and values["image_2_title_labelling"] == "0"
    assert values["image_2_visual_design"] == "5"
    assert form.outputs == {"image_1": "20", "image_2": "20"}
    checked = [(c["name"], c["value"]) for c in form.controls if "checked" in c]
    assert checked == [("winner", "image_2"), ("tie_break", "image_2"), ("tie_break_basis", "overall_clarity")]
    assert form.texts["reasoning"] == "both <i>equal</i>; image 2 reads better"
    assert [c["value"] for c in form.controls if c.get("name") == "winner_title"] == [TIE["winner_title"]]
