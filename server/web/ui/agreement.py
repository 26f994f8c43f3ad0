"""Page: judge–owner agreement per criterion and judge (count, rate, Cohen's kappa), the disagreements to
read, and the project's versions with a re-judge under each and the before/after table it produces."""

from __future__ import annotations

import time

import msgspec

from litestar import get, post
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from server.core import access, agreement, rejudge
from server.errors import QuorumError
from server.models import Project, ProjectVersion, Task
from server.web.ui.render import page, viewer


@get("/projects/{project_id:int}/agreement", sync_to_thread=True, name="project-agreement")
def agreement_page(project_id: int, user: int, rejudging: int | None = None, answers: int | None = None) -> Template:
    project, role = access.project_for(user, project_id, "reviewer")
    notice = (f"Re-judging {answers} graded answer{'' if answers == 1 else 's'} under version {rejudging}; "
              "reload to see the table fill.") if rejudging else None
    return _page(project, role, user, notice=notice)


@post("/projects/{project_id:int}/versions/{number:int}/rejudge", sync_to_thread=True, status_code=200,
      name="project-rejudge")
def rejudge_version(request: HTMXRequest, project_id: int, number: int,
                    user: int) -> Template | Redirect | ClientRedirect:
    project, role = access.project_for(user, project_id, "owner")
    try:
        answers = rejudge.schedule(project, number, user)
    except QuorumError as exc:
        return _page(project, role, user, error=exc.message, status_code=exc.status_code)
    target = f"/projects/{project.id}/agreement?rejudging={number}&answers={answers}#versions"
    return ClientRedirect(target) if request.htmx else Redirect(target, status_code=303)


def _page(project: Project, role: str, user: int, notice: str | None = None, error: str | None = None,
          status_code: int = 200) -> Template:
    live = [_row(r) for r in agreement.table(project, "live")]
    versions = []
    for v in ProjectVersion.select().where(ProjectVersion.project == project.id).order_by(ProjectVersion.number):
        after = [_row(r) for r in agreement.table(project, "rejudge", v.number)]
        versions.append({"number": v.number, "current": v.number == project.version,
                         "saved": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(v.created_at)),
                         "examples": len(v.snapshot.get("examples", [])),
                         "criteria": len(v.snapshot.get("criteria", [])),
                         "compare": _before_after(live, after) if after else []})
    disagreements = agreement.disagreements(project)
    ext_ids = dict(Task.select(Task.id, Task.ext_id).where(Task.id.in_([d.task_id for d in disagreements] or [0]))
                   .tuples())
    return page("owner/agreement.html", status_code=status_code, me=viewer(user), role=role,
                project={"id": project.id, "name": project.name, "version": project.version}, live=live,
                disagreements=[{**msgspec.structs.asdict(d), "ext_id": ext_ids.get(d.task_id, "")}
                               for d in disagreements], versions=versions,
                graded=len(rejudge.graded_responses(project)), notice=notice, error=error)


def _row(r: agreement.AgreementRow) -> dict:
    return {"criterion": r.criterion, "judge": r.judge, "judge_version": r.judge_version,
            "project_version": r.project_version, "count": r.count, "agree": r.agree, "rate": r.rate,
            "kappa": r.kappa}


def _before_after(live: list[dict], after: list[dict]) -> list[dict]:
    """Each re-judged (criterion, judge) beside the live rows of the same pair: the same graded answers."""
    return [{"criterion": a["criterion"], "judge": a["judge"], "after": a,
             "before": [b for b in live if (b["criterion"], b["judge"]) == (a["criterion"], a["judge"])]}
            for a in after]
