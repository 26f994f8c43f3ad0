"""The pairwise image-comparison task type: two images scored 0–5 on a six-metric rubric; the higher total wins."""

from __future__ import annotations

from collections import Counter

import msgspec

from plugins.tasktypes.text import check_limits, check_words
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

SIDES = ("image_1", "image_2")
LOWEST, HIGHEST = 0, 5

# metric key -> (title, its bands as the guidelines state them)
METRICS: dict[str, tuple[str, str]] = {
    "title_labelling": ("Title & labelling",
                        "0–2 missing title/labels · 3–4 present but unclear · 5 clear and descriptive"),
    "grammar_language": ("Grammar & language",
                         "0 many errors · 3–4 minor errors · 5 correct and professional"),
    "process_clarity": ("Clarity of process depiction",
                        "0–2 steps unclear or missing · 3–4 mostly clear · 5 fully clear and ordered"),
    "standalone_understanding": ("Standalone understanding",
                                 "0–2 needs heavy context · 3–4 needs some background · 5 a layperson gets it"),
    "visual_design": ("Visual design & readability",
                      "0–2 poor · 3–4 readable but messy · 5 clean and consistent"),
    "completeness": ("Completeness & key content",
                     "0–2 much missing · 3–4 mostly covered · 5 all key items"),
}
SCORES = tuple(f"{side}_{metric}" for side in SIDES for metric in METRICS)
TOTALS = {"image_1": "total_1", "image_2": "total_2"}
TIE_BREAK_BASES = ("overall_clarity", "preference")

ImageComparisonResponse = msgspec.defstruct(
    "ImageComparisonResponse",
    [(name, int | None, None) for name in SCORES]
    + [
        ("total_1", int | None, None),
        ("total_2", int | None, None),
        ("winner", str, ""),
        ("tie_break", str | None, None),
        ("tie_break_basis", str | None, None),
        ("winner_title", str, ""),
        ("reasoning", str, ""),
    ],
    kw_only=True,
    forbid_unknown_fields=True,
    module=__name__,
)
ImageComparisonResponse.__doc__ = (
    "Twelve scores image_<n>_<metric>, the totals (computed by the server when absent), the winner, "
    "the tie-break (image and basis, exactly when totals are equal), the winner's title and the reasoning."
)


class ImageComparisonOptions(Options, kw_only=True, forbid_unknown_fields=True):
    """How long the winner's title and the reasoning may be, in words."""

    winner_title_min_words: int = 2
    winner_title_max_words: int = 15
    reasoning_min_words: int = 5
    reasoning_max_words: int = 200


class ImageComparison(TaskType):
    name = "image_comparison"
    title = "Pairwise image comparison on a rubric"
    description = ("Score two images 0–5 on six metrics; the higher total (at most 30) wins, a tie is broken by "
                   "overall clarity or preference, and the winner gets a descriptive title.")
    options_type = ImageComparisonOptions
    response_type = ImageComparisonResponse
    template = "tasktypes/image_comparison.html"

    def parse_options(self, raw: dict) -> ImageComparisonOptions:
        options = super().parse_options(raw)
        check_limits(options, "winner_title", "reasoning")
        return options

    def inputs(self, options: ImageComparisonOptions) -> list[InputEntity]:
        return [InputEntity(name=side, type="IMAGE", label=f"Image {n}") for n, side in enumerate(SIDES, 1)]

    def outputs(self, options: ImageComparisonOptions) -> list[OutputEntity]:
        scores = [
            OutputEntity(name=f"{side}_{metric}", type="score", label=f"Image {n}: {title}",
                         minimum=LOWEST, maximum=HIGHEST)
            for n, side in enumerate(SIDES, 1) for metric, (title, _) in METRICS.items()
        ]
        return [
            *scores,
            OutputEntity(name="total_1", type="computed", label="Total, image 1", required=False),
            OutputEntity(name="total_2", type="computed", label="Total, image 2", required=False),
            OutputEntity(name="winner", type="single_choice", label="Winner", choices=list(SIDES)),
            OutputEntity(name="tie_break", type="single_choice", label="Tie-break: which image wins the tie",
                         required=False, choices=list(SIDES), shortcut_keys=False),
            OutputEntity(name="tie_break_basis", type="single_choice", label="Tie-break: on what basis",
                         required=False, choices=list(TIE_BREAK_BASES), shortcut_keys=False),
            OutputEntity(name="winner_title", type="text", label="Winner's title",
                         min_words=options.winner_title_min_words, max_words=options.winner_title_max_words),
            OutputEntity(name="reasoning", type="text", label="Reasoning",
                         min_words=options.reasoning_min_words, max_words=options.reasoning_max_words),
        ]

    def default_criteria(self, options: ImageComparisonOptions) -> list[CriterionView]:
        """Scores in range, totals, winner, title and reasoning present as static checks; the bands and
        the quality of title and reasoning as rules for model judges. A criterion has checks or a rule,
        never both, so a model is never asked what a check decides. That the winner has the higher
        total (or the tie-break) is enforced on submit; its criterion checks each total is the sum of its
        image's scores."""
        bands = "; ".join(f"{title}: {bands}" for title, bands in METRICS.values())
        return [
            CriterionView(
                name="Every metric scored", entities=list(SCORES), severity="blocking",
                checks={"required": list(SCORES), "range": dict.fromkeys(SCORES, (LOWEST, HIGHEST))}),
            CriterionView(
                name="Winner consistent with totals", entities=["total_1", "total_2", "winner", "tie_break"],
                severity="blocking",
                checks={"required": ["winner"],
                        "sum": {total: [f"{side}_{metric}" for metric in METRICS] for side, total in TOTALS.items()}}),
            CriterionView(
                name="Winner titled and reasoning present", entities=["winner_title", "reasoning"],
                severity="blocking",
                checks={"required": ["winner_title", "reasoning"],
                        "min_words": {"winner_title": options.winner_title_min_words,
                                      "reasoning": options.reasoning_min_words},
                        "max_words": {"winner_title": options.winner_title_max_words,
                                      "reasoning": options.reasoning_max_words}}),
            CriterionView(
                name="Scores follow the band rules", entities=list(SCORES), severity="blocking",
                rule=f"Every metric of both images is scored within its band rules. {bands}."),
            CriterionView(
                name="Reasoning explains the scores", entities=["reasoning", "winner"], severity="advisory",
                rule="The reasoning names the metrics where the images differ most and why the winner is better; "
                     "on a tie it says why the tie-break image is clearer or preferred."),
            CriterionView(
                name="Winner's title describes it", entities=["winner_title", "winner"], severity="advisory",
                rule="The winner's title describes what the winning image shows, as a title a reader would use."),
        ]

    def validate(self, options: ImageComparisonOptions, task: TaskView, response) -> msgspec.Struct:
        """Scores 0–5, totals filled in (a submitted total must agree), the winner consistent with the
        totals, the tie-break exactly on equal totals, title and reasoning within their word limits."""
        for name in SCORES:
            value = getattr(response, name)
            if value is None:
                raise ResponseInvalid(name, f"is required: a whole number from {LOWEST} to {HIGHEST}")
            if not LOWEST <= value <= HIGHEST:
                raise ResponseInvalid(name, f"is {value}; it must be from {LOWEST} to {HIGHEST}")
        totals = {side: sum(getattr(response, f"{side}_{metric}") for metric in METRICS) for side in SIDES}
        for n, side in enumerate(SIDES, 1):
            given = getattr(response, TOTALS[side])
            if given is not None and given != totals[side]:
                raise ResponseInvalid(TOTALS[side], f"is {given}, but the scores of image {n} add up to "
                                                    f"{totals[side]}; leave it out and the server fills it in")
        winner = response.winner.strip()
        if winner not in SIDES:
            raise ResponseInvalid("winner", f"must be one of: {', '.join(SIDES)}")
        tie_break = (response.tie_break or "").strip() or None
        basis = (response.tie_break_basis or "").strip() or None
        first, second = totals["image_1"], totals["image_2"]
        if first != second:
            leader = "image_1" if first > second else "image_2"
            if winner != leader:
                raise ResponseInvalid("winner", f"must be {leader}: it has the higher total ({first} to {second})")
            if tie_break is not None:
                raise ResponseInvalid("tie_break", f"only when the totals are equal ({first} to {second}); "
                                                   "leave it empty")
            if basis is not None:
                raise ResponseInvalid("tie_break_basis", f"only when the totals are equal ({first} to {second}); "
                                                         "leave it empty")
        else:
            if tie_break is None:
                raise ResponseInvalid("tie_break", f"required: the totals are equal ({first} each); "
                                                   "choose which image wins the tie")
            if tie_break not in SIDES:
                raise ResponseInvalid("tie_break", f"must be one of: {', '.join(SIDES)}")
            if basis is None:
                raise ResponseInvalid("tie_break_basis", f"required on a tie; choose one of: "
                                                         f"{', '.join(TIE_BREAK_BASES)}")
            if basis not in TIE_BREAK_BASES:
                raise ResponseInvalid("tie_break_basis", f"must be one of: {', '.join(TIE_BREAK_BASES)}")
            if winner != tie_break:
                raise ResponseInvalid("winner", f"must be {tie_break}: the totals are equal and the tie-break "
                                                f"chose {tie_break}")
        title, reasoning = response.winner_title.strip(), response.reasoning.strip()
        check_words("winner_title", title, options.winner_title_min_words, options.winner_title_max_words)
        check_words("reasoning", reasoning, options.reasoning_min_words, options.reasoning_max_words)
        return ImageComparisonResponse(
            **{name: getattr(response, name) for name in SCORES},
            total_1=totals["image_1"], total_2=totals["image_2"], winner=winner,
            tie_break=tie_break, tie_break_basis=basis, winner_title=title, reasoning=reasoning,
        )

    def score(self, options: ImageComparisonOptions, response: dict, expected: dict) -> float:
        """0.5 × (same winner) + 0.5 × (1 − mean |difference| / 5) over the twelve scores;
        a score missing on either side counts as the largest difference (5)."""
        same_winner = 1.0 if response.get("winner") and response.get("winner") == expected.get("winner") else 0.0
        distance = sum(_difference(response.get(name), expected.get(name)) for name in SCORES) / len(SCORES)
        return round(0.5 * same_winner + 0.5 * (1 - distance / (HIGHEST - LOWEST)), 6)

    def agreement(self, options: ImageComparisonOptions, a: dict, b: dict) -> float:
        """The same formula as `score`, which is symmetric."""
        return self.score(options, a, b)

    def aggregate(self, options: ImageComparisonOptions, responses: list[dict]) -> dict | None:
        """Per-metric mean scores and mean totals (two decimals; whole numbers as ints); the winner by
        mean totals, on equal mean totals by the majority of winner votes (ties to the first seen).
        Also the votes, `agreement` (the winner's share of the responses), the first title given for
        that winner, and `tie_break` = the winner when the mean totals are equal."""
        if not responses:
            return None
        means = {name: _mean([r.get(name) for r in responses]) for name in SCORES}
        totals = {side: _tidy(sum(means[f"{side}_{metric}"] or 0 for metric in METRICS)) for side in SIDES}
        means = {name: None if mean is None else _tidy(mean) for name, mean in means.items()}
        votes = Counter(r.get("winner") for r in responses if r.get("winner"))
        if totals["image_1"] != totals["image_2"]:
            winner = "image_1" if totals["image_1"] > totals["image_2"] else "image_2"
        elif votes:
            winner = votes.most_common(1)[0][0]
        else:
            winner = responses[0].get("winner")
        title = next((r.get("winner_title") for r in responses if r.get("winner") == winner), None)
        return {
            **means,
            "total_1": totals["image_1"],
            "total_2": totals["image_2"],
            "winner": winner,
            "tie_break": winner if totals["image_1"] == totals["image_2"] else None,
            "winner_title": title,
            "votes": dict(votes),
            "agreement": votes.get(winner, 0) / len(responses),
        }

    def export_row(
        self, options: ImageComparisonOptions, task: TaskView, responses: list[dict], aggregate: dict | None
    ) -> dict:
        """The pair and its images, the twelve scores, the totals, the winner and its title."""
        aggregate = aggregate or {}
        return {
            "pair_id": task.ext_id,
            "image_1": task.inputs.get("image_1"),
            "image_2": task.inputs.get("image_2"),
            **{name: aggregate.get(name) for name in SCORES},
            "total_1": aggregate.get("total_1"),
            "total_2": aggregate.get("total_2"),
            "winner": aggregate.get("winner"),
            "winner_title": aggregate.get("winner_title"),
            "agreement": aggregate.get("agreement"),
            "responses": len(responses),
        }


def _difference(a, b) -> float:
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
    return min(abs(a - b), HIGHEST - LOWEST) if numbers else HIGHEST - LOWEST


def _tidy(value: float) -> int | float:
    """Two decimals, and a whole number as an int (so a single response's scores stay ints)."""
    value = round(value, 2)
    return int(value) if value == int(value) else value


def _mean(values: list) -> float | None:
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return sum(numbers) / len(numbers) if numbers else None


@hookimpl
def quorum_task_types():
    return [ImageComparison()]
