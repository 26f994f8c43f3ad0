"""The search-query-generation task type: two distinct queries a real user might type to find the image."""

from __future__ import annotations

import msgspec

from plugins.tasktypes.text import check_limits, check_words, jaccard, most_central, normalised, passes, tokens
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

IMAGE = "link"
QUERIES = ("query_1", "query_2")


class QueryGenerationOptions(Options, kw_only=True, forbid_unknown_fields=True):
    """How long each query may be, in words."""

    min_words: int = 3
    max_words: int = 20


class QueryGenerationResponse(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    query_1: str = ""
    query_2: str = ""


class QueryGeneration(TaskType):
    name = "query_generation"
    title = "Search query generation for an image"
    description = ("Write two distinct queries a real user might type to find this image in a curated set of "
                   "similar images.")
    options_type = QueryGenerationOptions
    response_type = QueryGenerationResponse
    template = "tasktypes/query_generation.html"

    def parse_options(self, raw: dict) -> QueryGenerationOptions:
        options = super().parse_options(raw)
        check_limits(options)
        return options

    def inputs(self, options: QueryGenerationOptions) -> list[InputEntity]:
        return [InputEntity(name=IMAGE, type="IMAGE", label="Image")]

    def outputs(self, options: QueryGenerationOptions) -> list[OutputEntity]:
        return [
            OutputEntity(name=name, type="text", label=f"Query {n}",
                         min_words=options.min_words, max_words=options.max_words)
            for n, name in enumerate(QUERIES, 1)
        ]

    def default_criteria(self, options: QueryGenerationOptions) -> list[CriterionView]:
        """Word count and distinctness as static checks; the rest as rules for model judges."""
        least, most = options.min_words, options.max_words
        return [
            CriterionView(
                name="Word count", entities=list(QUERIES), severity="blocking",
                checks={"required": list(QUERIES), "min_words": dict.fromkeys(QUERIES, least),
                        "max_words": dict.fromkeys(QUERIES, most)}),
            CriterionView(
                name="Two distinct queries", entities=list(QUERIES), severity="blocking",
                checks={"distinct": [list(QUERIES)]}),
            CriterionView(
                name="Implicit style", entities=list(QUERIES), severity="blocking",
                rule="Each query is about the image's purpose or use (what a user wants to find out or do), not a "
                     "list of its visible elements or colours."),
            CriterionView(
                name="Naturalness", entities=list(QUERIES), severity="blocking",
                rule="Each query is natural and grammatical, like a real user's request, not a keyword list."),
            CriterionView(
                name="Specificity balance", entities=list(QUERIES), severity="blocking",
                rule="Each query is specific enough to single this image out among similar dashboards, charts and "
                     "analytics screens, without made-up detail; not vague (\"dashboard\" alone fails) and not "
                     "over-specific (exact layouts, percentages)."),
            CriterionView(
                name="Different angles", entities=list(QUERIES), severity="advisory",
                rule="The two queries approach the image from different angles (for example business context "
                     "versus a persona), not one query reworded."),
        ]

    def validate(
        self, options: QueryGenerationOptions, task: TaskView, response: QueryGenerationResponse
    ) -> QueryGenerationResponse:
        queries = {name: " ".join(getattr(response, name).split()) for name in QUERIES}
        for name, query in queries.items():
            check_words(name, query, options.min_words, options.max_words)
        if normalised(queries["query_1"]) == normalised(queries["query_2"]):
            raise ResponseInvalid("query_2", "must differ from query_1 (case, spacing and punctuation aside); "
                                             "approach the image from another angle")
        return QueryGenerationResponse(**queries)

    def score(self, options: QueryGenerationOptions, response: dict, expected: dict) -> float:
        """The share of the type's static criteria (word count, distinctness) the response passes.

        Free text has no single right answer, so `expected` is not compared. Those checks are
        also enforced on submit, so a stored response scores 1.0; the judgement of style,
        naturalness and specificity is left to the model judges' verdicts.
        """
        checks = [criterion.checks for criterion in self.default_criteria(options) if criterion.checks]
        return sum(passes(c, response) for c in checks) / len(checks)

    def agreement(self, options: QueryGenerationOptions, a: dict, b: dict) -> float:
        """Token Jaccard similarity of the queries, paired the way that matches best.

        The order of the two queries carries no meaning, so this is the larger of
        mean(J(a1, b1), J(a2, b2)) and mean(J(a1, b2), J(a2, b1)); J is |A ∩ B| / |A ∪ B|
        over case-folded word tokens (1.0 when both are empty).
        """
        a1, a2, b1, b2 = (tokens(x.get(name)) for x in (a, b) for name in QUERIES)
        straight = (jaccard(a1, b1) + jaccard(a2, b2)) / 2
        crossed = (jaccard(a1, b2) + jaccard(a2, b1)) / 2
        return max(straight, crossed)

    def aggregate(self, options: QueryGenerationOptions, responses: list[dict]) -> dict | None:
        """The most central response (highest mean agreement with the others; ties go to the first),
        with that mean as `agreement` (1.0 for a single response)."""
        if not responses:
            return None
        best, mean = most_central(responses, lambda a, b: self.agreement(options, a, b))
        return {**responses[best], "agreement": round(mean, 4)}

    def export_row(
        self, options: QueryGenerationOptions, task: TaskView, responses: list[dict], aggregate: dict | None
    ) -> dict:
        aggregate = aggregate or {}
        return {
            "id": task.ext_id,
            "link": task.inputs.get(IMAGE),
            "query_1": aggregate.get("query_1"),
            "query_2": aggregate.get("query_2"),
            "agreement": aggregate.get("agreement"),
            "responses": len(responses),
        }


@hookimpl
def quorum_task_types():
    return [QueryGeneration()]
