"""A labeling form in both directions: posted fields into a response, and what a form template is handed.

The form's field names are the project's output entity names, whether the task type
brings its own template or the generic form is drawn from the entities. Empty optional
fields are left out, so the task type's own defaults and messages apply.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

from server.core import projects
from server.errors import Invalid
from server.models import Project
from server.plugin_types import OutputEntity
from server.web.ui.render import input_cells


def response_from_form(outputs: list[OutputEntity], form: dict[str, Any]) -> dict:
    response: dict[str, Any] = {}
    for entity in outputs:
        if entity.type == "computed":
            continue
        raw = form.get(entity.name)
        values = [str(v) for v in (raw if isinstance(raw, list) else [] if raw is None else [raw])]
        if entity.type == "multi_choice":
            chosen = [v for v in values if v.strip()]
            if chosen:
                response[entity.name] = chosen
            continue
        value = values[-1] if values else ""
        if not value.strip():
            continue
        response[entity.name] = _number(entity.name, value) if entity.type == "score" else value
    return response


def kept(outputs: list[OutputEntity], form: dict[str, Any]) -> dict:
    """The answers as posted, to put back into a form the server refused."""
    found: dict[str, Any] = {}
    for entity in outputs:
        raw = form.get(entity.name)
        if raw is None:
            continue
        values = raw if isinstance(raw, list) else [raw]
        found[entity.name] = list(values) if entity.type == "multi_choice" else values[-1]
    return found


def _number(name: str, value: str) -> int | float:
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            raise Invalid(f"must be a number, got {value!r}", field=name) from None


def form_context(project: Project, task_id: int, ext_id: str, data: dict, previous: dict | None) -> dict:
    """What the task fragment and a task type's template get: inputs, options, outputs, previous."""
    rt = projects.runtime(project)
    view = projects.task_view(project, task_id, ext_id, data, shown=True)
    shortcut_owner = next((e.name for e in rt.outputs if e.type == "single_choice" and e.shortcut_keys), None)
    return {
        "template": rt.task_type.template,
        "inputs": view.inputs,
        "input_cells": input_cells(rt.inputs, view.inputs),
        "options": rt.options,
        "outputs": rt.outputs,
        "fields": [_field(e, e.name == shortcut_owner) for e in rt.outputs if e.type != "computed"],
        "previous": previous,
    }


_ID_ATTRS = re.compile(r'(?<=\s)(id|for|data-count-for|aria-describedby|aria-labelledby)="([^"]*)"')


def scoped(html: str, prefix: str) -> Markup:
    """A rendered form with its element ids (and the attributes pointing at them) prefixed, so one page can hold
    the same task type's form several times (an audit's corrections, a quality task's seed) without two
    elements sharing an id. Field names are left alone: each copy lives in its own <form>."""
    def prefix_all(found: re.Match) -> str:
        return f'{found.group(1)}="{" ".join(prefix + v for v in found.group(2).split())}"'
    return Markup(_ID_ATTRS.sub(prefix_all, str(html)))


def _field(entity: OutputEntity, shortcuts: bool) -> dict:
    return {"name": entity.name, "type": entity.type, "label": entity.label or entity.name,
            "required": entity.required, "choices": list(entity.choices), "min_words": entity.min_words,
            "max_words": entity.max_words, "minimum": entity.minimum, "maximum": entity.maximum,
            "shortcuts": shortcuts}
