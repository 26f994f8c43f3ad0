"""The first schema: users, spaces, projects, tasks, assignments, responses, reviews, criteria, verdicts, events."""
# Generated from server.models by playhouse.migrations, then frozen: later changes are new files.
from peewee import *


def up(migrator, db):
    class User(Model):
        username = CharField(unique=True, max_length=150)
        password_hash = CharField()
        is_active = BooleanField(default=True)
        created_at = FloatField()
        class Meta:
            database = db
            table_name = 'user'
    db.create_tables([User])

    class ApiToken(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        token_hash = CharField(unique=True, max_length=64)
        created_at = FloatField()
        expires_at = FloatField()
        class Meta:
            database = db
            table_name = 'api_token'
    db.create_tables([ApiToken])

    class Space(Model):
        name = CharField(unique=True, max_length=200)
        created_at = FloatField()
        class Meta:
            database = db
            table_name = 'space'
    db.create_tables([Space])

    class Project(Model):
        space = ForeignKeyField(Space, on_delete='CASCADE')
        name = CharField(max_length=200)
        description = TextField(default='')
        task_type = CharField(max_length=64)
        options = TextField(default=dict)
        guidelines = TextField(default='')
        overlap = IntegerField(default=1)
        lease_seconds = FloatField(default=1800.0)
        price_cents = IntegerField(default=0)
        require_calibration = BooleanField(default=False)
        id_field = CharField(max_length=200, default='')
        input_map = TextField(default=dict)
        judges = TextField(default=list)
        version = IntegerField(default=1)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = FloatField()
        class Meta:
            database = db
            table_name = 'project'
    db.create_tables([Project])

    class Batch(Model):
        project = ForeignKeyField(Project, on_delete='CASCADE')
        kind = CharField(max_length=16)
        name = CharField(max_length=200, default='')
        priority = IntegerField(default=0)
        size = IntegerField(default=0)
        created_at = FloatField()
        class Meta:
            database = db
            table_name = 'batch'
    db.create_tables([Batch])

    class Task(Model):
        project = ForeignKeyField(Project, on_delete='CASCADE')
        batch = ForeignKeyField(Batch, null=True, on_delete='SET NULL')
        kind = CharField(max_length=16, default='live')
        ext_id = CharField()
        data = TextField()
        status = CharField(max_length=20, default='unbatched')
        open_slots = IntegerField(default=0)
        claimable = IntegerField(default=0)
        queue_rank = IntegerField(default=0)
        responses_count = IntegerField(default=0)
        expected = TextField(null=True)
        created_at = FloatField()
        updated_at = FloatField()
        class Meta:
            database = db
            table_name = 'task'
            indexes = ((('project', 'ext_id'), True), (('project', 'kind', 'claimable', 'queue_rank', 'id'), False), (('project', 'status', 'id'), False))
    db.create_tables([Task])

    class Assignment(Model):
        task = ForeignKeyField(Task, on_delete='CASCADE')
        tasker = ForeignKeyField(User, on_delete='CASCADE')
        project = ForeignKeyField(Project, on_delete='CASCADE')
        status = CharField(max_length=16, default='active')
        claimed_at = FloatField()
        expires_at = FloatField()
        finished_at = FloatField(null=True)
        class Meta:
            database = db
            table_name = 'assignment'
            indexes = ((('task', 'tasker'), True), (('status', 'expires_at'), False), (('tasker', 'project', 'status'), False))
    db.create_tables([Assignment])

    class Criterion(Model):
        project = ForeignKeyField(Project, on_delete='CASCADE')
        name = CharField(max_length=200)
        entities = TextField(default=list)
        rule = TextField(default='')
        checks = TextField(default=dict)
        severity = CharField(max_length=16, default='blocking')
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'criterion'
            indexes = ((('project', 'position'), False),)
    db.create_tables([Criterion])

    class Entity(Model):
        project = ForeignKeyField(Project, on_delete='CASCADE')
        direction = CharField(max_length=8)
        name = CharField(max_length=100)
        type = CharField(max_length=32)
        position = IntegerField(default=0)
        settings = TextField(default=dict)
        class Meta:
            database = db
            table_name = 'entity'
            indexes = ((('project', 'direction', 'name'), True),)
    db.create_tables([Entity])

    class Event(Model):
        at = FloatField()
        kind = CharField(max_length=64)
        actor = IntegerField(null=True)
        project = IntegerField(null=True)
        task = IntegerField(null=True)
        data = TextField(default=dict)
        class Meta:
            database = db
            table_name = 'event'
            indexes = ((('project', 'id'), False),)
    db.create_tables([Event])

    class Response(Model):
        assignment = ForeignKeyField(Assignment, unique=True, on_delete='CASCADE')
        task = ForeignKeyField(Task, on_delete='CASCADE')
        tasker = ForeignKeyField(User, on_delete='CASCADE')
        project = ForeignKeyField(Project, on_delete='CASCADE')
        version = IntegerField(default=1)
        data = TextField()
        duration_seconds = FloatField(default=0.0)
        judged = CharField(max_length=16, default='pending')
        rejected = BooleanField(default=False)
        created_at = FloatField()
        class Meta:
            database = db
            table_name = 'response'
            indexes = ((('project', 'task', 'id'), False),)
    db.create_tables([Response])

    class JudgeVerdict(Model):
        response = ForeignKeyField(Response, on_delete='CASCADE')
        criterion = ForeignKeyField(Criterion, null=True, on_delete='SET NULL')
        criterion_name = CharField(max_length=200)
        judge = CharField(max_length=64)
        judge_version = CharField(max_length=32, default='1')
        verdict = CharField(max_length=8)
        comment = TextField(default='')
        confidence = FloatField(null=True)
        created_at = FloatField()
        class Meta:
            database = db
            table_name = 'judge_verdict'
    db.create_tables([JudgeVerdict])

    class Membership(Model):
        space = ForeignKeyField(Space, on_delete='CASCADE')
        user = ForeignKeyField(User, on_delete='CASCADE')
        role = CharField(max_length=16)
        class Meta:
            database = db
            table_name = 'membership'
            indexes = ((('space', 'user'), True),)
    db.create_tables([Membership])

    class ProjectVersion(Model):
        project = ForeignKeyField(Project, on_delete='CASCADE')
        number = IntegerField()
        snapshot = TextField()
        created_at = FloatField()
        class Meta:
            database = db
            table_name = 'project_version'
            indexes = ((('project', 'number'), True),)
    db.create_tables([ProjectVersion])

    class Review(Model):
        task = ForeignKeyField(Task, on_delete='CASCADE')
        reviewer = ForeignKeyField(User, on_delete='CASCADE')
        decision = CharField(max_length=8)
        comment = TextField(default='')
        fixed = TextField(null=True)
        created_at = FloatField()
        class Meta:
            database = db
            table_name = 'review'
            indexes = ((('task', 'id'), False),)
    db.create_tables([Review])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('review'))
    migrator.migrate(migrator.drop_table('project_version'))
    migrator.migrate(migrator.drop_table('membership'))
    migrator.migrate(migrator.drop_table('judge_verdict'))
    migrator.migrate(migrator.drop_table('response'))
    migrator.migrate(migrator.drop_table('event'))
    migrator.migrate(migrator.drop_table('entity'))
    migrator.migrate(migrator.drop_table('criterion'))
    migrator.migrate(migrator.drop_table('assignment'))
    migrator.migrate(migrator.drop_table('task'))
    migrator.migrate(migrator.drop_table('batch'))
    migrator.migrate(migrator.drop_table('project'))
    migrator.migrate(migrator.drop_table('space'))
    migrator.migrate(migrator.drop_table('api_token'))
    migrator.migrate(migrator.drop_table('user'))
