"""Projects: creation from a task type, their datapoint structure, versions, and the views plugins get."""

from __future__ import annotations

import time
from dataclasses import dataclass

import msgspec

from server import plugins
from server.core import events, media
from server.db import database, write_transaction
from server.errors import Invalid, NotFound
from server.models import Criterion, Entity, Project, ProjectVersion, Space, Task
from server.plugin_types import CriterionView, GradedExample, InputEntity, Options, OutputEntity, ResponseInvalid, TaskType, TaskView


class ProjectSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What an owner sets when creating or editing a project."""

    name: str
    task_type: str = ""                  # may come from the template
    template: str | None = None          # start from a use case's template; fields given here win
    description: str = ""
    guidelines: str = ""
    options: dict = {}
    overlap: int | None = None           # None: config assignment.default_overlap
    lease_minutes: float | None = None   # None: config assignment.lease_minutes
    price_cents: int = 0
    require_calibration: bool = True     # false is the one way past the calibration gate, at creation only
    judges: list[str] = msgspec.field(default_factory=lambda: ["static"])
    judge_settings: dict[str, dict] = {}
    on_blocking_fail: str = "review"     # review | rework
    evaluation_rate: float = 0.1         # share of claims that serve an evaluation task
    calibration_bar: float = 0.7         # calibration score a round needs to open production


@dataclass(frozen=True)
class Runtime:
    """A project's task type and parsed options, cached per project version."""

    task_type: TaskType
    options: Options
    inputs: list[InputEntity]
    outputs: list[OutputEntity]


_runtime_cache: dict[tuple[int, int, bytes], Runtime] = {}


def runtime(project: Project) -> Runtime:
    key = (project.id, project.version, msgspec.json.encode(project.options))
    cached = _runtime_cache.get(key)
    if cached is None:
        task_type = plugins.registry().task_type(project.task_type)
        options = task_type.parse_options(project.options)
        cached = Runtime(task_type, options, task_type.inputs(options), task_type.outputs(options))
        _runtime_cache[key] = cached
    return cached


def task_view(project: Project, task_id: int, ext_id: str, data: dict, *, shown: bool = False) -> TaskView:
    """The task as plugins see it: inputs resolved through the project's field mapping.

    `shown`: for a page or an API client, an IMAGE input stored with the project (a relative
    path) becomes the URL the server serves it at; links and the stored data stay as given."""
    view = viewer(project)(task_id, ext_id, data)
    if shown:
        for e in runtime(project).inputs:
            if e.type == "IMAGE":
                view.inputs[e.name] = media.url(project.id, view.inputs[e.name])
    return view


def viewer(project: Project):
    """`task_view` (not shown) with the project's inputs resolved once: for loops over many tasks."""
    mapping = project.input_map or {}
    fields = [(e.name, mapping.get(e.name, e.name)) for e in runtime(project).inputs]

    def view(task_id: int, ext_id: str, data: dict) -> TaskView:
        return TaskView(id=task_id, ext_id=ext_id, inputs={name: data.get(field) for name, field in fields}, data=data)
    return view


def create(settings: ProjectSettings, created_by: int | None, space: Space,
           default_overlap: int = 1, default_lease_minutes: float = 30.0) -> Project:
    registry = plugins.registry()
    template = None
    if settings.template:
        if settings.template not in registry.templates:
            raise Invalid(f"unknown template {settings.template!r}; available: {', '.join(sorted(registry.templates))}",
                          field="template")
        template = registry.templates[settings.template]
        settings = _from_template(settings, template)
    if settings.overlap is None:
        settings.overlap = default_overlap
    if settings.lease_minutes is None:
        settings.lease_minutes = default_lease_minutes
    if settings.task_type not in registry.task_types:
        raise Invalid(f"unknown task type {settings.task_type!r}; available: {', '.join(sorted(registry.task_types))}",
                      field="task_type")
    _check_settings(settings, registry)
    task_type = registry.task_type(settings.task_type)
    try:
        options = task_type.parse_options(settings.options)
    except ResponseInvalid as exc:
        raise Invalid(exc.message, field=exc.field) from exc
    with database.atomic():
        project = Project.create(
            space=space, name=settings.name.strip(), description=settings.description,
            task_type=settings.task_type, options=msgspec.to_builtins(options),
            guidelines=settings.guidelines, overlap=settings.overlap,
            lease_seconds=settings.lease_minutes * 60, price_cents=settings.price_cents,
            require_calibration=settings.require_calibration, judges=settings.judges,
            judge_settings=settings.judge_settings, on_blocking_fail=settings.on_blocking_fail,
            evaluation_rate=settings.evaluation_rate, calibration_bar=settings.calibration_bar,
            created_by=created_by,
        )
        _write_structure(project, task_type, options)
        starting = template.criteria if template and template.criteria is not None else None
        for position, criterion in enumerate(starting or task_type.default_criteria(options)):
            Criterion.create(project=project, name=criterion.name, entities=criterion.entities,
                             rule=criterion.rule, checks=criterion.checks,
                             severity=criterion.severity, position=position)
        snapshot(project)
        events.record("project.created", actor=created_by, project=project.id,
                      task_type=settings.task_type, name=project.name)
    return project


def _from_template(settings: ProjectSettings, template) -> ProjectSettings:
    """The template's values wherever the request left a field at its default."""
    defaults = ProjectSettings(name=settings.name)
    filled = {}
    for field in ("task_type", "description", "guidelines", "options", "price_cents", "overlap", "judges"):
        if getattr(settings, field) == getattr(defaults, field):
            filled[field] = getattr(template, field)
    if settings.task_type and settings.task_type != template.task_type:
        raise Invalid(f"template {template.name!r} is for task type {template.task_type!r}", field="task_type")
    return msgspec.structs.replace(settings, **filled)


def _check_settings(settings: ProjectSettings, registry) -> None:
    if not settings.name.strip():
        raise Invalid("name must not be empty", field="name")
    if not 1 <= settings.overlap <= 100:
        raise Invalid("overlap must be between 1 and 100", field="overlap")
    if settings.lease_minutes <= 0:
        raise Invalid("lease_minutes must be positive", field="lease_minutes")
    if settings.price_cents < 0:
        raise Invalid("price_cents must not be negative", field="price_cents")
    if not 0 <= settings.evaluation_rate <= 0.5:
        raise Invalid("evaluation_rate must be from 0 to 0.5", field="evaluation_rate")
    if not 0 <= settings.calibration_bar <= 1:
        raise Invalid("calibration_bar must be from 0 to 1", field="calibration_bar")
    if settings.on_blocking_fail not in ("review", "rework"):
        raise Invalid("on_blocking_fail must be review or rework", field="on_blocking_fail")
    for name in settings.judges:
        if name not in registry.judges:
            raise Invalid(f"unknown judge {name!r}; available: {', '.join(sorted(registry.judges))}", field="judges")


def _write_structure(project: Project, task_type: TaskType, options: Options) -> None:
    rows = [dict(project=project, direction="input", name=e.name, type=e.type, position=i,
                 settings=msgspec.to_builtins(e)) for i, e in enumerate(task_type.inputs(options))]
    rows += [dict(project=project, direction="output", name=e.name, type=e.type, position=i,
                  settings=msgspec.to_builtins(e)) for i, e in enumerate(task_type.outputs(options))]
    Entity.insert_many(rows).execute()


@dataclass(frozen=True)
class Criteria:
    """A project version's quality criteria, with their ids and severities."""

    views: list[CriterionView]
    ids: dict[str, int]
    severity: dict[str, str]
    examples: list[GradedExample]


_criteria_cache: dict[tuple[int, int], Criteria] = {}


def criteria(project: Project) -> Criteria:
    """Cached per project version: every submission reads them."""
    key = (project.id, project.version)
    found = _criteria_cache.get(key)
    if found is None:
        rows = list(Criterion.select().where(Criterion.project == project.id).order_by(Criterion.position))
        snapshot = (ProjectVersion.select(ProjectVersion.snapshot)
                    .where(ProjectVersion.project == project.id, ProjectVersion.number == project.version).scalar())
        found = Criteria(views=[CriterionView(name=c.name, entities=c.entities, rule=c.rule, checks=c.checks,
                                              severity=c.severity) for c in rows],
                         ids={c.name: c.id for c in rows}, severity={c.name: c.severity for c in rows},
                         examples=[GradedExample(**e) for e in (snapshot or {}).get("examples", [])])
        _criteria_cache[key] = found
    return found


def snapshot(project: Project, examples: list[dict] | None = None) -> ProjectVersion:
    """Freeze the project's instructions, structure, criteria and judges' examples as version `project.version`."""
    rt = runtime(project)
    data = {
        "description": project.description, "guidelines": project.guidelines,
        "options": project.options, "overlap": project.overlap, "judges": project.judges,
        "inputs": msgspec.to_builtins(rt.inputs), "outputs": msgspec.to_builtins(rt.outputs),
        "criteria": msgspec.to_builtins(criteria(project).views),
        "judge_settings": project.judge_settings, "examples": examples or [],
    }
    version = ProjectVersion.create(project=project, number=project.version, snapshot=data)
    forget(project.id)   # the criteria cache read this version before it existed
    return version


_project_cache: dict[int, tuple[float, Project]] = {}
PROJECT_CACHE_SECONDS = 2.0


def get(project_id: int) -> Project:
    """The project row, kept for a moment: the labeling path reads it on every request.
    Changes made through this module call `forget`; another process sees them within
    PROJECT_CACHE_SECONDS."""
    now = time.monotonic()
    cached = _project_cache.get(project_id)
    if cached and now - cached[0] < PROJECT_CACHE_SECONDS:
        return cached[1]
    project = Project.get_or_none(Project.id == project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    _project_cache[project_id] = (now, project)
    return project


def forget_all() -> None:
    """A new database (start-up, tests): nothing remembered applies any more."""
    _project_cache.clear()
    _criteria_cache.clear()
    _runtime_cache.clear()


def forget(project_id: int) -> None:
    """Drop what this process remembers of a project after changing it."""
    _project_cache.pop(project_id, None)
    for key in [k for k in _criteria_cache if k[0] == project_id]:
        del _criteria_cache[key]


def dataset_fields(project: Project, sample: int = 50) -> list[str]:
    """The field names of the project's items (from the first `sample`), in first-seen order."""
    seen: dict[str, None] = {}
    for (data,) in Task.select(Task.data).where(Task.project == project.id).order_by(Task.id).limit(sample).tuples():
        seen.update(dict.fromkeys(data))
    return list(seen)


def set_input_map(project: Project, mapping: dict[str, str], actor: int | None) -> Project:
    """Point input entities at other dataset fields. Items keep their data; inputs are read through the map."""
    inputs = [e.name for e in runtime(project).inputs]
    fields = dataset_fields(project)
    for entity, source in mapping.items():
        if entity not in inputs:
            raise Invalid(f"{entity!r} is not an input entity ({', '.join(inputs)})", field=f"input_map.{entity}")
        if not isinstance(source, str) or not source.strip():
            raise Invalid("name the dataset field this input comes from", field=f"input_map.{entity}")
        if fields and source not in fields:
            raise Invalid(f"the items have no field {source!r} ({', '.join(fields)})", field=f"input_map.{entity}")
    with write_transaction():
        Project.update(input_map=mapping).where(Project.id == project.id).execute()
        events.record("project.input_map_changed", actor=actor, project=project.id, input_map=mapping)
    project.input_map = mapping
    forget(project.id)
    return project


def visible_to(space_roles: dict[int, str]) -> list[Project]:
    if not space_roles:
        return []
    return list(Project.select().where(Project.space.in_(list(space_roles))).order_by(Project.id))
