"""Rules in force: run a project's rules for an event and carry out the actions of those that match.

Actions are a closed set. Each writes a `rule.fired` event with the rule, the action and
the values the condition saw, and the tasker's standing keeps the last rule and reason.
"""

from __future__ import annotations

import time

from server import rules as rule_engine
from server.core import assignment, events, standing
from server.core.rule_sets import rules_for
from server.db import execute
from server.models import Project, TaskerStanding

DETAIL = ("rolling_accuracy", "evaluation.initial", "evaluation.review")


def fire(event: str, project: Project, tasker: TaskerStanding | None = None, **parts) -> list[str]:
    """Run the project's rules for `event` (inside the caller's transaction); return the actions taken."""
    return carry_out_all(decide(event, project, tasker, **parts), project, tasker)


def decide(event: str, project: Project, tasker: TaskerStanding | None = None, **parts) -> list[tuple]:
    """The rules for `event` whose conditions hold, with the values they saw; reads only, so a
    submission runs its rules after its write transaction has let the database go."""
    matching = [r for r in rules_for(project) if r.on == event and r.enabled]
    if not matching:
        return []
    detail = any(name in r.when for r in matching for name in DETAIL)   # the costlier figures, only when read
    values = standing.context(project, tasker, detail, **parts)
    env = rule_engine.environment(values, matching)
    return [(rule, values, parts) for rule in matching if rule.matches(env)]


def carry_out_all(decided: list[tuple], project: Project, tasker: TaskerStanding | None) -> list[str]:
    taken = []
    for rule, values, parts in decided:
        if tasker is not None and tasker.status == "removed":
            break
        carry_out(rule, project, tasker, values, parts)
        taken.append(rule.then)
    return taken


def carry_out(rule, project: Project, tasker: TaskerStanding | None, values: dict, parts: dict) -> None:
    now = time.time()
    why = f"rule {rule.name!r}: {rule.when}"
    extra: dict = {}
    if rule.then == "remove":
        standing.set_status(tasker, "removed", why, rule.name, now)
        extra["revoked"] = revoke_leases(project, tasker.tasker_id, now)
        execute("UPDATE response SET flag = 'tasker_removed' WHERE project_id = ? AND tasker_id = ?",
                (project.id, tasker.tasker_id))
    elif rule.then == "pause":
        hours = rule.params.get("hours")
        until = now + float(hours) * 3600 if hours else None
        standing.set_status(tasker, "paused", why, rule.name, now, paused_until=until)
        extra["revoked"] = revoke_leases(project, tasker.tasker_id, now)
    elif rule.then in ("resume", "activate"):
        passed = {"training_passed": True} if rule.then == "activate" else {}
        standing.set_status(tasker, "active", "" if rule.then == "resume" else f"passed training ({rule.name})",
                            rule.name, now, **passed)
    elif rule.then == "require_retraining":
        attempt = tasker.training_attempt + 1
        standing.set_status(tasker, "onboarding", f"retake the training course ({why})", rule.name, now,
                            training_attempt=attempt, training_passed=False)
        tasker.training_attempt = attempt
    elif rule.then == "reject_submission":
        response_id = parts.get("submission", {}).get("response_id")
        if response_id:
            reject_response(response_id, now)
    elif rule.then == "pass_calibration":
        batch_id = parts.get("batch", {}).get("id")
        execute("UPDATE batch SET passed = ? WHERE id = ?", (True, batch_id))
    events.record("rule.fired", project=project.id, rule=rule.name, origin=rule.origin, action=rule.then,
                  when=rule.when, tasker=tasker.tasker_id if tasker else None,
                  values={k: values[k] for k in ("tasker", "batch", "course", "submission") if k in parts or
                          (k == "tasker" and tasker is not None)}, **extra)
    if rule.then == "notify":
        events.record("notify", project=project.id, rule=rule.name,
                      tasker=tasker.tasker_id if tasker else None, message=rule.params.get("message", rule.name))


def revoke_leases(project: Project, tasker_id: int, now: float) -> int:
    """End the tasker's active assignments in the project at once; their tasks go back to the queue."""
    held = execute("SELECT id, task_id FROM assignment WHERE tasker_id = ? AND project_id = ? AND status = 'active'",
                   (tasker_id, project.id)).fetchall()
    for assignment_id, task_id in held:
        assignment.locked_task(task_id)
        assignment.finish(assignment_id, "revoked", now)
        assignment.release_slot(task_id, now)
    return len(held)


def reject_response(response_id: int, now: float) -> None:
    """A rule refused a live answer: kept and marked rejected; its slot opens for another tasker."""
    row = execute("SELECT task_id, rejected FROM response WHERE id = ?", (response_id,)).fetchone()
    if row is None or row[1]:
        return
    task_id = row[0]
    assignment.locked_task(task_id)
    execute("UPDATE response SET rejected = ? WHERE id = ?", (True, response_id))
    execute("UPDATE task SET responses_count = responses_count - 1, open_slots = open_slots + 1, claimable = 1, "
            "status = CASE WHEN status IN ('quality_check', 'ready_for_review') THEN 'queued' ELSE status END, "
            "updated_at = ? WHERE id = ? AND kind = 'live'", (now, task_id))


OWNER_ACTIONS = {"pause": "paused", "resume": "active", "remove": "removed", "retrain": "onboarding"}


def by_owner(project: Project, tasker: TaskerStanding, action: str, actor: int, reason: str = "") -> None:
    """An owner's own decision on a tasker: the same effects as the rule actions, the owner named as cause."""
    from server.errors import Invalid

    if action not in OWNER_ACTIONS:
        raise Invalid(f"action must be one of {', '.join(OWNER_ACTIONS)}", field="action")
    now = time.time()
    why = reason.strip() or f"{action} by the project owner"
    if action == "retrain":
        standing.set_status(tasker, "onboarding", why, "", now, training_attempt=tasker.training_attempt + 1,
                            training_passed=False)
    else:
        standing.set_status(tasker, OWNER_ACTIONS[action], "" if action == "resume" else why, "", now)
    revoked = revoke_leases(project, tasker.tasker_id, now) if action in ("pause", "remove", "retrain") else 0
    if action == "remove":
        execute("UPDATE response SET flag = 'tasker_removed' WHERE project_id = ? AND tasker_id = ?",
                (project.id, tasker.tasker_id))
    events.record(f"tasker.{action}", actor=actor, project=project.id, tasker=tasker.tasker_id, reason=why,
                  revoked=revoked)


def sweep() -> int:
    """The periodic pass: end pauses that have run out, and run every project's `sweep` rules."""
    from server.core import projects
    from server.db import write_transaction

    now, fired = time.time(), 0
    with write_transaction():
        for st in TaskerStanding.select().where(TaskerStanding.status == "paused",
                                                TaskerStanding.paused_until <= now):
            standing.set_status(st, "active", "the pause ran out", "", now)
            events.record("tasker.resume", project=st.project_id, tasker=st.tasker_id, reason="the pause ran out")
    for project_id in [p for (p,) in TaskerStanding.select(TaskerStanding.project).distinct().tuples()]:
        project = projects.get(project_id)
        if not any(r.on == "sweep" and r.enabled for r in rules_for(project)):
            continue
        with write_transaction():
            for st in TaskerStanding.select().where(TaskerStanding.project == project_id,
                                                    TaskerStanding.status != "removed"):
                fired += len(fire("sweep", project, st))
    return fired
