"""Page: one judge run as the owner may read it: the exact prompt a model was sent, its raw outputs, its error."""

from __future__ import annotations

from litestar import get
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from server.core import access
from server.errors import NotFound
from server.models import JudgeRun, Response, SelfCheck
from server.web.ui.render import page_or_fragment, viewer


@get("/judge-runs/{run_id:int}", sync_to_thread=True, name="judge-run")
def judge_run(request: HTMXRequest, run_id: int, user: int) -> Template:
    run = JudgeRun.get_or_none(JudgeRun.id == run_id)
    if run is None:
        raise NotFound(f"judge run {run_id} not found")
    if run.response_id is not None:
        project_id = Response.select(Response.project).where(Response.id == run.response_id).scalar()
        access.project_for(user, project_id, "reviewer")
    else:
        project_id = SelfCheck.select(SelfCheck.project).where(SelfCheck.id == run.self_check).scalar()
        if project_id is None:
            raise NotFound(f"judge run {run_id} not found")
        access.project_for(user, project_id, "owner")
    return page_or_fragment(request, "owner/judge_run.html", "partials/judge_run.html", me=viewer(user),
                            project={"id": project_id}, run={
                                "id": run.id, "judge": run.judge, "judge_version": run.judge_version,
                                "project_version": run.project_version, "purpose": run.purpose, "prompt": run.prompt,
                                "outputs": run.outputs, "error": run.error, "duration_ms": round(run.duration_ms)})
