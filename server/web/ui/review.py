"""Pages: review one task (its inputs, every response with its tasker), grade each criterion beside the
judges' verdicts, and decide: accept, reject with a reason, or fix with the task type's form; then on to the
next task Ready for Review. A grade that disagrees with a judge needs a reason: the core's refusal is shown
beside that grade's reason field."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from server.core import access, projects, review, tasks
from server.errors import Conflict, Invalid
from server.models import Project, Task
from server.web.ui import grading
from server.web.ui.answers import form_context, response_from_form
from server.web.ui.render import fragment, page, viewer

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/tasks/{task_id:int}/review", sync_to_thread=True, name="task-review")
def review_page(task_id: int, user: int) -> Template:
    task, project = access.task_for(user, task_id, "reviewer")
    return page("owner/review.html", **_context(task, project, user))


@post("/tasks/{task_id:int}/review", sync_to_thread=True, status_code=200, name="task-review-submit")
def decide(request: HTMXRequest, task_id: int, user: int, data: Form) -> Template | Redirect | ClientRedirect:
    task, project = access.task_for(user, task_id, "reviewer")
    decision = str(data.get("decision", ""))
    comment = str(data.get("comment", ""))
    fixed = None
    grades, keys, posted = grading.from_form(data, grading.gradable(task.id))
    try:
        if decision == "fix":
            fixed = response_from_form(projects.runtime(project).outputs, data)
        review.review(task.id, user, review.ReviewRequest(decision=decision, comment=comment, response=fixed,
                                                          grades=grades))
    except (Invalid, Conflict) as exc:
        row, part = grading.place(exc.field, keys)
        context = _context(Task.get_by_id(task_id), project, user, previous=fixed, posted=posted,
                           error={"field": exc.field, "message": exc.message, "decision": decision,
                                  "row": row, "part": part},
                           comment=comment)
        if request.htmx:
            return fragment("partials/review_decision.html", **context)
        return page("owner/review.html", status_code=exc.status_code, **context)
    target = _next_for_review(project)
    return ClientRedirect(target) if request.htmx else Redirect(target, status_code=303)


def _next_for_review(project: Project) -> str:
    waiting = tasks.page(project, "ready_for_review", 1, 1)
    if waiting.items:
        return f"/tasks/{waiting.items[0].id}/review"
    return f"/projects/{project.id}?reviewed=1"


def _context(task: Task, project: Project, user: int, previous: dict | None = None, error: dict | None = None,
             comment: str = "", posted: dict | None = None) -> dict:
    detail = tasks.detail(task, project)
    form = form_context(project, task.id, task.ext_id, task.data, previous or detail.aggregate)
    waiting = tasks.counts(project)["ready_for_review"]
    return {"me": viewer(user), "project": {"id": project.id, "name": project.name}, "task": detail,
            "reviewable": detail.status == "ready_for_review", "waiting": waiting, "error": error,
            "comment": comment, "grading": grading.table(task, project, posted), **form}
