"""Which rules a project runs: the defaults from rules/*.toml, overridden or extended by the owner's.

A project rule with the name of a default replaces it (`enabled = false` switches it off);
any other name adds a rule. Rules are compiled once and kept per project until changed.
"""

from __future__ import annotations

from server import rules as rule_engine
from server.core import events
from server.db import write_transaction
from server.errors import Invalid
from server.models import Project, ProjectRule

_defaults: list[rule_engine.Rule] = []
_by_project: dict[int, list[rule_engine.Rule]] = {}


def defaults() -> list[rule_engine.Rule]:
    if not _defaults:
        _defaults.extend(rule_engine.defaults())
    return _defaults


def own(project: Project) -> list[rule_engine.Rule]:
    """The owner's rules for this project, as stored."""
    return [rule_engine.compile_rule(r.name, r.on, r.when, r.then, r.params, r.enabled, f"project {project.id}")
            for r in ProjectRule.select().where(ProjectRule.project == project.id).order_by(ProjectRule.position)]


def rules_for(project: Project) -> list[rule_engine.Rule]:
    """Defaults with the owner's overrides applied, then the owner's additions."""
    found = _by_project.get(project.id)
    if found is None:
        mine = {r.name: r for r in own(project)}
        found = [mine.pop(r.name, r) for r in defaults()] + list(mine.values())
        _by_project[project.id] = found
    return found


def replace(project: Project, text: str, actor: int | None) -> list[rule_engine.Rule]:
    """Set the project's own rules from TOML; a rule that does not compile is refused with its position."""
    try:
        parsed = rule_engine.parse(text, f"project {project.id} rules")
    except rule_engine.RuleError as exc:
        where = f"line {exc.line}" + (f", column {exc.column}" if exc.column else "") if exc.line else "rules"
        raise Invalid(exc.message, field=where, line=exc.line, column=exc.column) from exc
    with write_transaction():
        ProjectRule.delete().where(ProjectRule.project == project.id).execute()
        for position, r in enumerate(parsed):
            ProjectRule.create(project=project.id, name=r.name, on=r.on, when=r.when, then=r.then, params=r.params,
                               enabled=r.enabled, position=position)
        events.record("rules.changed", actor=actor, project=project.id, rules=[r.name for r in parsed])
    forget(project.id)
    return rules_for(project)


def forget(project_id: int | None = None) -> None:
    if project_id is None:
        _by_project.clear()
    else:
        _by_project.pop(project_id, None)
