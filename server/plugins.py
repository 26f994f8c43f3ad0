"""The pluggy manager: built-in plugins, third-party entry points (group "quorum"), and lookups.

Built-ins are registered exactly like a third party's; `registry()` gathers what the
hooks return into name-keyed tables that the core uses instead of any task-type knowledge.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import pluggy

import plugins as builtin_plugins
from server import hookspecs
from server.plugin_types import Exporter, Importer, Judge, ProjectTemplate, TaskType

BUILTINS = builtin_plugins.BUILTINS   # the built-ins list themselves; the core names none of them


class UnknownPlugin(LookupError):
    """A name that no loaded plugin provides."""


@dataclass
class Registry:
    task_types: dict[str, TaskType] = field(default_factory=dict)
    judges: dict[str, Judge] = field(default_factory=dict)
    importers: dict[str, Importer] = field(default_factory=dict)
    exporters: dict[str, Exporter] = field(default_factory=dict)
    templates: dict[str, ProjectTemplate] = field(default_factory=dict)
    template_dirs: list[str] = field(default_factory=list)
    static_dirs: dict[str, str] = field(default_factory=dict)   # URL name -> directory
    sources: dict[str, str] = field(default_factory=dict)   # plugin name -> where it came from

    def task_type(self, name: str) -> TaskType:
        try:
            return self.task_types[name]
        except KeyError:
            raise UnknownPlugin(f"unknown task type {name!r}; loaded: {', '.join(sorted(self.task_types))}") from None

    def template(self, name: str) -> ProjectTemplate:
        try:
            return self.templates[name]
        except KeyError:
            raise UnknownPlugin(f"unknown template {name!r}; loaded: {', '.join(sorted(self.templates))}") from None

    def exporter(self, name: str) -> Exporter:
        try:
            return self.exporters[name]
        except KeyError:
            raise UnknownPlugin(f"unknown export format {name!r}; loaded: {', '.join(sorted(self.exporters))}") from None

    def importer_for(self, media_type: str = "", filename: str = "") -> Importer:
        media_type = media_type.split(";")[0].strip().lower()
        for importer in self.importers.values():
            if media_type and media_type in importer.media_types:
                return importer
        for importer in self.importers.values():
            if filename and filename.lower().endswith(importer.suffixes):
                return importer
        known = sorted(t for i in self.importers.values() for t in i.media_types)
        raise UnknownPlugin(f"no importer reads {media_type or filename or 'this upload'!r}; use one of {', '.join(known)}")


def make_manager(disabled: tuple[str, ...] = (), entry_points: bool = True, extra: tuple = ()) -> pluggy.PluginManager:
    manager = pluggy.PluginManager("quorum")
    manager.add_hookspecs(hookspecs)
    for path in BUILTINS:
        if path not in disabled:
            manager.register(importlib.import_module(path), name=path)
    for plugin in extra:
        manager.register(plugin)
    if entry_points:
        manager.load_setuptools_entrypoints("quorum")
    for name in disabled:
        if manager.get_plugin(name) is not None:
            manager.unregister(name=name)
    return manager


def build_registry(manager: pluggy.PluginManager) -> Registry:
    registry = Registry()
    hook = manager.hook
    for plugin_name, found in _per_plugin(manager, "quorum_task_types"):
        for task_type in found:
            registry.task_types[task_type.name] = task_type
            registry.sources[f"task type {task_type.name}"] = plugin_name
    for plugin_name, found in _per_plugin(manager, "quorum_judges"):
        for judge in found:
            registry.judges[judge.name] = judge
            registry.sources[f"judge {judge.name}"] = plugin_name
    for plugin_name, found in _per_plugin(manager, "quorum_project_templates"):
        for template in found:
            registry.templates[template.name] = template
            registry.sources[f"template {template.name}"] = plugin_name
    for plugin_name, found in _per_plugin(manager, "quorum_importers"):
        for importer in found:
            registry.importers[importer.name] = importer
            registry.sources[f"importer {importer.name}"] = plugin_name
    for plugin_name, found in _per_plugin(manager, "quorum_exporters"):
        for exporter in found:
            registry.exporters[exporter.name] = exporter
            registry.sources[f"exporter {exporter.name}"] = plugin_name
    for dirs in hook.quorum_template_dirs():
        registry.template_dirs.extend(str(d) for d in dirs)
    for pairs in hook.quorum_static_dirs():
        registry.static_dirs.update((name, str(path)) for name, path in pairs)
    return registry


def _per_plugin(manager: pluggy.PluginManager, hook_name: str):
    """(plugin name, returned list) for each implementation, so listings can say who gave what."""
    for impl in getattr(manager.hook, hook_name).get_hookimpls():
        result = impl.function()
        if result:
            yield manager.get_name(impl.plugin), result


_state: dict = {}


def configure(disabled: tuple[str, ...] = (), entry_points: bool = True, extra: tuple = ()) -> Registry:
    """Load plugins once per process (start-up, CLI, tests); `extra` registers plugin objects directly."""
    manager = make_manager(disabled, entry_points, extra)
    _state.pop("listeners", None)
    _state["manager"] = manager
    _state["registry"] = build_registry(manager)
    return _state["registry"]


def configure_plugins(config) -> None:
    """Hand every plugin its settings; a bad one stops start-up with the plugin's message."""
    from server.config import ConfigError

    try:
        manager().hook.quorum_configure(config=config)
    except ValueError as exc:
        raise ConfigError(f"plugin settings: {exc}") from exc


def registry() -> Registry:
    if "registry" not in _state:
        configure()
    return _state["registry"]


def manager() -> pluggy.PluginManager:
    if "manager" not in _state:
        configure()
    return _state["manager"]


def has_listeners() -> bool:
    """Whether any plugin listens to events (so the core can skip building payloads)."""
    if "listeners" not in _state:
        _state["listeners"] = bool(manager().hook.quorum_event.get_hookimpls())
    return _state["listeners"]


def notify(kind: str, data: dict) -> None:
    """Tell event listeners; a listener's failure never undoes the change it hears about."""
    if "manager" not in _state:
        return
    try:
        _state["manager"].hook.quorum_event(kind=kind, data=data)
    except Exception:  # noqa: BLE001 - a listener must not break the core
        import logging

        logging.getLogger("quorum.plugins").exception("event listener failed on %s", kind)
