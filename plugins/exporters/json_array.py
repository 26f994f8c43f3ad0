"""The JSON exporter: one array of rows, streamed in chunks of about 64 KiB."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import msgspec

from server.hookspecs import hookimpl
from server.plugin_types import Exporter

CHUNK_BYTES = 64 * 1024


class JsonArrayExporter(Exporter):
    name = "json"
    media_type = "application/json"
    suffix = ".json"

    def chunks(self, rows: Iterable[dict]) -> Iterator[bytes]:
        encoder = msgspec.json.Encoder()
        buffer = bytearray(b"[")
        for number, row in enumerate(rows):
            if number:
                buffer += b","
            encoder.encode_into(row, buffer, -1)
            if len(buffer) >= CHUNK_BYTES:
                yield bytes(buffer)
                buffer.clear()
        buffer += b"]"
        yield bytes(buffer)


@hookimpl
def quorum_exporters():
    return [JsonArrayExporter()]
