"""The static judge: each criterion's checks give one pass, fail or error verdict with a comment that says why."""

from __future__ import annotations

import pytest

from plugins.judges.static import StaticJudge
from server.plugin_types import CriterionView, JudgeRequest, TaskView, Verdict

JUDGE = StaticJudge()


def request(criteria: list[CriterionView], response: dict, inputs: dict | None = None) -> JudgeRequest:
    task = TaskView(id=7, ext_id="IMG007", inputs=inputs or {}, data={})
    return JudgeRequest(
        project_name="Queries", description="", guidelines="", criteria=criteria, task=task, response=response
    )


def verdict(checks: dict, response: dict, inputs: dict | None = None) -> Verdict:
    (only,) = JUDGE.judge(request([CriterionView(name="c", checks=checks)], response, inputs))
    return only


def test_runs_inside_the_submit_and_covers_only_criteria_with_checks():
    assert JUDGE.cheap
    free_text = CriterionView(name="reasoning quality", rule="explains the choice")
    counted = CriterionView(name="word count", checks={"min_words": {"query_1": 2}})
    assert not JUDGE.covers(free_text)
    verdicts = JUDGE.judge(request([free_text, counted], {"query_1": "sales dashboard"}))
    assert [(v.criterion, v.verdict) for v in verdicts] == [("word count", "pass")]


@pytest.mark.parametrize("value", [None, "", "   ", [], {}])
def test_required_fails_on_missing_or_empty(value):
    response = {} if value is None else {"selection_reason": value}
    result = verdict({"required": ["selection_reason"]}, response)
    assert (result.verdict, result.comment) == ("fail", "selection_reason is required")


@pytest.mark.parametrize("value", ["because", 0, False, ["a"]])
def test_required_passes_on_any_answer(value):
    assert verdict({"required": ["x"]}, {"x": value}).verdict == "pass"


def test_word_limits_say_how_many_words_there_are():
    checks = {"min_words": {"query_1": 5}, "max_words": {"query_2": 3}}
    result = verdict(checks, {"query_1": "revenue by region chart", "query_2": "one two three"})
    assert (result.verdict, result.comment) == ("fail", "query_1 has 4 words; at least 5 required")
    result = verdict(checks, {"query_1": "a b c d e", "query_2": "one two three four"})
    assert result.comment == "query_2 has 4 words; at most 3 allowed"
    result = verdict({"min_words": {"query_1": 2}}, {"query_1": "dashboard"})
    assert result.comment == "query_1 has 1 word; at least 2 required"


def test_every_broken_rule_is_named_in_one_verdict():
    checks = {"required": ["reason"], "min_words": {"query_1": 3}}
    result = verdict(checks, {"query_1": "sales"})
    assert result.verdict == "fail"
    assert "reason is required" in result.comment
    assert "query_1 has 1 word; at least 3 required" in result.comment


def test_distinct_ignores_case_spacing_and_punctuation():
    checks = {"distinct": [["query_1", "query_2"]]}
    same = verdict(checks, {"query_1": "Quarterly sales dashboard.", "query_2": "quarterly  SALES dashboard"})
    assert same.verdict == "fail"
    assert "query_1 and query_2" in same.comment
    assert verdict(checks, {"query_1": "quarterly sales", "query_2": "churn for a CFO"}).verdict == "pass"


def test_not_input_catches_a_reason_that_repeats_the_query():
    checks = {"not_input": {"selection_reason": "query_1"}}
    inputs = {"query_1": "Revenue by region"}
    repeated = verdict(checks, {"selection_reason": "revenue by region!"}, inputs)
    assert (repeated.verdict, repeated.comment) == ("fail", "selection_reason only repeats the input query_1")
    copied = verdict(checks, {"selection_reason": "I chose Revenue by Region as it is specific"}, inputs)
    assert copied.verdict == "fail"
    own_words = verdict(checks, {"selection_reason": "it names the regions the chart compares"}, inputs)
    assert own_words.verdict == "pass"
    assert verdict(checks, {"selection_reason": "a concatenated view"}, {"query_1": "cat"}).verdict == "pass"


def test_range_needs_a_number_within_bounds():
    checks = {"range": {"title_1": [0, 5]}}
    assert verdict(checks, {"title_1": 5}).verdict == "pass"
    assert verdict(checks, {"title_1": 2.5}).verdict == "pass"
    too_high = verdict(checks, {"title_1": 6})
    assert (too_high.verdict, too_high.comment) == ("fail", "title_1 is 6; it must be from 0 to 5")
    for value in (None, "3", True):
        assert verdict(checks, {"title_1": value}).comment == "title_1 must be a number from 0 to 5"


def test_unknown_check_is_an_error_naming_it():
    result = verdict({"min_words": {"q": 1}, "spelling": ["q"]}, {"q": "fine"})
    assert result.verdict == "error"
    assert "unknown check spelling" in result.comment


@pytest.mark.parametrize(
    ("checks", "named"),
    [
        ({"min_words": ["query_1"]}, "min_words"),
        ({"distinct": [["query_1"]]}, "distinct"),
        ({"range": {"score": [0]}}, "range"),
        ({"not_input": {"reason": "query_3"}}, "query_3"),
    ],
)
def test_misconfigured_check_is_an_error_not_a_fail(checks, named):
    result = verdict(checks, {"reason": "x", "query_1": "x", "score": 1}, {"query_1": "x"})
    assert result.verdict == "error"
    assert named in result.comment


def test_sum_checks_a_computed_total_against_its_parts():
    from plugins.judges.static import StaticJudge
    from server.plugin_types import CriterionView, JudgeRequest, TaskView

    criterion = CriterionView(name="totals", checks={"sum": {"total": ["a", "b"]}})
    task = TaskView(id=1, ext_id="x", inputs={}, data={})

    def verdict(response):
        request = JudgeRequest(project_name="p", description="", guidelines="", criteria=[criterion], task=task,
                               response=response)
        return StaticJudge().judge(request)[0]

    assert verdict({"a": 2, "b": 3, "total": 5}).verdict == "pass"
    wrong = verdict({"a": 2, "b": 3, "total": 6})
    assert wrong.verdict == "fail" and wrong.comment == "total is 6; its parts add up to 5"
    assert "b missing" in verdict({"a": 2, "total": 2}).comment


def test_problems_name_unknown_checks_and_fields_the_project_does_not_produce():
    from plugins.judges.static import StaticJudge
    from server.plugin_types import CriterionView

    judge = StaticJudge()
    assert judge.problems(CriterionView(name="c", checks={"min_words": {"reason": 3}}), ["reason"]) == []
    assert judge.problems(CriterionView(name="c", checks={"min_words": {"reasn": 3}}), ["reason"]) == [
        "min_words: 'reasn' is not an output (reason)"]
    assert "unknown check spelling" in judge.problems(CriterionView(name="c", checks={"spelling": 1}), ["reason"])[0]
