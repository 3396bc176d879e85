"""Read a source inventory into columns and rows.

* Vector files through fiona (GDAL): Shapefile, GeoJSON, GeoPackage, FlatGeobuf
  and whatever else GDAL reads. KML and KMZ (Google Earth, 奥维 Ovi maps, a
  city's web map exports) through pyogrio, whose GDAL has the LIBKML and KML
  drivers (fiona's has neither): a placemark's name, description and
  ExtendedData values are columns; heights (z) are dropped. A Shapefile with a ``.cpg`` (or a code page in
  its DBF header) is decoded as it says; without either its text is tried as
  UTF-8, then GB18030 (a superset of GBK, what Chinese desktop GIS writes).
* CSV tables: UTF-8 (with or without BOM), else GB18030; the delimiter is the
  one of ``, ; tab |`` found most in the header line.
* XLSX workbooks through python-calamine: header cells merged across columns (a
  group such as 坐标 over 经度 and 纬度) or rows are unmerged, a title row
  merged across the whole width above the header is skipped; dates stay dates,
  whole numbers are integers (Excel keeps every number as a double).

An explicit encoding (``--encoding``, the mapping's ``encoding``) wins over the
detection.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layers.imports.problems import InventoryImportError
from layers.log import logger

log = logger(__name__)

__all__ = ["SourceRow", "Source", "open_source", "TABLE_SUFFIXES", "detect_dbf_encoding"]

#: Sources read as tables with coordinate columns.
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
#: Vector sources read through pyogrio (GDAL 3.12 with the LIBKML and KML drivers).
KML_SUFFIXES = (".kml", ".kmz")


@dataclass(slots=True)
class SourceRow:
    """One row of a source: its number as the user finds it, its values by column, its geometry."""

    number: int
    values: dict[str, Any]
    geometry: Any = None


@dataclass
class Source:
    """A source read into memory: columns in order, rows, and what was learned about the file."""

    path: Path
    kind: str                      # "vector" or "table"
    columns: list[str]
    rows: list[SourceRow]
    crs: str | None = None         # the file's own CRS (vector files that have one)
    encoding: str | None = None    # the text encoding used, when the reader chose one
    notes: list[str] = field(default_factory=list)

    def distinct_values(self, column: str, limit: int = 50) -> list[Any]:
        """The first ``limit`` different non-empty values of a column, in order of appearance."""
        seen: dict[str, Any] = {}
        for row in self.rows:
            value = row.values.get(column)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            key = str(value).strip()
            if key not in seen:
                seen[key] = value
                if len(seen) >= limit:
                    break
        return list(seen.values())


def open_source(path: str | Path, *, encoding: str | None = None, sheet: str | None = None,
                layer: str | None = None) -> Source:
    """Read a source file (a vector file or a CSV/XLSX table).

    Raises
    ------
    InventoryImportError
        The file does not exist, cannot be read, or names a sheet or layer it does not have.
    """
    path = Path(path)
    if not path.exists():
        raise InventoryImportError(f"{path}: no such file")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InventoryImportError(f"unknown encoding {encoding!r} (e.g. utf-8, gbk, gb18030)") from None
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _read_csv(path, encoding)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if suffix == ".xls":
        raise InventoryImportError(f"{path}: old Excel files (.xls) are not read; save it as .xlsx and try again")
    if suffix in KML_SUFFIXES:
        return _read_kml(path, layer)
    return _read_vector(path, encoding, layer)


# --- vector files ------------------------------------------------------------------------------


def detect_dbf_encoding(dbf: Path) -> str | None:
    """The encoding of a Shapefile's DBF without a ``.cpg``: None when GDAL knows it
    (a code page in the header), else ``utf-8`` when its text decodes as UTF-8, else ``gb18030``."""
    data = dbf.read_bytes()
    if len(data) < 32:
        return None
    if data[29] != 0:  # language driver id: GDAL decodes by it
        return None
    header_length = struct.unpack_from("<H", data, 8)[0]
    names = b"".join(data[offset:offset + 11].split(b"\0", 1)[0]
                     for offset in range(32, max(header_length - 1, 32), 32))
    text = names + data[header_length:]
    if text.isascii():
        return None
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _read_vector(path: Path, encoding: str | None, layer: str | None) -> Source:
    import fiona
    import shapely.geometry

    notes: list[str] = []
    if encoding is None and path.suffix.lower() in (".shp", ".dbf"):
        shp = path.with_suffix(".shp")
        has_cpg = any(shp.with_suffix(s).exists() for s in (".cpg", ".CPG"))
        dbf = next((d for d in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if d.exists()), None)
        if not has_cpg and dbf is not None:
            encoding = detect_dbf_encoding(dbf)
            if encoding is not None:
                notes.append(f"no .cpg beside the Shapefile: its text was read as {encoding.upper()} "
                             "(give --encoding if that is wrong)")
    try:
        layers = fiona.listlayers(path)
    except Exception as e:  # fiona raises its own errors, DriverError among them
        raise InventoryImportError(f"{path}: not a file GDAL can read ({e})") from None
    if layer is None:
        if len(layers) > 1:
            raise InventoryImportError(f"{path} has {len(layers)} layers ({', '.join(layers)}): "
                                       "name one with source_layer in the mapping")
        layer = layers[0] if layers else None
    elif layer not in layers:
        raise InventoryImportError(f"{path}: no layer {layer!r} (layers: {', '.join(layers)})")
    options: dict[str, Any] = {"layer": layer}
    if encoding is not None:
        options["encoding"] = encoding
    rows: list[SourceRow] = []
    try:
        with fiona.open(path, **options) as collection:
            columns = list(collection.schema["properties"])
            crs = collection.crs.to_string() if collection.crs else None
            for number, feature in enumerate(collection, start=1):
                geometry = feature.geometry
                shape = shapely.geometry.shape(geometry) if geometry is not None else None
                rows.append(SourceRow(number, dict(feature.properties), shape))
    except InventoryImportError:
        raise
    except Exception as e:
        raise InventoryImportError(f"{path}: cannot be read ({e})") from None
    return Source(path, "vector", columns, rows, crs=crs or None, encoding=encoding, notes=notes)


def _read_kml(path: Path, layer: str | None) -> Source:
    """A KML or KMZ file through pyogrio: each folder is a layer; a file with one folder needs no name."""
    import pyogrio
    import shapely

    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as e:  # pyogrio raises DataSourceError and others
        raise InventoryImportError(f"{path}: not a KML file GDAL can read ({e})") from None
    with_features = []
    for name in layers:
        try:
            if pyogrio.read_info(path, layer=name)["features"]:
                with_features.append(name)
        except Exception:  # a folder GDAL cannot describe has nothing to import
            continue
    if layer is None:
        if len(with_features) > 1:
            raise InventoryImportError(f"{path} has {len(with_features)} folders with placemarks "
                                       f"({', '.join(with_features)}): name one with source_layer in the mapping")
        if not with_features:
            raise InventoryImportError(f"{path}: no placemarks")
        layer = with_features[0]
    elif layer not in layers:
        raise InventoryImportError(f"{path}: no layer {layer!r} (layers: {', '.join(layers)})")
    launder = pyogrio.get_gdal_config_option(_LAUNDER)
    # LIBKML turns ExtendedData names such as 状态 into '___' unless told not to.
    pyogrio.set_gdal_config_options({_LAUNDER: "NO"})
    try:
        meta, _, wkb, values = pyogrio.raw.read(path, layer=layer)
    except Exception as e:
        raise InventoryImportError(f"{path}: cannot be read ({e})") from None
    finally:
        pyogrio.set_gdal_config_options({_LAUNDER: launder})
    names = [str(c) for c in meta["fields"]]
    count = len(wkb) if wkb is not None else len(values[0]) if len(values) else 0
    shapes = shapely.force_2d(shapely.from_wkb(wkb)) if wkb is not None else [None] * count
    lists = {name: [_kml_value(v) for v in column.tolist()] for name, column in zip(names, values, strict=True)}
    # LIBKML's own columns (styling, empty time spans) are left out unless a placemark has a value there.
    columns = [name for name in names if name not in _KML_STYLING
               and (name not in _KML_STANDARD or any(v is not None for v in lists[name]))]
    rows = []
    for index, shape in enumerate(shapes):
        rows.append(SourceRow(index + 1, {c: lists[c][index] for c in columns}, shape))
    crs = meta.get("crs") or "EPSG:4326"  # KML is WGS84 longitude, latitude by definition
    return Source(path, "vector", columns, rows, crs=crs, encoding="utf-8")


_LAUNDER = "LIBKML_LAUNDER_FIELD_NAMES"
_KML_STYLING = frozenset({"altitudeMode", "tessellate", "extrude", "visibility", "drawOrder", "icon"})
_KML_STANDARD = frozenset({"id", "Name", "description", "timestamp", "begin", "end"})


def _kml_value(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value != value:  # nan: no value
        return None
    return value


# --- CSV ---------------------------------------------------------------------------------------


def _decode(data: bytes, encoding: str | None, path: Path) -> tuple[str, str]:
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as e:
            raise InventoryImportError(f"{path}: not {encoding} text (byte {e.start})") from None
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(candidate), "utf-8" if candidate == "utf-8-sig" else candidate
        except UnicodeDecodeError:
            continue
    raise InventoryImportError(f"{path}: neither UTF-8 nor GB18030 text; give --encoding")


def _read_csv(path: Path, encoding: str | None) -> Source:
    text, used = _decode(path.read_bytes(), encoding, path)
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t|", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise InventoryImportError(f"{path}: empty file (no header line)")
    columns = _unique([h.strip() or f"column {i + 1}" for i, h in enumerate(header)])
    rows: list[SourceRow] = []
    width = len(columns)
    for line, record in enumerate(reader, start=2):
        cells = [cell.strip() or None for cell in record]
        if not any(cells):
            continue
        if len(cells) < width:
            cells += [None] * (width - len(cells))
        rows.append(SourceRow(line, dict(zip(columns, cells, strict=False))))
    return Source(path, "table", columns, rows, encoding=used)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for name in names:
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        result.append(name)
    return result


# --- XLSX --------------------------------------------------------------------------------------


def _read_xlsx(path: Path, sheet: str | None) -> Source:
    """A workbook's sheet through python-calamine (Rust: a 200,000-row sheet in seconds, where openpyxl's
    full load takes a minute); its merged cells shape the header as described in the module notes."""
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own errors for damaged or encrypted files
        raise InventoryImportError(f"{path}: not a workbook that can be read ({e})") from None
    try:
        if sheet is not None:
            if sheet not in workbook.sheet_names:
                raise InventoryImportError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(workbook.sheet_names)})")
            worksheet = workbook.get_sheet_by_name(sheet)
        else:
            worksheet = workbook.get_sheet_by_index(0)
        title = worksheet.name
        table: list[list[Any]] = [[_xlsx_value(v) for v in row] for row in worksheet.to_python(skip_empty_area=False)]
        merged = [(r0 + 1, c0 + 1, r1 + 1, c1 + 1) for (r0, c0), (r1, c1) in (worksheet.merged_cell_ranges or [])]
    finally:
        workbook.close()
    width = max((len(row) for row in table), default=0)
    if width == 0:
        raise InventoryImportError(f"{path}: sheet {title!r} is empty")
    grid: dict[tuple[int, int], Any] = {}
    for min_row, min_col, max_row, max_col in merged:
        value = _cell(table, min_row, min_col)
        for r in range(min_row, max_row + 1):
            for c in range(min_col, max_col + 1):
                grid[(r, c)] = value

    def cell(r: int, c: int) -> Any:
        return grid[(r, c)] if (r, c) in grid else _cell(table, r, c)

    # The first row with a value is where the sheet starts.
    top = next((i + 1 for i, row in enumerate(table) if any(v is not None for v in row)), 1)
    # A title merged across the whole width (e.g. 锦江区公厕台账) sits above the header: skip it.
    while any(m[0] == top and m[2] == top and m[1] <= 1 and m[3] >= width and width > 1 for m in merged):
        top += 1
    # The header is as deep as the merged cells that start on its first row.
    bottom = max([m[2] for m in merged if m[0] == top] + [top])
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
    names = ["/".join(parts) if names[i] in duplicated and parts else names[i] for i, parts in enumerate(paths)]
    columns = _unique(names)
    rows: list[SourceRow] = []
    for r in range(bottom + 1, len(table) + 1):
        record = table[r - 1]
        if all(v is None for v in record):
            continue
        rows.append(SourceRow(r, dict(zip(columns, record, strict=False))))
    notes = [f"header: rows {top}-{bottom} of sheet {title!r}"] if bottom > top else []
    return Source(path, "table", columns, rows, notes=notes)


def _cell(table: list[list[Any]], r: int, c: int) -> Any:
    row = table[r - 1] if 0 < r <= len(table) else ()
    return row[c - 1] if 0 < c <= len(row) else None


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
