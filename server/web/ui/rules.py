"""Page: a project's rules: the ones in force (defaults with the owner's overrides) as a table, and the owner's
own rules as TOML to edit beside the defaults to copy from. A rule that does not compile is refused with the
parser's message, its line and column, and the text kept as typed."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from server import rules as rule_engine
from server.core import access, rule_sets
from server.errors import Invalid
from server.models import Project
from server.web.ui.render import fragment, page, viewer

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/projects/{project_id:int}/rules", sync_to_thread=True, name="project-rules")
def rules_page(project_id: int, user: int) -> Template:
    project, role = access.project_for(user, project_id, "reviewer")
    return page("owner/rules.html", me=viewer(user), role=role, **_context(project, own_text(project)))


@post("/projects/{project_id:int}/rules", sync_to_thread=True, status_code=200, name="project-rules-save")
def save_rules(request: HTMXRequest, project_id: int, user: int, data: Form) -> Template:
    project, role = access.project_for(user, project_id, "owner")
    text = str(data.get("rules", "")).replace("\r\n", "\n")
    found: dict[str, Any] = {}
    status_code = 200
    try:
        saved = rule_sets.replace(project, text, user)
        own = len(rule_sets.own(project))
        found["notice"] = (f"Saved {own} rule{'' if own == 1 else 's'} of your own; {sum(r.enabled for r in saved)} "
                           "rules are in force." if own else "Saved: the default rules are in force.")
    except Invalid as exc:
        status_code = exc.status_code
        found["error"] = {"where": exc.field, "message": exc.message, **_excerpt(text, exc.extra.get("line"),
                                                                                 exc.extra.get("column"))}
    context = _context(project, text, **found)
    if request.htmx:
        return fragment("partials/quality/rules_editor.html", status_code=status_code, role=role, **context)
    return page("owner/rules.html", status_code=status_code, me=viewer(user), role=role, **context)


def own_text(project: Project) -> str:
    own = rule_sets.own(project)
    return rule_engine.dump(own) if own else ""


def _context(project: Project, text: str, **found: Any) -> dict:
    effective = [{"name": r.name, "on": r.on, "when": r.when, "then": r.then, "params": r.params,
                  "enabled": r.enabled, "origin": r.origin} for r in rule_sets.rules_for(project)]
    return {"project": {"id": project.id, "name": project.name, "version": project.version}, "effective": effective,
            "text": text, "defaults": rule_engine.dump(rule_sets.defaults()), "events": rule_engine.EVENTS,
            "actions": rule_engine.ACTIONS, "error": None, "notice": None, **found}


def _excerpt(text: str, line: int | None, column: int | None) -> dict:
    """The offending line of the text and a caret under the column, to show beside the message."""
    lines = text.split("\n")
    if not line or not 1 <= line <= len(lines):
        return {"line": line, "column": column, "source": "", "caret": ""}
    return {"line": line, "column": column, "source": lines[line - 1],
            "caret": " " * max((column or 1) - 1, 0) + "^" if column else ""}
