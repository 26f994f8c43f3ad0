"""Media: the files (images) a project's items reference by relative path: safe paths, storing, importing, seeing.

A project's files live under `<data dir>/media/<project id>/<relative path>`, the path the
items give, normalised. A path is accepted only if it stays inside that folder: no
absolute paths, no `..`, no drive letters or URL schemes, no backslashes, no symbolic
links on the way; zip entries are held to the same rules (zip-slip is impossible), within
limits on file count and sizes. Item data keeps the path as given; pages and the API show
it as `/media/<project id>/<path>`. http(s) links are left alone: the server never fetches them.

Files arrive through a *source* (a zip, or a folder for `quorum import --media`) that the
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
import zipfile
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


class _Staging:
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
                    raise Invalid(f"{where}: larger than {_size(self.limits.max_file_bytes)} "
                                  "(config media.max_file_bytes)", field=where)
                if self.bytes > self.limits.max_bytes:
                    raise Invalid(f"the media files come to more than {_size(self.limits.max_bytes)} "
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


def _size(n: int) -> str:
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


# ---------------------------------------------------------------- sources an import reads


class Source:
    """Where an import's files come from. The import calls `check` for each IMAGE value and,
    once every record passed, `publish` inside its transaction."""

    def __init__(self, data_dir: Path, project_id: int, limits: Limits, actor: int | None):
        self.data_dir, self.project_id, self.limits, self.actor = Path(data_dir), project_id, limits, actor
        self.staging = _Staging(self.data_dir, limits)
        self.referenced: set[str] = set()
        self.where = "the upload"

    def check(self, value) -> str | None:
        """None when `value` is fine (a link, empty, or a file the upload or the project has); else why not."""
        if value is None or value == "" or not isinstance(value, str) or is_remote(value):
            return None
        path = clean(value)
        if path is None:
            return f"{value!r} is not a relative path inside {self.where} (no absolute paths, `..` or schemes)"
        if media_type(path) is None:
            return (f"{value!r} is not a kind of file Quorum serves "
                    f"({', '.join(sorted(MEDIA_TYPES))})")
        if path in self.referenced:
            return None
        problem = self._stage(path)
        if problem and locate(self.data_dir, self.project_id, path) is None:
            return problem
        if not problem:
            self.referenced.add(path)
        return None

    def _stage(self, path: str) -> str | None:
        raise NotImplementedError

    def publish(self) -> Stored:
        return self.staging.publish(self.data_dir, self.project_id, self.referenced, self.actor)

    def close(self) -> None:
        self.staging.discard()


class ZipSource(Source):
    """A zip upload: entries checked up front, the dataset file found, image files staged before the import."""

    def __init__(self, upload: Path, data_dir: Path, project_id: int, limits: Limits, actor: int | None,
                 dataset_suffixes: tuple[str, ...] = (), dataset: str | None = None):
        super().__init__(data_dir, project_id, limits, actor)
        self.where = "the zip"
        try:
            try:
                self.zip = zipfile.ZipFile(upload)
            except (zipfile.BadZipFile, OSError) as exc:
                raise Invalid("the upload is not a zip file", field="body") from exc
            self.entries = _entries(self.zip, limits)
            self.dataset = _dataset_entry(self.entries, dataset_suffixes, dataset) if dataset_suffixes else None
            self.folder = self.dataset.rpartition("/")[0] if self.dataset else ""
            self.paths: dict[str, str] = {}      # clean path in the zip -> staged under that name
            for name, info in self.entries.items():
                if media_type(name) and name != self.dataset and not _junk(name):
                    with self.zip.open(info) as stream:
                        self.staging.add(name, stream, name)
        except BaseException:
            self.close()
            raise

    def extract_dataset(self, directory: Path) -> Path:
        """The dataset file written out under `directory` (the importers read files)."""
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{uuid.uuid4().hex}{os.path.splitext(self.dataset)[1].lower()}"
        written = 0
        with self.zip.open(self.entries[self.dataset]) as stream, open(target, "wb") as out:
            while chunk := stream.read(CHUNK):
                written += len(chunk)
                if written > self.limits.max_bytes:
                    out.close()
                    target.unlink(missing_ok=True)
                    raise Invalid(f"{self.dataset}: larger than {_size(self.limits.max_bytes)}", field=self.dataset)
                out.write(chunk)
        return target

    def _stage(self, path: str) -> str | None:
        """Found beside the dataset file or from the zip's root; stored under the path the item gives."""
        for candidate in (f"{self.folder}/{path}" if self.folder else None, path):
            if candidate and candidate in self.staging.files:
                if candidate != path:
                    self.staging.files[path] = self.staging.files.pop(candidate)
                return None
        return f"{path} is not in the zip"

    def close(self) -> None:
        zf = getattr(self, "zip", None)
        if zf is not None:
            zf.close()
        super().close()


class FolderSource(Source):
    """A folder on this machine (`quorum import --media DIR`): the files the items name, copied in."""

    def __init__(self, folder: Path, data_dir: Path, project_id: int, limits: Limits, actor: int | None):
        folder = Path(folder)
        if not folder.is_dir():
            raise Invalid(f"{folder} is not a folder", field="media")
        super().__init__(data_dir, project_id, limits, actor)
        self.folder = folder
        self.where = f"{folder}"

    def _stage(self, path: str) -> str | None:
        current = self.folder
        for part in path.split("/"):
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except OSError:
                return f"{path} is not in {self.folder}"
            if stat.S_ISLNK(mode):
                return f"{path}: symbolic links are not followed"
        if not stat.S_ISREG(mode):
            return f"{path} is not a file in {self.folder}"
        with open(current, "rb") as stream:
            self.staging.add(path, stream, path)
        return None


def _entries(zf: zipfile.ZipFile, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    """Every file entry by its clean path; the whole zip is refused if one entry could land outside
    the folder, is a link, is encrypted, repeats a path, or the zip is over the limits."""
    entries: dict[str, zipfile.ZipInfo] = {}
    declared = 0
    for info in zf.infolist():
        name = info.filename
        path = clean(name)
        unsafe = path is None or name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/")
        if unsafe:
            raise Invalid(f"zip entry {name!r} is not a relative path inside the zip "
                          "(absolute paths, `..`, drive letters and backslashes are refused); nothing was imported",
                          field=name)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise Invalid(f"zip entry {name!r} is a symbolic link; links are refused; nothing was imported", field=name)
        if info.flag_bits & 0x1:
            raise Invalid(f"zip entry {name!r} is encrypted; nothing was imported", field=name)
        if info.is_dir():
            continue
        if path in entries:
            raise Invalid(f"zip entry {name!r} appears twice; nothing was imported", field=name)
        if media_type(path) and info.file_size > limits.max_file_bytes:
            raise Invalid(f"zip entry {name!r} is larger than {_size(limits.max_file_bytes)} "
                          "(config media.max_file_bytes); nothing was imported", field=name)
        declared += info.file_size
        entries[path] = info
        if len(entries) > limits.max_files:
            raise Invalid(f"the zip holds more than {limits.max_files:,} files (config media.max_files)", field="body")
    if declared > limits.max_bytes:
        raise Invalid(f"the zip unpacks to more than {_size(limits.max_bytes)} (config media.max_bytes)", field="body")
    return entries


def _junk(path: str) -> bool:
    """What archivers add beside the files: macOS resource forks and hidden files."""
    return path.startswith("__MACOSX/") or path.rsplit("/", 1)[-1].startswith(".")


def _dataset_entry(entries: dict[str, zipfile.ZipInfo], suffixes: tuple[str, ...], named: str | None) -> str:
    """The dataset file: the one named, else the only one at the top level, else the only one anywhere."""
    if named:
        path = clean(named)
        if path not in entries:
            raise Invalid(f"the zip has no file {named!r}", field="dataset")
        return path
    candidates = [p for p in entries if os.path.splitext(p)[1].lower() in suffixes and not _junk(p)]
    top = [p for p in candidates if "/" not in p]
    for found in (top, candidates):
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise Invalid(f"the zip holds several dataset files ({', '.join(sorted(found)[:10])}); "
                          "name one with dataset=", field="dataset")
    raise Invalid(f"the zip holds no dataset file ({', '.join(suffixes)})", field="dataset")


# ---------------------------------------------------------------- imports with media


def import_zip(project, upload: Path, data_dir: Path, *, limits: Limits = Limits(), dataset: str | None = None,
               actor: int | None = None, **options):
    """Import the dataset a zip holds and store the files its items name, all or nothing."""
    from server import plugins
    from server.core import imports   # imports reads sources through their methods; no import back

    suffixes = tuple(sorted({s for i in plugins.registry().importers.values() for s in i.suffixes}))
    source = ZipSource(upload, data_dir, project.id, limits, actor, suffixes, dataset)
    dataset_file = None
    try:
        dataset_file = source.extract_dataset(Path(data_dir) / "uploads")
        return imports.import_file(project, dataset_file, filename=source.dataset, actor=actor, media=source,
                                   **options)
    finally:
        source.close()
        if dataset_file is not None:
            dataset_file.unlink(missing_ok=True)


def import_with_folder(project, dataset_file: Path, folder: Path, data_dir: Path, *, limits: Limits = Limits(),
                       actor: int | None = None, **options):
    """Import a dataset file and copy in, from `folder`, the files its items name, all or nothing."""
    from server.core import imports

    source = FolderSource(folder, data_dir, project.id, limits, actor)
    try:
        return imports.import_file(project, dataset_file, actor=actor, media=source, **options)
    finally:
        source.close()


def store_zip(project_id: int, upload: Path, data_dir: Path, *, limits: Limits = Limits(),
              actor: int | None = None) -> Stored:
    """Add or replace media from a zip without items: every image file in it, under its path in the zip."""
    from server.db import write_transaction

    source = ZipSource(upload, data_dir, project_id, limits, actor)
    try:
        if not source.staging.files:
            raise Invalid(f"the zip holds no image files ({', '.join(sorted(MEDIA_TYPES))})", field="body")
        with write_transaction():
            return source.staging.publish(source.data_dir, project_id, list(source.staging.files), actor)
    finally:
        source.close()
