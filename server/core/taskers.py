"""The owner's view of a project's taskers, and a tasker's view of their own standing."""

from __future__ import annotations

import msgspec

from server.core import actions, standing
from server.db import execute, write_transaction
from server.errors import NotFound
from server.models import Event, Project, TaskerStanding, User


class TaskerRow(msgspec.Struct, kw_only=True):
    user_id: int
    username: str
    status: str
    reason: str
    rule: str
    changed_at: float
    evaluation: dict
    training: dict
    submissions: dict
    median_seconds: float | None
    last_rule_fired: dict | None


def row(project: Project, st: TaskerStanding, username: str) -> TaskerRow:
    facts = standing.tasker_context(st)
    durations = sorted(d for (d,) in execute(
        "SELECT duration_seconds FROM response WHERE project_id = ? AND tasker_id = ? ORDER BY id DESC LIMIT 500",
        (project.id, st.tasker_id)))
    fired = (Event.select().where(Event.project == project.id, Event.kind == "rule.fired")
             .order_by(Event.id.desc()))
    last = next((e for e in fired.limit(200) if e.data.get("tasker") == st.tasker_id), None)
    return TaskerRow(user_id=st.tasker_id, username=username, status=st.status, reason=st.reason, rule=st.rule,
                     changed_at=st.changed_at, evaluation=facts["evaluation"], training=facts["training"],
                     submissions=facts["submissions"],
                     median_seconds=round(durations[len(durations) // 2], 2) if durations else None,
                     last_rule_fired={"rule": last.data["rule"], "action": last.data["action"], "at": last.at,
                                      "values": last.data.get("values", {})} if last else None)


def table(project: Project) -> list[TaskerRow]:
    rows = (TaskerStanding.select(TaskerStanding, User.id, User.username).join(User)   # User.id: else tasker_id is None
            .where(TaskerStanding.project == project.id).order_by(User.username))
    return [row(project, st, st.tasker.username) for st in rows]


def mine(project: Project, user_id: int) -> TaskerRow:
    st = standing.get(project, user_id)
    return row(project, st, User.get_by_id(user_id).username)


def act(project: Project, user_id: int, action: str, actor: int, reason: str = "") -> TaskerRow:
    st = TaskerStanding.get_or_none(TaskerStanding.project == project.id, TaskerStanding.tasker == user_id)
    if st is None:
        raise NotFound(f"user {user_id} has not worked on project {project.id}")
    with write_transaction():
        actions.by_owner(project, st, action, actor, reason)
    return row(project, st, User.get_by_id(user_id).username)
