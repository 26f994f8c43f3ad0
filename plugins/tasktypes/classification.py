"""The image-classification task type: one category per image, plus a subtype where the category has them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import msgspec

from plugins.tasktypes.text import check_words
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

EXPLANATION_MAX_WORDS = 200


class ClassificationOptions(Options, kw_only=True, forbid_unknown_fields=True):
    """The categories a project offers, the subtypes some of them require, and where the image comes from."""

    classes: list[str] = msgspec.field(
        default_factory=lambda: [
            "Graphs and Charts",
            "Diagrams",
            "Data and Process Flow",
            "Infographics",
            "Multi-Figure Images",
            "Uncategorized",
        ]
    )
    subtypes: dict[str, list[str]] = msgspec.field(
        default_factory=lambda: {
            "Diagrams": ["technical", "categorization", "hierarchical/timeline", "product/user-manual"],
        }
    )
    explanation: bool = True
    image_field: str = "image"   # the name of the image's input entity


class ClassificationResponse(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    label: str
    subtype: str | None = None
    explanation: str = ""


class Classification(TaskType):
    name = "classification"
    title = "Image classification"
    description = "Each image gets exactly one category by its dominant purpose; some categories also need a subtype."
    options_type = ClassificationOptions
    response_type = ClassificationResponse
    template = "tasktypes/classification.html"

    def parse_options(self, raw: dict) -> ClassificationOptions:
        options = super().parse_options(raw)
        classes = options.classes
        if len(classes) < 2:
            raise ResponseInvalid("options.classes", "give at least two classes")
        if any(not cls.strip() for cls in classes):
            raise ResponseInvalid("options.classes", "a class name must not be blank")
        repeated = sorted({cls for cls in classes if classes.count(cls) > 1})
        if repeated:
            raise ResponseInvalid("options.classes", f"each class may appear once; repeated: {', '.join(repeated)}")
        for cls, subtypes in options.subtypes.items():
            if cls not in classes:
                raise ResponseInvalid("options.subtypes", f"{cls!r} is not one of the classes")
            if not subtypes or len(set(subtypes)) != len(subtypes):
                raise ResponseInvalid("options.subtypes", f"{cls!r} needs at least one subtype, each listed once")
        return options

    def inputs(self, options: ClassificationOptions) -> list[InputEntity]:
        return [InputEntity(name=options.image_field, type="IMAGE", label="Image")]

    def outputs(self, options: ClassificationOptions) -> list[OutputEntity]:
        entities = [OutputEntity(name="label", type="single_choice", label="Category", choices=list(options.classes))]
        subtypes = list(dict.fromkeys(s for listed in options.subtypes.values() for s in listed))
        if subtypes:
            entities.append(
                OutputEntity(
                    name="subtype", type="single_choice", label="Subtype", required=False,
                    choices=subtypes, shortcut_keys=False,
                )
            )
        if options.explanation:
            entities.append(
                OutputEntity(
                    name="explanation", type="text", label="Explanation", required=False,
                    max_words=EXPLANATION_MAX_WORDS,
                )
            )
        return entities

    def default_criteria(self, options: ClassificationOptions) -> list[CriterionView]:
        criteria = [
            CriterionView(name="Category fits the image", entities=["label"], severity="blocking",
                          rule="The chosen category matches the image's dominant purpose as the guidelines "
                               "define it; Uncategorized only when no category fits."),
        ]
        if options.subtypes:
            criteria.append(CriterionView(
                name="Subtype is right", entities=["label", "subtype"], severity="blocking",
                rule="Where the category has subtypes, the chosen subtype describes the image."))
        if options.explanation:
            criteria.append(CriterionView(
                name="Explanation given", entities=["explanation"], severity="advisory",
                rule="The explanation says briefly why the category fits.",
                checks={"required": ["explanation"], "max_words": {"explanation": EXPLANATION_MAX_WORDS}}))
        return criteria

    def validate(
        self, options: ClassificationOptions, task: TaskView, response: ClassificationResponse
    ) -> ClassificationResponse:
        label = response.label.strip()
        if label not in options.classes:
            raise ResponseInvalid("label", f"must be one of: {', '.join(options.classes)}")
        subtype = (response.subtype or "").strip() or None
        allowed = options.subtypes.get(label, [])
        if allowed and subtype is None:
            raise ResponseInvalid("subtype", f"required for {label}; choose one of: {', '.join(allowed)}")
        if allowed and subtype not in allowed:
            raise ResponseInvalid("subtype", f"must be one of: {', '.join(allowed)}")
        if not allowed and subtype is not None:
            raise ResponseInvalid("subtype", f"{label} has no subtypes; leave it empty")
        explanation = response.explanation.strip()
        if explanation and not options.explanation:
            raise ResponseInvalid("explanation", "this project takes no explanation")
        check_words("explanation", explanation, 0, EXPLANATION_MAX_WORDS)
        return ClassificationResponse(label=label, subtype=subtype, explanation=explanation)

    def score(self, options: ClassificationOptions, response: dict, expected: dict) -> float:
        """1 for the right category and subtype, 0.5 for the right category alone, else 0."""
        label = response.get("label")
        if label is None or label != expected.get("label"):
            return 0.0
        return 1.0 if (response.get("subtype") or None) == (expected.get("subtype") or None) else 0.5

    def agreement(self, options: ClassificationOptions, a: dict, b: dict) -> float:
        return self.score(options, a, b)

    def aggregate(self, options: ClassificationOptions, responses: list[dict]) -> dict | None:
        """The majority category, then the majority subtype among its voters; ties go to the first seen."""
        if not responses:
            return None
        if len(responses) == 1:     # most tasks at overlap 1: the same result without counting
            only = responses[0]
            return {"label": only["label"], "subtype": only.get("subtype") or None, "votes": {only["label"]: 1},
                    "agreement": 1.0}
        votes = Counter(response["label"] for response in responses)
        label, count = votes.most_common(1)[0]
        subtypes = Counter(r["subtype"] for r in responses if r["label"] == label and r.get("subtype"))
        return {
            "label": label,
            "subtype": subtypes.most_common(1)[0][0] if subtypes else None,
            "votes": dict(votes),
            "agreement": count / len(responses),
        }

    def export_row(
        self, options: ClassificationOptions, task: TaskView, responses: list[dict], aggregate: dict | None
    ) -> dict:
        aggregate = aggregate or {}
        return {
            "id": task.ext_id,
            "image": task.inputs.get(options.image_field),
            "label": aggregate.get("label"),
            "subtype": aggregate.get("subtype"),
            "agreement": aggregate.get("agreement"),
            "responses": len(responses),
        }


@hookimpl
def quorum_task_types():
    return [Classification()]


@hookimpl
def quorum_template_dirs():
    return [str(Path(__file__).parent / "templates")]
