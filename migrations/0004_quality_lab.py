"""Quality lab: calibration audits and scores, quality tasks, tasker standing, evaluation scores, project rules."""
# Generated from server.models by playhouse.migrations, then frozen.
from peewee import *


def up(migrator, db):
    class Batch(Model):
        class Meta:
            database = db
            table_name = 'batch'

    class Project(Model):
        class Meta:
            database = db
            table_name = 'project'

    class Response(Model):
        class Meta:
            database = db
            table_name = 'response'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class Audit(Model):
        batch = ForeignKeyField(Batch, on_delete='CASCADE')
        response = ForeignKeyField(Response, unique=True, on_delete='CASCADE')
        auditor = ForeignKeyField(User, on_delete='CASCADE')
        correct = BooleanField()
        corrected = TextField(null=True)
        comment = TextField(default='')
        created_at = FloatField()
        class Meta:
            database = db
            table_name = 'audit'
    db.create_tables([Audit])

    class EvaluationScore(Model):
        project = ForeignKeyField(Project, on_delete='CASCADE')
        tasker = ForeignKeyField(User, on_delete='CASCADE')
        response = ForeignKeyField(Response, on_delete='CASCADE')
        phase = CharField(max_length=8)
        score = FloatField()
        created_at = FloatField()
        class Meta:
            database = db
            table_name = 'evaluation_score'
            indexes = ((('project', 'tasker', 'id'), False),)
    db.create_tables([EvaluationScore])

    class ProjectRule(Model):
        project = ForeignKeyField(Project, on_delete='CASCADE')
        name = CharField(max_length=200)
        on = CharField(max_length=64)
        when = TextField()
        then = CharField(max_length=32)
        params = TextField(default=dict)
        enabled = BooleanField(default=True)
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'project_rule'
            indexes = ((('project', 'name'), True),)
    db.create_tables([ProjectRule])

    class TaskerStanding(Model):
        project = ForeignKeyField(Project, on_delete='CASCADE')
        tasker = ForeignKeyField(User, on_delete='CASCADE')
        status = CharField(max_length=16, default='active')
        reason = TextField(default='')
        rule = CharField(max_length=200, default='')
        changed_at = FloatField()
        paused_until = FloatField(null=True)
        training_attempt = IntegerField(default=1)
        training_passed = BooleanField(default=False)
        submissions = IntegerField(default=0)
        fast = IntegerField(default=0)
        day = CharField(max_length=10, default='')
        day_count = IntegerField(default=0)
        evaluations = IntegerField(default=0)
        evaluation_sum = FloatField(default=0.0)
        class Meta:
            database = db
            table_name = 'tasker_standing'
            indexes = ((('project', 'tasker'), True),)
    db.create_tables([TaskerStanding])

    migrator.migrate(migrator.drop_index('assignment', 'assignment_task_id_tasker_id'))
    migrator.migrate(migrator.add_column('project', 'evaluation_rate', FloatField(default=0.1)))
    migrator.migrate(migrator.add_column('project', 'calibration_bar', FloatField(default=0.7)))
    migrator.migrate(migrator.add_column('batch', 'status', CharField(max_length=16, default='open')))
    migrator.migrate(migrator.add_column('batch', 'accuracy', FloatField(null=True)))
    migrator.migrate(migrator.add_column('batch', 'brier', FloatField(null=True)))
    migrator.migrate(migrator.add_column('batch', 'score', FloatField(null=True)))
    migrator.migrate(migrator.add_column('batch', 'passed', BooleanField(null=True)))
    migrator.migrate(migrator.add_column('batch', 'audited_at', FloatField(null=True)))
    migrator.migrate(migrator.add_column('task', 'phase', CharField(max_length=8, default='initial')))
    migrator.migrate(migrator.add_column('task', 'explanation', TextField(default='')))
    migrator.migrate(migrator.add_column('task', 'seed', TextField(null=True)))
    migrator.migrate(migrator.add_column('task', 'source_task', IntegerField(null=True)))
    migrator.migrate(migrator.add_column('task', 'made_in_version', IntegerField(default=1)))
    migrator.migrate(migrator.add_column('assignment', 'attempt', IntegerField(default=0)))
    migrator.migrate(migrator.add_column('response', 'confidence', IntegerField(null=True)))
    migrator.migrate(migrator.add_column('response', 'feedback', TextField(default='')))
    migrator.migrate(migrator.add_column('response', 'score', FloatField(null=True)))
    migrator.migrate(migrator.add_column('response', 'flag', CharField(max_length=32, default='')))
    migrator.migrate(migrator.add_index('assignment', ('task_id', 'tasker_id', 'attempt'), unique=True))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('assignment', 'assignment_task_id_tasker_id_attempt'))
    migrator.migrate(migrator.drop_column('response', 'flag'))
    migrator.migrate(migrator.drop_column('response', 'score'))
    migrator.migrate(migrator.drop_column('response', 'feedback'))
    migrator.migrate(migrator.drop_column('response', 'confidence'))
    migrator.migrate(migrator.drop_column('assignment', 'attempt'))
    migrator.migrate(migrator.drop_column('task', 'made_in_version'))
    migrator.migrate(migrator.drop_column('task', 'source_task'))
    migrator.migrate(migrator.drop_column('task', 'seed'))
    migrator.migrate(migrator.drop_column('task', 'explanation'))
    migrator.migrate(migrator.drop_column('task', 'phase'))
    migrator.migrate(migrator.drop_column('batch', 'audited_at'))
    migrator.migrate(migrator.drop_column('batch', 'passed'))
    migrator.migrate(migrator.drop_column('batch', 'score'))
    migrator.migrate(migrator.drop_column('batch', 'brier'))
    migrator.migrate(migrator.drop_column('batch', 'accuracy'))
    migrator.migrate(migrator.drop_column('batch', 'status'))
    migrator.migrate(migrator.drop_column('project', 'calibration_bar'))
    migrator.migrate(migrator.drop_column('project', 'evaluation_rate'))
    migrator.migrate(migrator.add_index('assignment', ('task_id', 'tasker_id'), unique=True))
    migrator.migrate(migrator.drop_table('tasker_standing'))
    migrator.migrate(migrator.drop_table('project_rule'))
    migrator.migrate(migrator.drop_table('evaluation_score'))
    migrator.migrate(migrator.drop_table('audit'))
