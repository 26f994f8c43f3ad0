"""The structured-output contract: the JSON schema sent as `format`, and the parser for the answer.

The answer is one object keyed by criterion name (the names are the required
properties, nothing else allowed), each holding a comment, the verdict and a
confidence. Ollama turns the schema into a grammar, so a model follows it token by
token; the comment comes first so the verdict follows the model's reasoning. The
answer is decoded, never scraped: anything else is malformed.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal

import msgspec


class Answer(msgspec.Struct, kw_only=True):
    """The model's verdict on one criterion."""

    comment: str
    verdict: Literal["pass", "fail"]
    confidence: Annotated[float, msgspec.Meta(ge=0, le=1)]


class Malformed(ValueError):
    """The output is not the object the schema asks for; the message says what is wrong."""


def inline_refs(schema: dict) -> dict:
    """msgspec's schema with every "$ref": "#/$defs/X" replaced by X itself, and no "$defs" left."""
    defs = schema.get("$defs", {})

    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name in seen:
                    raise ValueError(f"recursive schema at {name}")
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return walk({**copy.deepcopy(defs[name]), **rest}, seen + (name,))
            return {k: walk(v, seen) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [walk(item, seen) for item in node]
        return node

    return walk(schema, ())


def answer_schema(criteria: list[str]) -> dict:
    """The `format` for one judging call: {criterion name: Answer} with every name required."""
    answer = inline_refs(msgspec.json.schema(Answer))
    answer.pop("title", None)
    answer.pop("description", None)
    return {
        "type": "object",
        "properties": {name: copy.deepcopy(answer) for name in criteria},
        "required": list(criteria),
        "additionalProperties": False,
    }


def parse(content: str, criteria: list[str]) -> dict[str, Answer]:
    """The answers found for `criteria` (some may be missing: the caller decides); raises Malformed."""
    if not content or not content.strip():
        raise Malformed("the answer is empty")
    try:
        raw = msgspec.json.decode(content)
    except msgspec.DecodeError as exc:
        raise Malformed(f"not a JSON object ({exc})") from None
    if not isinstance(raw, dict):
        raise Malformed(f"expected a JSON object keyed by criterion, got {type(raw).__name__}")
    answers = {}
    for name in criteria:
        if name not in raw:
            continue
        try:
            answers[name] = msgspec.convert(raw[name], Answer)
        except msgspec.ValidationError as exc:
            raise Malformed(f"{name}: {str(exc).replace('`$.', '`').replace(' - at `$`', '')}") from None
    return answers
