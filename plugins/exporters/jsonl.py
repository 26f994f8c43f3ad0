"""The JSON Lines exporter: one row per line, streamed in chunks of about 64 KiB."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import msgspec

from server.hookspecs import hookimpl
from server.plugin_types import Exporter

CHUNK_BYTES = 64 * 1024


class JsonLinesExporter(Exporter):
    name = "jsonl"
    media_type = "application/x-ndjson"
    suffix = ".jsonl"

    def chunks(self, rows: Iterable[dict]) -> Iterator[bytes]:
        encoder = msgspec.json.Encoder()
        buffer = bytearray()
        for row in rows:
            encoder.encode_into(row, buffer, -1)
            buffer += b"\n"
            if len(buffer) >= CHUNK_BYTES:
                yield bytes(buffer)
                buffer.clear()
        if buffer:
            yield bytes(buffer)


@hookimpl
def quorum_exporters():
    return [JsonLinesExporter()]
