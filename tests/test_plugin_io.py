"""The built-in importers and exporters: round trips, numbered errors, CSV values, and streaming large files."""

from __future__ import annotations

import io
from collections.abc import Iterator

import msgspec
import pytest

from plugins.exporters.csv_rows import CsvExporter
from plugins.exporters.json_array import JsonArrayExporter
from plugins.exporters.jsonl import JsonLinesExporter
from plugins.importers.csv_rows import CsvImporter
from plugins.importers.json_array import JsonArrayImporter
from plugins.importers.jsonl import JsonLinesImporter
from server.plugin_types import ResponseInvalid
from server.plugins import build_registry, make_manager

ROWS = [
    {"id": "IMG001", "link": "images/img-001.png", "label": "Diagrams", "votes": {"Diagrams": 2}, "tags": ["a", "b"]},
    {"id": "IMG002", "link": "images/img-002.png", "label": "Infographics, maybe", "votes": {}, "tags": []},
    {"id": "IMG003", "link": "images/ünïcode.png", "label": "line one\nline two", "votes": None, "tags": None},
]


def export(exporter, rows) -> bytes:
    return b"".join(exporter.chunks(rows))


def records(importer, data: bytes) -> list:
    return list(importer.read(io.BytesIO(data)))


def error(importer, data: bytes) -> ResponseInvalid:
    with pytest.raises(ResponseInvalid) as caught:
        records(importer, data)
    return caught.value


def test_registry_picks_the_importer_by_media_type_or_file_name():
    registry = build_registry(make_manager(entry_points=False))
    assert registry.importer_for("application/json; charset=utf-8").name == "json"
    assert registry.importer_for("application/x-ndjson").name == "jsonl"
    assert registry.importer_for("", "Dataset.NDJSON").name == "jsonl"
    assert registry.importer_for("application/octet-stream", "items.csv").name == "csv"
    assert sorted(registry.exporters) == ["csv", "json", "jsonl"]


@pytest.mark.parametrize(
    ("exporter", "importer", "nothing"),
    [(JsonArrayExporter(), JsonArrayImporter(), b"[]"), (JsonLinesExporter(), JsonLinesImporter(), b"")],
)
def test_json_formats_round_trip(exporter, importer, nothing):
    assert records(importer, export(exporter, ROWS)) == [(1, ROWS[0]), (2, ROWS[1]), (3, ROWS[2])]
    assert export(exporter, []) == nothing
    assert records(importer, nothing) == []


def test_json_array_reads_a_file_on_disk(tmp_path):
    path = tmp_path / "items.json"
    path.write_bytes(export(JsonArrayExporter(), ROWS))
    with path.open("rb") as stream:
        assert [record for _, record in JsonArrayImporter().read(stream)] == ROWS
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    with empty.open("rb") as stream, pytest.raises(ResponseInvalid):
        list(JsonArrayImporter().read(stream))


def test_json_array_error_gives_the_line():
    data = b'[\n  {"id": 1},\n  {"id": 2},\n  {"id" 3}\n]\n'
    problem = error(JsonArrayImporter(), data)
    assert problem.field == "body"
    assert "line 4, column 9" in problem.message
    assert "truncated" in error(JsonArrayImporter(), b'[{"id": 1},').message


def test_json_array_needs_an_array():
    problem = error(JsonArrayImporter(), b'{"id": 1}')
    assert (problem.field, problem.message) == ("body", "expected a JSON array of records, got object")


def test_json_array_names_the_item_that_cannot_be_read():
    problem = error(JsonArrayImporter(), b'[{"id": 1}, {"id": "\xff"}]')
    assert problem.field == "item 2"
    assert "UTF-8" in problem.message


def test_byte_order_mark_is_ignored():
    bom = b"\xef\xbb\xbf"
    assert records(JsonArrayImporter(), bom + b'[{"id": 1}]') == [(1, {"id": 1})]
    assert records(JsonLinesImporter(), bom + b'{"id": 1}\n') == [(1, {"id": 1})]
    assert records(CsvImporter(), bom + b"id,link\n1,a.png\n") == [(2, {"id": 1, "link": "a.png"})]


def test_jsonl_numbers_records_by_line_and_skips_blank_lines():
    data = b'{"id": 1}\n\n   \n{"id": 2}\r\n{"id": 3}'
    assert records(JsonLinesImporter(), data) == [(1, {"id": 1}), (4, {"id": 2}), (5, {"id": 3})]


def test_jsonl_error_names_the_line():
    problem = error(JsonLinesImporter(), b'{"id": 1}\n{"id": 2}\n{"id": 3,}\n{"id": 4}\n')
    assert problem.field == "line 3"
    assert "trailing comma in object (column 10)" in problem.message
    assert error(JsonLinesImporter(), b'{"id": 1}\n{"id": "\xff"}\n').field == "line 2"


def test_jsonl_streams_a_large_file(tmp_path):
    path = tmp_path / "big.jsonl"
    with path.open("wb") as out:
        for chunk in JsonLinesExporter().chunks({"id": n, "link": f"images/{n}.png"} for n in range(200_000)):
            out.write(chunk)
    with path.open("rb") as stream:
        count = sum(1 for _ in JsonLinesImporter().read(stream))
    assert count == 200_000


def test_csv_reads_numbers_but_keeps_ids_as_written():
    data = (
        "id,count,ratio,code,big,price,version,note,empty\n"
        "1,42,1.5,007,12345678901234567,-3.25,1.10,1e5,\n"
    ).encode()
    [(number, record)] = records(CsvImporter(), data)
    assert number == 2
    assert record == {
        "id": 1, "count": 42, "ratio": 1.5, "code": "007", "big": "12345678901234567",
        "price": -3.25, "version": "1.10", "note": "1e5", "empty": "",
    }


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them():
    data = b'id,text\n1,"two\nlines"\n\n,\n2,"a, b"\n3\n'
    assert records(CsvImporter(), data) == [
        (2, {"id": 1, "text": "two\nlines"}),
        (5, {"id": 2, "text": "a, b"}),
        (6, {"id": 3, "text": ""}),
    ]


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (b"id,link\n1,a.png\n2,b.png,extra\n", "row 3", "has 3 fields but the header names 2"),
        (b"id,,link\n1,2,3\n", "row 1", "column 2 of the header has no name"),
        (b"id,link,id\n1,2,3\n", "row 1", "names 'id' twice"),
        (b'id,link\n1,"a.png\n2,b.png\n', "row 2", "unexpected end of data"),
        (b'id,link\n1,a.png\n2,"b"c\n', "row 3", "',' expected after '\"'"),
        (b"id,link\n1,caf\xe9\n", "body", "not UTF-8"),
    ],
)
def test_csv_errors_name_the_row(data, field, words):
    problem = error(CsvImporter(), data)
    assert problem.field == field
    assert words in problem.message


def test_csv_leaves_the_upload_stream_open():
    stream = io.BytesIO(b"id\n1\n")
    list(CsvImporter().read(stream))
    assert not stream.closed


def test_csv_export_takes_the_header_from_the_first_row_and_writes_nested_values_as_json():
    rows = [{"id": "IMG001", "votes": {"Diagrams": 2}, "tags": ["a"]}, {"id": "IMG002", "extra": 1}]
    text = export(CsvExporter(), rows).decode()
    assert text.splitlines() == ["id,votes,tags", 'IMG001,"{""Diagrams"":2}","[""a""]"', "IMG002,,"]


def test_csv_round_trips_text_with_commas_quotes_and_newlines():
    rows = [{"id": "IMG001", "label": 'say "hi", then\nleave', "note": "ünïcode"}]
    assert records(CsvImporter(), export(CsvExporter(), rows)) == [(2, rows[0])]


@pytest.mark.parametrize("exporter", [JsonArrayExporter(), JsonLinesExporter(), CsvExporter()])
def test_exports_stream_before_the_rows_run_out(exporter):
    produced = 0

    def rows() -> Iterator[dict]:
        nonlocal produced
        for n in range(50_000):
            produced += 1
            yield {"id": f"IMG{n:06}", "label": "Graphs and Charts", "agreement": 0.5}

    chunks = exporter.chunks(rows())
    first = next(chunks)
    assert 0 < produced < 50_000
    whole = first + b"".join(chunks)
    assert produced == 50_000
    if exporter.name == "json":
        assert len(msgspec.json.decode(whole)) == 50_000
    else:
        assert whole.count(b"\n") == 50_000 + (exporter.name == "csv")
