"""The project template for image question–answer generation: one typed question–answer pair per image."""

from __future__ import annotations

from plugins.tasktypes.qa_generation import QaGenerationOptions
from server.hookspecs import hookimpl
from server.plugin_types import ProjectTemplate

_LIMITS = QaGenerationOptions()

GUIDELINES = f"""\
# Image question–answer generation

## What to do
Look at the image and write **one** question about it and the question's answer. Choose the
question's type first:

- **Lookup**: find information that is directly visible in the image ("What was the total
  cost in March?").
- **Summarization**: describe or interpret the image's content ("What does this chart show
  about sign-ups over the year?").
- **Analytical**: calculate, infer or reason from the image's data ("By how much did costs
  grow from Q1 to Q4?").

The question takes {_LIMITS.question_min_words} to {_LIMITS.question_max_words} words, the answer
{_LIMITS.answer_min_words} to {_LIMITS.answer_max_words} words.

## Rules of a good pair
- The **type matches the question**: a Lookup question is answered by reading one value; an
  Analytical one needs a calculation or an inference.
- The question and the answer are **relevant to this image**, not general knowledge.
- The question is **clear** (one reading only); the answer is **correct** according to the
  image and answers exactly what was asked, no more.
- The answer does not repeat the question.

## Good example
Image: a bar chart of quarterly orders for 2018 (Q1 120, Q2 150, Q3 90, Q4 200).
- question_type: **Analytical**
- question: *"By how many orders did Q4 exceed the average of the first three quarters?"*
- answer: *"Q4 had 200 orders; the first three quarters average 120, so Q4 exceeded it by 80."*

Why it is good: the question needs a calculation from the image's data, so Analytical is
the right type; the answer is correct, shows the numbers it used and stops there.

## Bad example
- question_type: **Lookup**
- question: *"Why do companies track orders?"*
- answer: *"To know how the business is doing."*

Why it is bad: the question is general knowledge, not about this image; the answer cannot
be checked against the image; and nothing here is a value to look up.

## Edge cases
- **A value is hard to read**: ask about a value you can read with certainty, or ask a
  Summarization question; never answer with a guess.
- **Lookup or Analytical?** Reading one printed number is Lookup; comparing, adding or
  inferring a trend from several values is Analytical.
- **An image with no data** (a diagram, a photo): Lookup (a visible label) or
  Summarization (what it depicts) fit; an Analytical question needs data to reason from.
- **Units and periods**: give them in the answer as the image shows them ("200 orders",
  "in Q4 2018").
- **The image does not load**: skip the task (**S**) instead of guessing.
"""


@hookimpl
def quorum_project_templates():
    return [ProjectTemplate(
        name="qa_generation",
        title="Image question–answer generation",
        task_type="qa_generation",
        description=("Write one question–answer pair per image, typed as Lookup (find directly visible "
                     "information), Summarization (describe or interpret the content) or Analytical (calculate, "
                     "infer or reason from the image's data)."),
        guidelines=GUIDELINES,
        criteria=None,
        price_cents=300,
        overlap=1,
        judges=["static"],
        sample_dataset="image_links.json",
    )]
