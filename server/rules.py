"""The rule engine: declarative `when → then` rules with CEL conditions, compiled once, checked at load.

A rule set is TOML (`rules/*.toml` for the defaults, per-project rules from the owner):

    [[rule]]
    name = "low evaluation accuracy"
    on = "evaluation.scored"
    when = "tasker.evaluation.count >= 10 && tasker.evaluation.accuracy < 0.75"
    then = "remove"

A condition is compiled when the rule is loaded and run once against a context holding
every name rules may read (zeros), so a syntax error or an unknown name is refused at
load with its line and column in the file. Actions are a closed set; the core carries
them out (server/core/standing.py) and writes an event naming the rule and the values.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from server.cel_module import cel

from server.config import REPO_ROOT

RULES_DIR = REPO_ROOT / "rules"
EVENTS = ("evaluation.scored", "training.completed", "submission.created", "batch.audited", "sweep")
ACTIONS = ("remove", "pause", "resume", "require_retraining", "notify", "reject_submission", "activate",
           "pass_calibration")


class RuleError(ValueError):
    """A rule that cannot be used; the message says where (file, line, column) and why."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def sample_context() -> dict:
    """Every name a condition may read, with neutral values: the load-time check runs against it."""
    phase = {"count": 0, "accuracy": 0.0}
    return {
        "tasker": {
            "status": "active",
            "evaluation": {"count": 0, "accuracy": 0.0, "upper_bound": 1.0, "rolling_accuracy": 0.0,
                           "initial": dict(phase), "review": dict(phase)},
            "training": {"attempts": 0, "accuracy": 0.0, "passed": False},
            "submissions": {"total": 0, "today": 0, "fast": 0, "fast_share": 0.0},
        },
        "project": {"median_seconds": 0.0, "calibration_bar": 0.0, "evaluation_rate": 0.0},
        "batch": {"kind": "", "audited": False, "accuracy": 0.0, "brier": 0.0, "score": 0.0, "size": 0},
        "submission": {"duration_seconds": 0.0, "score": 0.0, "kind": "live"},
        "course": {"accuracy": 0.0, "count": 0, "attempt": 0},
    }


@dataclass
class Rule:
    name: str
    on: str
    when: str
    then: str
    params: dict = field(default_factory=dict)
    enabled: bool = True
    origin: str = ""          # "rules/taskers.toml" or "project 3"
    program: object = None
    reads: tuple[tuple[str, ...], ...] = ()   # the dotted names the condition mentions

    def matches(self, context: dict | cel.Context) -> bool:
        return bool(self.program.execute(context))


NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*(?:\s*\.\s*[A-Za-z_][A-Za-z_0-9]*)*")


def reads_of(when: str) -> tuple[tuple[str, ...], ...]:
    """The context paths a condition can read: each dotted name that starts at a top-level name."""
    top = set(sample_context())
    found = {tuple(part.strip() for part in name.split(".")) for name in NAME.findall(when)}
    return tuple(sorted(path for path in found if path[0] in top))


def environment(values: dict, rules: list[Rule]) -> cel.Context:
    """A CEL context holding only what `rules` read, built once for all of them: turning the
    whole context into CEL values cost more than running the conditions (44 µs against 0.4)."""
    kept: dict = {}
    for path in sorted({p for rule in rules for p in rule.reads}, key=len):
        source, target = values, kept
        for i, key in enumerate(path):
            if not isinstance(source, dict) or key not in source:
                break
            value = source[key]
            if i == len(path) - 1 or not isinstance(value, dict):
                target[key] = value                # a leaf, or a map read as a whole
                break
            if target.get(key) is value:           # kept whole by a shorter path
                break
            target, source = target.setdefault(key, {}), value
    return cel.Context(kept)


def compile_rule(name: str, on: str, when: str, then: str, params: dict | None = None, enabled: bool = True,
                 origin: str = "", line: int | None = None, column: int = 0) -> Rule:
    """Check and compile one rule; errors carry the position of the condition in its source."""
    where = f"{origin}: rule {name!r}" if origin else f"rule {name!r}"
    if not name.strip():
        raise RuleError(f"{origin}: a rule needs a name", line)
    if on not in EVENTS:
        raise RuleError(f"{where}: on = {on!r} is not an event; use one of {', '.join(EVENTS)}", line)
    if then not in ACTIONS:
        raise RuleError(f"{where}: then = {then!r} is not an action; use one of {', '.join(ACTIONS)}", line)
    try:
        program = cel.compile(when)
    except ValueError as exc:
        row, col = _position(str(exc))
        at_line = (line or 1) + row - 1 if line else row
        at_col = (column + col) if row == 1 else col
        raise RuleError(f"{where}: condition does not parse at line {at_line}, column {at_col}: "
                        f"{_reason(str(exc))}", at_line, at_col) from exc
    try:
        program.execute(sample_context())
    except Exception as exc:  # noqa: BLE001 - an unknown name or a type error, named for the owner
        raise RuleError(f"{where}: condition cannot be evaluated: {_unknown(exc)} (readable names: "
                        f"{', '.join(_names(sample_context()))})", line, column) from exc
    return Rule(name=name, on=on, when=when, then=then, params=dict(params or {}), enabled=enabled,
                origin=origin, program=program, reads=reads_of(when))


def _position(message: str) -> tuple[int, int]:
    match = re.search(r"<input>:(\d+):(\d+)", message)
    return (int(match.group(1)), int(match.group(2))) if match else (1, 1)


def _reason(message: str) -> str:
    found = re.search(r"<input>:\d+:\d+: (.*)", message)
    return found.group(1).split("\n")[0] if found else message


def _unknown(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"unknown name {exc.args[0]!r}"
    return str(exc).split("\n")[0]


def _names(context: dict, prefix: str = "") -> list[str]:
    names = []
    for key, value in context.items():
        if isinstance(value, dict):
            names += _names(value, f"{prefix}{key}.")
        else:
            names.append(f"{prefix}{key}")
    return names


def parse(text: str, origin: str) -> list[Rule]:
    """Rules from TOML text; an error names the file, the line and the column."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, column = _toml_position(exc)
        raise RuleError(f"{origin}: {exc}", line, column) from exc
    unknown = set(data) - {"rule"}
    if unknown:
        raise RuleError(f"{origin}: unknown table {sorted(unknown)[0]!r}; rules go in [[rule]] tables")
    rules, seen = [], set()
    for entry in data.get("rule", []):
        name = str(entry.get("name", ""))
        line, column = _locate(text, entry.get("when", ""))
        extra = set(entry) - {"name", "on", "when", "then", "params", "enabled"}
        if extra:
            raise RuleError(f"{origin}: rule {name!r}: unknown key {sorted(extra)[0]!r}", line)
        for key in ("on", "when", "then"):
            if not isinstance(entry.get(key), str):
                raise RuleError(f"{origin}: rule {name!r}: `{key}` must be a string", line)
        if name in seen:
            raise RuleError(f"{origin}: two rules are named {name!r}", line)
        seen.add(name)
        rules.append(compile_rule(name, entry["on"], entry["when"], entry["then"], entry.get("params"),
                                  entry.get("enabled", True), origin, line, column))
    return rules


def _toml_position(exc: tomllib.TOMLDecodeError) -> tuple[int | None, int | None]:
    """Line and column of a TOML syntax error: attributes from Python 3.14 on, the message's "(at line L,
    column C)" before."""
    if getattr(exc, "lineno", None):
        return exc.lineno, exc.colno
    found = re.search(r"at line (\d+), column (\d+)", str(exc))
    return (int(found.group(1)), int(found.group(2))) if found else (None, None)


def _locate(text: str, when: str) -> tuple[int | None, int]:
    """Line and column (1-based) where a condition's text starts in the TOML source."""
    first = when.split("\n")[0]
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"\s*when\s*=", line) and first and first in line:
            return number, line.index(first)
    return None, 0


def defaults() -> list[Rule]:
    """Every default rule from rules/*.toml, in file order."""
    found = []
    for path in sorted(Path(RULES_DIR).glob("*.toml")):
        found += parse(path.read_text(), f"rules/{path.name}")
    return found


def dump(rules: list[Rule]) -> str:
    """Rules as TOML, the way an owner edits them."""
    blocks = []
    for r in rules:
        lines = ["[[rule]]", f"name = {_toml(r.name)}", f"on = {_toml(r.on)}", f"when = {_toml(r.when)}",
                 f"then = {_toml(r.then)}"]
        if not r.enabled:
            lines.append("enabled = false")
        if r.params:
            lines.append("params = { " + ", ".join(f"{k} = {_toml(v)}" for k, v in r.params.items()) + " }")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
