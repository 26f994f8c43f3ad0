"""The peewee models: every table Quorum keeps, and the indexes its hot paths use.

Times are UTC epoch seconds (floats): cheap to compare in an index on both backends.
JSON columns hold msgspec-encoded text. The schema these models describe is what
`migrations/` must produce; tests/test_migrations.py checks the two agree.

A foreign key whose column leads another index of its table gets no index of its own
(`index=False`): the wider index serves its lookups, and every index is one more page
each write of the row touches (migrations/0005_covered_indexes.py).
"""

from __future__ import annotations

import time

import msgspec
import peewee as pw

from server.db import database

ROLES = ("owner", "reviewer", "tasker")
TASK_KINDS = ("live", "training", "evaluation")
TASK_STATUSES = ("unbatched", "queued", "in_progress", "quality_check", "ready_for_review", "completed")
BATCH_KINDS = ("calibration", "production")
ASSIGNMENT_STATUSES = ("active", "submitted", "skipped", "expired", "revoked")
DECISIONS = ("accept", "reject", "fix")

_encode = msgspec.json.encode
_decode = msgspec.json.decode


def now() -> float:
    return time.time()


class JSONField(pw.TextField):
    """JSON stored as text, encoded by msgspec (portable across SQLite and PostgreSQL)."""

    def db_value(self, value):
        return None if value is None else _encode(value).decode()

    def python_value(self, value):
        return None if value is None else _decode(value)


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


class User(BaseModel):
    username = pw.CharField(max_length=150, unique=True)
    password_hash = pw.CharField(max_length=255)
    is_active = pw.BooleanField(default=True)
    created_at = pw.FloatField(default=now)


class ApiToken(BaseModel):
    """A bearer token; only its SHA-256 is stored."""

    user = pw.ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    token_hash = pw.CharField(max_length=64, unique=True)
    created_at = pw.FloatField(default=now)
    expires_at = pw.FloatField()


class Space(BaseModel):
    name = pw.CharField(max_length=200, unique=True)
    created_at = pw.FloatField(default=now)


class Membership(BaseModel):
    space = pw.ForeignKeyField(Space, backref="memberships", on_delete="CASCADE", index=False)
    user = pw.ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    role = pw.CharField(max_length=16)

    class Meta:
        indexes = ((("space", "user"), True),)


class Project(BaseModel):
    space = pw.ForeignKeyField(Space, backref="projects", on_delete="CASCADE")
    name = pw.CharField(max_length=200)
    description = pw.TextField(default="")
    task_type = pw.CharField(max_length=64)
    options = JSONField(default=dict)          # the task type's own settings (classes, …)
    guidelines = pw.TextField(default="")
    overlap = pw.IntegerField(default=1)
    lease_seconds = pw.FloatField(default=1800.0)
    price_cents = pw.IntegerField(default=0)
    require_calibration = pw.BooleanField(default=True)
    id_field = pw.CharField(max_length=200, default="")
    input_map = JSONField(default=dict)        # input entity name -> dataset field
    judges = JSONField(default=list)           # judge names run on every submission
    judge_settings = JSONField(default=dict)   # judge name -> that judge's settings for this project
    on_blocking_fail = pw.CharField(max_length=16, default="review")   # review | rework
    evaluation_rate = pw.FloatField(default=0.1)   # share of claims that serve an evaluation task
    calibration_bar = pw.FloatField(default=0.7)   # calibration score a round needs to pass the gate
    version = pw.IntegerField(default=1)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.FloatField(default=now)


class ProjectVersion(BaseModel):
    """A frozen snapshot of a project's instructions, structure and criteria."""

    project = pw.ForeignKeyField(Project, backref="versions", on_delete="CASCADE", index=False)
    number = pw.IntegerField()
    snapshot = JSONField()
    created_at = pw.FloatField(default=now)

    class Meta:
        indexes = ((("project", "number"), True),)


class Entity(BaseModel):
    """One entity of a project's datapoint structure: an input taskers see or an output they produce."""

    project = pw.ForeignKeyField(Project, backref="entities", on_delete="CASCADE", index=False)
    direction = pw.CharField(max_length=8)     # input | output
    name = pw.CharField(max_length=100)
    type = pw.CharField(max_length=32)         # IMAGE, TEXT, URL, NUMBER | single_choice, text, …
    position = pw.IntegerField(default=0)
    settings = JSONField(default=dict)

    class Meta:
        indexes = ((("project", "direction", "name"), True),)


class Batch(BaseModel):
    """Tasks sent out together. A calibration batch is audited by the owner and scored (see core/calibration)."""

    project = pw.ForeignKeyField(Project, backref="batches", on_delete="CASCADE")
    kind = pw.CharField(max_length=16)
    name = pw.CharField(max_length=200, default="")
    priority = pw.IntegerField(default=0)
    size = pw.IntegerField(default=0)
    status = pw.CharField(max_length=16, default="open")     # open | audited
    accuracy = pw.FloatField(null=True)
    brier = pw.FloatField(null=True)
    score = pw.FloatField(null=True)
    passed = pw.BooleanField(null=True)
    audited_at = pw.FloatField(null=True)
    created_at = pw.FloatField(default=now)


class Task(BaseModel):
    """An item to label. `open_slots` is overlap minus active leases minus responses;
    `claimable` mirrors open_slots > 0 so the claim is one equality lookup on an index
    ordered like the queue: batch priority (`queue_rank`, lower first), then age."""

    project = pw.ForeignKeyField(Project, backref="tasks", on_delete="CASCADE", index=False)
    batch = pw.ForeignKeyField(Batch, null=True, backref="tasks", on_delete="SET NULL")
    kind = pw.CharField(max_length=16, default="live")
    ext_id = pw.CharField(max_length=255)
    data = JSONField()
    status = pw.CharField(max_length=20, default="unbatched")
    open_slots = pw.IntegerField(default=0)
    claimable = pw.IntegerField(default=0)
    queue_rank = pw.IntegerField(default=0)
    responses_count = pw.IntegerField(default=0)
    expected = JSONField(null=True)            # gold answer of a quality task; never shown to taskers
    phase = pw.CharField(max_length=8, default="initial")   # quality tasks: initial | review
    explanation = pw.TextField(default="")     # training tasks: the owner's why, shown after answering
    seed = JSONField(null=True)                # review-phase quality tasks: the answer to correct
    source_task = pw.IntegerField(null=True)   # the audited task a quality task was made from
    made_in_version = pw.IntegerField(default=1)
    created_at = pw.FloatField(default=now)
    updated_at = pw.FloatField(default=now)

    class Meta:
        indexes = (
            (("project", "ext_id"), True),
            (("project", "kind", "claimable", "queue_rank", "id"), False),
            (("project", "status", "id"), False),
        )


class Assignment(BaseModel):
    task = pw.ForeignKeyField(Task, backref="assignments", on_delete="CASCADE", index=False)
    tasker = pw.ForeignKeyField(User, backref="assignments", on_delete="CASCADE", index=False)
    project = pw.ForeignKeyField(Project, on_delete="CASCADE")
    status = pw.CharField(max_length=16, default="active")
    attempt = pw.IntegerField(default=0)       # training course attempt; 0 for everything else
    claimed_at = pw.FloatField(default=now)
    expires_at = pw.FloatField()
    finished_at = pw.FloatField(null=True)

    class Meta:
        indexes = (
            (("task", "tasker", "attempt"), True),
            (("status", "expires_at"), False),
            (("tasker", "project", "status"), False),
        )


class Response(BaseModel):
    """A tasker's answer. An assignment sent back for rework holds several; all but the last are `reworked`."""

    assignment = pw.ForeignKeyField(Assignment, on_delete="CASCADE")
    task = pw.ForeignKeyField(Task, backref="responses", on_delete="CASCADE")
    tasker = pw.ForeignKeyField(User, on_delete="CASCADE")
    project = pw.ForeignKeyField(Project, on_delete="CASCADE", index=False)
    version = pw.IntegerField(default=1)
    data = JSONField()
    duration_seconds = pw.FloatField(default=0.0)
    judged = pw.CharField(max_length=16, default="pending")   # pending | passed | failed | not_judged
    rejected = pw.BooleanField(default=False)  # set when a review sends the task back; kept, not deleted
    reworked = pw.BooleanField(default=False)  # set when a blocking judge fail sent it back to its tasker
    confidence = pw.IntegerField(null=True)    # 0-100, asked on calibration tasks
    feedback = pw.TextField(default="")        # the tasker's note on the instructions (calibration)
    score = pw.FloatField(null=True)           # against the expected answer (training, evaluation)
    flag = pw.CharField(max_length=32, default="")   # e.g. tasker_removed: kept, marked
    created_at = pw.FloatField(default=now)

    class Meta:
        indexes = ((("project", "task", "id"), False),)


class Review(BaseModel):
    task = pw.ForeignKeyField(Task, backref="reviews", on_delete="CASCADE", index=False)
    reviewer = pw.ForeignKeyField(User, on_delete="CASCADE")
    decision = pw.CharField(max_length=8)
    comment = pw.TextField(default="")
    fixed = JSONField(null=True)               # the corrected response of a `fix`
    created_at = pw.FloatField(default=now)

    class Meta:
        indexes = ((("task", "id"), False),)


class Criterion(BaseModel):
    """A pass/fail quality requirement on output entities, checked by judges."""

    project = pw.ForeignKeyField(Project, backref="criteria", on_delete="CASCADE", index=False)
    name = pw.CharField(max_length=200)
    entities = JSONField(default=list)
    rule = pw.TextField(default="")            # in plain words, for model judges
    checks = JSONField(default=dict)           # static checks: required, min_words, max_words, …
    severity = pw.CharField(max_length=16, default="blocking")
    position = pw.IntegerField(default=0)

    class Meta:
        indexes = ((("project", "position"), False),)


class JudgeRun(BaseModel):
    """One judge's call on one answer: the exact prompt a model was sent, its raw outputs, or the error."""

    response = pw.ForeignKeyField(Response, null=True, backref="judge_runs", on_delete="CASCADE", index=False)
    self_check = pw.IntegerField(null=True)    # a self-check answer instead of a response
    judge = pw.CharField(max_length=64)
    judge_version = pw.CharField(max_length=64, default="1")
    project_version = pw.IntegerField(default=1)
    purpose = pw.CharField(max_length=16, default="live")   # live | rejudge | self_check
    prompt = pw.TextField(default="")
    outputs = JSONField(default=list)
    error = pw.TextField(default="")
    transient = pw.BooleanField(default=False)
    started_at = pw.FloatField(default=now)
    duration_ms = pw.FloatField(default=0.0)

    class Meta:
        indexes = ((("response", "judge"), False), (("self_check",), False))


class JudgeVerdict(BaseModel):
    response = pw.ForeignKeyField(Response, backref="verdicts", on_delete="CASCADE")
    run = pw.ForeignKeyField(JudgeRun, null=True, on_delete="SET NULL")
    project_version = pw.IntegerField(default=1)
    purpose = pw.CharField(max_length=16, default="live")   # live | rejudge
    criterion = pw.ForeignKeyField(Criterion, null=True, on_delete="SET NULL")
    criterion_name = pw.CharField(max_length=200)
    judge = pw.CharField(max_length=64)
    judge_version = pw.CharField(max_length=64, default="1")
    verdict = pw.CharField(max_length=8)       # pass | fail | error
    comment = pw.TextField(default="")
    confidence = pw.FloatField(null=True)
    created_at = pw.FloatField(default=now)


class CriterionGrade(BaseModel):
    """An owner's or reviewer's pass/fail on one criterion of one response, with the reason."""

    review = pw.ForeignKeyField(Review, backref="grades", on_delete="CASCADE")
    response = pw.ForeignKeyField(Response, backref="grades", on_delete="CASCADE", index=False)
    criterion = pw.ForeignKeyField(Criterion, null=True, on_delete="SET NULL")
    criterion_name = pw.CharField(max_length=200)
    verdict = pw.CharField(max_length=8)       # pass | fail
    reason = pw.TextField(default="")
    created_at = pw.FloatField(default=now)

    class Meta:
        indexes = ((("response", "criterion_name"), False),)


class SelfCheck(BaseModel):
    """The owner's own answer to a sample task: judged like any response, counted nowhere."""

    project = pw.ForeignKeyField(Project, backref="self_checks", on_delete="CASCADE")
    task = pw.ForeignKeyField(Task, on_delete="CASCADE")
    owner = pw.ForeignKeyField(User, on_delete="CASCADE")
    version = pw.IntegerField(default=1)
    data = JSONField()
    status = pw.CharField(max_length=16, default="judging")   # judging | done
    verdicts = JSONField(default=list)
    created_at = pw.FloatField(default=now)


class TaskerStanding(BaseModel):
    """A tasker's place in one project: status, why, and the counts the rules read."""

    project = pw.ForeignKeyField(Project, on_delete="CASCADE", index=False)
    tasker = pw.ForeignKeyField(User, on_delete="CASCADE")
    status = pw.CharField(max_length=16, default="active")   # onboarding | active | paused | removed
    reason = pw.TextField(default="")
    rule = pw.CharField(max_length=200, default="")
    changed_at = pw.FloatField(default=now)
    paused_until = pw.FloatField(null=True)
    training_attempt = pw.IntegerField(default=1)
    training_passed = pw.BooleanField(default=False)
    submissions = pw.IntegerField(default=0)
    fast = pw.IntegerField(default=0)          # submissions far below the project's median time
    day = pw.CharField(max_length=10, default="")
    day_count = pw.IntegerField(default=0)
    evaluations = pw.IntegerField(default=0)
    evaluation_sum = pw.FloatField(default=0.0)

    class Meta:
        indexes = ((("project", "tasker"), True),)


class EvaluationScore(BaseModel):
    """One scored evaluation (gold) answer: the source of rolling and per-phase accuracy."""

    project = pw.ForeignKeyField(Project, on_delete="CASCADE", index=False)
    tasker = pw.ForeignKeyField(User, on_delete="CASCADE")
    response = pw.ForeignKeyField(Response, on_delete="CASCADE")
    phase = pw.CharField(max_length=8)
    score = pw.FloatField()
    created_at = pw.FloatField(default=now)

    class Meta:
        indexes = ((("project", "tasker", "id"), False),)


class Audit(BaseModel):
    """The owner's grade of one calibration answer: correct or not, the corrected answer, a comment."""

    batch = pw.ForeignKeyField(Batch, backref="audits", on_delete="CASCADE")
    response = pw.ForeignKeyField(Response, unique=True, on_delete="CASCADE")
    auditor = pw.ForeignKeyField(User, on_delete="CASCADE")
    correct = pw.BooleanField()
    corrected = JSONField(null=True)
    comment = pw.TextField(default="")
    created_at = pw.FloatField(default=now)


class ProjectRule(BaseModel):
    """An owner's rule for one project: overrides the default rule of the same name, or adds one."""

    project = pw.ForeignKeyField(Project, backref="rules", on_delete="CASCADE", index=False)
    name = pw.CharField(max_length=200)
    on = pw.CharField(max_length=64)
    when = pw.TextField()
    then = pw.CharField(max_length=32)
    params = JSONField(default=dict)
    enabled = pw.BooleanField(default=True)
    position = pw.IntegerField(default=0)

    class Meta:
        indexes = ((("project", "name"), True),)


class Event(BaseModel):
    """The append-only audit trail: every decision and change."""

    at = pw.FloatField(default=now)
    kind = pw.CharField(max_length=64)
    actor = pw.IntegerField(null=True)
    project = pw.IntegerField(null=True)
    task = pw.IntegerField(null=True)
    data = JSONField(default=dict)

    class Meta:
        indexes = ((("project", "id"), False),)


MODELS = (
    User, ApiToken, Space, Membership, Project, ProjectVersion, Entity, Batch,
    Task, Assignment, Response, Review, Criterion, JudgeRun, JudgeVerdict, CriterionGrade, SelfCheck,
    TaskerStanding, EvaluationScore, Audit, ProjectRule, Event,
)
