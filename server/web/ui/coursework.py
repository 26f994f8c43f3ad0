"""The quality lab on the tasker's labeling page: what a calibration or training task adds to the form, and what
a tasker sees after a training answer (the expected answer, the owner's explanation, the score, the course result).

A calibration task asks for a confidence (0–100) and offers a note on the instructions; a training
task says where the tasker is in the course and, in the review phase, fills in the answer to correct.
Live and evaluation tasks get exactly the same additions, which is none: nothing here may tell a
tasker that a task is an evaluation one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peewee import JOIN

from server.core import projects, standing, submissions
from server.errors import Invalid
from server.models import Batch, Project, Response, Task
from server.web.ui.render import fragment, guidelines_html


@dataclass(frozen=True)
class Look:
    """What the task form shows beyond the task type's fields."""

    asks_confidence: bool = False       # a calibration task
    training: dict | None = None        # {"number", "total", "review"}: a training task
    seed: dict | None = None            # a review-phase training task: the answer to correct

    def context(self) -> dict:
        return {"asks_confidence": self.asks_confidence, "training": self.training}


WORK = Look()     # live and evaluation tasks alike


def look(project: Project, tasker_id: int, task_id: int) -> Look:
    kind, phase, seed, batch_kind = (Task.select(Task.kind, Task.phase, Task.seed, Batch.kind)
                                     .join(Batch, JOIN.LEFT_OUTER, on=(Task.batch == Batch.id))
                                     .where(Task.id == task_id).tuples().get())
    if kind == "training":
        course = submissions.course_progress(project, tasker_id)
        review = phase == "review" and seed is not None
        return Look(training={"number": min(course["done"] + 1, course["total"]), "total": course["total"],
                              "review": review}, seed=seed if review else None)
    if batch_kind == "calibration":
        return Look(asks_confidence=True)
    return WORK


def asked(look: Look, form: dict[str, Any]) -> tuple[int | None, str]:
    """(confidence, note on the instructions) from a posted calibration answer; nothing for other tasks."""
    if not look.asks_confidence:
        return None, ""
    raw = _one(form, "confidence").strip()
    if not raw:
        return None, _one(form, "feedback")
    try:
        return int(float(raw)), _one(form, "feedback")
    except ValueError:
        raise Invalid(f"must be a number from 0 to 100, got {raw!r}", field="confidence") from None


def kept(look: Look, form: dict[str, Any]) -> dict:
    """A refused calibration answer's confidence and note, as posted, to put back in the form."""
    return {"confidence": _one(form, "confidence"), "feedback": _one(form, "feedback")} if look.asks_confidence else {}


def after_training(project: Project, tasker_id: int, response_id: int, training: dict):
    """The answer just given beside the expected one, the owner's explanation and the score; then the next
    training task, or the course's result when it was the last one."""
    given = Response.select(Response.data).where(Response.id == response_id).scalar() or {}
    expected = training.get("expected") or {}
    rows = []
    for entity in projects.runtime(project).outputs:
        mine, right = given.get(entity.name), expected.get(entity.name)
        if _blank(mine) and _blank(right):
            continue
        rows.append({"label": entity.label or entity.name, "given": _shown(mine), "expected": _shown(right),
                     "same": mine == right})
    result = training.get("result")
    st = standing.get(project, tasker_id)
    outcome = None
    if result is not None:
        outcome = ("passed" if "activate" in result else "removed" if st.status == "removed"
                   else "retake" if "require_retraining" in result else "finished")
    return fragment("partials/training_feedback.html", project_id=project.id, rows=rows,
                    score=training.get("score", 0.0), done=training.get("done"), total=training.get("total"),
                    accuracy=training.get("accuracy"), explanation=guidelines_html(training.get("explanation", "")),
                    outcome=outcome, attempt=st.training_attempt, status=st.status)


def _one(form: dict[str, Any], key: str) -> str:
    value = form.get(key, "")
    return str(value[-1] if isinstance(value, list) else value)


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def _shown(value: Any) -> str:
    if _blank(value):
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
