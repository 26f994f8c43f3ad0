"""The review page's per-criterion grading: each judge's verdict beside the reviewer's own pass/fail and reason.

Rows are the project's criteria for every answer under review. A reviewer's grade is
posted as grade.<response id>.<criterion index> (pass | fail) and reason.<…>, with the
criterion's name in crit.<index>, so a version saved meanwhile cannot shift a grade onto
another criterion. The core names a refused grade grades[i]; `place` turns that back into
the row it came from.
"""

from __future__ import annotations

import re
from typing import Any

from server.core import projects
from server.core.review import GradeIn
from server.models import CriterionGrade, Event, JudgeRun, JudgeVerdict, Project, Response, Task, User

GRADE = re.compile(r"^grades\[(\d+)\]\.(\w+)$")


def gradable(task_id: int) -> list[int]:
    """The answers a review grades: not rejected, not sent back for rework."""
    query = Response.select(Response.id).where(Response.task == task_id, Response.rejected == False,  # noqa: E712
                                               Response.reworked == False)  # noqa: E712
    return [r for (r,) in query.order_by(Response.id).tuples()]


def from_form(data: dict[str, Any], response_ids: list[int]) -> tuple[list[GradeIn], list[str], dict]:
    """(grades for the core, the row key of each grade, what was posted per row to show again)."""
    names = {int(k.split(".")[1]): str(v) for k, v in data.items() if k.startswith("crit.") and k[5:].isdigit()}
    grades, keys, posted = [], [], {}
    for response_id in response_ids:
        for index, name in sorted(names.items()):
            key = f"{response_id}.{index}"
            verdict, reason = _one(data, f"grade.{key}"), _one(data, f"reason.{key}")
            posted[key] = {"verdict": verdict, "reason": reason}
            if verdict in ("pass", "fail") or reason.strip():
                grades.append(GradeIn(response_id=response_id, criterion=name, verdict=verdict, reason=reason))
                keys.append(key)
    return grades, keys, posted


def place(field: str | None, keys: list[str]) -> tuple[str | None, str | None]:
    """The row key and part (verdict, reason, …) a core error about grades[i] belongs to."""
    found = GRADE.match(field or "")
    if not found or int(found.group(1)) >= len(keys):
        return None, None
    return keys[int(found.group(1))], found.group(2)


def table(task: Task, project: Project, posted: dict | None = None) -> list[dict]:
    """Per answer: why it was not judged (if so), and per criterion the judges' verdicts and the grade so far."""
    criteria = projects.criteria(project).views
    ids = [r.id for r in Response.select(Response.id).where(Response.task == task.id).order_by(Response.id)]
    live = set(gradable(task.id))
    verdicts: dict[tuple[int, str], list[dict]] = {}
    runs_with_prompt = {r for (r,) in JudgeRun.select(JudgeRun.id).where(JudgeRun.response.in_(ids or [0]),
                                                                          JudgeRun.prompt != "").tuples()}
    for v in (JudgeVerdict.select().where(JudgeVerdict.response.in_(ids or [0]), JudgeVerdict.purpose == "live")
              .order_by(JudgeVerdict.id)):
        verdicts.setdefault((v.response_id, v.criterion_name), []).append(
            {"judge": v.judge, "judge_version": v.judge_version, "verdict": v.verdict, "comment": v.comment,
             "confidence": v.confidence, "run_id": v.run_id if v.run_id in runs_with_prompt else None})
    earlier = {(g.response_id, g.criterion_name): {"verdict": g.verdict, "reason": g.reason}
               for g in CriterionGrade.select().where(CriterionGrade.response.in_(ids or [0]))
               .order_by(CriterionGrade.id)}
    answers = []
    for r in (Response.select(Response.id, Response.judged, User.username).join(User)
              .where(Response.id.in_(list(live) or [0])).order_by(Response.id)):
        rows = []
        for index, c in enumerate(criteria):
            key = f"{r.id}.{index}"
            said = verdicts.get((r.id, c.name), [])
            rows.append({"key": key, "index": index, "name": c.name, "severity": c.severity, "rule": c.rule,
                         "entities": c.entities, "judges": said,
                         "judge_verdicts": sorted({j["verdict"] for j in said if j["verdict"] in ("pass", "fail")}),
                         "own": (posted or {}).get(key) or earlier.get((r.id, c.name))
                         or {"verdict": "", "reason": ""}})
        answers.append({"id": r.id, "tasker": r.tasker.username, "judged": r.judged, "rows": rows,
                        "why_not_judged": why_not_judged(task.id, r.id) if r.judged == "not_judged" else ""})
    return answers


def why_not_judged(task_id: int, response_id: int) -> str:
    """The reason the judging left: the response.judged event's, else the judges' errors."""
    for event in Event.select(Event.data).where(Event.task == task_id, Event.kind == "response.judged") \
            .order_by(Event.id.desc()):
        if event.data.get("response") == response_id and event.data.get("reason"):
            return event.data["reason"]
    errors = [f"{judge}: {error}" for judge, error in JudgeRun.select(JudgeRun.judge, JudgeRun.error)
              .where(JudgeRun.response == response_id, JudgeRun.error != "").tuples()]
    errors += [f"{judge} on {criterion}: {comment}" for judge, criterion, comment in JudgeVerdict
               .select(JudgeVerdict.judge, JudgeVerdict.criterion_name, JudgeVerdict.comment)
               .where(JudgeVerdict.response == response_id, JudgeVerdict.verdict == "error").tuples()]
    return "; ".join(dict.fromkeys(errors)) or "a blocking criterion got no verdict"


def _one(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    return str(value[-1] if isinstance(value, list) else value)
