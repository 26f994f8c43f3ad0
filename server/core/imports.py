"""Dataset import: detect fields, map them to input entities, insert items all or nothing.

Records stream from an importer plugin one at a time; rows go to the database in
chunks inside one transaction, so an error anywhere leaves nothing behind and memory
stays flat however large the file. Re-importing an external id is skipped, not duplicated.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import msgspec

from server import plugins
from server.core import events, media as media_files, projects
from server.db import database, is_sqlite, write_transaction
from server.errors import Invalid
from server.models import Project, Task
from server.plugin_types import InputEntity, ResponseInvalid

ID_FIELDS = ("id", "ext_id", "external_id")
SAMPLE = 1000
CHUNK = 5000
MAX_ERRORS = 20
IMAGE_RE = re.compile(r"\.(png|jpe?g|gif|webp|bmp|svg|tiff?)(\?.*)?$", re.IGNORECASE)
URL_RE = re.compile(r"^https?://", re.IGNORECASE)


class FieldInfo(msgspec.Struct, kw_only=True):
    name: str
    type: str              # IMAGE, URL, TEXT, NUMBER, BOOLEAN, JSON
    filled: int            # records in the sample that have a value
    examples: list[Any] = []


class Detection(msgspec.Struct, kw_only=True):
    fields: list[FieldInfo]
    sampled: int
    id_field: str | None
    input_map: dict[str, str]
    unmapped: list[str] = []    # input entities no field could be found for


class ImportResult(msgspec.Struct, kw_only=True):
    created: int
    duplicates: int
    total: int
    id_field: str
    input_map: dict[str, str]
    seconds: float
    media: media_files.Stored | None = None    # files stored with the import (a zip or --media)


def value_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, (int, float)):
        return "NUMBER"
    if isinstance(value, str):
        if IMAGE_RE.search(value.strip()) and " " not in value.strip():
            return "IMAGE"
        if URL_RE.match(value):
            return "URL"
        return "TEXT"
    return "JSON"


def detect(records: Iterator[tuple[int, Any]], inputs: list[InputEntity],
           id_field: str | None = None, input_map: dict[str, str] | None = None) -> Detection:
    """Look at the first records: each field's type, an id field, and a field per input entity."""
    seen: dict[str, dict[str, int]] = {}
    examples: dict[str, list] = {}
    filled: dict[str, int] = {}
    sampled = 0
    for _, record in records:
        if not isinstance(record, dict):
            continue
        sampled += 1
        for name, value in record.items():
            if value is None or value == "":
                seen.setdefault(name, {})
                continue
            kinds = seen.setdefault(name, {})
            kinds[value_type(value)] = kinds.get(value_type(value), 0) + 1
            filled[name] = filled.get(name, 0) + 1
            if len(examples.setdefault(name, [])) < 3:
                examples[name].append(value if not isinstance(value, str) else value[:200])
        if sampled >= SAMPLE:
            break
    fields = [FieldInfo(name=n, type=_dominant(k), filled=filled.get(n, 0), examples=examples.get(n, []))
              for n, k in seen.items()]
    chosen_id = id_field or guess_id_field([f.name for f in fields])
    mapping = dict(input_map or {})
    unmapped = []
    for entity in inputs:
        if entity.name in mapping:
            continue
        match = _field_for(entity, fields, chosen_id, set(mapping.values()))
        if match:
            mapping[entity.name] = match
        else:
            unmapped.append(entity.name)
    return Detection(fields=fields, sampled=sampled, id_field=chosen_id, input_map=mapping, unmapped=unmapped)


def _dominant(kinds: dict[str, int]) -> str:
    if not kinds:
        return "TEXT"
    if set(kinds) <= {"IMAGE", "URL"} and "IMAGE" in kinds:
        return "IMAGE"
    return max(kinds.items(), key=lambda kv: kv[1])[0]


def guess_id_field(names: list[str]) -> str | None:
    for candidate in ID_FIELDS:
        if candidate in names:
            return candidate
    suffixed = [n for n in names if n.endswith("_id")]
    return suffixed[0] if len(suffixed) == 1 else None


def _field_for(entity: InputEntity, fields: list[FieldInfo], id_field: str | None, taken: set[str]) -> str | None:
    names = {f.name: f for f in fields}
    if entity.name in names:
        return entity.name
    candidates = [f for f in fields if f.name != id_field and f.name not in taken
                  and (f.type == entity.type or (entity.type == "URL" and f.type == "IMAGE"))]
    if len(candidates) >= 1 and entity.type == "IMAGE":
        return candidates[0].name
    return candidates[0].name if len(candidates) == 1 else None


@dataclass
class _Errors:
    unit: str
    items: list[dict] = field(default_factory=list)

    def add(self, number: int, field_name: str, message: str) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append({self.unit: number, "field": field_name, "message": message})

    def raise_if_any(self, total: int) -> None:
        if self.items:
            first = self.items[0]
            more = f" (and {len(self.items) - 1} more shown in `errors`)" if len(self.items) > 1 else ""
            raise Invalid(f"{self.unit} {first[self.unit]}: field `{first['field']}`: {first['message']}{more}; "
                          f"nothing was imported", field=first["field"], errors=self.items, records=total)


def open_records(path: Path, media_type: str = "", filename: str = ""):
    """(importer, a function giving a fresh record iterator over the file)."""
    importer = plugins.registry().importer_for(media_type, filename or path.name)

    def records():
        with open(path, "rb") as stream:
            yield from importer.read(stream)
    return importer, records


def import_file(project: Project, path: Path, *, media_type: str = "", filename: str = "",
                id_field: str | None = None, input_map: dict[str, str] | None = None,
                actor: int | None = None, progress=None, media: media_files.Source | None = None) -> ImportResult:
    """Import a stored upload: detect what is not given, then insert every record or none.
    With `media`, every IMAGE value that is a relative path must be a file it has (or the project has)."""
    try:
        importer, records = open_records(path, media_type, filename)
    except LookupError as exc:
        raise Invalid(str(exc), field="Content-Type") from exc
    rt = projects.runtime(project)
    mapping = input_map or project.input_map or None
    try:
        detection = detect(records(), rt.inputs, id_field or project.id_field or None, mapping)
    except ResponseInvalid as exc:
        raise Invalid(f"{exc.field}: {exc.message}; nothing was imported", field=exc.field) from exc
    if detection.sampled == 0:
        raise Invalid("the upload holds no records", field="body")
    if not detection.id_field:
        raise Invalid("no id field found: name one with id_field (looked for "
                      f"{', '.join(ID_FIELDS)} or a single *_id field among: "
                      f"{', '.join(f.name for f in detection.fields)})", field="id_field")
    if detection.unmapped:
        raise Invalid(f"no field for input {', '.join(detection.unmapped)}: map it with input_map "
                      f"(fields: {', '.join(f.name for f in detection.fields)})", field="input_map")
    known = {f.name for f in detection.fields}
    for entity, source in detection.input_map.items():
        if source not in known:
            raise Invalid(f"input_map: field {source!r} for input {entity!r} is not in the data", field="input_map")
    return _insert(project, records(), importer.unit, detection.id_field, detection.input_map, actor, progress,
                   media, media_files.image_fields(rt.inputs, detection.input_map))


def _insert(project: Project, records, unit: str, id_field: str, mapping: dict[str, str],
            actor: int | None, progress, media=None, image_fields: list[str] = ()) -> ImportResult:
    started = time.perf_counter()
    errors = _Errors(unit)
    encode = msgspec.json.encode
    required = list(mapping.values())
    now = time.time()
    sql = _insert_sql()
    total = 0
    with write_transaction():
        before = Task.select().where(Task.project == project).count()
        chunk: list[tuple] = []
        cursor = database.cursor()
        try:
            for number, record in records:
                total += 1
                if not isinstance(record, dict):
                    errors.add(number, "record", f"expected an object, got {type(record).__name__}")
                    continue
                ext_id = record.get(id_field)
                if ext_id is None or ext_id == "" or isinstance(ext_id, (dict, list, bool)):
                    errors.add(number, id_field, "missing id" if ext_id in (None, "") else "id must be a string or number")
                    continue
                for source in required:
                    if record.get(source) in (None, ""):
                        errors.add(number, source, "missing value")
                for source in image_fields if media is not None else ():
                    if problem := media.check(record.get(source)):
                        errors.add(number, source, problem)
                ext_id = str(ext_id)
                if errors.items:
                    continue
                # a repeated external id, in this file or from an earlier import, is skipped by
                # ON CONFLICT DO NOTHING: no set of every id held in memory
                chunk.append((project.id, ext_id, encode(record).decode(), now, now))
                if len(chunk) >= CHUNK:
                    _flush(cursor, sql, chunk)
                    chunk.clear()
                    if progress:
                        progress(total)
        except ResponseInvalid as exc:
            errors.add(_number_in(exc.field, total + 1), exc.field, exc.message)
        errors.raise_if_any(total)
        if chunk:
            _flush(cursor, sql, chunk)
        stored = media.publish() if media is not None else None
        created = Task.select().where(Task.project == project).count() - before
        Project.update(id_field=id_field, input_map=mapping).where(Project.id == project.id).execute()
        events.record("items.imported", actor=actor, project=project.id, created=created,
                      duplicates=total - created, records=total, id_field=id_field)
    if progress:
        progress(total)
    project.id_field, project.input_map = id_field, mapping
    projects.forget(project.id)
    return ImportResult(created=created, duplicates=total - created, total=total, id_field=id_field,
                        input_map=mapping, seconds=round(time.perf_counter() - started, 3), media=stored)


def _number_in(field_name: str, fallback: int) -> int:
    match = re.search(r"\d+", field_name or "")
    return int(match.group()) if match else fallback


# A new item: live, not yet in a batch (every NOT NULL column is spelled out: the schema has no SQL defaults).
FIXED = "'live', 'unbatched', 0, 0, 0, 0, 'initial', '', 1"


def _insert_sql() -> str:
    """SQLite takes executemany with `?` rows; PostgreSQL one multi-row VALUES per chunk."""
    values = f"(?, ?, ?, ?, ?, {FIXED})" if is_sqlite() else "%s"
    return ("INSERT INTO task (project_id, ext_id, data, created_at, updated_at, kind, status, open_slots, "
            f"claimable, queue_rank, responses_count, phase, explanation, made_in_version) VALUES {values} "
            "ON CONFLICT (project_id, ext_id) DO NOTHING")


def _flush(cursor, sql: str, rows: list[tuple]) -> None:
    if is_sqlite():
        cursor.executemany(sql, rows)
    else:
        from psycopg2.extras import execute_values

        execute_values(cursor, sql, rows, template=f"(%s, %s, %s, %s, %s, {FIXED})", page_size=1000)


def store_upload(chunks, directory: Path, suffix: str) -> Path:
    """Write an upload's byte chunks to a file under `directory` and return its path."""
    import uuid

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}{suffix}"
    with open(path, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    return path
