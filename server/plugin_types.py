"""The types a plugin works with: task types, judges, importers, exporters, and what they are handed.

Plugins see these and `server.hookspecs`, never models or the web layer. A task type
receives plain dicts (the task's input data, a response) and its project's options
(decoded into its own `options_type`), and raises `ResponseInvalid` naming the field.
"""

from __future__ import annotations

import re

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

import msgspec

INPUT_TYPES = ("IMAGE", "TEXT", "URL", "NUMBER", "BOOLEAN", "JSON")


class ResponseInvalid(Exception):
    """A response, option or record breaks a rule; `field` names where."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InputEntity(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What taskers see: a value taken from one field of the item."""

    name: str
    type: str = "TEXT"
    label: str = ""


class OutputEntity(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What taskers produce. `type` is single_choice, multi_choice, text, score or computed."""

    name: str
    type: str
    label: str = ""
    required: bool = True
    choices: list[str] = []
    min_words: int | None = None
    max_words: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    shortcut_keys: bool = True


@dataclass
class TaskView:
    """One task as a task type sees it."""

    id: int
    ext_id: str
    inputs: dict[str, Any]
    data: dict[str, Any]


class Options(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base for a task type's project options; a type with none uses it as is."""


class TaskType:
    """Subclass, set the class attributes, override what your type needs.

    The defaults give exact-match scoring and agreement, majority aggregation and an
    export row with the task's id, inputs and the aggregated answer.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str] = ""
    options_type: ClassVar[type[Options]] = Options
    response_type: ClassVar[type[msgspec.Struct]]
    template: ClassVar[str | None] = None   # jinja template for the form, or the generic one

    def parse_options(self, raw: dict) -> Options:
        try:
            return msgspec.convert(raw or {}, self.options_type)
        except msgspec.ValidationError as exc:
            raise _invalid(exc, "options") from exc

    def inputs(self, options: Options) -> list[InputEntity]:
        raise NotImplementedError

    def outputs(self, options: Options) -> list[OutputEntity]:
        raise NotImplementedError

    def default_criteria(self, options: Options) -> list["CriterionView"]:
        """Quality criteria a new project of this type starts with (the owner edits them)."""
        return []

    def decode(self, raw: Any) -> msgspec.Struct:
        """The response as this type's Struct; a wrong shape names the field."""
        try:
            return msgspec.convert(raw, self.response_type)
        except msgspec.ValidationError as exc:
            raise _invalid(exc, "response") from exc

    def validate(self, options: Options, task: TaskView, response: msgspec.Struct) -> msgspec.Struct:
        """Check the response against the task; return it (normalised) or raise ResponseInvalid."""
        return response

    def score(self, options: Options, response: dict, expected: dict) -> float:
        return 1.0 if response == expected else 0.0

    def agreement(self, options: Options, a: dict, b: dict) -> float:
        return 1.0 if a == b else 0.0

    def aggregate(self, options: Options, responses: list[dict]) -> dict | None:
        """Majority by exact match; ties go to the earliest answer."""
        if not responses:
            return None
        if len(responses) == 1:
            return responses[0]
        counts: dict[bytes, list] = {}
        for response in responses:
            key = msgspec.json.encode(response, order="sorted")
            counts.setdefault(key, [0, response])[0] += 1
        return max(counts.values(), key=lambda pair: pair[0])[1]

    def export_row(self, options: Options, task: TaskView, responses: list[dict], aggregate: dict | None) -> dict:
        return {"id": task.ext_id, **task.inputs, "answer": aggregate, "responses": len(responses)}


class Verdict(msgspec.Struct, kw_only=True):
    """A judge's verdict on one criterion of one response."""

    criterion: str
    verdict: str                 # pass | fail | error
    comment: str = ""
    confidence: float | None = None


class CriterionView(msgspec.Struct, kw_only=True):
    name: str
    entities: list[str] = []
    rule: str = ""
    checks: dict[str, Any] = {}
    severity: str = "blocking"


@dataclass
class GradedExample:
    """An answer an owner graded per criterion, shown to model judges as a worked example."""

    inputs: dict[str, Any]
    response: dict
    verdicts: dict[str, dict]      # criterion name -> {"verdict": "pass" | "fail", "reason": "…"}


@dataclass
class JudgeRequest:
    """What a judge is handed: the project's words, the criteria it covers, the task and the response.

    `settings` is this judge's own table from the project (e.g. a model name); `inputs`
    are the task's input entities (so a judge knows which values are images); `examples`
    are owner-graded answers of the project version the task runs under."""

    project_name: str
    description: str
    guidelines: str
    criteria: list[CriterionView]
    task: TaskView
    response: dict
    outputs: list[OutputEntity] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    inputs: list[InputEntity] = field(default_factory=list)
    examples: list[GradedExample] = field(default_factory=list)


@dataclass
class JudgeReport:
    """One judge's answer on one response: verdicts, the version that gave them, and for
    model judges the exact prompt (readable, images as placeholders) and raw outputs."""

    verdicts: list[Verdict]
    version: str
    prompt: str = ""
    outputs: list[str] = field(default_factory=list)


class JudgeFailure(Exception):
    """A judge could not judge. `transient` says whether trying later may help (host down,
    timeout): the queue retries those with backoff before marking the answer "not judged"."""

    transient = False

    def __init__(self, message: str, prompt: str = "", outputs: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.prompt = prompt
        self.outputs = outputs or []


class Judge:
    """Subclass and override `judge`. A `cheap` judge runs inside the submit transaction;
    others run as queued jobs, so the labeling path never waits on them."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    cheap: ClassVar[bool] = False

    def covers(self, criterion: CriterionView) -> bool:
        return True

    def judge(self, request: JudgeRequest) -> list[Verdict]:
        raise NotImplementedError

    def run(self, request: JudgeRequest) -> JudgeReport:
        """judge() with what produced it; model judges override this to keep their prompt."""
        return JudgeReport(self.judge(request), self.version)

    def problems(self, criterion: CriterionView, outputs: list[str]) -> list[str]:
        """What is wrong with a criterion as this judge would read it (checked when an owner saves it)."""
        return []

    def check(self, settings: dict | None = None) -> tuple[bool, str] | None:
        """For `quorum judge check`: (ok, a sentence for the owner), or None when there is nothing to check."""
        return None


class ProjectTemplate(msgspec.Struct, kw_only=True):
    """A ready project for a use case: what an owner starts from and then edits."""

    name: str
    title: str
    task_type: str
    description: str
    guidelines: str                      # markdown: what to do, a good and a bad example, edge cases
    options: dict = {}
    criteria: list[CriterionView] | None = None   # None: the task type's default criteria
    price_cents: int = 0
    overlap: int = 1
    judges: list[str] = msgspec.field(default_factory=lambda: ["static"])
    sample_dataset: str = ""             # the shape of data it expects, e.g. "images_with_queries.json"


class Importer:
    """Turns an uploaded file into records. `read` yields (line or row number, record)."""

    name: ClassVar[str]
    media_types: ClassVar[tuple[str, ...]]
    suffixes: ClassVar[tuple[str, ...]]
    unit: ClassVar[str] = "line"

    def read(self, stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError


class Exporter:
    """Writes export rows to a byte stream, chunk by chunk."""

    name: ClassVar[str]
    media_type: ClassVar[str]
    suffix: ClassVar[str]

    def chunks(self, rows: Iterable[dict]) -> Iterator[bytes]:
        raise NotImplementedError


def _invalid(exc: msgspec.ValidationError, root: str) -> ResponseInvalid:
    """msgspec's "Expected `str`, got `int` - at `$.label`" becomes field `label`."""
    message, _, path = str(exc).partition(" - at `$")
    path = path.rstrip("`").lstrip(".")
    named = re.search(r"(?:missing required|unknown) field `([^`]+)`", message)
    if named and not path:
        path = named.group(1)
    elif named:
        path = f"{path}.{named.group(1)}"
    return ResponseInvalid(path or root, message)
