"""The `quorum` command: serve, migrate, worker, user, import, export, demo, plugins."""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

import click

from server.config import Config, ConfigError, load


def _config() -> Config:
    try:
        return load()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _boot(run_migrations: bool = True) -> Config:
    from server.boot import boot

    config = _config()
    try:
        booted = boot(config, run_migrations=run_migrations)
    except Exception as exc:  # a database that cannot be reached, a bad URL, …
        raise click.ClickException(f"start-up failed: {exc}") from exc
    gc.freeze()     # what start-up loaded lives as long as the command: no collection need scan it again
    return booted


def _fail_on(fn):
    """Core errors become one readable line and exit status 1, never a traceback."""
    from server.errors import QuorumError

    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except QuorumError as exc:
            where = f"{exc.field}: " if exc.field and exc.field not in exc.message else ""
            details = exc.extra.get("errors") or []
            lines = [f"{where}{exc.message}"] + [f"  {_describe(e)}" for e in details[1:]]
            raise click.ClickException("\n".join(lines)) from exc
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _describe(error: dict) -> str:
    unit = next((k for k in ("line", "row", "item") if k in error), None)
    return f"{unit} {error[unit]}: field `{error['field']}`: {error['message']}" if unit else str(error)


@click.group()
def main():
    """Quorum: human data labeling with quality you can measure."""


@main.command()
@click.option("--host", default=None, help="address to listen on (config server.host)")
@click.option("--port", default=None, type=int, help="port (config server.port)")
@click.option("--workers", default=None, type=int, help="web worker processes (config server.workers)")
def serve(host, port, workers):
    """Run the web server (and, by default, the queue consumer in one of its workers)."""
    import uvicorn

    config = _config()
    host = host or config.server.host
    port = port or config.server.port
    workers = workers or config.server.workers
    if workers > 1:
        _prepare_in_child()     # the supervisor only watches the workers: it need not load the app
    else:
        _prepare()
    click.echo(f"Quorum on http://{host}:{port}  (database {config.database_url}, queue {config.queue.backend})")
    uvicorn.run("server.web.asgi:app", host=host, port=port, workers=workers, loop="uvloop",
                http="httptools", log_level="warning", access_log=False, factory=False)


def _prepare() -> None:
    """Everything the web workers need before they start: the database migrated, the secret made."""
    from server.boot import secret_key

    secret_key(_boot())


def _prepare_in_child() -> None:
    """`_prepare` in a child process, its error shown as ours: the uvicorn supervisor then stays
    a small process (30 MB less than one that has loaded Quorum)."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", "from server.cli import _prepare_main; _prepare_main()"],
                          capture_output=True, text=True)
    if done.returncode:
        raise click.ClickException(done.stderr.strip().removeprefix("Error: ") or "start-up failed")


def _prepare_main() -> None:
    try:
        _prepare()
    except click.ClickException as exc:
        exc.show()
        sys.exit(1)


@main.command()
def migrate():
    """Apply pending schema migrations."""
    from server import db
    from server import migrate as migrations

    config = _config()
    database = db.connect(config.database_url)
    applied = migrations.apply(database)
    click.echo("applied: " + ", ".join(applied) if applied else "schema is up to date")


@main.command()
@click.option("--workers", default=None, type=int, help="consumer threads (config queue.workers)")
def worker(workers):
    """Run a queue consumer on its own (for Redis-backed scale-out)."""
    from server import jobs

    config = _boot()
    jobs.run_worker(workers or config.queue.workers)


@main.group()
def user():
    """Manage users."""


@user.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(["owner", "reviewer", "tasker"]))
@click.option("--space", default=None, help="space name (default: the Default space)")
@_fail_on
def user_create(username, password, role, space):
    """Create a user with a role in a space; running it again updates, never duplicates."""
    from server.core import users
    from server.models import Space

    _boot()
    target = Space.get_or_create(name=space)[0] if space else None
    created_user, created = users.create_user(username, password, role, target)
    click.echo(f"{'created' if created else 'updated'} user {created_user.username} ({role})")


@main.command("import")
@click.argument("project_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id-field", default=None, help="field holding each item's external id (detected by default)")
@click.option("--map", "mapping", multiple=True, help="input entity=field, repeatable (detected by default)")
@click.option("--format", "media_type", default="", help="json, jsonl or csv (default: from the file suffix)")
@click.option("--media", "media_dir", default=None, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="folder the items' relative image paths point into; the files they name are stored with them")
@_fail_on
def import_(project_id, path, id_field, mapping, media_type, media_dir):
    """Import a dataset file into a project, streamed, all or nothing (with its images, given --media)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from server.core import imports, media, media_sources, projects

    config = _boot()
    project = projects.get(project_id)
    input_map = dict(pair.split("=", 1) for pair in mapping) if mapping else None
    content_type = {"json": "application/json", "jsonl": "application/x-ndjson", "csv": "text/csv"}.get(media_type, media_type)
    with Progress(TextColumn("importing"), BarColumn(), TextColumn("{task.completed:,} records"),
                  TimeElapsedColumn(), transient=True) as progress:
        bar = progress.add_task("import", total=None)
        options = dict(media_type=content_type, id_field=id_field, input_map=input_map,
                       progress=lambda n: progress.update(bar, completed=n))
        if media_dir is None:
            result = imports.import_file(project, path, **options)
        else:
            result = media_sources.import_with_folder(project, path, media_dir, config.data_dir,
                                                      limits=media.Limits.of(config.media), **options)
    rate = result.total / result.seconds if result.seconds else 0
    click.echo(f"imported {result.created:,} items ({result.duplicates:,} already there) from {result.total:,} "
               f"records in {result.seconds:.2f}s ({rate:,.0f}/s); id field {result.id_field}")
    if result.media is not None:
        click.echo(f"stored {result.media.stored:,} media files ({result.media.bytes:,} bytes) from {media_dir}")


@main.command()
@click.argument("project_id", type=int)
@click.option("--format", "fmt", default="json", help="json, jsonl or csv")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="file to write (default: standard output)")
@_fail_on
def export(project_id, fmt, output):
    """Write a project's results."""
    from server.core import export as exporting
    from server.core import projects

    _boot()
    project = projects.get(project_id)
    started = time.perf_counter()
    out = open(output, "wb") if output else sys.stdout.buffer
    written = 0
    try:
        for chunk in exporting.stream(project, fmt):
            out.write(chunk)
            written += len(chunk)
    finally:
        if output:
            out.close()
    if output:
        click.echo(f"wrote {written:,} bytes to {output} in {time.perf_counter() - started:.2f}s", err=True)


@main.command()
@_fail_on
def demo():
    """Create a demo space, an owner, a reviewer, a tasker and a project over images shipped with Quorum."""
    import plugins.demo as demo_data
    from server.core import batches, imports, projects, users
    from server.models import Project, Space

    _boot()
    space, _ = Space.get_or_create(name=demo_data.SPACE)
    owner, _ = users.create_user(*demo_data.OWNER, "owner", space)
    users.create_user(*demo_data.REVIEWER, "reviewer", space)
    users.create_user(*demo_data.TASKER, "tasker", space)
    project = Project.get_or_none(Project.space == space, Project.name == demo_data.PROJECT["name"])
    if project is None:
        project = projects.create(projects.ProjectSettings(**demo_data.PROJECT), owner.id, space)
        config = _config()
        path = imports.store_upload([_jsonl(demo_data.items())], config.data_dir / "uploads", ".jsonl")
        try:
            imports.import_file(project, path, actor=owner.id)
        finally:
            path.unlink(missing_ok=True)
        batches.create(project, batches.BatchRequest(kind="production"), owner.id)
    click.echo(f"demo project {project.id}: {project.name}")
    click.echo(f"  owner     {demo_data.OWNER[0]} / {demo_data.OWNER[1]}")
    click.echo(f"  reviewer  {demo_data.REVIEWER[0]} / {demo_data.REVIEWER[1]}")
    click.echo(f"  tasker    {demo_data.TASKER[0]} / {demo_data.TASKER[1]}")
    click.echo("now run `quorum serve` and open the address it prints")


def _jsonl(rows: list[dict]) -> bytes:
    import msgspec

    return b"\n".join(msgspec.json.encode(r) for r in rows) + b"\n"


@main.group()
def judge():
    """Judges: check that the ones that need a service can reach it."""


@judge.command("check")
@click.option("--judge", "name", default=None, help="only this judge (default: every judge that has a check)")
@click.option("--project", "project_id", type=int, default=None, help="use this project's judge settings")
def judge_check(name, project_id):
    """Tell whether each judge's service answers (for Ollama: the host, and that it has the model)."""
    from server import plugins
    from server.core import projects

    _boot()
    settings = projects.get(project_id).judge_settings if project_id else {}
    judges = plugins.registry().judges
    if name and name not in judges:
        raise click.ClickException(f"no judge named {name!r}; loaded: {', '.join(sorted(judges))}")
    failed = False
    for judge_name, found in sorted(judges.items()):
        if name and judge_name != name:
            continue
        result = found.check(settings.get(judge_name, {}))
        if result is None:
            if name:
                click.echo(f"{judge_name}: nothing to check (needs no service)")
            continue
        ok, message = result
        failed |= not ok
        click.echo(f"{judge_name}: {message}")
    sys.exit(1 if failed else 0)


@main.command("plugins")
def list_plugins():
    """List loaded plugins: task types, judges, importers, exporters."""
    from server import plugins

    config = _config()
    registry = plugins.configure(disabled=tuple(config.plugins.disabled), entry_points=config.plugins.entry_points)
    for kind, table in (("task type", registry.task_types), ("judge", registry.judges),
                        ("importer", registry.importers), ("exporter", registry.exporters)):
        for name, obj in sorted(table.items()):
            extra = " (cheap: runs in the submit transaction)" if kind == "judge" and obj.cheap else ""
            click.echo(f"{kind:10} {name:20} from {registry.sources[f'{kind} {name}']}{extra}")


if __name__ == "__main__":
    main()
