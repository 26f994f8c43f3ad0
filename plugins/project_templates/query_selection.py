"""The project template for query selection: pick the better of two suggested search queries for an image."""

from __future__ import annotations

from plugins.tasktypes.query_selection import QuerySelectionOptions
from server.hookspecs import hookimpl
from server.plugin_types import ProjectTemplate

_LIMITS = QuerySelectionOptions()

GUIDELINES = f"""\
# Query selection for an image

## What to do
Look at the image first, then read the two suggested queries side by side. Choose the
query (**query_1** or **query_2**) that would best find *this* image inside a limited
dataset of similar images (the dataset has no exact duplicates, but many images look
alike). Then write a short reason ({_LIMITS.reason_min_words} to {_LIMITS.reason_max_words} words)
that says why the chosen query finds this image better than the other one.

## What makes a query good
- **Enough context** to tell this image apart from the similar ones, but **not over-specific**.
- **Natural and grammatical**, like a request a real user would type.
- **Not vague**: "show me a chart" matches every chart in the dataset.
- **Reasonable, dataset-aware specificity**: the details it names are the ones that
  separate this image from its neighbours.

## What makes a reason good
- It is given, and it explains the *choice* (context, naturalness, specificity).
- It does not merely repeat the chosen query, and it is not a one-word answer.

## Good example
Image: a 2015 finance report with bar charts of costs per department.
- query_1: "Find the costs report 2015 graphs and charts"
- query_2: "Show me a graphs and charts"

Answer: **query_1**, reason: *"Query 1 names the costs report and the year, which separates
this image from the other finance charts; query 2 is vague and ungrammatical."*

Why it is good: the reason compares the two queries against the rules (context,
specificity, grammar) instead of describing the image.

## Bad example
Answer: **query_1**, reason: *"Find the costs report 2015 graphs and charts"*

Why it is bad: the reason only repeats the query. It says nothing about why query 1
would find this image better than query 2. (The form rejects a reason that is only a
copy of a query.)

## Edge cases
- **Both queries are weak**: still choose the one that would find this image more
  reliably, and say in the reason what is wrong with both.
- **Both queries are good**: prefer the one that separates this image from its
  similar neighbours; an equally natural query that also fits ten other images loses.
- **One query is over-specific** (exact numbers, pixel layout, colours): prefer the
  natural one with enough context, unless it is so vague that it fits every image.
- **The queries are almost the same**: pick the one that is grammatical, and say so.
- **The image does not load**: skip the task (**S**) instead of guessing.
"""


@hookimpl
def quorum_project_templates():
    return [ProjectTemplate(
        name="query_selection",
        title="Query selection for an image",
        task_type="query_selection",
        description=("Two candidate search queries were suggested for each image. Pick the one that would best "
                     "find this image inside a limited dataset of similar images (no exact duplicates) and give "
                     "a short reason."),
        guidelines=GUIDELINES,
        criteria=None,
        price_cents=150,
        overlap=2,
        judges=["static"],
        sample_dataset="images_with_queries.json",
    )]
