"""The image question–answer task type: one typed question–answer pair per image (Lookup, Summarization, Analytical)."""

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
QUESTION_TYPES = {
    "Lookup": "find information that is directly visible in the image",
    "Summarization": "describe or interpret the image's content",
    "Analytical": "calculate, infer or reason from the image's data",
}


class QaGenerationOptions(Options, kw_only=True, forbid_unknown_fields=True):
    """How long the question and the answer may be, in words."""

    question_min_words: int = 4
    question_max_words: int = 40
    answer_min_words: int = 1
    answer_max_words: int = 100


class QaGenerationResponse(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    question_type: str = ""
    question: str = ""
    answer: str = ""


class QaGeneration(TaskType):
    name = "qa_generation"
    title = "Image question–answer generation"
    description = ("Write one question about the image and its answer, typed as Lookup, Summarization or "
                   "Analytical.")
    options_type = QaGenerationOptions
    response_type = QaGenerationResponse
    template = "tasktypes/qa_generation.html"

    def parse_options(self, raw: dict) -> QaGenerationOptions:
        options = super().parse_options(raw)
        check_limits(options, "question", "answer")
        return options

    def inputs(self, options: QaGenerationOptions) -> list[InputEntity]:
        return [InputEntity(name=IMAGE, type="IMAGE", label="Image")]

    def outputs(self, options: QaGenerationOptions) -> list[OutputEntity]:
        return [
            OutputEntity(name="question_type", type="single_choice", label="Question type",
                         choices=list(QUESTION_TYPES)),
            OutputEntity(name="question", type="text", label="Question",
                         min_words=options.question_min_words, max_words=options.question_max_words),
            OutputEntity(name="answer", type="text", label="Answer",
                         min_words=options.answer_min_words, max_words=options.answer_max_words),
        ]

    def default_criteria(self, options: QaGenerationOptions) -> list[CriterionView]:
        """Word limits and a non-repeating answer as static checks; type fit, relevance and correctness as rules."""
        return [
            CriterionView(
                name="Question and answer within word limits", entities=["question", "answer"], severity="blocking",
                checks={"required": ["question_type", "question", "answer"],
                        "min_words": {"question": options.question_min_words, "answer": options.answer_min_words},
                        "max_words": {"question": options.question_max_words, "answer": options.answer_max_words}}),
            CriterionView(
                name="Answer does not repeat the question", entities=["question", "answer"], severity="blocking",
                checks={"distinct": [["question", "answer"]]}),
            CriterionView(
                name="Type matches the question", entities=["question_type", "question"], severity="blocking",
                rule="The question is of the chosen type: " + "; ".join(
                    f"{name}: {meaning}" for name, meaning in QUESTION_TYPES.items()) + "."),
            CriterionView(
                name="Relevant to the image", entities=["question", "answer"], severity="blocking",
                rule="The question and the answer are about this image's content, not general knowledge."),
            CriterionView(
                name="Clear and correct", entities=["question", "answer"], severity="blocking",
                rule="The question is clear and unambiguous; the answer is correct according to the image and "
                     "answers exactly what was asked."),
        ]

    def validate(
        self, options: QaGenerationOptions, task: TaskView, response: QaGenerationResponse
    ) -> QaGenerationResponse:
        typed = response.question_type.strip()
        canonical = {name.casefold(): name for name in QUESTION_TYPES}.get(typed.casefold())
        if canonical is None:
            raise ResponseInvalid("question_type", f"must be one of: {', '.join(QUESTION_TYPES)}")
        question, answer = response.question.strip(), response.answer.strip()
        check_words("question", question, options.question_min_words, options.question_max_words)
        check_words("answer", answer, options.answer_min_words, options.answer_max_words)
        if normalised(question) == normalised(answer):
            raise ResponseInvalid("answer", "only repeats the question; answer it")
        return QaGenerationResponse(question_type=canonical, question=question, answer=answer)

    def score(self, options: QaGenerationOptions, response: dict, expected: dict) -> float:
        """The share of parts passed: `question_type` equal to the expected one (when the expected
        response names one), plus each static criterion of the type (word limits; answer not
        repeating the question). Free text has no single right answer, so question and answer
        are not compared with the expected ones; their quality is for the model judges."""
        parts = [passes(criterion.checks, response)
                 for criterion in self.default_criteria(options) if criterion.checks]
        if expected.get("question_type"):
            parts.append(response.get("question_type") == expected["question_type"])
        return sum(parts) / len(parts)

    def agreement(self, options: QaGenerationOptions, a: dict, b: dict) -> float:
        """0.5 × (same question_type) + 0.25 × J(questions) + 0.25 × J(answers), where J is the
        token Jaccard similarity |A ∩ B| / |A ∪ B| over case-folded words (1.0 when both are empty)."""
        same_type = 1.0 if a.get("question_type") and a.get("question_type") == b.get("question_type") else 0.0
        return (0.5 * same_type
                + 0.25 * jaccard(tokens(a.get("question")), tokens(b.get("question")))
                + 0.25 * jaccard(tokens(a.get("answer")), tokens(b.get("answer"))))

    def aggregate(self, options: QaGenerationOptions, responses: list[dict]) -> dict | None:
        """The most central response (highest mean agreement with the others; ties go to the first),
        with that mean as `agreement` (1.0 for a single response)."""
        if not responses:
            return None
        best, mean = most_central(responses, lambda a, b: self.agreement(options, a, b))
        return {**responses[best], "agreement": round(mean, 4)}

    def export_row(
        self, options: QaGenerationOptions, task: TaskView, responses: list[dict], aggregate: dict | None
    ) -> dict:
        aggregate = aggregate or {}
        return {
            "id": task.ext_id,
            "link": task.inputs.get(IMAGE),
            "question_type": aggregate.get("question_type"),
            "question": aggregate.get("question"),
            "answer": aggregate.get("answer"),
            "agreement": aggregate.get("agreement"),
            "responses": len(responses),
        }


@hookimpl
def quorum_task_types():
    return [QaGeneration()]
