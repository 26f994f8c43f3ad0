"""Pages: the tasker's labeling loop: the page with guidelines, then claim, submit and skip as htmx swaps.

Every answer swaps the next task into `#task` (submit-and-next, no reload); an answer
the task type refuses comes back as the same form, the tasker's choices kept and the
message beside the field it names. An answer the quality check sends back (a blocking judge fail, with
rework on) comes back as the same form with the judges' comments above it and the answer filled in, both
right after the submit and whenever the tasker claims again. A calibration task also asks for a confidence and
a note on the instructions; a training answer is followed by its feedback (server/web/ui/coursework.py) before
the next one. A paused or removed tasker is told why, with a link to their standing page.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from server.core import access, projects, rework, submissions
from server.core import assignment as assignments
from server.errors import Conflict, Forbidden, Invalid
from server.models import Project, Response, Task
from server.web.ui import coursework
from server.web.ui.answers import form_context, kept, response_from_form
from server.web.ui.render import fragment, guidelines_html, page, viewer

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/projects/{project_id:int}/label", sync_to_thread=True, name="label")
def label_page(project_id: int, user: int) -> Template:
    project = access.require_tasker(user, project_id)
    return page("tasker/label.html", me=viewer(user), guidelines=guidelines_html(project.guidelines),
                project={"id": project.id, "name": project.name, "description": project.description})


@post("/projects/{project_id:int}/label/next", sync_to_thread=True, status_code=200, name="label-next")
def next_task(request: Request, project_id: int, user: int) -> Template:
    project = access.require_tasker(user, project_id)
    return _next(request, project, user)


@post("/assignments/{assignment_id:int}/submit", sync_to_thread=True, status_code=200, name="label-submit")
def submit(request: Request, assignment_id: int, user: int, data: Form) -> Template:
    task_id, project_id, _, _ = assignments.held_by(assignment_id, user)
    project = access.require_tasker(user, project_id)
    outputs = projects.runtime(project).outputs
    look = coursework.look(project, user, task_id)
    try:
        confidence, note = coursework.asked(look, data)
        submitted = submissions.submit(assignment_id, user, response_from_form(outputs, data), confidence, note)
    except Invalid as exc:
        ext_id, task_data = Task.select(Task.ext_id, Task.data).where(Task.id == task_id).tuples().get()
        return _task_fragment(project, user, assignment_id, task_id, ext_id, task_data, look,
                              previous=kept(outputs, data), error={"field": exc.field, "message": exc.message},
                              feedback=rework.feedback(assignment_id), asked=coursework.kept(look, data))
    except Conflict as exc:
        return _next(request, project, user, notice=exc.message)
    if submitted.training is not None:
        return coursework.after_training(project, user, submitted.response_id, submitted.training)
    if submitted.sent_back:
        ext_id, task_data = Task.select(Task.ext_id, Task.data).where(Task.id == task_id).tuples().get()
        return _task_fragment(project, user, assignment_id, task_id, ext_id, task_data, look,
                              feedback=rework.feedback(assignment_id))
    return _next(request, project, user, notice="Submitted.")


@post("/assignments/{assignment_id:int}/skip", sync_to_thread=True, status_code=200, name="label-skip")
def skip(request: Request, assignment_id: int, user: int) -> Template:
    _, project_id, _, _ = assignments.held_by(assignment_id, user)
    project = access.require_tasker(user, project_id)
    try:
        assignments.skip(assignment_id, user)
        notice = "Skipped; this task will not come back to you."
    except Conflict as exc:
        notice = exc.message
    return _next(request, project, user, notice=notice)


def _next(request: Request, project: Project, user: int, notice: str | None = None) -> Template:
    try:
        claimed = assignments.claim(project, user, request.app.state.config.assignment.sweep_seconds)
    except Forbidden as exc:      # paused or removed: say why, and where to read more
        return fragment("partials/not_working.html", project_id=project.id, message=exc.message, notice=notice)
    if claimed is None:
        return fragment("partials/nothing_left.html", project_id=project.id, notice=notice,
                        done=_done(project, user))
    return _task_fragment(project, user, claimed.assignment_id, claimed.task_id, claimed.ext_id, claimed.data,
                          coursework.look(project, user, claimed.task_id), notice=notice,
                          feedback=rework.feedback(claimed.assignment_id))


def _task_fragment(project: Project, user: int, assignment_id: int, task_id: int, ext_id: str, data: dict,
                   look: coursework.Look, *, previous: dict | None = None, error: dict | None = None,
                   notice: str | None = None, feedback: dict | None = None, asked: dict | None = None) -> Template:
    """The task's form. Only the task's inputs reach the page: never its stored data, expected answer or kind.
    `feedback` (rework.feedback) puts the judges' comments above the form and the sent-back answer in it;
    `look` adds a calibration task's confidence and a training task's place in the course (and, in the
    review phase, the answer to correct); live and evaluation tasks look the same."""
    if feedback and previous is None:
        previous = feedback["previous"]
    if look.seed is not None and previous is None:
        previous = look.seed
    return fragment("partials/task.html", assignment_id=assignment_id, project_id=project.id, notice=notice,
                    error=error, done=_done(project, user), lease_minutes=round(project.lease_seconds / 60),
                    sent_back=feedback["comments"] if feedback else None, asked=asked or {}, **look.context(),
                    **form_context(project, task_id, ext_id, data, previous))


def _done(project: Project, user: int) -> int:
    """Answers the tasker has given in the project (an answer sent back for rework counts once it is redone)."""
    return Response.select().where(Response.project == project.id, Response.tasker == user,
                                   Response.reworked == False).count()  # noqa: E712
