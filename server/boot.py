"""Start-up in one place: config → database (migrated) → plugins → queue, for every entry point."""

from __future__ import annotations

import logging
import os
import secrets

from server import db, jobs, migrate, plugins
from server.core import projects, rule_sets, standing
from server.config import Config

log = logging.getLogger("quorum")


def boot(config: Config, run_migrations: bool = True) -> Config:
    """Make this process ready to serve: the order matters and is the same everywhere."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    db.connect(config.database_url, busy_timeout_ms=config.database.busy_timeout_ms,
               pool_size=config.database.pool_size)
    projects.forget_all()          # caches keyed by project id belong to one database
    standing.forget_all()
    rule_sets.forget()
    if run_migrations:
        migrate.apply(db.database.obj)
    plugins.configure(disabled=tuple(config.plugins.disabled), entry_points=config.plugins.entry_points)
    plugins.configure_plugins(config)
    jobs.configure(config)
    return config


def secret_key(config: Config) -> str:
    """The configured secret, or one generated once and kept in the data directory."""
    if config.server.secret_key:
        return config.server.secret_key
    path = config.data_dir / "secret_key"
    if not path.exists():      # made whole under a temporary name, then linked: two workers agree on one
        config.data_dir.mkdir(parents=True, exist_ok=True)
        made = config.data_dir / f".secret_key.{os.getpid()}"
        made.write_text(secrets.token_hex(32))
        made.chmod(0o600)
        try:
            os.link(made, path)
        except FileExistsError:
            pass
        made.unlink()
    return path.read_text().strip()
