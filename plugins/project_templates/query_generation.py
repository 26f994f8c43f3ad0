"""The project template for search query generation: two distinct queries a real user would type to find an image."""

from __future__ import annotations

from plugins.tasktypes.query_generation import QueryGenerationOptions
from server.hookspecs import hookimpl
from server.plugin_types import ProjectTemplate

_LIMITS = QueryGenerationOptions()

GUIDELINES = f"""\
# Search query generation for an image

## What to do
Look at the image. It belongs to a curated set of similar images (dashboards, charts,
analytics screens). Write **two** search queries ({_LIMITS.min_words} to {_LIMITS.max_words} words
each) that a real user might type to find this image in that set.

## Rules of a good query
- **Natural and grammatical**: a sentence or phrase a person would type, not a keyword list.
- **Implicit**: about the image's *purpose or use* (what the user wants to find out or
  do), not a list of the visible elements or colours.
- **Specific enough** to single this image out among the similar ones, without made-up
  detail (do not invent names, numbers or dates that the image does not show).
- **Not vague**: "dashboard" alone fails; so does "a chart about sales".
- **Not over-specific**: no exact layouts, pixel positions or percentages.
- **Two different angles**: for example one query from the business context ("why did
  costs rise in 2015") and one from a persona ("a finance manager preparing the annual
  budget review"). The two must be clearly distinct, not one query reworded.

## Good example
Image: a finance dashboard comparing department costs for 2015.
- query_1: *"which departments drove the increase in costs during 2015"*
- query_2: *"annual cost breakdown a finance manager would bring to a budget review"*

Why it is good: both are natural, about the purpose of the image, specific to this
report and year, and they come from two angles (business question, persona).

## Bad example
- query_1: *"bar chart blue bars costs 2015 legend"*
- query_2: *"Bar chart, blue bars: costs 2015 legend!"*

Why it is bad: query_1 is a keyword list of visible elements and colours, not a request
a user would type; query_2 is the same words again (the form rejects two queries that
differ only in case, spacing or punctuation).

## Edge cases
- **The image has no title**: describe its purpose from what it shows; do not invent a title.
- **Text in the image is unreadable**: write about what is clear (the kind of analysis,
  the period) rather than guessing numbers or names.
- **Very generic image** (a blank template, a placeholder): still write two natural
  queries about its likely use, and keep them honest rather than specific by invention.
- **Numbers in the image**: a year or a product name can help single the image out;
  an exact percentage or value makes the query over-specific.
- **The image does not load**: skip the task (**S**) instead of guessing.
"""


@hookimpl
def quorum_project_templates():
    return [ProjectTemplate(
        name="query_generation",
        title="Search query generation for an image",
        task_type="query_generation",
        description=("Write two distinct queries a real user might type to find this image in a curated set of "
                     "similar images (dashboards, charts, analytics screens)."),
        guidelines=GUIDELINES,
        criteria=None,
        price_cents=250,
        overlap=1,
        judges=["static"],
        sample_dataset="image_links.json",
    )]
