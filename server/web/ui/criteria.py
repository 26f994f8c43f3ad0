"""Setup step: the quality criteria editor: list, add, edit and remove criteria; saving makes a new version.

The form holds one fieldset per criterion, named c<i>.name, c<i>.entities, c<i>.rule,
c<i>.checks (JSON) and c<i>.severity; the index only orders them (an added row gets a
large one). A refused save comes back as the same rows, renumbered in posted order so
the core's `criteria[k].<field>` names the row the message goes beside.
"""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from server.core import projects, versions
from server.errors import Invalid
from server.models import Project
from server.web.ui import judges, steps
from server.web.ui.render import fragment

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
ROW = re.compile(r"^c(\d+)\.name$")
FIELD = re.compile(r"^criteria\[(\d+)\]\.(\w+)$")


@get("/projects/{project_id:int}/setup/criteria", sync_to_thread=True, name="setup-criteria")
def criteria_page(request: HTMXRequest, project_id: int, user: int) -> Template:
    project = steps.owner_project(user, project_id)
    return _editor(request, project, user, _saved_rows(project))


@post("/projects/{project_id:int}/setup/criteria", sync_to_thread=True, status_code=200,
      name="setup-criteria-save")
def save_criteria(request: HTMXRequest, project_id: int, user: int, data: Form) -> Template:
    project = steps.owner_project(user, project_id)
    rows = _posted_rows(data)
    try:
        criteria = [_criterion(k, row) for k, row in enumerate(rows)]
        project = versions.edit(project, versions.ProjectEdit(criteria=criteria), user)
    except Invalid as exc:
        return _editor(request, project, user, rows, error=_placed(exc), status_code=exc.status_code)
    return _editor(request, project, user, _saved_rows(project),
                   notice=f"Saved {len(rows)} criteria as version {project.version}.")


@get("/projects/{project_id:int}/setup/criteria/blank", sync_to_thread=True, name="setup-criteria-blank")
def blank_row(project_id: int, user: int) -> Template:
    """One empty criterion row, appended by the Add button."""
    project = steps.owner_project(user, project_id)
    return fragment("partials/setup/criterion_row.html", outputs=_outputs(project), error=None,
                    row={"index": time.time_ns() // 1000 % 10**12, "name": "", "entities": [], "rule": "",
                         "checks": "", "severity": "blocking"})


def _editor(request: HTMXRequest, project: Project, user: int, rows: list[dict], *, error: dict | None = None,
            notice: str | None = None, status_code: int = 200) -> Template:
    return steps.respond(request, project, user, "criteria", "owner/setup/criteria.html",
                         "partials/setup/criteria_form.html", status_code=status_code, rows=rows,
                         outputs=_outputs(project), error=error, notice=notice,
                         judges=judges.section(project))


def _outputs(project: Project) -> list[dict]:
    return [{"name": e.name, "label": e.label or e.name, "type": e.type} for e in projects.runtime(project).outputs]


def _saved_rows(project: Project) -> list[dict]:
    return [{"index": i, "name": c.name, "entities": list(c.entities), "rule": c.rule,
             "checks": msgspec.json.encode(c.checks).decode() if c.checks else "", "severity": c.severity}
            for i, c in enumerate(projects.criteria(project).views)]


def _posted_rows(data: dict[str, Any]) -> list[dict]:
    """The posted criteria in index order, renumbered 0..n-1; rows left wholly blank are dropped."""
    indices = sorted(int(m.group(1)) for key in data if (m := ROW.match(key)))
    rows = []
    for i in indices:
        raw = data.get(f"c{i}.entities")
        entities = [str(e) for e in (raw if isinstance(raw, list) else [] if raw in (None, "") else [raw])]
        row = {"name": _text(data, f"c{i}.name"), "entities": entities, "rule": _text(data, f"c{i}.rule"),
               "checks": _text(data, f"c{i}.checks"), "severity": _text(data, f"c{i}.severity") or "blocking"}
        if row["name"].strip() or row["rule"].strip() or row["checks"].strip() or entities:
            rows.append({"index": len(rows), **row})
    return rows


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    return str(value[-1] if isinstance(value, list) else value)


def _criterion(k: int, row: dict) -> versions.CriterionIn:
    checks: Any = {}
    if row["checks"].strip():
        try:
            checks = msgspec.json.decode(row["checks"].encode())
        except msgspec.DecodeError as exc:
            raise Invalid(f"not valid JSON: {exc}", field=f"criteria[{k}].checks") from None
        if not isinstance(checks, dict):
            raise Invalid('give a JSON object, such as {"min_words": {"reason": 8}}', field=f"criteria[{k}].checks")
    return versions.CriterionIn(name=row["name"], entities=row["entities"], rule=row["rule"], checks=checks,
                                severity=row["severity"])


def _placed(exc: Invalid) -> dict:
    """The error with the row and field it belongs beside (row None: a message for the whole form)."""
    found = FIELD.match(exc.field or "")
    return {"row": int(found.group(1)) if found else None, "field": found.group(2) if found else exc.field,
            "message": exc.message}
