"""Judge–owner agreement: per criterion and judge, how often a judge's verdict matched the reviewer's grade.

Each pair is one response and one criterion that both a judge (pass/fail; errors are
left out) and a reviewer graded. Cohen's kappa corrects the agreement rate for chance:
kappa = (p_o - p_e) / (1 - p_e), with p_e from each side's pass rate. When both sides
always say the same single verdict p_e is 1 and kappa is undefined (reported as null).
"""

from __future__ import annotations

import msgspec

from server.models import CriterionGrade, JudgeVerdict, Project, Response


class AgreementRow(msgspec.Struct, kw_only=True):
    criterion: str
    judge: str
    judge_version: str
    purpose: str
    project_version: int
    count: int
    agree: int
    rate: float | None
    kappa: float | None


class Disagreement(msgspec.Struct, kw_only=True):
    response_id: int
    task_id: int
    criterion: str
    judge: str
    judge_verdict: str
    judge_comment: str
    owner_verdict: str
    owner_reason: str


def kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa for (judge, owner) pass/fail pairs."""
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    judge_pass = sum(a == "pass" for a, _ in pairs) / n
    owner_pass = sum(b == "pass" for _, b in pairs) / n
    expected = judge_pass * owner_pass + (1 - judge_pass) * (1 - owner_pass)
    if expected >= 1.0:
        return None
    return round((observed - expected) / (1 - expected), 4)


def _pairs(project: Project, purpose: str | None = None, project_version: int | None = None):
    """(criterion, judge, judge version, purpose, project version, response, task, judge verdict, comment,
    owner verdict, owner reason), the owner's latest grade per response and criterion."""
    latest = {}
    for grade in (CriterionGrade.select(CriterionGrade, Response.id, Response.task)
                  .join(Response).where(Response.project == project.id).order_by(CriterionGrade.id)):
        latest[(grade.response_id, grade.criterion_name)] = grade
    query = (JudgeVerdict.select().join(Response)
             .where(Response.project == project.id, JudgeVerdict.verdict.in_(("pass", "fail"))))
    if purpose:
        query = query.where(JudgeVerdict.purpose == purpose)
    if project_version:
        query = query.where(JudgeVerdict.project_version == project_version)
    for v in query.order_by(JudgeVerdict.id):
        grade = latest.get((v.response_id, v.criterion_name))
        if grade is not None:
            yield v, grade


def table(project: Project, purpose: str | None = None, project_version: int | None = None) -> list[AgreementRow]:
    groups: dict[tuple, list[tuple[str, str]]] = {}
    for v, grade in _pairs(project, purpose, project_version):
        key = (v.criterion_name, v.judge, v.judge_version, v.purpose, v.project_version)
        groups.setdefault(key, []).append((v.verdict, grade.verdict))
    rows = []
    for (criterion, judge, version, kind, number), pairs in sorted(groups.items()):
        agree = sum(a == b for a, b in pairs)
        rows.append(AgreementRow(criterion=criterion, judge=judge, judge_version=version, purpose=kind,
                                 project_version=number, count=len(pairs), agree=agree,
                                 rate=round(agree / len(pairs), 4), kappa=kappa(pairs)))
    return rows


def disagreements(project: Project, limit: int = 100) -> list[Disagreement]:
    found = []
    for v, grade in _pairs(project, "live"):
        if v.verdict != grade.verdict:
            found.append(Disagreement(response_id=v.response_id, task_id=grade.response.task_id,
                                      criterion=v.criterion_name, judge=v.judge, judge_verdict=v.verdict,
                                      judge_comment=v.comment, owner_verdict=grade.verdict,
                                      owner_reason=grade.reason))
    return found[-limit:][::-1]
