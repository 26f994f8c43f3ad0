"""What every page shares: who is looking, the layout's context, safe links, guidelines as HTML, page-or-fragment.

Handlers run in a worker thread (peewee connections are per thread) and hand the
template plain values only: templates render later, on the event loop, where a lazy
database query must never happen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec
from markdown_it import MarkdownIt
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Template
from markupsafe import Markup, escape

from server.core import users
from server.models import User
from server.plugin_types import InputEntity

STATUS_LABELS = {
    "unbatched": "Unbatched",
    "queued": "Queued",
    "in_progress": "In progress",
    "quality_check": "Quality Check",
    "ready_for_review": "Ready for Review",
    "completed": "Completed",
}


@dataclass(frozen=True)
class Viewer:
    """The logged-in user as the layout shows them."""

    id: int
    username: str
    roles: dict[int, str]          # space id -> role

    @property
    def runs_projects(self) -> bool:
        return any(role in ("owner", "reviewer") for role in self.roles.values())

    @property
    def owns_a_space(self) -> bool:
        return "owner" in self.roles.values()


def viewer(user_id: int) -> Viewer:
    username = User.select(User.username).where(User.id == user_id).scalar() or "?"
    return Viewer(id=user_id, username=username, roles=users.roles_of(user_id))


def page(template_name: str, /, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=template_name, context={"status_labels": STATUS_LABELS, **context},
                    status_code=status_code)


def fragment(template_name: str, /, status_code: int = 200, **context: Any) -> HTMXTemplate:
    return HTMXTemplate(template_name=template_name, context={"status_labels": STATUS_LABELS, **context},
                        status_code=status_code)


def page_or_fragment(request: HTMXRequest, full: str, part: str, /, **context: Any) -> Template:
    """The fragment for an htmx swap, the whole page for a plain visit (or a reload of a pushed URL)."""
    if request.htmx and not request.htmx.boosted:
        return fragment(part, **context)
    return page(full, **context)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never //host or a scheme (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def safe_href(value: Any) -> str | None:
    """A link a page may render: http(s) or a site path; anything else (javascript:, data:) is shown as text."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.match(r"^https?://", text, re.IGNORECASE) or (text.startswith("/") and not text.startswith("//")):
        return text
    return None


def input_cells(entities: list[InputEntity], inputs: dict) -> list[dict]:
    """A task's inputs ready for display: images as images, URLs as links, the rest as text."""
    cells = []
    for entity in entities:
        value = inputs.get(entity.name)
        href = safe_href(value)
        if entity.type == "IMAGE" and href:
            kind = "image"
        elif entity.type in ("URL", "IMAGE") and href:
            kind = "link"
        elif entity.type == "JSON" or isinstance(value, (dict, list)):
            kind, value = "json", msgspec.json.format(msgspec.json.encode(value)).decode()
        else:
            kind = "text"
        cells.append({"name": entity.name, "label": entity.label or entity.name, "kind": kind,
                      "value": "" if value is None else value, "href": href})
    return cells


_markdown = MarkdownIt("js-default")   # escapes raw HTML and drops unsafe links


def guidelines_html(text: str) -> Markup:
    """Guidelines as markdown, raw HTML escaped."""
    if not text.strip():
        return Markup("")
    return Markup(_markdown.render(text))
