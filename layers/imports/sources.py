"""Read a source inventory: its columns at once, its rows a chunk at a time, as often as needed.

* Vector files through fiona (GDAL): Shapefile, GeoJSON, GeoPackage, FlatGeobuf
  and whatever else GDAL reads. KML and KMZ (Google Earth, 奥维 Ovi maps, a
  city's web map exports) through pyogrio, whose GDAL has the LIBKML and KML
  drivers (fiona's has neither): a placemark's name, description and
  ExtendedData values are columns; heights (z) are dropped. A Shapefile with a ``.cpg`` (or a code page in
  its DBF header) is decoded as it says; without either its text is tried as
  UTF-8, then GB18030 (a superset of GBK, what Chinese desktop GIS writes).
* CSV and XLSX tables (``layers.imports.tables``): encodings, delimiters,
  merged header cells.

An explicit encoding (``--encoding``, the mapping's ``encoding``) wins over the
detection. ``open_source`` reads what a file says about itself (columns, CRS,
encoding); ``Source.chunks`` reads its rows, a chunk at a time, so a file of
millions of rows is never held whole (an import reads it twice: to check, then
to write).
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from layers.imports.problems import InventoryImportError
from layers.log import logger

log = logger(__name__)

__all__ = ["SourceRow", "SourceChunk", "Layout", "Source", "open_source", "TABLE_SUFFIXES", "CHUNK_ROWS",
           "detect_dbf_encoding", "unique_names"]

#: Sources read as tables with coordinate columns.
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
#: Vector sources read through pyogrio (GDAL 3.12 with the LIBKML and KML drivers).
KML_SUFFIXES = (".kml", ".kmz")
#: Rows read at a time.
CHUNK_ROWS = 20_000


@dataclass(slots=True)
class SourceRow:
    """One row of a source: its number as the user finds it, its values by column, its geometry."""

    number: int
    values: dict[str, Any]
    geometry: Any = None


@dataclass
class SourceChunk:
    """Consecutive rows of a source, by column: their numbers, one list of values per column, and
    (vector files) one geometry per row (None where a row has none)."""

    numbers: list[int]
    columns: dict[str, list[Any]]
    geometries: list[Any] | None = None

    def __len__(self) -> int:
        return len(self.numbers)

    def rows(self) -> list[SourceRow]:
        names = list(self.columns)
        values = zip(*self.columns.values(), strict=True) if names else ([] for _ in self.numbers)
        geometries = self.geometries if self.geometries is not None else [None] * len(self.numbers)
        return [SourceRow(number, dict(zip(names, cells, strict=True)), geometry)
                for number, cells, geometry in zip(self.numbers, values, geometries, strict=True)]


#: Reads a source's rows: called with a chunk size, yields the chunks in order.
Reader = Callable[[int], Iterator[SourceChunk]]


@dataclass
class Layout:
    """What a source's start says: its columns, notes on how it was read, about how many rows it has
    (for progress; None when unknown before reading them), and the reader of its rows."""

    columns: list[str]
    reader: Reader
    notes: list[str] = field(default_factory=list)
    total: int | None = None


class Source:
    """A source file opened for reading: its columns and what was learned about it; its rows are read
    by ``chunks`` (from the file, each time), or all at once by ``rows`` (kept: previews, small files).

    Attributes
    ----------
    kind : str
        ``vector`` or ``table``.
    crs : str or None
        The file's own CRS (vector files that have one).
    encoding : str or None
        The text encoding used, when the reader chose one.

    The layout (``columns``, ``notes``, ``total``) is given, or made when first asked for by a
    function (a workbook read in the background: the caller gets on with other work meanwhile).
    """

    def __init__(self, path: Path, kind: str, layout: Layout | Callable[[], Layout], *, crs: str | None = None,
                 encoding: str | None = None) -> None:
        self.path = path
        self.kind = kind
        self.crs = crs
        self.encoding = encoding
        self._layout: Layout | None = layout if isinstance(layout, Layout) else None
        self._making = None if isinstance(layout, Layout) else layout

    @property
    def layout(self) -> Layout:
        if self._layout is None:
            assert self._making is not None
            self._layout = self._making()
        return self._layout

    @property
    def columns(self) -> list[str]:
        return self.layout.columns

    @property
    def notes(self) -> list[str]:
        return self.layout.notes

    @property
    def total(self) -> int | None:
        """About how many rows the file has (for progress), when that is known before reading them."""
        return self.layout.total

    def chunks(self, size: int | None = None) -> Iterator[SourceChunk]:
        """The rows, ``size`` at a time (default ``CHUNK_ROWS``; the last chunk fewer), read from the file."""
        return self.layout.reader(size or CHUNK_ROWS)

    @cached_property
    def rows(self) -> list[SourceRow]:
        """Every row, read once and kept."""
        return [row for chunk in self.chunks() for row in chunk.rows()]

    def head(self, count: int) -> list[SourceRow]:
        """The first ``count`` rows (without reading the others)."""
        if "rows" in self.__dict__:
            return self.rows[:count]
        rows: list[SourceRow] = []
        for chunk in self.chunks(min(count, CHUNK_ROWS) or 1):
            rows.extend(chunk.rows()[:count - len(rows)])
            if len(rows) >= count:
                break
        return rows

    def distinct_values(self, column: str, limit: int = 50) -> list[Any]:
        """The first ``limit`` different non-empty values of a column, in order of appearance."""
        seen: dict[str, Any] = {}
        for chunk in self.chunks():
            for value in chunk.columns.get(column, ()):
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                key = str(value).strip()
                if key not in seen:
                    seen[key] = value
                    if len(seen) >= limit:
                        return list(seen.values())
        return list(seen.values())


def open_source(path: str | Path, *, encoding: str | None = None, sheet: str | None = None,
                layer: str | None = None) -> Source:
    """Open a source file (a vector file or a CSV/XLSX table): its columns now, its rows when read.

    Raises
    ------
    InventoryImportError
        The file does not exist, cannot be read, or names a sheet or layer it does not have.
    """
    from layers.imports.tables import read_csv, read_xlsx

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
        return read_csv(path, encoding)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, sheet)
    if suffix == ".xls":
        raise InventoryImportError(f"{path}: old Excel files (.xls) are not read; save it as .xlsx and try again")
    if suffix in KML_SUFFIXES:
        return _read_kml(path, layer)
    return _read_vector(path, encoding, layer)


def unique_names(names: list[str]) -> list[str]:
    """Column names made unique: a repeated name gets `` (2)``, `` (3)`` ..."""
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
    try:
        with fiona.open(path, **options) as collection:
            columns = list(collection.schema["properties"])
            crs = collection.crs.to_string() if collection.crs else None
            try:
                total: int | None = len(collection)
            except Exception:  # a driver that cannot count without reading: no total
                total = None
    except Exception as e:
        raise InventoryImportError(f"{path}: cannot be read ({e})") from None

    def chunks(size: int) -> Iterator[SourceChunk]:
        numbers: list[int] = []
        properties: list[dict[str, Any]] = []
        shapes: list[Any] = []
        try:
            with fiona.open(path, **options) as collection:
                for number, feature in enumerate(collection, start=1):
                    geometry = feature.geometry
                    numbers.append(number)
                    properties.append(dict(feature.properties))
                    shapes.append(shapely.geometry.shape(geometry) if geometry is not None else None)
                    if len(numbers) >= size:
                        yield _vector_chunk(columns, numbers, properties, shapes)
                        numbers, properties, shapes = [], [], []
        except Exception as e:
            raise InventoryImportError(f"{path}: cannot be read ({e})") from None
        if numbers:
            yield _vector_chunk(columns, numbers, properties, shapes)

    return Source(path, "vector", Layout(columns, chunks, notes, total), crs=crs or None, encoding=encoding)


def _vector_chunk(columns: list[str], numbers: list[int], properties: list[dict[str, Any]],
                  shapes: list[Any]) -> SourceChunk:
    return SourceChunk(numbers, {c: [p.get(c) for p in properties] for c in columns}, shapes)


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
    shapes = list(shapes)

    def chunks(size: int) -> Iterator[SourceChunk]:  # a KML file is read whole by GDAL: it is kept
        for start in range(0, count, size):
            yield SourceChunk(list(range(start + 1, min(start + size, count) + 1)),
                              {c: lists[c][start:start + size] for c in columns}, shapes[start:start + size])

    crs = meta.get("crs") or "EPSG:4326"  # KML is WGS84 longitude, latitude by definition
    return Source(path, "vector", Layout(columns, chunks, [], count), crs=crs, encoding="utf-8")


_LAUNDER = "LIBKML_LAUNDER_FIELD_NAMES"
_KML_STYLING = frozenset({"altitudeMode", "tessellate", "extrude", "visibility", "drawOrder", "icon"})
_KML_STANDARD = frozenset({"id", "Name", "description", "timestamp", "begin", "end"})


def _kml_value(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value != value:  # nan: no value
        return None
    return value
