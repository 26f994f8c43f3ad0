"""Where an import's media comes from: a zip, or a folder beside the dataset (`quorum import --media`).

Every entry is held to `media.clean` before anything is staged; files are published only
after every record of the import passed (see server/core/media.py).
"""

from __future__ import annotations

import os
import stat
import uuid
import zipfile
from pathlib import Path

from server.core.media import (
    CHUNK,
    MEDIA_TYPES,
    Limits,
    Staging,
    Stored,
    clean,
    human_size,
    is_remote,
    locate,
    media_type,
)
from server.db import write_transaction
from server.errors import Invalid


class Source:
    """Where an import's files come from. The import calls `check` for each IMAGE value and,
    once every record passed, `publish` inside its transaction."""

    def __init__(self, data_dir: Path, project_id: int, limits: Limits, actor: int | None):
        self.data_dir, self.project_id, self.limits, self.actor = Path(data_dir), project_id, limits, actor
        self.staging = Staging(self.data_dir, limits)
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
                    raise Invalid(f"{self.dataset}: larger than {human_size(self.limits.max_bytes)}", field=self.dataset)
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
            raise Invalid(f"zip entry {name!r} is larger than {human_size(limits.max_file_bytes)} "
                          "(config media.max_file_bytes); nothing was imported", field=name)
        declared += info.file_size
        entries[path] = info
        if len(entries) > limits.max_files:
            raise Invalid(f"the zip holds more than {limits.max_files:,} files (config media.max_files)", field="body")
    if declared > limits.max_bytes:
        raise Invalid(f"the zip unpacks to more than {human_size(limits.max_bytes)} (config media.max_bytes)", field="body")
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
    source = ZipSource(upload, data_dir, project_id, limits, actor)
    try:
        if not source.staging.files:
            raise Invalid(f"the zip holds no image files ({', '.join(sorted(MEDIA_TYPES))})", field="body")
        with write_transaction():
            return source.staging.publish(source.data_dir, project_id, list(source.staging.files), actor)
    finally:
        source.close()
