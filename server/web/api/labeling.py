"""API: the tasker's loop: claim the next task, submit a response, or skip."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, Response, post
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_204_NO_CONTENT

from server.core import access, assignment, projects, quality_tasks, rework, submissions
from server.web import hot_path


class ClaimOut(msgspec.Struct, kw_only=True):
    """What a tasker gets: the task's inputs and the lease; nothing that tells one kind of task from another."""

    assignment_id: int
    task_id: int
    project_id: int
    inputs: dict
    expires_at: float
    feedback: dict | None = None    # set when judges sent the tasker's answer back: their answer and the comments
    review_of: dict | None = None   # a review-phase training task: the answer to correct (see quality_tasks.shown_seed)


class SubmitRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    response: dict
    confidence: int | None = None   # 0-100; asked on calibration tasks
    feedback: str = ""              # the tasker's note on the instructions


class SkipOut(msgspec.Struct, kw_only=True):
    assignment_id: int
    status: str = "skipped"


class LabelingController(Controller):
    """The routes, for the OpenAPI schema and any request the fast lane passes on
    (server/web/fast_lane.py answers well-formed ones without litestar's pipeline)."""

    path = "/"

    @post("/projects/{project_id:int}/claim", status_code=200,
          summary="Claim the next task under a lease; 204 when nothing is left for this tasker",
          responses={204: ResponseSpec(data_container=None, description="Nothing is left for this tasker")})
    async def claim(self, request: Request, project_id: int, user: int) -> ClaimOut | Response:
        claimed = await claim_task(project_id, user, request.app.state.config.assignment.sweep_seconds)
        return Response(content=b"", status_code=HTTP_204_NO_CONTENT) if claimed is None else claimed

    @post("/assignments/{assignment_id:int}/submit", status_code=200,
          summary="Submit a response for an assignment the caller holds")
    async def submit(self, assignment_id: int, data: SubmitRequest, user: int) -> submissions.Submitted:
        return await submit_response(assignment_id, user, data)

    @post("/assignments/{assignment_id:int}/skip", status_code=200,
          summary="Give the task back; it will not be offered to this tasker again")
    async def skip(self, assignment_id: int, user: int) -> SkipOut:
        return await skip_task(assignment_id, user)


async def claim_task(project_id: int, user: int, sweep_every: float) -> ClaimOut | None:
    """The tasker's next task (None: nothing is left for them)."""
    return await hot_path.run(_claim, project_id, user, sweep_every)


async def submit_response(assignment_id: int, user: int, data: SubmitRequest) -> submissions.Submitted:
    return await hot_path.run(submissions.submit, assignment_id, user, data.response, data.confidence, data.feedback)


async def skip_task(assignment_id: int, user: int) -> SkipOut:
    await hot_path.run(assignment.skip, assignment_id, user)
    return SkipOut(assignment_id=assignment_id)


def _claim(project_id: int, user: int, sweep_every: float) -> ClaimOut | None:
    project = access.require_tasker(user, project_id)
    claimed = assignment.claim(project, user, sweep_every)
    if claimed is None:
        return None
    inputs = projects.task_view(project, claimed.task_id, claimed.ext_id, claimed.data, shown=True).inputs
    return ClaimOut(assignment_id=claimed.assignment_id, task_id=claimed.task_id, project_id=project.id,
                    inputs=inputs, expires_at=claimed.expires_at,
                    feedback=None if claimed.fresh else rework.feedback(claimed.assignment_id),
                    review_of=quality_tasks.shown_seed(claimed.task_id) if claimed.kind == "training" else None)
