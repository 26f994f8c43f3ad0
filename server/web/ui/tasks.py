"""Page: a project's tasks as a table, filtered by status and paged; the filter swaps only the table."""

from __future__ import annotations

from litestar import get
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from server.core import access, projects, tasks
from server.models import TASK_STATUSES
from server.web.ui.render import input_cells, page_or_fragment, viewer

PER_PAGE = 50


@get("/projects/{project_id:int}/tasks", sync_to_thread=True, name="project-tasks")
def task_table(request: HTMXRequest, project_id: int, user: int, status: str | None = None,
               page: int = 1) -> Template:
    project, role = access.project_for(user, project_id, "reviewer")
    status = status or None
    found = tasks.page(project, status, page, PER_PAGE)
    inputs = projects.runtime(project).inputs
    rows = [{"id": t.id, "ext_id": t.ext_id, "kind": t.kind, "status": t.status, "responses": t.responses,
             "cells": input_cells(inputs, t.inputs)} for t in found.items]
    pages = max(1, -(-found.total // PER_PAGE))
    return page_or_fragment(request, "owner/tasks.html", "partials/task_table.html", me=viewer(user), role=role,
                            project={"id": project.id, "name": project.name}, rows=rows, total=found.total,
                            page=found.page, pages=pages, status=status or "", statuses=TASK_STATUSES)
