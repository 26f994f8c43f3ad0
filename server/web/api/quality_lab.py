"""API: the quality lab: calibration rounds and audits, quality tasks, taskers' standing, and rules."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get, post, put

from server import rules as rule_engine
from server.core import access, calibration, quality_tasks, rule_sets, taskers
from server.errors import Invalid
from server.models import Batch


class AuditRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    grades: list[calibration.AuditIn]


class TaskerAction(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: str = ""


class RuleOut(msgspec.Struct, kw_only=True):
    name: str
    on: str
    when: str
    then: str
    params: dict
    enabled: bool
    origin: str


class RulesOut(msgspec.Struct, kw_only=True):
    effective: list[RuleOut]
    own: str          # the project's own rules as TOML (what PUT takes)
    defaults: str     # the default rules as TOML, to copy from


def _rules(project) -> RulesOut:
    def out(r):
        return RuleOut(name=r.name, on=r.on, when=r.when, then=r.then, params=r.params, enabled=r.enabled,
                       origin=r.origin)
    own = rule_sets.own(project)
    return RulesOut(effective=[out(r) for r in rule_sets.rules_for(project)],
                    own=rule_engine.dump(own) if own else "", defaults=rule_engine.dump(rule_sets.defaults()))


class QualityLabController(Controller):
    path = "/"

    @post("/projects/{project_id:int}/calibration", sync_to_thread=True, status_code=201,
          summary="Start a calibration round: chosen items, or a sample spread across a field's values")
    def start_round(self, project_id: int, data: calibration.RoundRequest, user: int) -> calibration.RoundOut:
        project, _ = access.project_for(user, project_id, "owner")
        return calibration.round_out(calibration.start(project, data, user))

    @get("/projects/{project_id:int}/calibration", sync_to_thread=True,
         summary="Calibration rounds, oldest first, with scores and the taskers' instruction feedback")
    def rounds(self, project_id: int, user: int) -> list[calibration.RoundOut]:
        project, _ = access.project_for(user, project_id, "reviewer")
        return calibration.rounds(project)

    @post("/batches/{batch_id:int}/audit", sync_to_thread=True, status_code=200,
          summary="Grade calibration answers (correct, or the corrected answer); the last grade scores the round")
    def audit(self, batch_id: int, data: AuditRequest, user: int) -> calibration.RoundOut:
        batch = Batch.get_or_none(Batch.id == batch_id)
        if batch is None:
            raise Invalid(f"batch {batch_id} not found", field="batch_id")
        access.project_for(user, batch.project_id, "owner")
        return calibration.audit(batch_id, data.grades, user)

    @post("/tasks/{task_id:int}/quality", sync_to_thread=True, status_code=201,
          summary="Make a training or evaluation task (initial or review phase) from an audited task")
    def make_quality_task(self, task_id: int, data: quality_tasks.QualityTaskIn,
                          user: int) -> quality_tasks.QualityTaskOut:
        access.task_for(user, task_id, "owner")
        return quality_tasks.out(quality_tasks.make(task_id, data, user))

    @get("/projects/{project_id:int}/quality-lab", sync_to_thread=True,
         summary="Quality tasks by kind, phase and class, and where the set falls short")
    def lab(self, project_id: int, user: int) -> quality_tasks.LabSummary:
        project, _ = access.project_for(user, project_id, "reviewer")
        return quality_tasks.lab(project)

    @get("/projects/{project_id:int}/taskers", sync_to_thread=True,
         summary="Taskers: status, evaluation accuracy by phase, volume, median time, last rule fired")
    def taskers_table(self, project_id: int, user: int) -> list[taskers.TaskerRow]:
        project, _ = access.project_for(user, project_id, "reviewer")
        return taskers.table(project)

    @post("/projects/{project_id:int}/taskers/{tasker_id:int}/{action:str}", sync_to_thread=True, status_code=200,
          summary="Pause, resume, remove or retrain a tasker (action = pause | resume | remove | retrain)")
    def tasker_action(self, project_id: int, tasker_id: int, action: str, user: int,
                      data: TaskerAction | None = None) -> taskers.TaskerRow:
        project, _ = access.project_for(user, project_id, "owner")
        return taskers.act(project, tasker_id, action, user, data.reason if data else "")

    @get("/projects/{project_id:int}/standing", sync_to_thread=True,
         summary="The caller's own standing in the project, and why")
    def my_standing(self, project_id: int, user: int) -> taskers.TaskerRow:
        project, _ = access.project_for(user, project_id, "tasker")
        return taskers.mine(project, user)

    @get("/projects/{project_id:int}/rules", sync_to_thread=True,
         summary="The rules in force (defaults with the project's overrides), the project's own as TOML")
    def get_rules(self, project_id: int, user: int) -> RulesOut:
        project, _ = access.project_for(user, project_id, "reviewer")
        return _rules(project)

    @put("/projects/{project_id:int}/rules", sync_to_thread=True,
         summary="Replace the project's own rules (TOML body); a rule that does not compile is refused with "
                 "its line and column")
    def put_rules(self, request: Request, project_id: int, user: int, body: bytes) -> RulesOut:
        project, _ = access.project_for(user, project_id, "owner")
        try:
            text = body.decode()
        except UnicodeDecodeError as exc:
            raise Invalid("rules must be UTF-8 TOML text", field="body") from exc
        rule_sets.replace(project, text, user)
        return _rules(project)
