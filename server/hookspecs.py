"""Every hook Quorum calls: the plugin author's contract. Implement them with `server.hookimpl`.

A plugin is a module (or object) with functions named like these, each marked
`@hookimpl`, registered through the entry-point group `quorum`. Implementations take
only the arguments they need. The types they return live in `server.plugin_types`.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("quorum")
hookimpl = pluggy.HookimplMarker("quorum")


@hookspec
def quorum_task_types():
    """Return a list of TaskType instances this plugin provides."""


@hookspec
def quorum_judges():
    """Return a list of Judge instances; each gives a verdict per quality criterion."""


@hookspec
def quorum_project_templates():
    """Return a list of ProjectTemplate: ready projects for a use case (task type, guidelines, criteria, price)."""


@hookspec
def quorum_importers():
    """Return a list of Importer instances that read uploaded datasets (JSON, JSONL, CSV, …)."""


@hookspec
def quorum_exporters():
    """Return a list of Exporter instances that write results (json, jsonl, csv, …)."""


@hookspec
def quorum_template_dirs():
    """Return a list of directories holding this plugin's jinja templates."""


@hookspec
def quorum_event(kind, data):
    """Called after an event is written and committed (kind like "task.reviewed", data a dict)."""


@hookspec
def quorum_static_dirs():
    """Return a list of (name, directory) pairs; each directory is served at /static/<name>/."""


@hookspec
def quorum_configure(config):
    """Called once at start-up with the Config; read your own table with config.plugin_config(name).
    Raise ValueError with a message naming the key to stop start-up on a bad setting."""
