"""A text sentiment task type for Quorum, in one file: the worked example of docs/plugins.md.

Taskers read a short text and say whether it is positive, neutral or negative, with an
optional note. The host draws the form from the output entities (no template of our own),
so the three choices get the keys 1–3.
"""

from __future__ import annotations

from collections import Counter

import msgspec

from server.hookspecs import hookimpl
from server.plugin_types import (
    CriterionView,
    InputEntity,
    Options,
    OutputEntity,
    ProjectTemplate,
    ResponseInvalid,
    TaskType,
    TaskView,
)

SENTIMENTS = ("positive", "neutral", "negative")


class SentimentOptions(Options, kw_only=True, forbid_unknown_fields=True):
    """What an owner may change per project."""

    note_max_words: int = 30


class SentimentResponse(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a tasker submits; an unknown field is refused with its name."""

    sentiment: str = ""
    note: str = ""


class Sentiment(TaskType):
    name = "sentiment"
    title = "Text sentiment"
    description = "Read a short text and say whether its sentiment is positive, neutral or negative."
    options_type = SentimentOptions
    response_type = SentimentResponse
    template = None          # the host's generic form, drawn from outputs()

    def parse_options(self, raw: dict) -> SentimentOptions:
        options = super().parse_options(raw)
        if options.note_max_words < 1:
            raise ResponseInvalid("options.note_max_words", "must be at least 1")
        return options

    def inputs(self, options: SentimentOptions) -> list[InputEntity]:
        return [InputEntity(name="text", type="TEXT", label="Text")]

    def outputs(self, options: SentimentOptions) -> list[OutputEntity]:
        return [
            OutputEntity(name="sentiment", type="single_choice", label="Sentiment", choices=list(SENTIMENTS)),
            OutputEntity(name="note", type="text", label="Note", required=False, max_words=options.note_max_words),
        ]

    def default_criteria(self, options: SentimentOptions) -> list[CriterionView]:
        return [
            CriterionView(name="Sentiment chosen", entities=["sentiment"], checks={"required": ["sentiment"]}),
            CriterionView(name="Note is short", entities=["note"], severity="advisory",
                          checks={"max_words": {"note": options.note_max_words}}),
            CriterionView(name="Sentiment fits the text", entities=["sentiment"],
                          rule="The chosen sentiment is the one the writer expresses about their subject; "
                               "facts without an opinion are neutral."),
        ]

    def validate(self, options: SentimentOptions, task: TaskView, response: SentimentResponse) -> SentimentResponse:
        sentiment = response.sentiment.strip().lower()
        if sentiment not in SENTIMENTS:
            raise ResponseInvalid("sentiment", f"must be one of: {', '.join(SENTIMENTS)}")
        note = " ".join(response.note.split())
        if len(note.split()) > options.note_max_words:
            raise ResponseInvalid("note", f"has {len(note.split())} words; at most {options.note_max_words} allowed")
        return SentimentResponse(sentiment=sentiment, note=note)

    def score(self, options: SentimentOptions, response: dict, expected: dict) -> float:
        """1 for the expected sentiment, else 0 (the note is not graded)."""
        return 1.0 if response.get("sentiment") == expected.get("sentiment") else 0.0

    def agreement(self, options: SentimentOptions, a: dict, b: dict) -> float:
        return self.score(options, a, b)

    def aggregate(self, options: SentimentOptions, responses: list[dict]) -> dict | None:
        """The majority sentiment (ties go to the first seen) and its share of the votes."""
        if not responses:
            return None
        votes = Counter(response["sentiment"] for response in responses)
        sentiment, count = votes.most_common(1)[0]
        return {"sentiment": sentiment, "votes": dict(votes), "agreement": count / len(responses)}

    def export_row(self, options: SentimentOptions, task: TaskView, responses: list[dict],
                   aggregate: dict | None) -> dict:
        return {"id": task.ext_id, "text": task.inputs.get("text"),
                "sentiment": (aggregate or {}).get("sentiment"), "responses": len(responses)}


GUIDELINES = """\
# Text sentiment

## What to do
Read the text and choose its sentiment with the keys **1** positive, **2** neutral,
**3** negative. Add a note (at most 30 words) only when the choice was hard.

## Good example
"The delivery was late but the support team sorted it out within an hour." → **positive**:
the writer ends satisfied.

## Bad example
"The parcel arrived on Tuesday." → **positive** because the parcel arrived. Why it is bad: a
fact without an opinion is **neutral**.

## Edge cases
- Sarcasm ("Great, broken again.") is **negative**.
- Mixed feelings: choose the one the writer ends with, and say so in the note.
"""


@hookimpl
def quorum_task_types():
    return [Sentiment()]


@hookimpl
def quorum_project_templates():
    return [ProjectTemplate(name="sentiment", title="Text sentiment", task_type="sentiment",
                            description="Say whether each customer review is positive, neutral or negative.",
                            guidelines=GUIDELINES, price_cents=20, overlap=3, judges=["static"])]
