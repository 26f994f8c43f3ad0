"""Word counts, word limits and text similarity shared by the task types (and the static judge)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from server.plugin_types import ResponseInvalid

_WORD = re.compile(r"\w+")


def text(value: Any) -> str:
    """The value as text: "" for None, a string as it is, anything else through str()."""
    return "" if value is None else value if isinstance(value, str) else str(value)


def words(value: Any) -> int:
    """How many whitespace-separated words the value has."""
    return len(text(value).split())


def n_words(n: int) -> str:
    """"1 word", "3 words"."""
    return f"{n} word" if n == 1 else f"{n} words"


def normalised(value: Any) -> str:
    """Words only, case-folded: "Sales  dashboard." and "sales dashboard" are the same text."""
    return " ".join(_WORD.findall(text(value).casefold()))


def tokens(value: Any) -> set[str]:
    """The set of case-folded word tokens."""
    return set(_WORD.findall(text(value).casefold()))


def jaccard(a: set[str], b: set[str]) -> float:
    """|A ∩ B| / |A ∪ B|, and 1.0 when both are empty."""
    return len(a & b) / len(a | b) if a | b else 1.0


def check_words(field: str, value: str, least: int, most: int) -> None:
    """Raise ResponseInvalid naming `field` unless it has `least` to `most` words; `least` 0 makes it optional."""
    count = words(value)
    if count == 0 and least:
        raise ResponseInvalid(field, f"is required ({least} to {most} words)")
    if count < least:
        raise ResponseInvalid(field, f"has {n_words(count)}; at least {least} required")
    if count > most:
        raise ResponseInvalid(field, f"has {n_words(count)}; at most {most} allowed")


def check_limits(options: Any, *fields: str) -> None:
    """Raise ResponseInvalid naming the option unless each field's `<field>_min_words` is at least 1 and its
    `<field>_max_words` at least that; with no fields, the options' own `min_words` and `max_words`."""
    for prefix in [f"{field}_" for field in fields] or [""]:
        least, most = getattr(options, f"{prefix}min_words"), getattr(options, f"{prefix}max_words")
        if least < 1:
            raise ResponseInvalid(f"options.{prefix}min_words", "must be at least 1")
        if most < least:
            raise ResponseInvalid(f"options.{prefix}max_words", f"must be at least {prefix}min_words ({least})")


def passes(checks: dict, response: dict) -> bool:
    """Whether a response passes a criterion's checks as the static judge reads them
    (required, min_words, max_words, distinct)."""
    if any(not text(response.get(field)).strip() for field in checks.get("required", [])):
        return False
    if any(words(response.get(f)) < n for f, n in checks.get("min_words", {}).items()):
        return False
    if any(words(response.get(f)) > n for f, n in checks.get("max_words", {}).items()):
        return False
    return all(normalised(response.get(a)) != normalised(response.get(b)) for a, b in checks.get("distinct", []))


def most_central(responses: list[dict], agreement: Callable[[dict, dict], float]) -> tuple[int, float]:
    """The index of the response with the highest mean agreement with the others (ties go to the first)
    and that mean; (0, 1.0) for a single response. `responses` must not be empty."""
    if len(responses) == 1:
        return 0, 1.0
    means = [
        sum(agreement(response, other) for j, other in enumerate(responses) if j != i) / (len(responses) - 1)
        for i, response in enumerate(responses)
    ]
    best = max(range(len(responses)), key=lambda i: means[i])
    return best, means[best]
