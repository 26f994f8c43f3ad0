"""Setup step: self-check: the owner answers up to ten sample tasks with the task type's form; the judges'
verdicts come back within the page (the result polls every second while slow judges work). Counts nowhere."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from server.core import projects, selfcheck
from server.errors import Invalid, NotFound
from server.models import Project, SelfCheck, Task
from server.web.ui import steps
from server.web.ui.answers import form_context, kept, response_from_form
from server.web.ui.render import fragment

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
EARLIER = 5


@get("/projects/{project_id:int}/setup/self-check", sync_to_thread=True, name="setup-self-check")
def self_check_page(request: HTMXRequest, project_id: int, user: int, sample: int = 1) -> Template:
    project = steps.owner_project(user, project_id)
    return _sample(request, project, user, sample)


@post("/projects/{project_id:int}/setup/self-check/{task_id:int}", sync_to_thread=True, status_code=200,
      name="setup-self-check-answer")
def answer(request: HTMXRequest, project_id: int, task_id: int, user: int, data: Form) -> Template:
    project = steps.owner_project(user, project_id)
    samples = selfcheck.samples(project)
    number = next((n for n, t in enumerate(samples, 1) if t.id == task_id), 0)
    outputs = projects.runtime(project).outputs
    try:
        selfcheck.submit(project, user, task_id, response_from_form(outputs, data))
    except Invalid as exc:
        return _sample(request, project, user, number, previous=kept(outputs, data), status_code=exc.status_code,
                       error={"field": exc.field, "message": exc.message})
    return _sample(request, project, user, number, previous=kept(outputs, data))


@get("/projects/{project_id:int}/setup/self-check/results/{check_id:int}", sync_to_thread=True,
     name="setup-self-check-result")
def result(project_id: int, check_id: int, user: int) -> Template:
    """One answer's verdicts so far; while slow judges work the fragment asks again every second."""
    project = steps.owner_project(user, project_id)
    return fragment("partials/setup/self_check_result.html", project=steps.summary(project),
                    check=selfcheck.get(project, check_id))


def _sample(request: HTMXRequest, project: Project, user: int, number: int, previous: dict | None = None,
            error: dict | None = None, status_code: int = 200) -> Template:
    samples = selfcheck.samples(project)
    context: dict[str, Any] = {"samples": [{"number": n, "ext_id": t.ext_id} for n, t in enumerate(samples, 1)],
                               "number": number, "task_id": None, "checks": [], "error": error,
                               "max_samples": selfcheck.MAX_SAMPLES}
    if samples:
        if not 1 <= number <= len(samples):
            raise NotFound(f"sample {number} not found; this project has {len(samples)}")
        task: Task = samples[number - 1]
        checks = (SelfCheck.select().where(SelfCheck.project == project.id, SelfCheck.task == task.id,
                                           SelfCheck.owner == user).order_by(SelfCheck.id.desc()).limit(EARLIER))
        context.update(task_id=task.id, ext_id=task.ext_id, checks=[selfcheck.out(c) for c in checks],
                       **form_context(project, task.id, task.ext_id, task.data, previous))
    return steps.respond(request, project, user, "self-check", "owner/setup/self_check.html",
                         "partials/setup/self_check.html", status_code=status_code, **context)
