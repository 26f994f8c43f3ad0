"""The project template for pairwise image comparison: two images scored on a six-metric 0–5 rubric."""

from __future__ import annotations

from plugins.tasktypes.image_comparison import METRICS, ImageComparisonOptions
from server.hookspecs import hookimpl
from server.plugin_types import ProjectTemplate

_LIMITS = ImageComparisonOptions()
_RUBRIC = "\n".join(f"| {n} | {title} | {bands} |" for n, (title, bands) in enumerate(METRICS.values(), 1))

GUIDELINES = f"""\
# Pairwise image comparison on a rubric

## What to do
Look at both images side by side. Score **each** image from **0 to 5** on the six metrics
below (twelve scores in all). The server adds up each image's total (at most 30): you do not
type the totals. The image with the **higher total wins**. When the totals are equal, break
the tie: choose the image that wins and the basis (**overall_clarity**, or your
**preference** when both are equally clear). Then give the winner a descriptive **title**
({_LIMITS.winner_title_min_words} to {_LIMITS.winner_title_max_words} words) and your
**reasoning** ({_LIMITS.reasoning_min_words} to {_LIMITS.reasoning_max_words} words).

## The rubric
| # | Metric | Bands |
|---|---|---|
{_RUBRIC}

## Rules of a good answer
- Every metric of both images is scored, each within its band rules.
- The winner is consistent with the totals (the form rejects a winner with the lower total).
- The reasoning names the metrics where the images differ most and why the winner is better.
- The title describes what the winning image shows, as a reader would title it.

## Good example
Image 1: a clearly titled, labelled five-step onboarding flow. Image 2: the same flow with
no title, two missing steps and a typo.
Scores image 1: 5, 5, 5, 4, 4, 5 (total 28). Image 2: 1, 3, 2, 2, 3, 2 (total 13).
Winner **image_1**, title *"Customer onboarding in five steps"*, reasoning *"Image 1 is titled
and labelled, shows every step in order and reads on its own; image 2 lacks a title, skips
two steps and has a spelling error."*

Why it is good: each score sits in its band, the winner follows from the totals, the title
describes the image, and the reasoning points at the metrics that decided it.

## Bad example
Scores image 1: 5, 5, 5, 5, 5, 5 (total 30). Image 2: 5, 5, 5, 5, 5, 5 (total 30).
Winner **image_2**, title *"Image 2"*, reasoning *"Better."*

Why it is bad: scoring everything 5 ignores the bands (both images cannot be flawless on
every metric when they differ); a tie needs a tie-break choice and basis; "Image 2" does
not describe the image; a one-word reasoning explains nothing (the form asks for at least
{_LIMITS.reasoning_min_words} words).

## Edge cases
- **Equal totals**: choose the tie-break image and the basis (overall_clarity first; your
  preference only when both are equally clear); the winner must be that image.
- **Both images are poor**: score them low honestly; the higher total still wins, and
  the title describes that image even if it is weak.
- **Not a process at all** (a chart, a photo): score *Clarity of process depiction* on how
  clearly the image shows what it depicts, and say so in the reasoning.
- **Text you cannot read**: score *Grammar & language* on the text you can read and lower
  *Visual design & readability*.
- **The same image twice**: score both the same, break the tie by preference and say so.
- **An image does not load**: skip the task (**S**) instead of guessing.
"""


@hookimpl
def quorum_project_templates():
    return [ProjectTemplate(
        name="image_comparison",
        title="Pairwise image comparison on a rubric",
        task_type="image_comparison",
        description=("Score two images 0–5 on six metrics (title & labelling, grammar & language, clarity of "
                     "process depiction, standalone understanding, visual design & readability, completeness & "
                     "key content). The higher total (max 30) wins; a tie is broken by overall clarity or "
                     "preference; the winner gets a descriptive title."),
        guidelines=GUIDELINES,
        criteria=None,
        price_cents=350,
        overlap=1,
        judges=["static"],
        sample_dataset="images_to_compare.json",
    )]
