"""API: quality criteria, project versions, judge–owner agreement, judge prompts, and self-check."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, post, put

from server.core import access, agreement, projects, rejudge, selfcheck, versions
from server.errors import NotFound
from server.models import JudgeRun, ProjectVersion, Response


class CriterionOut(msgspec.Struct, kw_only=True):
    name: str
    entities: list[str]
    rule: str
    checks: dict
    severity: str


class VersionOut(msgspec.Struct, kw_only=True):
    number: int
    created_at: float
    examples: int
    criteria: int


class AgreementOut(msgspec.Struct, kw_only=True):
    rows: list[agreement.AgreementRow]
    disagreements: list[agreement.Disagreement]


class RejudgeOut(msgspec.Struct, kw_only=True):
    version: int
    answers: int


class JudgeRunOut(msgspec.Struct, kw_only=True):
    id: int
    judge: str
    judge_version: str
    project_version: int
    purpose: str
    prompt: str
    outputs: list
    error: str
    duration_ms: float


class SelfCheckIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    task_id: int
    response: dict


class SampleOut(msgspec.Struct, kw_only=True):
    task_id: int
    inputs: dict


def _criteria(project) -> list[CriterionOut]:
    return [CriterionOut(name=c.name, entities=c.entities, rule=c.rule, checks=c.checks, severity=c.severity)
            for c in projects.criteria(project).views]


class QualityController(Controller):
    path = "/"

    @get("/projects/{project_id:int}/criteria", sync_to_thread=True, summary="The project's quality criteria")
    def list_criteria(self, project_id: int, user: int) -> list[CriterionOut]:
        project, _ = access.project_for(user, project_id, "reviewer")
        return _criteria(project)

    @put("/projects/{project_id:int}/criteria", sync_to_thread=True,
         summary="Replace the quality criteria (makes a new project version)")
    def replace_criteria(self, project_id: int, data: list[versions.CriterionIn], user: int) -> list[CriterionOut]:
        project, _ = access.project_for(user, project_id, "owner")
        project = versions.edit(project, versions.ProjectEdit(criteria=data), user)
        return _criteria(project)

    @get("/projects/{project_id:int}/versions", sync_to_thread=True, summary="Project versions, oldest first")
    def list_versions(self, project_id: int, user: int) -> list[VersionOut]:
        project, _ = access.project_for(user, project_id, "reviewer")
        return [VersionOut(number=v.number, created_at=v.created_at, examples=len(v.snapshot.get("examples", [])),
                           criteria=len(v.snapshot.get("criteria", [])))
                for v in ProjectVersion.select().where(ProjectVersion.project == project).order_by(
                    ProjectVersion.number)]

    @post("/projects/{project_id:int}/versions/{number:int}/rejudge", sync_to_thread=True, status_code=202,
          summary="Re-judge every owner-graded answer under this version (to compare agreement before and after)")
    def rejudge_version(self, project_id: int, number: int, user: int) -> RejudgeOut:
        project, _ = access.project_for(user, project_id, "owner")
        return RejudgeOut(version=number, answers=rejudge.schedule(project, number, user))

    @get("/projects/{project_id:int}/agreement", sync_to_thread=True,
         summary="Judge–owner agreement per criterion and judge (count, rate, Cohen's kappa) and disagreements")
    def agreement_table(self, project_id: int, user: int, purpose: str | None = None,
                        version: int | None = None) -> AgreementOut:
        project, _ = access.project_for(user, project_id, "reviewer")
        return AgreementOut(rows=agreement.table(project, purpose, version),
                            disagreements=agreement.disagreements(project))

    @get("/responses/{response_id:int}/judge-runs", sync_to_thread=True,
         summary="Every judge run on a response, with the exact prompt a model was sent")
    def judge_runs(self, response_id: int, user: int) -> list[JudgeRunOut]:
        response = Response.get_or_none(Response.id == response_id)
        if response is None:
            raise NotFound(f"response {response_id} not found")
        access.project_for(user, response.project_id, "reviewer")
        return [JudgeRunOut(id=r.id, judge=r.judge, judge_version=r.judge_version, project_version=r.project_version,
                            purpose=r.purpose, prompt=r.prompt, outputs=r.outputs, error=r.error,
                            duration_ms=round(r.duration_ms, 1))
                for r in JudgeRun.select().where(JudgeRun.response == response_id).order_by(JudgeRun.id)]

    @get("/projects/{project_id:int}/self-check", sync_to_thread=True,
         summary="The sample tasks an owner can answer to see what the judges say")
    def self_check_samples(self, project_id: int, user: int) -> list[SampleOut]:
        project, _ = access.project_for(user, project_id, "owner")
        return [SampleOut(task_id=t.id, inputs=projects.task_view(project, t.id, t.ext_id, t.data, shown=True).inputs)
                for t in selfcheck.samples(project)]

    @post("/projects/{project_id:int}/self-check", sync_to_thread=True, status_code=201,
          summary="Answer a sample task as the owner; judged like a response, counted nowhere")
    def self_check(self, project_id: int, data: SelfCheckIn, user: int) -> selfcheck.SelfCheckOut:
        project, _ = access.project_for(user, project_id, "owner")
        return selfcheck.submit(project, user, data.task_id, data.response)

    @get("/projects/{project_id:int}/self-check/{check_id:int}", sync_to_thread=True,
         summary="A self-check answer and its verdicts so far (status judging until the slow judges answer)")
    def self_check_result(self, project_id: int, check_id: int, user: int) -> selfcheck.SelfCheckOut:
        project, _ = access.project_for(user, project_id, "owner")
        return selfcheck.get(project, check_id)
