"""Media: the files (images) a project's items reference by relative path: safe paths, storing, importing, seeing.

A project's files live under `<data dir>/media/<project id>/<relative path>`, the path the
items give, normalised. A path is accepted only if it stays inside that folder: no
absolute paths, no `..`, no drive letters or URL schemes, no backslashes, no symbolic
links on the way; zip entries are held to the same rules (zip-slip is impossible), within
limits on file count and sizes. Item data keeps the path as given; pages and the API show
it as `/media/<project id>/<path>`. http(s) links are left alone: the server never fetches them.

Files arrive through a *source* (server/core/media_sources.py: a zip, or a folder for `quorum import --media`) that the
import asks about every IMAGE value (`check`), and that stores the files the items name
(`publish`) inside the import's transaction, after every record passed: an import that
fails stores nothing. Files are staged first under `media/.staging/` (same filesystem),
so publishing is renames. Each stored file is recorded in the project folder's
`.manifest.jsonl` (path, size, sha256, media type); the filesystem is the rest of the record.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import time
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote

import msgspec

from server.core import events
from server.db import execute
from server.errors import Invalid, NotFound

URL_PREFIX = "/media"
MEDIA_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".webp": "image/webp", ".bmp": "image/bmp", ".svg": "image/svg+xml", ".tif": "image/tiff",
    ".tiff": "image/tiff",
}
REMOTE = re.compile(r"^https?://", re.IGNORECASE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")   # http:, data:, javascript:, and drive letters (C:)
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\?#]")
MAX_PATH = 1024
MANIFEST = ".manifest.jsonl"
STALE_SECONDS = 24 * 3600
CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one upload may hold; the server passes config [media], these are its defaults."""

    max_files: int = 100_000
    max_bytes: int = 20 * 1024**3
    max_file_bytes: int = 200 * 1024**2

    @classmethod
    def of(cls, section) -> Limits:
        """From config [media] (server.config.Media)."""
        return cls(max_files=section.max_files, max_bytes=section.max_bytes, max_file_bytes=section.max_file_bytes)


class StoredFile(msgspec.Struct, kw_only=True):
    path: str
    size: int
    sha256: str
    media_type: str


class Stored(msgspec.Struct, kw_only=True):
    """What an upload added to a project's media."""

    stored: int            # files written (new or replaced)
    bytes: int
    ignored: int = 0       # files in the upload no item names (not stored by an import)


# ---------------------------------------------------------------- paths


def is_remote(value) -> bool:
    return isinstance(value, str) and bool(REMOTE.match(value.strip()))


def clean(value) -> str | None:
    """The normalised relative path `value` names (`./a//b.png` → `a/b.png`), or None when it is not
    a path inside a folder: empty, absolute, with `..`, a scheme or drive, a backslash, `?`, `#` or a control character."""
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFC", value.strip())
    if not text or len(text) > MAX_PATH or text.startswith("/") or _SCHEME.match(text) or _FORBIDDEN.search(text):
        return None
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if not parts or any(part == ".." or len(part.encode()) > 255 for part in parts):
        return None
    return "/".join(parts)


def media_type(path: str) -> str | None:
    """The media type served for a path, by its suffix; None for a kind of file Quorum does not serve."""
    return MEDIA_TYPES.get(os.path.splitext(path)[1].lower())


def url(project_id: int, value):
    """What a page or API client is shown for an IMAGE value: a stored relative path becomes the
    server's URL for it; anything else (an http(s) link, text, None) is returned unchanged."""
    if not isinstance(value, str) or is_remote(value):
        return value
    path = clean(value)
    if path is None or media_type(path) is None:
        return value
    return f"{URL_PREFIX}/{project_id}/{quote(path, safe='/')}"


def image_fields(inputs, input_map: dict | None) -> list[str]:
    """The dataset fields behind a project's IMAGE input entities."""
    mapping = input_map or {}
    return [mapping.get(e.name, e.name) for e in inputs if e.type == "IMAGE"]


def project_root(data_dir: Path, project_id: int) -> Path:
    return Path(data_dir) / "media" / str(int(project_id))


def locate(data_dir: Path, project_id: int, path: str) -> Path | None:
    """The stored regular file for a clean path, or None; a symbolic link anywhere on the way counts as missing."""
    if media_type(path) is None:
        return None
    current = project_root(data_dir, project_id)
    for part in path.split("/"):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except OSError:
            return None
        if stat.S_ISLNK(mode):
            return None
    return current if stat.S_ISREG(mode) else None


# ---------------------------------------------------------------- who may see a file

HELD = ("SELECT t.data FROM assignment a JOIN task t ON t.id = a.task_id "
        "WHERE a.tasker_id = ? AND a.project_id = ? AND a.status IN ('active', 'submitted') "
        "AND (a.status = 'submitted' OR a.expires_at > ?) AND t.data LIKE ? ESCAPE '!' LIMIT 200")


def tasker_holds(tasker_id: int, project_id: int, path: str, fields: list[str]) -> bool:
    """Whether a task the tasker holds (a live lease) or has answered names `path` in an IMAGE field.

    One query over the (tasker, project, status) index of the tasker's own assignments; the
    database keeps only tasks whose stored JSON contains the file's name, and Python then
    checks the IMAGE fields exactly (the item may spell the path `./images/x.png`)."""
    name = path.rsplit("/", 1)[-1]
    needle = name if name.isascii() else os.path.splitext(name)[1]
    needle = msgspec.json.encode(needle).decode()[1:-1]
    pattern = "%" + re.sub(r"([!%_])", r"!\1", needle) + "%"
    decode = msgspec.json.decode
    for (data,) in execute(HELD, (tasker_id, project_id, time.time(), pattern)).fetchall():
        record = decode(data)
        if any(clean(record.get(f)) == path for f in fields):
            return True
    return False


def find(data_dir: Path, project_id: int, raw_path: str, role: str, user_id: int, fields: list[str]) -> Path:
    """The file a request for `/media/<project>/<raw_path>` may see, or NotFound (missing and
    forbidden look the same). Owners and reviewers see any of the project's files; a tasker
    only those named by a task they hold or have answered."""
    path = clean(raw_path.lstrip("/"))
    missing = NotFound("no such file")
    if path is None or media_type(path) is None:
        raise missing
    if role not in ("owner", "reviewer") and not tasker_holds(user_id, project_id, path, fields):
        raise missing
    found = locate(data_dir, project_id, path)
    if found is None:
        raise missing
    return found


# ---------------------------------------------------------------- staging and storing


class Staging:
    """Files written under media/.staging/<uuid>/ (flat numbered names), then renamed into place."""

    def __init__(self, data_dir: Path, limits: Limits):
        base = Path(data_dir) / "media" / ".staging"
        base.mkdir(parents=True, exist_ok=True)
        _forget_stale(base)
        self.dir = base / uuid.uuid4().hex
        self.dir.mkdir()
        self.limits = limits
        self.files: dict[str, tuple[Path, StoredFile]] = {}
        self.bytes = 0

    def add(self, path: str, stream: IO[bytes], where: str) -> StoredFile:
        """Copy `stream` in as `path`, counting bytes against the limits whatever sizes were declared."""
        if path not in self.files and len(self.files) >= self.limits.max_files:
            raise Invalid(f"more than {self.limits.max_files:,} media files (config media.max_files)", field=where)
        target = self.dir / f"{len(self.files):08d}"
        digest, size = hashlib.sha256(), 0
        with open(target, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                self.bytes += len(chunk)
                if size > self.limits.max_file_bytes:
                    raise Invalid(f"{where}: larger than {human_size(self.limits.max_file_bytes)} "
                                  "(config media.max_file_bytes)", field=where)
                if self.bytes > self.limits.max_bytes:
                    raise Invalid(f"the media files come to more than {human_size(self.limits.max_bytes)} "
                                  "(config media.max_bytes)", field=where)
                digest.update(chunk)
                out.write(chunk)
        info = StoredFile(path=path, size=size, sha256=digest.hexdigest(), media_type=media_type(path) or "")
        self.files[path] = (target, info)
        return info

    def publish(self, data_dir: Path, project_id: int, paths, actor: int | None) -> Stored:
        """Rename the staged `paths` into the project's folder, record them, and say what was stored."""
        root = project_root(data_dir, project_id)
        chosen = sorted(set(paths))
        targets = [(self.files[p], _prepare(root, p)) for p in chosen]   # every check before the first rename
        lines = []
        now = time.time()
        for (staged, info), target in targets:
            try:
                os.replace(staged, target)
            except OSError as exc:   # e.g. `a.png` and `a.png/b.png` in one upload
                raise Invalid(f"{info.path}: cannot be stored ({exc.strerror})", field=info.path) from exc
            lines.append(msgspec.json.encode({**msgspec.to_builtins(info), "at": now, "actor": actor}))
        if lines:
            with open(root / MANIFEST, "ab") as manifest:
                manifest.write(b"\n".join(lines) + b"\n")
        stored = Stored(stored=len(chosen), bytes=sum(self.files[p][1].size for p in chosen),
                        ignored=len(self.files) - len(chosen))
        if chosen:
            events.record("media.stored", actor=actor, project=project_id, files=stored.stored, bytes=stored.bytes)
        return stored

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _prepare(root: Path, path: str) -> Path:
    """The target for `path` under `root`, its folders made; refused if a link or a file stands in the way."""
    current = root
    root.mkdir(parents=True, exist_ok=True)
    parts = path.split("/")
    for part in parts[:-1]:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            raise Invalid(f"{path}: {part!r} is already stored as a file", field=path)
        current.mkdir(exist_ok=True)
    target = current / parts[-1]
    if target.is_symlink() or target.is_dir():
        raise Invalid(f"{path}: already stored as a folder", field=path)
    return target


def _forget_stale(base: Path) -> None:
    """Staging left behind by a crash goes after a day."""
    cutoff = time.time() - STALE_SECONDS
    for entry in base.iterdir():
        try:
            if entry.is_dir() and not entry.is_symlink() and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


def human_size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def listing(data_dir: Path, project_id: int) -> list[StoredFile]:
    """The project's stored files as last recorded, those still on disk, by path."""
    manifest = project_root(data_dir, project_id) / MANIFEST
    found: dict[str, StoredFile] = {}
    if manifest.exists():
        with open(manifest, "rb") as lines:
            for line in lines:
                if line.strip():
                    entry = msgspec.json.decode(line)
                    found[entry["path"]] = StoredFile(path=entry["path"], size=entry["size"], sha256=entry["sha256"],
                                                      media_type=entry["media_type"])
    return [found[p] for p in sorted(found) if locate(data_dir, project_id, p) is not None]
