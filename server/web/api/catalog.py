"""API: what this server offers: task types and project templates (from plugins)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get

from server import plugins
from server.plugin_types import ProjectTemplate


class TaskTypeOut(msgspec.Struct, kw_only=True):
    name: str
    title: str
    description: str


class CatalogController(Controller):
    path = "/"

    @get("/task-types", sync_to_thread=False, summary="Task types the loaded plugins provide")
    def task_types(self, user: int) -> list[TaskTypeOut]:
        return [TaskTypeOut(name=t.name, title=t.title, description=t.description)
                for t in sorted(plugins.registry().task_types.values(), key=lambda t: t.name)]

    @get("/templates", sync_to_thread=False,
         summary="Project templates: start a project with POST /projects {name, template}")
    def templates(self, user: int) -> list[ProjectTemplate]:
        return sorted(plugins.registry().templates.values(), key=lambda t: t.name)
