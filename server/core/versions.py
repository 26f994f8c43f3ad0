"""Project versions: editing instructions or criteria freezes a new version; graded disagreements ride along.

A version's snapshot holds the description, guidelines, options, judges and their
settings, the datapoint structure, the criteria, and the examples model judges receive:
answers the owner graded per criterion where a judge disagreed with them.
"""

from __future__ import annotations

import msgspec

from server import plugins
from server.core import events, projects
from server.db import write_transaction
from server.errors import Conflict, Invalid
from server.models import Criterion, CriterionGrade, JudgeVerdict, Project, ProjectVersion, Response, Task
from server.plugin_types import CriterionView, GradedExample

SEVERITIES = ("blocking", "advisory")
MAX_EXAMPLES = 8


class CriterionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    entities: list[str] = []
    rule: str = ""
    checks: dict = {}
    severity: str = "blocking"


class ProjectEdit(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields an owner may change; any change to what taskers or judges read makes a new version."""

    name: str | None = None
    description: str | None = None
    guidelines: str | None = None
    criteria: list[CriterionIn] | None = None
    judges: list[str] | None = None
    judge_settings: dict[str, dict] | None = None
    on_blocking_fail: str | None = None
    price_cents: int | None = None
    overlap: int | None = None
    lease_minutes: float | None = None
    evaluation_rate: float | None = None
    calibration_bar: float | None = None
    require_calibration: bool | None = None


VERSIONED = ("description", "guidelines", "criteria", "judges", "judge_settings")


def edit(project: Project, change: ProjectEdit, actor: int | None) -> Project:
    """Apply an owner's edit; a new version when instructions, criteria or judges change."""
    registry = plugins.registry()
    outputs = {e.name for e in projects.runtime(project).outputs}
    if change.criteria is not None:
        check_criteria(change.criteria, outputs, registry)
    if change.judges is not None:
        unknown = [j for j in change.judges if j not in registry.judges]
        if unknown:
            raise Invalid(f"unknown judge {unknown[0]!r}; available: {', '.join(sorted(registry.judges))}",
                          field="judges")
    if change.on_blocking_fail not in (None, "review", "rework"):
        raise Invalid("on_blocking_fail must be review or rework", field="on_blocking_fail")
    if change.price_cents is not None and change.price_cents < 0:
        raise Invalid("price_cents must not be negative", field="price_cents")
    if change.overlap is not None and not 1 <= change.overlap <= 100:
        raise Invalid("overlap must be between 1 and 100", field="overlap")
    if change.require_calibration is False and project.require_calibration:
        raise Conflict("calibration can be skipped only when a project is created (\"require_calibration\": "
                       "false); run a calibration round to open production", field="require_calibration")
    if change.evaluation_rate is not None and not 0 <= change.evaluation_rate <= 0.5:
        raise Invalid("evaluation_rate must be from 0 to 0.5", field="evaluation_rate")
    if change.calibration_bar is not None and not 0 <= change.calibration_bar <= 1:
        raise Invalid("calibration_bar must be from 0 to 1", field="calibration_bar")
    if change.lease_minutes is not None and change.lease_minutes <= 0:
        raise Invalid("lease_minutes must be positive", field="lease_minutes")
    changed = [f for f in change.__struct_fields__ if getattr(change, f) is not None]
    new_version = any(f in VERSIONED for f in changed)
    with write_transaction():
        for field in ("name", "description", "guidelines", "judges", "judge_settings", "on_blocking_fail",
                      "price_cents", "overlap", "evaluation_rate", "calibration_bar", "require_calibration"):
            value = getattr(change, field)
            if value is not None:
                setattr(project, field, value)
        if change.lease_minutes is not None:
            project.lease_seconds = change.lease_minutes * 60
        if change.criteria is not None:
            Criterion.delete().where(Criterion.project == project).execute()
            for position, c in enumerate(change.criteria):
                Criterion.create(project=project, name=c.name.strip(), entities=c.entities, rule=c.rule,
                                 checks=c.checks, severity=c.severity, position=position)
        if new_version:
            project.version += 1
        project.save()
        projects.forget(project.id)
        if new_version:
            projects.snapshot(project, examples=graded_examples(project))
        events.record("project.edited", actor=actor, project=project.id, fields=changed, version=project.version)
    return project


def check_criteria(criteria: list[CriterionIn], outputs: set[str], registry) -> None:
    seen: set[str] = set()
    for i, c in enumerate(criteria):
        where = f"criteria[{i}]"
        if not c.name.strip():
            raise Invalid("a criterion needs a name", field=f"{where}.name")
        if c.name.strip() in seen:
            raise Invalid(f"two criteria are named {c.name!r}", field=f"{where}.name")
        seen.add(c.name.strip())
        if c.severity not in SEVERITIES:
            raise Invalid(f"severity must be one of {', '.join(SEVERITIES)}", field=f"{where}.severity")
        unknown = [e for e in c.entities if e not in outputs]
        if unknown:
            raise Invalid(f"{unknown[0]!r} is not an output entity ({', '.join(sorted(outputs))})",
                          field=f"{where}.entities")
        if not c.rule.strip() and not c.checks:
            raise Invalid("give a rule in plain words, static checks, or both", field=f"{where}.rule")
        view = CriterionView(name=c.name, entities=c.entities, rule=c.rule, checks=c.checks, severity=c.severity)
        for judge in registry.judges.values():
            for problem in judge.problems(view, sorted(outputs)):
                raise Invalid(f"{judge.name}: {problem}", field=f"{where}.checks")


def graded_examples(project: Project, limit: int = MAX_EXAMPLES) -> list[dict]:
    """The newest answers whose owner grade disagreed with a judge, as examples for model judges."""
    disagreements = (CriterionGrade.select(CriterionGrade.response, CriterionGrade.criterion_name,
                                           CriterionGrade.verdict, CriterionGrade.reason)
                     .join(JudgeVerdict, on=((JudgeVerdict.response == CriterionGrade.response)
                                             & (JudgeVerdict.criterion_name == CriterionGrade.criterion_name)))
                     .join_from(CriterionGrade, Response)
                     .where(Response.project == project.id, JudgeVerdict.purpose == "live",
                            JudgeVerdict.verdict.in_(("pass", "fail")),
                            JudgeVerdict.verdict != CriterionGrade.verdict)
                     .order_by(CriterionGrade.id.desc()).tuples())
    picked: dict[int, dict[str, dict]] = {}
    for response_id, criterion, verdict, reason in disagreements:
        if response_id not in picked and len(picked) >= limit:
            continue
        picked.setdefault(response_id, {})[criterion] = {"verdict": verdict, "reason": reason}
    if not picked:
        return []
    rows = (Response.select(Response.id, Response.data, Task.id, Task.ext_id, Task.data)
            .join(Task).where(Response.id.in_(list(picked))).tuples())
    examples = []
    for response_id, response, task_id, ext_id, data in rows:
        view = projects.task_view(project, task_id, ext_id, data)
        examples.append({"inputs": view.inputs, "response": response, "verdicts": picked[response_id]})
    return examples


def criteria_of(project: Project, number: int) -> tuple[list[CriterionView], list[GradedExample]]:
    """The criteria and examples version `number` of the project ran with."""
    snapshot = (ProjectVersion.select(ProjectVersion.snapshot)
                .where(ProjectVersion.project == project.id, ProjectVersion.number == number).scalar())
    if snapshot is None:
        raise Invalid(f"project {project.id} has no version {number}", field="version")
    views = [msgspec.convert(c, CriterionView) for c in snapshot.get("criteria", [])]
    return views, [GradedExample(**e) for e in snapshot.get("examples", [])]
