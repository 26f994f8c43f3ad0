"""The JSON Lines importer: one record per line, streamed, blank lines skipped."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import IO, Any

import msgspec

from server.hookspecs import hookimpl
from server.plugin_types import Importer, ResponseInvalid


def _located(message: str, line: bytes) -> str:
    """msgspec's "… (byte 12)" becomes "… (column 13)"."""
    found = re.search(r"\(byte (\d+)\)$", message)
    if not found:
        return message
    column = len(line[: int(found.group(1))].decode("utf-8", "replace")) + 1
    return f"{message[: found.start()]}(column {column})"


class JsonLinesImporter(Importer):
    name = "jsonl"
    media_types = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines")
    suffixes = (".jsonl", ".ndjson")

    def read(self, stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
        for number, line in enumerate(stream, 1):
            if number == 1:
                line = line.removeprefix(codecs.BOM_UTF8)
            if not line.strip():
                continue
            try:
                record = msgspec.json.decode(line)
            except msgspec.DecodeError as exc:
                raise ResponseInvalid(f"line {number}", _located(str(exc), line)) from None
            except UnicodeDecodeError as exc:
                raise ResponseInvalid(f"line {number}", f"is not UTF-8 text ({exc.reason})") from None
            yield number, record


@hookimpl
def quorum_importers():
    return [JsonLinesImporter()]
