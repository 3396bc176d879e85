"""CSV and XLSX tables read a chunk of rows at a time (see ``layers.imports.sources``).

* CSV: UTF-8 (with or without BOM), else GB18030; the whole file is checked to
  decode once when it is opened (a pass over its bytes that keeps nothing), then
  read row by row as often as an import needs. The delimiter is the one of
  ``, ; tab |`` found most in the header line.
* XLSX through python-calamine: header cells merged across columns (a group
  such as 坐标 over 经度 and 纬度) or rows are unmerged, a title row merged
  across the whole width above the header is skipped; dates stay dates, whole
  numbers are integers (Excel keeps every number as a double). Calamine reads a
  sheet whole (its cells, compactly, outside Python); the rows become Python
  values a chunk at a time.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from layers.imports.problems import InventoryImportError
from layers.imports.sources import Layout, Source, SourceChunk, unique_names

__all__ = ["read_csv", "read_xlsx"]

_BLOCK = 1 << 20  # bytes decoded at a time when a CSV file is checked


# --- CSV ---------------------------------------------------------------------------------------


class _NotDecoded(Exception):
    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


def _check_decoding(path: Path, encoding: str) -> int:
    """The number of line ends of the file, once all of it is found to decode as ``encoding``.

    Raises ``_NotDecoded`` with the offset of the first byte that does not.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = consumed = 0
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            waiting = len(decoder.getstate()[0])  # bytes of a character begun in the block before
            try:
                decoder.decode(block)
            except UnicodeDecodeError as e:
                raise _NotDecoded(consumed - waiting + e.start) from None
            consumed += len(block)
            lines += block.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as e:
            raise _NotDecoded(consumed - len(e.object) + e.start) from None
    return lines


def _csv_encoding(path: Path, encoding: str | None) -> tuple[str, str, int]:
    """(the encoding to read with, the encoding to report, line ends in the file)."""
    if encoding is not None:
        try:
            return encoding, encoding, _check_decoding(path, encoding)
        except _NotDecoded as e:
            raise InventoryImportError(f"{path}: not {encoding} text (byte {e.offset})") from None
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            lines = _check_decoding(path, candidate)
        except _NotDecoded:
            continue
        return candidate, "utf-8" if candidate == "utf-8-sig" else candidate, lines
    raise InventoryImportError(f"{path}: neither UTF-8 nor GB18030 text; give --encoding")


def read_csv(path: Path, encoding: str | None) -> Source:
    """A CSV file: its header read now, its rows when a chunk is asked for."""
    codec, used, lines = _csv_encoding(path, encoding)
    with path.open(encoding=codec, newline="") as f:
        first = f.readline().split("\n", 1)[0]
        f.seek(0)
        delimiter = max(",;\t|", key=first.count)
        header = next(csv.reader(f, delimiter=delimiter), None)
    if not header:
        raise InventoryImportError(f"{path}: empty file (no header line)")
    columns = unique_names([h.strip() or f"column {i + 1}" for i, h in enumerate(header)])

    def chunks(size: int) -> Iterator[SourceChunk]:
        with path.open(encoding=codec, newline="") as f:
            reader = csv.reader(f, delimiter=delimiter)
            next(reader, None)  # the header
            line = 2  # the row's number: the header is 1 (rows spanning lines count as one)
            while records := list(itertools.islice(reader, size)):
                yield _csv_chunk(columns, records, line)
                line += len(records)

    return Source(path, "table", Layout(columns, chunks, [], max(lines - 1, 0)), encoding=used)


def _csv_chunk(columns: list[str], records: list[list[str]], first_line: int) -> SourceChunk:
    """Records as a chunk: cells stripped (empty: None), short records padded, rows with no value left out."""
    width = len(columns)
    if set(map(len, records)) != {width}:
        records = [r[:width] if len(r) >= width else r + [""] * (width - len(r)) for r in records]
    cells = [_stripped(column) for column in zip(*records, strict=True)]
    return _without_empty_rows(columns, list(range(first_line, first_line + len(records))), cells)


def _stripped(column: Sequence[str]) -> list[str | None]:
    """Cells without surrounding spaces, empty ones None."""
    cells: list[str | None] = list(map(str.strip, column))
    if "" in cells:
        cells = [c or None for c in cells]
    return cells


def _without_empty_rows(columns: list[str], numbers: list[int], cells: list[list[Any]]) -> SourceChunk:
    """A chunk of the rows that hold a value (by column: ``cells``, one list per column)."""
    empty = [i for i, v in enumerate(cells[0]) if v is None] if cells and None in cells[0] else []
    for column in cells[1:]:
        if not empty:
            break
        empty = [i for i in empty if column[i] is None]
    if empty:
        keep = sorted(set(range(len(numbers))) - set(empty))
        numbers = [numbers[i] for i in keep]
        cells = [[column[i] for i in keep] for column in cells]
    return SourceChunk(numbers, dict(zip(columns, cells, strict=True)) if cells else {})


# --- XLSX --------------------------------------------------------------------------------------


def read_xlsx(path: Path, sheet: str | None) -> Source:
    """A workbook's sheet through python-calamine (Rust: a 200,000-row sheet in about a second, where openpyxl's
    full load takes a minute); its merged cells shape the header as described in the module notes.

    Calamine reads the sheet in a background thread (it lets go of the interpreter while it
    does): the source is returned at once, and its columns are there when first asked for.
    """
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own errors for damaged or encrypted files
        raise InventoryImportError(f"{path}: not a workbook that can be read ({e})") from None
    if sheet is not None and sheet not in workbook.sheet_names:
        names = ", ".join(workbook.sheet_names)
        workbook.close()
        raise InventoryImportError(f"{path}: no sheet {sheet!r} (sheets: {names})")
    read = threading.Event()
    outcome: list[Layout | BaseException] = []

    def load() -> None:
        try:
            try:
                worksheet = workbook.get_sheet_by_name(sheet) if sheet is not None else workbook.get_sheet_by_index(0)
            except Exception as e:
                raise InventoryImportError(f"{path}: not a workbook that can be read ({e})") from None
            finally:
                workbook.close()  # the sheet's cells are read: the sheet keeps them
            outcome.append(_sheet_layout(path, worksheet))
        except BaseException as e:  # handed to the thread that asks for the layout
            outcome.append(e)
        finally:
            read.set()

    def layout() -> Layout:
        read.wait()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    threading.Thread(target=load, name="tongcheng-read-xlsx", daemon=True).start()
    return Source(path, "table", layout)


def _sheet_layout(path: Path, worksheet: Any) -> Layout:
    """A sheet's columns (its header found as the module notes say) and the reader of its rows."""
    title = worksheet.name
    # Rows come from the sheet's first row but only from its first column with a value:
    # ``left`` empty cells put each row back in place (column A is 1, as Excel numbers them).
    left = worksheet.start[1] if worksheet.start else 0
    width = worksheet.end[1] + 1 if worksheet.end else 0
    if width == 0 or worksheet.height == 0:
        raise InventoryImportError(f"{path}: sheet {title!r} is empty")
    merged = [(r0 + 1, c0 + 1, r1 + 1, c1 + 1) for (r0, c0), (r1, c1) in (worksheet.merged_cell_ranges or [])]

    def rows() -> Iterator[list[Any]]:
        pad = [None] * left
        for row in worksheet.iter_rows():
            yield [*pad, *map(_xlsx_value, row)]

    # The first row with a value is where the sheet starts.
    top = next((i for i, row in enumerate(rows(), start=1) if any(v is not None for v in row)), 1)
    # A title merged across the whole width (e.g. 锦江区公厕台账) sits above the header: skip it.
    while any(m[0] == top and m[2] == top and m[1] <= 1 and m[3] >= width and width > 1 for m in merged):
        top += 1
    # The header is as deep as the merged cells that start on its first row.
    bottom = max([m[2] for m in merged if m[0] == top] + [top])
    head = list(itertools.islice(rows(), bottom))
    names = _header_names(head, merged, top, bottom, width)
    columns = unique_names(names)

    def chunks(size: int) -> Iterator[SourceChunk]:
        records = itertools.islice(worksheet.iter_rows(), bottom, None)
        line = bottom + 1  # the row's number as Excel shows it
        while batch := list(itertools.islice(records, size)):
            if len(set(map(len, batch))) > 1:  # calamine's rows are as wide as the sheet: this is a safeguard
                longest = max(map(len, batch))
                batch = [[*row, *[""] * (longest - len(row))] for row in batch]
            cells = [[None] * len(batch) for _ in range(left)]
            cells += [_xlsx_column(column) for column in zip(*batch, strict=True)]
            cells += [[None] * len(batch) for _ in range(width - len(cells))]
            yield _without_empty_rows(columns, list(range(line, line + len(batch))), cells)
            line += len(batch)

    notes = [f"header: rows {top}-{bottom} of sheet {title!r}"] if bottom > top else []
    total = max((worksheet.end[0] + 1 if worksheet.end else 0) - bottom, 0)
    return Layout(columns, chunks, notes, total)


def _header_names(head: list[list[Any]], merged: list[tuple[int, int, int, int]], top: int, bottom: int,
                  width: int) -> list[str]:
    """The column names: per column the header cells from ``top`` to ``bottom``, merged cells unmerged."""
    grid: dict[tuple[int, int], Any] = {}
    for min_row, min_col, max_row, max_col in merged:
        if min_row > bottom:
            continue
        value = _cell(head, min_row, min_col)
        for r in range(min_row, max_row + 1):
            for c in range(min_col, max_col + 1):
                grid[(r, c)] = value

    def cell(r: int, c: int) -> Any:
        return grid[(r, c)] if (r, c) in grid else _cell(head, r, c)

    paths: list[list[str]] = []
    for c in range(1, width + 1):
        parts: list[str] = []
        for r in range(top, bottom + 1):
            value = cell(r, c)
            text = str(value).strip() if value is not None else ""
            if text and (not parts or parts[-1] != text):
                parts.append(text)
        paths.append(parts)
    names = [parts[-1] if parts else f"column {_column_letter(c + 1)}" for c, parts in enumerate(paths)]
    duplicated = {n for n in names if names.count(n) > 1}
    return ["/".join(parts) if names[i] in duplicated and parts else names[i] for i, parts in enumerate(paths)]


def _cell(table: Sequence[Sequence[Any]], r: int, c: int) -> Any:
    row = table[r - 1] if 0 < r <= len(table) else ()
    return row[c - 1] if 0 < c <= len(row) else None


def _xlsx_column(column: Sequence[Any]) -> list[Any]:
    """A column of cells as ``_xlsx_value`` reads each, text and numbers a column at a time."""
    classes = set(map(type, column))
    if classes == {str}:
        return _stripped(column)
    if classes == {float}:
        numbers = np.fromiter(column, dtype=np.float64, count=len(column))
        whole = (numbers == np.floor(numbers)) & (np.abs(numbers) < 2 ** 53)
        if whole.all():
            return numbers.astype(np.int64).tolist()
        if not whole.any():
            return list(column)
    return list(map(_xlsx_value, column))


def _xlsx_value(value: Any) -> Any:
    """A cell as the import reads it: text stripped (empty: None), whole numbers as int, dates as dates."""
    if value.__class__ is str:
        return value.strip() or None
    if value.__class__ is float and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def _column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
