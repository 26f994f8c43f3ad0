"""LLM QA: judge runs (prompts kept), per-criterion grades, self-checks, per-project judge settings, rework."""
# Generated from server.models by playhouse.migrations, then frozen.
from peewee import *


def up(migrator, db):
    class Criterion(Model):
        class Meta:
            database = db
            table_name = 'criterion'

    class Project(Model):
        class Meta:
            database = db
            table_name = 'project'

    class Response(Model):
        class Meta:
            database = db
            table_name = 'response'

    class Review(Model):
        class Meta:
            database = db
            table_name = 'review'

    class Task(Model):
        class Meta:
            database = db
            table_name = 'task'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class CriterionGrade(Model):
        review = ForeignKeyField(Review, on_delete='CASCADE')
        response = ForeignKeyField(Response, on_delete='CASCADE')
        criterion = ForeignKeyField(Criterion, null=True, on_delete='SET NULL')
        criterion_name = CharField(max_length=200)
        verdict = CharField(max_length=8)
        reason = TextField(default='')
        created_at = FloatField()
        class Meta:
            database = db
            table_name = 'criterion_grade'
            indexes = ((('response', 'criterion_name'), False),)
    db.create_tables([CriterionGrade])

    class JudgeRun(Model):
        response = ForeignKeyField(Response, null=True, on_delete='CASCADE')
        self_check = IntegerField(null=True)
        judge = CharField(max_length=64)
        judge_version = CharField(max_length=64, default='1')
        project_version = IntegerField(default=1)
        purpose = CharField(max_length=16, default='live')
        prompt = TextField(default='')
        outputs = TextField(default=list)
        error = TextField(default='')
        transient = BooleanField(default=False)
        started_at = FloatField()
        duration_ms = FloatField(default=0.0)
        class Meta:
            database = db
            table_name = 'judge_run'
            indexes = ((('response', 'judge'), False), (('self_check',), False))
    db.create_tables([JudgeRun])

    class SelfCheck(Model):
        project = ForeignKeyField(Project, on_delete='CASCADE')
        task = ForeignKeyField(Task, on_delete='CASCADE')
        owner = ForeignKeyField(User, on_delete='CASCADE')
        version = IntegerField(default=1)
        data = TextField()
        status = CharField(max_length=16, default='judging')
        verdicts = TextField(default=list)
        created_at = FloatField()
        class Meta:
            database = db
            table_name = 'self_check'
    db.create_tables([SelfCheck])

    migrator.migrate(migrator.drop_index('response', 'response_assignment_id'))
    migrator.migrate(migrator.add_column('project', 'judge_settings', TextField(default=dict)))
    migrator.migrate(migrator.add_column('project', 'on_blocking_fail', CharField(max_length=16, default='review')))
    migrator.migrate(migrator.add_column('response', 'reworked', BooleanField(default=False)))
    migrator.migrate(migrator.add_column('judge_verdict', 'run_id', ForeignKeyField(JudgeRun, field=JudgeRun.id, null=True, on_delete='SET NULL')))
    migrator.migrate(migrator.add_column('judge_verdict', 'project_version', IntegerField(default=1)))
    migrator.migrate(migrator.add_column('judge_verdict', 'purpose', CharField(max_length=16, default='live')))
    migrator.migrate(migrator.add_index('response', ('assignment_id',)))
    migrator.migrate(migrator.alter_column_type('judge_verdict', 'judge_version', CharField(max_length=64, default='1')))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('judge_verdict', 'judge_verdict_run_id'))
    migrator.migrate(migrator.drop_index('response', 'response_assignment_id'))
    migrator.migrate(migrator.drop_column('judge_verdict', 'purpose'))
    migrator.migrate(migrator.drop_column('judge_verdict', 'project_version'))
    migrator.migrate(migrator.drop_column('judge_verdict', 'run_id'))
    migrator.migrate(migrator.drop_column('response', 'reworked'))
    migrator.migrate(migrator.drop_column('project', 'on_blocking_fail'))
    migrator.migrate(migrator.drop_column('project', 'judge_settings'))
    migrator.migrate(migrator.add_index('response', ('assignment_id',), unique=True))
    migrator.migrate(migrator.drop_table('self_check'))
    migrator.migrate(migrator.drop_table('judge_run'))
    migrator.migrate(migrator.drop_table('criterion_grade'))
