"""The CSV importer: a header row naming the fields, then one record per row, with numbers read as numbers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import IO, Any

from server.hookspecs import hookimpl
from server.plugin_types import Importer, ResponseInvalid

_NUMBER = re.compile(r"-?\d{1,15}(\.\d{1,17})?")   # at most 15 digits before the point: exact in any JSON client


def _value(cell: str) -> str | int | float:
    """A number when writing it back gives the same text, so "42" and "1.5" are numbers but "007" and "1.50" stay text."""
    if not _NUMBER.fullmatch(cell):
        return cell
    number = float(cell) if "." in cell else int(cell)
    return number if repr(number) == cell else cell


def _header(number: int, cells: list[str]) -> list[str]:
    names = [cell.strip() for cell in cells]
    for column, name in enumerate(names, 1):
        if not name:
            raise ResponseInvalid(f"row {number}", f"column {column} of the header has no name")
        if names.index(name) != column - 1:
            raise ResponseInvalid(f"row {number}", f"the header names {name!r} twice")
    return names


def _record(number: int, header: list[str], cells: list[str]) -> dict[str, Any]:
    if len(cells) > len(header):
        raise ResponseInvalid(f"row {number}", f"has {len(cells)} fields but the header names {len(header)}")
    return {name: _value(cell) for name, cell in zip(header, cells + [""] * (len(header) - len(cells)))}


class CsvImporter(Importer):
    name = "csv"
    media_types = ("text/csv",)
    suffixes = (".csv",)
    unit = "row"

    def read(self, stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
        """Rows are numbered as a spreadsheet shows them: the header is row 1, blank rows count but are skipped."""
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        number = 0
        header: list[str] | None = None
        try:
            for number, cells in enumerate(csv.reader(text, strict=True), 1):
                if not any(cells):
                    continue
                if header is None:
                    header = _header(number, cells)
                else:
                    yield number, _record(number, header, cells)
        except csv.Error as exc:
            raise ResponseInvalid(f"row {number + 1}", str(exc)) from None
        except UnicodeDecodeError:
            raise ResponseInvalid("body", "is not UTF-8 text; save the file as CSV UTF-8") from None
        finally:
            text.detach()   # the caller's stream stays open


@hookimpl
def quorum_importers():
    return [CsvImporter()]
