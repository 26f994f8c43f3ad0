"""Re-judging: run a project version's judges on every answer an owner graded, to compare versions.

Learning from review: a new version carries the owner-graded disagreements as examples
for model judges. Re-judging the same graded answers under the new version (verdicts
stored with purpose "rejudge" and that version's number) lets the agreement table show
judge–owner agreement before and after on the same items.
"""

from __future__ import annotations

import dataclasses

from msgspec.json import decode

from server.core import events, judging, projects, queue, versions
from server.db import execute, write_transaction
from server.models import JudgeVerdict, Project


def graded_responses(project: Project) -> list[int]:
    return [r for (r,) in execute(
        "SELECT DISTINCT g.response_id FROM criterion_grade g JOIN response r ON r.id = g.response_id "
        "WHERE r.project_id = ? ORDER BY g.response_id", (project.id,)).fetchall()]


def schedule(project: Project, number: int, actor: int | None) -> int:
    """Queue a re-judge of the graded answers under version `number`; returns how many answers."""
    versions.criteria_of(project, number)   # refuses an unknown version now, not in the queue
    count = len(graded_responses(project))
    with write_transaction():
        events.record("project.rejudge_requested", actor=actor, project=project.id, version=number, answers=count)
        queue.later("rejudge", run, project.id, number)
    return count


def run(project_id: int, number: int) -> int:
    """Re-judge every graded answer with version `number`'s criteria and examples (replacing an earlier run)."""
    project = projects.get(project_id)
    criteria, examples = versions.criteria_of(project, number)
    cheap, slow = judging.project_judges(project)
    done = 0
    for response_id in graded_responses(project):
        row = execute("SELECT r.data, t.id, t.ext_id, t.data FROM response r JOIN task t ON t.id = r.task_id "
                      "WHERE r.id = ?", (response_id,)).fetchone()
        request = judging.request_for(project, row[1], row[2], decode(row[3]), decode(row[0]))
        request = dataclasses.replace(request, criteria=criteria, examples=examples)
        outcomes = judging.run(cheap + slow, request, project.judge_settings)
        with write_transaction():
            JudgeVerdict.delete().where(JudgeVerdict.response == response_id, JudgeVerdict.purpose == "rejudge",
                                        JudgeVerdict.project_version == number).execute()
            judging.store(response_id, project, outcomes, purpose="rejudge", project_version=number)
        done += 1
    return done
