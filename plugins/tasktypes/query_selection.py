"""The query-selection task type: the tasker picks the better of two suggested queries for an image, and says why."""

from __future__ import annotations

from collections import Counter

import msgspec

from plugins.tasktypes.text import check_limits, check_words, normalised
from server.hookspecs import hookimpl
from server.plugin_types import (
    CriterionView,
    InputEntity,
    Options,
    OutputEntity,
    ResponseInvalid,
    TaskType,
    TaskView,
)

# The choice as it is named everywhere (form, response, criteria, export) -> the input entity holding its text.
QUERIES = {"query_1": "suggested_query_1", "query_2": "suggested_query_2"}
IMAGE = "image_link"

GOOD_QUERY = (
    "enough context to tell the image apart from similar ones, but not over-specific",
    "natural and grammatical, like a real user's request",
    "not vague",
    "reasonable, dataset-aware specificity (the dataset holds similar images, no exact duplicates)",
)


class QuerySelectionOptions(Options, kw_only=True, forbid_unknown_fields=True):
    """How long the reason for the choice may be, in words."""

    reason_min_words: int = 5
    reason_max_words: int = 60


class QuerySelectionResponse(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    selected_query: str = ""
    selection_reason: str = ""


class QuerySelection(TaskType):
    name = "query_selection"
    title = "Query selection for an image"
    description = ("Two search queries were suggested for each image; pick the one that would best find this image "
                   "among similar ones, and say why.")
    options_type = QuerySelectionOptions
    response_type = QuerySelectionResponse
    template = "tasktypes/query_selection.html"

    def parse_options(self, raw: dict) -> QuerySelectionOptions:
        options = super().parse_options(raw)
        check_limits(options, "reason")
        return options

    def inputs(self, options: QuerySelectionOptions) -> list[InputEntity]:
        return [
            InputEntity(name=IMAGE, type="IMAGE", label="Image"),
            InputEntity(name="suggested_query_1", type="TEXT", label="Query 1"),
            InputEntity(name="suggested_query_2", type="TEXT", label="Query 2"),
        ]

    def outputs(self, options: QuerySelectionOptions) -> list[OutputEntity]:
        return [
            OutputEntity(name="selected_query", type="single_choice", label="Selected query", choices=list(QUERIES)),
            OutputEntity(name="selection_reason", type="text", label="Reason",
                         min_words=options.reason_min_words, max_words=options.reason_max_words),
        ]

    def default_criteria(self, options: QuerySelectionOptions) -> list[CriterionView]:
        limits = (options.reason_min_words, options.reason_max_words)
        return [
            CriterionView(
                name="Selection follows the rules of a good query", entities=["selected_query"], severity="blocking",
                rule="The selected query is the one that would better find this image inside a limited dataset of "
                     "similar images: " + "; ".join(GOOD_QUERY) + "."),
            CriterionView(
                name="Reason given", entities=["selection_reason"], severity="blocking",
                checks={"required": ["selected_query", "selection_reason"],
                        "min_words": {"selection_reason": limits[0]},
                        "max_words": {"selection_reason": limits[1]}}),
            CriterionView(
                name="Reason does not repeat query 1", entities=["selection_reason"], severity="advisory",
                checks={"not_input": {"selection_reason": "suggested_query_1"}}),
            CriterionView(
                name="Reason does not repeat query 2", entities=["selection_reason"], severity="advisory",
                checks={"not_input": {"selection_reason": "suggested_query_2"}}),
            CriterionView(
                name="Reason explains the choice", entities=["selected_query", "selection_reason"],
                severity="advisory",
                rule="The reason says why the chosen query finds this image better than the other one (context, "
                     "naturalness, specificity), rather than describing the image or restating the query."),
        ]

    def validate(
        self, options: QuerySelectionOptions, task: TaskView, response: QuerySelectionResponse
    ) -> QuerySelectionResponse:
        choice = response.selected_query.strip()
        if choice not in QUERIES:
            raise ResponseInvalid("selected_query", f"must be one of: {', '.join(QUERIES)}")
        reason = response.selection_reason.strip()
        check_words("selection_reason", reason, options.reason_min_words, options.reason_max_words)
        for name, source in QUERIES.items():
            query = normalised(task.inputs.get(source))
            if query and normalised(reason) == query:
                raise ResponseInvalid("selection_reason", f"only repeats {name}; say why the chosen query finds "
                                                          "this image better than the other")
        return QuerySelectionResponse(selected_query=choice, selection_reason=reason)

    def score(self, options: QuerySelectionOptions, response: dict, expected: dict) -> float:
        """1 when `selected_query` equals the expected one, else 0 (the reason is for the judges)."""
        choice = response.get("selected_query")
        return 1.0 if choice is not None and choice == expected.get("selected_query") else 0.0

    def agreement(self, options: QuerySelectionOptions, a: dict, b: dict) -> float:
        """1 when both chose the same query, else 0."""
        return self.score(options, a, b)

    def aggregate(self, options: QuerySelectionOptions, responses: list[dict]) -> dict | None:
        """The majority `selected_query` (ties go to the first seen), the first reason given for it,
        the votes and `agreement` = the majority's share."""
        if not responses:
            return None
        votes = Counter(response.get("selected_query") for response in responses)
        choice, count = votes.most_common(1)[0]
        reason = next(r.get("selection_reason") for r in responses if r.get("selected_query") == choice)
        return {"selected_query": choice, "selection_reason": reason, "votes": dict(votes),
                "agreement": count / len(responses)}

    def export_row(
        self, options: QuerySelectionOptions, task: TaskView, responses: list[dict], aggregate: dict | None
    ) -> dict:
        """The image's id and link with the chosen query's name and text, and the reason."""
        aggregate = aggregate or {}
        choice = aggregate.get("selected_query")
        return {
            "id": task.ext_id,
            "image_link": task.inputs.get(IMAGE),
            "selected_query": choice,
            "query": task.inputs.get(QUERIES[choice]) if choice in QUERIES else None,
            "selection_reason": aggregate.get("selection_reason"),
            "agreement": aggregate.get("agreement"),
            "responses": len(responses),
        }


@hookimpl
def quorum_task_types():
    return [QuerySelection()]
