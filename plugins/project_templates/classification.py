"""The project template for image classification: one category per image by its dominant purpose."""

from __future__ import annotations

from plugins.tasktypes.classification import EXPLANATION_MAX_WORDS, Classification
from server.hookspecs import hookimpl
from server.plugin_types import CriterionView, ProjectTemplate

GUIDELINES = f"""\
# Image classification

## What to do
Look at the image and choose **exactly one** category by the image's **dominant
purpose**: what the image is mainly for, not every element it contains. When the
category is **Diagrams**, also choose its subtype (required for Diagrams, and only for
Diagrams). You may add a short explanation (at most {EXPLANATION_MAX_WORDS} words).
Keys **1**–**6** choose a category.

## Categories
1. **Graphs and Charts**: data plotted on axes or as shares: bar, line, pie, scatter, area charts.
2. **Diagrams**: shapes and connectors that explain structure or relations. Subtype:
   - *technical*: architecture, circuits, network or system diagrams;
   - *categorization*: trees of kinds, Venn diagrams, taxonomies;
   - *hierarchical/timeline*: org charts, hierarchies, timelines, roadmaps;
   - *product/user-manual*: product drawings, assembly or how-to-use illustrations.
3. **Data and Process Flow**: steps or data moving from one stage to the next: flowcharts,
   pipelines, funnels, swimlanes.
4. **Infographics**: a designed poster-like mix of text, icons, numbers and small charts
   that tells one story.
5. **Multi-Figure Images**: several separate figures side by side (panels a/b/c, a grid of
   charts) with no single one dominant.
6. **Uncategorized**: none of the above fits (photos, screenshots of text, logos), or you
   are in doubt.

## Good example
Image: a single line chart of monthly sign-ups with labelled axes and a legend.
Answer: **Graphs and Charts**, no subtype, explanation *"One line chart of sign-ups over
time; the plotted data is the point of the image."*

Why it is good: one category by the dominant purpose, no subtype where none applies,
and the explanation names what decided it.

## Bad example
Image: a system architecture drawing with servers, a database and arrows between them.
Answer: **Diagrams** with no subtype, or **Data and Process Flow** because "there are arrows".

Why it is bad: Diagrams needs its subtype (here *technical*; the form rejects Diagrams
without one), and arrows alone do not make a process flow: the drawing explains how a
system is built, not steps in order.

## Edge cases
- **A chart inside an infographic**: the image is an **Infographics** when the chart is
  one part of a designed story; it is **Graphs and Charts** only when the chart fills the
  image and the rest is its title and legend.
- **Several charts in one image**: **Multi-Figure Images** when they are separate panels;
  a dashboard that reads as one designed story is an **Infographics**.
- **A flowchart with a timeline**: steps that hand work or data on are **Data and Process
  Flow**; dates on a line without hand-offs are **Diagrams** (*hierarchical/timeline*).
- **A product photo with callouts** explaining how to use it: **Diagrams**
  (*product/user-manual*).
- **When in doubt: Uncategorized**, rather than forcing a fit, and say why in the explanation.
- **The image does not load**: skip the task (**S**) instead of guessing.
"""

CONSISTENCY = CriterionView(
    name="Consistent with the definitions", entities=["label", "subtype", "explanation"], severity="advisory",
    rule="The category and subtype apply the category definitions and edge cases of the guidelines as written "
         "(a chart inside an infographic is Infographics; when in doubt, Uncategorized), and the explanation, "
         "when given, supports the chosen category rather than describing another one.",
)


def criteria() -> list[CriterionView]:
    """The task type's defaults (accuracy, subtype, explanation) and consistency, which USE_CASES asks for."""
    task_type = Classification()
    return [*task_type.default_criteria(task_type.parse_options({})), CONSISTENCY]


@hookimpl
def quorum_project_templates():
    return [ProjectTemplate(
        name="classification",
        title="Image classification",
        task_type="classification",
        description=("Give each image exactly one category by its dominant purpose: Graphs and Charts; Diagrams "
                     "(with its subtype: technical, categorization, hierarchical/timeline or product/user-manual); "
                     "Data and Process Flow; Infographics; Multi-Figure Images; or Uncategorized when in doubt, "
                     "rather than forcing a fit."),
        guidelines=GUIDELINES,
        criteria=criteria(),
        price_cents=100,
        overlap=2,
        judges=["static"],
        sample_dataset="image_links.json",
    )]
