"""The exact prompt: the chat messages built from the project's words, the criteria, examples, task and response.

Deterministic: the same request, settings and vision flag give the same messages, so
the core can store the text or build it again. Images travel as bytes to the model;
everywhere else (stored prompts, error reports) they read "<image: name, N bytes>".
"""

from __future__ import annotations

import dataclasses

from dataclasses import dataclass
from typing import Any

import msgspec

from plugins.judges.ollama import media
from plugins.judges.ollama.settings import Example, InputField, Settings
from server.plugin_types import CriterionView, JudgeRequest, OutputEntity

SYSTEM = """\
You are a careful quality judge for a data-labeling project. A tasker did one task; \
you decide, for each quality criterion, whether their response passes or fails it.
Judge each criterion by its own rule only, reading the project's guidelines for what the rule means. \
The verdict is "pass" when the response meets the rule and "fail" when it does not.
For each criterion write a short comment addressed to the tasker: why the response passes, or what to fix. \
Give your confidence in the verdict as a number from 0 to 1.
Answer with one JSON object and nothing else."""


@dataclass(frozen=True)
class Prompt:
    """Chat messages; a user message may carry images."""

    messages: tuple[dict, ...]

    def for_client(self) -> list[dict]:
        """As sent: images as bytes (the ollama client base64-encodes them)."""
        return [_with_images(m, lambda image: image.data) for m in self.messages]

    def for_display(self) -> list[dict]:
        """As stored and shown: images replaced by "<image: name, N bytes>"."""
        return [_with_images(m, media.Image.placeholder) for m in self.messages]

    def text(self) -> str:
        return render(self.for_display())

    @property
    def images(self) -> list[media.Image]:
        return [image for m in self.messages for image in m.get("images", ())]


def render(messages: list[dict]) -> str:
    """Display messages as one readable text: "[system]\\n…\\n\\n[user]\\n…"."""
    parts = []
    for message in messages:
        lines = [f"[{message['role']}]", message.get("content", "")]
        lines.extend(str(image) for image in message.get("images", []))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def build(request: JudgeRequest, settings: Settings, vision: bool) -> Prompt:
    """The messages for judging `request.criteria` on `request.response`."""
    names = [c.name for c in request.criteria]
    fields = input_fields(request, settings)
    labels = {o.name: _label(o.name, o.label) for o in request.outputs}
    sections = [f"# Project: {request.project_name}"]
    if request.description.strip():
        sections.append(f"## Description\n{request.description.strip()}")
    if request.guidelines.strip():
        sections.append(f"## Guidelines\n{request.guidelines.strip()}")
    sections.append("## Quality criteria\n" + "\n".join(_criterion(c, labels) for c in request.criteria))
    examples = _examples([*settings.examples, *_graded(request)], set(names), fields, request.outputs)
    if examples:
        sections.append("## Examples graded by the project owner\n" + examples)
    inputs, images = _task_inputs(request, settings, fields, vision)
    task = [f"## The task to judge ({request.task.ext_id or request.task.id})", "Inputs:", inputs]
    context = _context(request.task.data, settings.context_fields)
    if context:
        task += ["Item fields:", context]
    task += ["Response:", _response(request.response, request.outputs)]
    sections.append("\n".join(task))
    sections.append(
        "Answer with a JSON object whose keys are exactly these criterion names: "
        + ", ".join(quote(n) for n in names)
        + '. For each give "comment" (one or two sentences for the tasker), "verdict" ("pass" or "fail") '
        'and "confidence" (from 0 to 1).'
    )
    user: dict[str, Any] = {"role": "user", "content": "\n\n".join(sections)}
    if images:
        user["images"] = tuple(images)
    return Prompt(messages=({"role": "system", "content": SYSTEM}, user))


def correction(prompt: Prompt, output: str, problem: str) -> list[dict]:
    """A retry's messages: the prompt, the bad answer, and what was wrong with it."""
    return prompt.for_client() + [
        {"role": "assistant", "content": output[:4000]},
        {"role": "user", "content": f"That answer cannot be used: {problem}. "
                                    "Answer again with only the JSON object, one entry per criterion."},
    ]


def input_fields(request: JudgeRequest, settings: Settings) -> list[InputField]:
    """The task's input entities: from settings when the core passes them, else guessed from the values."""
    if settings.inputs is not None:
        return list(settings.inputs)
    given = getattr(request, "inputs", None)   # a JudgeRequest.inputs field, once the core has one
    if given:
        return [InputField(name=e.name, type=e.type, label=e.label) for e in given]
    return [InputField(name=name, type="IMAGE" if media.looks_like_image(value) else "TEXT")
            for name, value in request.task.inputs.items()]


def _task_inputs(request: JudgeRequest, settings: Settings, fields: list[InputField],
                 vision: bool) -> tuple[str, list[media.Image]]:
    lines, images = [], []
    for field in fields:
        value = request.task.inputs.get(field.name)
        label = _label(field.name, field.label)
        if field.type != "IMAGE":
            lines.append(f"- {label}: {_value(value)}")
            continue
        found = (media.load(field.name, value, settings.media_root, settings.max_image_bytes) if vision
                 else "this model does not take images")
        if isinstance(found, media.Image):
            images.append(found)
            lines.append(f"- {label}: [image {len(images)}, attached]")
        else:
            lines.append(f"- {label}: image {_value(value)} (not shown: {found})")
    return "\n".join(lines) or "(none)", images


def _graded(request: JudgeRequest) -> list[Example]:
    """The project version's owner-graded examples, which the core hands every judge."""
    return [msgspec.convert(dataclasses.asdict(e), Example) for e in request.examples]


def _examples(examples: list[Example], covered: set[str], fields: list[InputField],
              outputs: list[OutputEntity]) -> str:
    blocks = []
    for example in examples:
        graded = {name: v for name, v in example.verdicts.items() if name in covered}
        if not graded:
            continue
        lines = [f"### Example {len(blocks) + 1}", "Inputs:"]
        known = {f.name for f in fields}
        for field in fields:
            if field.name in example.inputs:
                shown = _value(example.inputs[field.name])
                lines.append(f"- {_label(field.name, field.label)}: "
                             + (f"image {shown} (not shown)" if field.type == "IMAGE" else shown))
        lines.extend(f"- {name}: {_value(v)}" for name, v in example.inputs.items() if name not in known)
        lines += ["Response:", _response(example.response, outputs), "Owner's verdicts:"]
        for name, v in graded.items():
            lines.append(f"- {quote(name)}: {v.verdict}" + (f". {v.reason.strip()}" if v.reason.strip() else ""))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _criterion(criterion: CriterionView, labels: dict[str, str]) -> str:
    applies = ", ".join(labels.get(e, e) for e in criterion.entities) or "the whole response"
    return f"- {quote(criterion.name)} (applies to: {applies}): {criterion.rule.strip()}"


def _response(response: dict, outputs: list[OutputEntity]) -> str:
    lines = []
    for output in outputs:
        hint = _hint(output)
        lines.append(f"- {_label(output.name, output.label)}{f' [{hint}]' if hint else ''}: "
                     f"{_value(response.get(output.name))}")
    named = {o.name for o in outputs}
    lines.extend(f"- {name}: {_value(value)}" for name, value in response.items() if name not in named)
    return "\n".join(lines) or "(empty)"


def _context(data: dict, names: list[str]) -> str:
    return "\n".join(f"- {name}: {_value(data.get(name))}" for name in names)


def _hint(output: OutputEntity) -> str:
    if output.type in ("single_choice", "multi_choice") and output.choices:
        return ("one of: " if output.type == "single_choice" else "any of: ") + " | ".join(output.choices)
    if output.type == "text" and output.min_words and output.max_words:
        return f"{output.min_words}–{output.max_words} words"
    if output.type == "text" and (output.min_words or output.max_words):
        return f"at least {output.min_words} words" if output.min_words else f"at most {output.max_words} words"
    if output.type == "score" and output.minimum is not None and output.maximum is not None:
        return f"score {output.minimum}–{output.maximum}"
    if output.type == "computed":
        return "computed"
    return ""


def _label(name: str, label: str) -> str:
    return f"{label} ({name})" if label and label != name else name


def quote(text: str) -> str:
    return msgspec.json.encode(text).decode()


def _value(value: Any) -> str:
    """Text in quotes (a block when it spans lines), numbers as numbers, lists and objects as JSON."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, str):
        if "\n" in value.strip():
            return "\n" + "\n".join(f"    {line}" for line in value.strip().splitlines())
        return quote(value)
    return msgspec.json.encode(value, order="sorted").decode()


def _with_images(message: dict, convert) -> dict:
    out = {k: v for k, v in message.items() if k != "images"}
    if message.get("images"):
        out["images"] = [convert(image) for image in message["images"]]
    return out
