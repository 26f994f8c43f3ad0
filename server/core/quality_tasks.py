"""Quality tasks: training and evaluation (gold) tasks made from audited work, and the lab's health check.

A quality task copies an audited task's inputs and carries the expected answer: the
owner's corrected answer from a calibration audit or a review fix, else the answer the
owner accepted. Review-phase tasks also carry a seeded answer (another tasker's, with
the errors the owner chose) that the tasker must correct. The lab summary counts them
by kind, phase and class and says plainly where the set falls short of what the hosted
products recommend.
"""

from __future__ import annotations

import time

import msgspec

from server.core import events, projects
from server.core.submissions import validate
from server.db import write_transaction
from server.errors import Conflict, Invalid, NotFound
from server.models import Audit, EvaluationScore, Project, Response, Review, Task

KINDS = ("training", "evaluation")
PHASES = ("initial", "review")
MIN_TRAINING, MIN_EVALUATION = 5, 30
REFRESH_DAYS = 7
TOO_EASY, TOO_HARD, MIN_SCORED = 0.97, 0.5, 20


class QualityTaskIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: str
    phase: str = "initial"
    expected: dict | None = None     # default: the owner's audited answer
    explanation: str = ""            # shown to a tasker after a training task
    seed: dict | None = None         # review phase: the answer, with chosen errors, the tasker must correct


class QualityTaskOut(msgspec.Struct, kw_only=True):
    id: int
    source_task_id: int
    kind: str
    phase: str
    expected: dict
    explanation: str
    seed: dict | None
    made_in_version: int


class Recommendation(msgspec.Struct, kw_only=True):
    level: str       # warning | info
    message: str


class LabSummary(msgspec.Struct, kw_only=True):
    counts: dict[str, dict[str, int]]          # kind -> phase -> count
    classes: dict[str, dict[str, int]]         # kind -> class -> count
    outdated: int                              # made under an older project version
    evaluation_accuracy: float | None          # mean score of answers to evaluation tasks
    evaluation_scored: int
    recommendations: list[Recommendation]


def audited_answer(task: Task) -> dict | None:
    """The answer the owner stands behind: a correction, a fix, or an accepted/correct answer."""
    audit = (Audit.select(Audit, Response).join(Response).where(Response.task == task.id)
             .order_by(Audit.id.desc()).first())
    if audit is not None:
        return audit.corrected if not audit.correct else audit.response.data
    review = Review.select().where(Review.task == task.id).order_by(Review.id.desc()).first()
    if review is None or review.decision == "reject":
        return None
    if review.decision == "fix":
        return review.fixed
    kept = [r.data for r in Response.select(Response.data).where(Response.task == task.id, Response.rejected == False,  # noqa: E712
                                                                  Response.reworked == False)]  # noqa: E712
    rt = projects.runtime(projects.get(task.project_id))
    aggregate = rt.task_type.aggregate(rt.options, kept) if kept else None
    if not aggregate:
        return None
    answer_fields = {o.name for o in rt.outputs}    # an aggregate may carry more (votes, agreement): not an answer
    return {k: v for k, v in aggregate.items() if k in answer_fields}


def make(source_id: int, request: QualityTaskIn, actor: int | None) -> Task:
    source = Task.get_or_none(Task.id == source_id)
    if source is None:
        raise NotFound(f"task {source_id} not found")
    if source.kind != "live":
        raise Invalid("quality tasks are made from live tasks", field="task_id")
    project = projects.get(source.project_id)
    if request.kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if request.phase not in PHASES:
        raise Invalid(f"phase must be one of {', '.join(PHASES)}", field="phase")
    expected = request.expected
    if expected is None:
        expected = audited_answer(source)
        if expected is None:
            raise Conflict(f"task {source_id} has not been audited or reviewed; give the expected answer",
                           field="expected")
    expected = validate(project, source.id, source.ext_id, source.data, expected)
    seed = None
    if request.phase == "review":
        if request.seed is None:
            raise Invalid("a review-phase task needs the answer the tasker will correct", field="seed")
        seed = validate(project, source.id, source.ext_id, source.data, request.seed)
        if seed == expected:
            raise Invalid("the seeded answer has no error to correct", field="seed")
    ext_id = f"{source.ext_id}#{request.kind}-{request.phase}"
    with write_transaction():
        if Task.select().where(Task.project == project.id, Task.ext_id == ext_id).exists():
            raise Conflict(f"task {source_id} already has a {request.phase}-phase {request.kind} task", field="kind")
        now = time.time()
        task = Task.create(project=project.id, kind=request.kind, ext_id=ext_id, data=source.data, status="queued",
                           open_slots=0, claimable=0, expected=expected, phase=request.phase,
                           explanation=request.explanation.strip(), seed=seed, source_task=source.id,
                           made_in_version=project.version, created_at=now, updated_at=now)
        events.record("quality_task.created", actor=actor, project=project.id, task=task.id, kind=request.kind,
                      phase=request.phase, source=source.id)
    return task


def out(task: Task) -> QualityTaskOut:
    return QualityTaskOut(id=task.id, source_task_id=task.source_task, kind=task.kind, phase=task.phase,
                          expected=task.expected, explanation=task.explanation, seed=task.seed,
                          made_in_version=task.made_in_version)


def class_of(project: Project, answer: dict | None) -> str:
    """The value of the type's first single-choice output: the class a quality task teaches or tests."""
    for output in projects.runtime(project).outputs:
        if output.type == "single_choice" and answer:
            return str(answer.get(output.name))
    return "all"


def lab(project: Project) -> LabSummary:
    tasks = list(Task.select().where(Task.project == project.id, Task.kind.in_(KINDS)))
    counts = {kind: {phase: 0 for phase in PHASES} for kind in KINDS}
    classes: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    for t in tasks:
        counts[t.kind][t.phase] += 1
        name = class_of(project, t.expected)
        classes[t.kind][name] = classes[t.kind].get(name, 0) + 1
    scores = [s for (s,) in EvaluationScore.select(EvaluationScore.score)
              .where(EvaluationScore.project == project.id).tuples()]
    accuracy = round(sum(scores) / len(scores), 4) if scores else None
    outdated = sum(t.made_in_version < project.version for t in tasks)
    newest_evaluation = max((t.created_at for t in tasks if t.kind == "evaluation"), default=None)
    return LabSummary(counts=counts, classes=classes, outdated=outdated, evaluation_accuracy=accuracy,
                      evaluation_scored=len(scores),
                      recommendations=_recommend(counts, classes, outdated, accuracy, len(scores), newest_evaluation,
                                                 project))


def _recommend(counts, classes, outdated, accuracy, scored, newest_evaluation, project) -> list[Recommendation]:
    found = []
    training, evaluation = sum(counts["training"].values()), sum(counts["evaluation"].values())
    if training < MIN_TRAINING:
        found.append(Recommendation(level="warning", message=f"{training} training tasks: make at least "
                                    f"{MIN_TRAINING} before production so new taskers have a course"))
    if evaluation < MIN_EVALUATION:
        found.append(Recommendation(level="warning", message=f"{evaluation} evaluation tasks: at least "
                                    f"{MIN_EVALUATION} are needed before production to measure taskers"))
    for kind in KINDS:
        seen = classes[kind]
        if len(seen) > 1 and max(seen.values()) > 2 * min(seen.values()):
            found.append(Recommendation(level="warning", message=f"{kind} tasks are unbalanced across classes "
                                        f"({', '.join(f'{k}: {v}' for k, v in sorted(seen.items()))})"))
    if newest_evaluation and time.time() - newest_evaluation > REFRESH_DAYS * 86400:
        found.append(Recommendation(level="warning", message=f"no evaluation task added in {REFRESH_DAYS} days: "
                                    "refresh them weekly so taskers cannot learn them"))
    if outdated:
        found.append(Recommendation(level="warning", message=f"{outdated} quality tasks were made under an older "
                                    f"version of the instructions (now version {project.version}): replace them"))
    if accuracy is not None and scored >= MIN_SCORED and accuracy > TOO_EASY:
        found.append(Recommendation(level="warning", message=f"evaluation accuracy is {accuracy:.0%} over {scored} "
                                    "answers: the set may be too easy to tell taskers apart"))
    if accuracy is not None and scored >= MIN_SCORED and accuracy < TOO_HARD:
        found.append(Recommendation(level="warning", message=f"evaluation accuracy is {accuracy:.0%} over {scored} "
                                    "answers: check the expected answers, some may be wrong"))
    if not found:
        found.append(Recommendation(level="info", message="the quality set meets the recommendations"))
    return found


def shown_seed(task_id: int) -> dict | None:
    """The answer a tasker is asked to correct: review-phase training tasks only. An evaluation task
    never shows its seed, because no live task carries one yet and it would give the task away, so a
    review-phase evaluation task is answered from scratch (scored against the expected answer)."""
    from server.db import execute

    row = execute("SELECT kind, phase, seed FROM task WHERE id = ?", (task_id,)).fetchone()
    if row is None or row[0] != "training" or row[1] != "review" or row[2] is None:
        return None
    return msgspec.json.decode(row[2])
