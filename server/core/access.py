"""Who may do what on a project: the role a user holds in the project's space."""

from __future__ import annotations

from server.core import projects, users
from server.errors import Forbidden, NotFound
from server.models import Project, Task


def project_for(user_id: int, project_id: int, at_least: str) -> tuple[Project, str]:
    """The project and the user's role in its space, if at least `at_least`.

    Someone with no role in the space is told the project does not exist."""
    project = projects.get(project_id)
    role = users.role_in(user_id, project.space_id)
    if role is None:
        raise NotFound(f"project {project_id} not found")
    if users.RANK[role] < users.RANK[at_least]:
        raise Forbidden(f"this needs the {at_least} role in the project's space (you are {role})")
    return project, role


def task_for(user_id: int, task_id: int, at_least: str) -> tuple[Task, Project]:
    task = Task.get_or_none(Task.id == task_id)
    if task is None:
        raise NotFound(f"task {task_id} not found")
    project, _ = project_for(user_id, task.project_id, at_least)
    return task, project


def require_tasker(user_id: int, project_id: int) -> Project:
    """Labeling is the tasker role's work; owners check their own answers through self-check."""
    project, role = project_for(user_id, project_id, "tasker")
    if role != "tasker":
        raise Forbidden(f"only taskers claim tasks (you are {role} in this space)")
    return project
