"""The static judge: a criterion's `checks` (required fields, word limits, distinctness, …) run deterministically."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from plugins.tasktypes.text import n_words, normalised, words
from server.hookspecs import hookimpl
from server.plugin_types import CriterionView, Judge, JudgeRequest, Verdict


class CheckInvalid(Exception):
    """A criterion's checks cannot be run as written."""


def _is_empty(value: Any) -> bool:
    """Absent, blank text, or an empty list or mapping; 0 and False are answers."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list | dict) and not value)


def _required(fields: list[str], response: dict, inputs: dict) -> Iterator[str]:
    for field in fields:
        if _is_empty(response.get(field)):
            yield f"{field} is required"


def _min_words(limits: dict[str, int], response: dict, inputs: dict) -> Iterator[str]:
    for field, least in limits.items():
        count = words(response.get(field))
        if count < least:
            yield f"{field} has {n_words(count)}; at least {least} required"


def _max_words(limits: dict[str, int], response: dict, inputs: dict) -> Iterator[str]:
    for field, most in limits.items():
        count = words(response.get(field))
        if count > most:
            yield f"{field} has {n_words(count)}; at most {most} allowed"


def _distinct(pairs: list[tuple[str, str]], response: dict, inputs: dict) -> Iterator[str]:
    for a, b in pairs:
        if normalised(response.get(a)) == normalised(response.get(b)):
            yield f"{a} and {b} must differ but say the same"


def _not_input(sources: dict[str, str], response: dict, inputs: dict) -> Iterator[str]:
    for field, name in sources.items():
        if name not in inputs:
            raise CheckInvalid(f"not_input: the task has no input {name!r}")
        given, said = normalised(inputs[name]), normalised(response.get(field))
        if given and said == given:
            yield f"{field} only repeats the input {name}"
        elif given and f" {given} " in f" {said} ":
            yield f"{field} copies the input {name} word for word"


def _range(bounds: dict[str, tuple[float, float]], response: dict, inputs: dict) -> Iterator[str]:
    for field, (low, high) in bounds.items():
        value = response.get(field)
        if isinstance(value, bool) or not isinstance(value, int | float):
            yield f"{field} must be a number from {low:g} to {high:g}"
        elif not low <= value <= high:
            yield f"{field} is {value}; it must be from {low:g} to {high:g}"


def _sum(totals: dict[str, list[str]], response: dict, inputs: dict) -> Iterator[str]:
    """Computed-field consistency: each total equals the sum of its parts."""
    for total, parts in totals.items():
        values = [response.get(p) for p in parts]
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
            missing = [p for p, v in zip(parts, values) if isinstance(v, bool) or not isinstance(v, int | float)]
            yield f"{total} cannot be checked: {', '.join(missing)} missing"
        elif response.get(total) != sum(values):
            yield f"{total} is {response.get(total)}; its parts add up to {sum(values):g}"


Check = Callable[[Any, dict, dict], Iterator[str]]

# check key -> (the shape its settings must have, the check)
CHECKS: dict[str, tuple[Any, Check]] = {
    "required": (list[str], _required),
    "min_words": (dict[str, int], _min_words),
    "max_words": (dict[str, int], _max_words),
    "distinct": (list[tuple[str, str]], _distinct),
    "not_input": (dict[str, str], _not_input),
    "range": (dict[str, tuple[float, float]], _range),
    "sum": (dict[str, list[str]], _sum),
}
# the settings of each check name response fields (except not_input's values, which name inputs)
FIELDS = {
    "required": lambda s: s, "min_words": lambda s: s, "max_words": lambda s: s,
    "distinct": lambda s: [f for pair in s for f in pair], "not_input": lambda s: list(s),
    "range": lambda s: list(s), "sum": lambda s: [*s, *(p for parts in s.values() for p in parts)],
}


def _compile(checks: dict[str, Any]) -> list[tuple[Check, Any]]:
    unknown = sorted(set(checks) - CHECKS.keys())
    if unknown:
        named = "unknown check" if len(unknown) == 1 else "unknown checks"
        raise CheckInvalid(f"{named} {', '.join(unknown)}; known checks: {', '.join(CHECKS)}")
    compiled = []
    for key, settings in checks.items():
        shape, check = CHECKS[key]
        try:
            compiled.append((check, msgspec.convert(settings, shape)))
        except msgspec.ValidationError as exc:
            raise CheckInvalid(f"{key}: {exc}") from exc
    return compiled


class StaticJudge(Judge):
    name = "static"
    version = "1"
    cheap = True

    def covers(self, criterion: CriterionView) -> bool:
        return bool(criterion.checks)

    def problems(self, criterion: CriterionView, outputs: list[str]) -> list[str]:
        """Unknown checks, settings of the wrong shape, and fields the project does not produce."""
        try:
            _compile(criterion.checks)
        except CheckInvalid as exc:
            return [str(exc)]
        found = []
        for key, settings in criterion.checks.items():
            for field in FIELDS[key](msgspec.convert(settings, CHECKS[key][0])):
                if field not in outputs:
                    found.append(f"{key}: {field!r} is not an output ({', '.join(outputs)})")
        return found

    def judge(self, request: JudgeRequest) -> list[Verdict]:
        return [
            self._verdict(criterion, request.response, request.task.inputs)
            for criterion in request.criteria
            if self.covers(criterion)
        ]

    def _verdict(self, criterion: CriterionView, response: dict, inputs: dict) -> Verdict:
        try:
            broken = [problem for check, settings in _compile(criterion.checks)
                      for problem in check(settings, response, inputs)]
        except CheckInvalid as exc:
            return Verdict(criterion=criterion.name, verdict="error", comment=str(exc))
        if broken:
            return Verdict(criterion=criterion.name, verdict="fail", comment=". ".join(broken))
        return Verdict(criterion=criterion.name, verdict="pass")


@hookimpl
def quorum_judges():
    return [StaticJudge()]
