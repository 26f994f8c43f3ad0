"""Configuration: config.toml read into msgspec Structs, with QUORUM_* environment overrides.

Precedence, lowest first: defaults here, `config.toml` (the repository's, or the file
named by QUORUM_CONFIG), then environment variables. Any key may be set from the
environment as QUORUM_<SECTION>_<KEY> (QUORUM_SERVER_PORT=9000); a few have short
names that outside scripts rely on (QUORUM_DATABASE_URL, QUORUM_DATA_DIR,
QUORUM_OLLAMA_HOST, QUORUM_OLLAMA_MODEL). A wrong key or type stops start-up with a
ConfigError that names it.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import msgspec

REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key."""


class Server(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    secret_key: str = ""
    embedded_worker: bool = True


class Data(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    dir: str = "quorum-data"


class Media(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    max_files: int = 100_000
    max_bytes: int = 20 * 1024**3
    max_file_bytes: int = 200 * 1024**2


class Database(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: str = ""
    busy_timeout_ms: int = 10000
    pool_size: int = 40


class Queue(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    backend: str = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"
    name: str = "quorum"
    workers: int = 2
    immediate: bool = False


class Assignment(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    lease_minutes: float = 30.0
    default_overlap: int = 1
    sweep_seconds: float = 5.0


class Judging(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    attempts: int = 4
    backoff_seconds: float = 5.0


class Auth(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    token_days: int = 30
    session_days: int = 14


class Plugins(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    disabled: list[str] = []
    entry_points: bool = True
    # One table per plugin: [plugins.ollama] host = "…". Read by plugin_config(name).
    settings: dict[str, dict] = {}


class Config(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    server: Server = msgspec.field(default_factory=Server)
    data: Data = msgspec.field(default_factory=Data)
    media: Media = msgspec.field(default_factory=Media)
    database: Database = msgspec.field(default_factory=Database)
    queue: Queue = msgspec.field(default_factory=Queue)
    assignment: Assignment = msgspec.field(default_factory=Assignment)
    judging: Judging = msgspec.field(default_factory=Judging)
    auth: Auth = msgspec.field(default_factory=Auth)
    plugins: Plugins = msgspec.field(default_factory=Plugins)

    @property
    def data_dir(self) -> Path:
        path = Path(self.data.dir)
        return path if path.is_absolute() else (Path.cwd() / path)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'quorum.db'}"

    def plugin_config(self, name: str) -> dict:
        """The [plugins.NAME] table, or {} when there is none."""
        return dict(self.plugins.settings.get(name, {}))


SHORT_ENV = {
    "QUORUM_DATABASE_URL": ("database", "url"),
    "QUORUM_DATA_DIR": ("data", "dir"),
    "QUORUM_OLLAMA_HOST": ("plugins.ollama", "host"),
    "QUORUM_OLLAMA_MODEL": ("plugins.ollama", "model"),
}
NOT_KEYS = {"QUORUM_CONFIG"}


def load(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read the config file and the environment into a checked Config."""
    environ = dict(os.environ if environ is None else environ)
    path = Path(path or environ.get("QUORUM_CONFIG") or REPO_ROOT / "config.toml")
    raw: dict = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    elif "QUORUM_CONFIG" in environ:
        raise ConfigError(f"QUORUM_CONFIG names {path}, which does not exist")
    raw = _lift_plugin_tables(raw, str(path))
    for name, value in environ.items():
        if name.startswith("QUORUM_") and name not in NOT_KEYS:
            _apply_env(raw, name, value)
    try:
        return msgspec.convert(raw, Config, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"config: {_readable(str(exc))}") from exc


def _lift_plugin_tables(raw: dict, origin: str) -> dict:
    """[plugins.NAME] tables go under plugins.settings so Plugins stays a fixed Struct."""
    plugins = raw.get("plugins")
    if plugins is None:
        return raw
    if not isinstance(plugins, dict):
        raise ConfigError(f"{origin}: [plugins] must be a table")
    fixed = set(Plugins.__struct_fields__) - {"settings"}
    lifted = {k: v for k, v in plugins.items() if k in fixed}
    lifted["settings"] = {k: v for k, v in plugins.items() if k not in fixed}
    for name, table in lifted["settings"].items():
        if not isinstance(table, dict):
            raise ConfigError(f"{origin}: unknown key `plugins.{name}`")
    return {**raw, "plugins": lifted}


def _apply_env(raw: dict, name: str, value: str) -> None:
    if name in SHORT_ENV:
        section, key = SHORT_ENV[name]
    else:
        rest = name[len("QUORUM_"):].lower()
        section, _, key = rest.partition("_")
        if section not in Config.__struct_fields__ or not key:
            raise ConfigError(f"environment variable {name} names no config key")
        fields = _section_type(section).__struct_fields__
        if key not in fields:
            raise ConfigError(f"environment variable {name}: `{section}` has no key `{key}`")
    target = raw
    parts = section.split(".")
    if parts[0] == "plugins" and len(parts) == 2:
        parts = ["plugins", "settings", parts[1]]
    for part in parts:
        target = target.setdefault(part, {})
    target[key] = _env_value(section, key, value)


def _section_type(section: str) -> type[msgspec.Struct]:
    return {
        "server": Server, "data": Data, "media": Media, "database": Database, "queue": Queue,
        "assignment": Assignment, "judging": Judging, "auth": Auth, "plugins": Plugins,
    }[section]


def _env_value(section: str, key: str, value: str):
    """Environment strings become the key's type; msgspec then checks them."""
    if section.startswith("plugins."):
        return value
    field_type = _section_type(section).__annotations__.get(key, "str")
    if field_type in ("list[str]",):
        return [v.strip() for v in value.split(",") if v.strip()]
    if field_type == "bool":
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"QUORUM_{section.upper()}_{key.upper()}: expected true/false, got {value!r}")
    return value


def _readable(message: str) -> str:
    """msgspec says `$.server.port`; a person reads `server.port`."""
    return message.replace("`$.plugins.settings.", "`plugins.").replace("`$.", "`").replace("- at `$`", "")
