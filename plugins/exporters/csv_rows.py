"""The CSV exporter: a header from the first row's keys, one line per row, nested values written as JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from server.hookspecs import hookimpl
from server.plugin_types import Exporter

CHUNK_CHARS = 64 * 1024


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return msgspec.json.encode(value).decode()
    return "" if value is None else value


class CsvExporter(Exporter):
    name = "csv"
    media_type = "text/csv"
    suffix = ".csv"

    def chunks(self, rows: Iterable[dict]) -> Iterator[bytes]:
        """Keys the first row lacks are left out; a key a later row lacks gives an empty cell."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        header: list[str] | None = None
        for row in rows:
            if header is None:
                header = list(row)
                writer.writerow(header)
            writer.writerow([_cell(row.get(key)) for key in header])
            if buffer.tell() >= CHUNK_CHARS:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode()


@hookimpl
def quorum_exporters():
    return [CsvExporter()]
