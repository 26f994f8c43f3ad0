"""The JSON importer: one array of records, decoded item by item without a second copy of the file in memory."""

from __future__ import annotations

import codecs
import mmap
import re
from collections.abc import Iterator
from typing import IO, Any

import msgspec

from server.hookspecs import hookimpl
from server.plugin_types import Importer, ResponseInvalid


def _contents(stream: IO[bytes]) -> memoryview:
    """The bytes from the stream's position on: mapped when a file is behind the stream, else read once.

    The map is not closed by hand: the items' raw JSON points into it, and it goes with the last of them.
    """
    try:
        mapped = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    except (AttributeError, OSError, ValueError):   # no file (BytesIO), not mappable (a pipe), or empty
        return memoryview(stream.read())
    return memoryview(mapped)[stream.tell():]


def _located(message: str, contents: memoryview) -> str:
    """msgspec's "… (byte 812)" becomes "… (line 31, column 7)"."""
    found = re.search(r"\(byte (\d+)\)$", message)
    if not found:
        return message
    before = contents[: int(found.group(1))].tobytes()
    line_start = before.rfind(b"\n") + 1
    line = before.count(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", "replace")) + 1
    return f"{message[: found.start()]}(line {line}, column {column})"


class JsonArrayImporter(Importer):
    name = "json"
    media_types = ("application/json",)
    suffixes = (".json",)
    unit = "item"

    def read(self, stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
        contents = _contents(stream)
        if contents[:3] == codecs.BOM_UTF8:
            contents = contents[3:]
        try:
            items = msgspec.json.decode(contents, type=list[msgspec.Raw])
        except msgspec.ValidationError as exc:
            got = re.search(r"got `(\w+)`", str(exc))
            raise ResponseInvalid("body", f"expected a JSON array of records, got {got.group(1) if got else exc}") from None
        except msgspec.DecodeError as exc:
            raise ResponseInvalid("body", _located(str(exc), contents)) from None
        for number, item in enumerate(items, 1):
            try:
                record = msgspec.json.decode(item)
            except msgspec.DecodeError as exc:   # well-formed but out of range, like 1e999
                raise ResponseInvalid(f"item {number}", str(exc)) from None
            except UnicodeDecodeError as exc:
                raise ResponseInvalid(f"item {number}", f"is not UTF-8 text ({exc.reason})") from None
            yield number, record


@hookimpl
def quorum_importers():
    return [JsonArrayImporter()]
