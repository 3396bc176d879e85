"""Partner export: a workspace or a master to GeoPackage, GeoJSON, CSV, FlatGeobuf or Shapefile.

What partners get: per facility layer the ``uuid`` (a stable identifier: the
same toilet has the same uuid in every export, so a partner can match next
month's file to this one and report a feature back to us unambiguously) and
the definition's fields, values and Chinese text as stored.  Tongcheng's
bookkeeping is left out: the master's and packages' own tables, the
workspace's tracking tables, and the audit columns (``created_by``,
``modified_by`` name staff members, which partners have no need for; ask for
them with ``keep_audit``).

GeoPackage output is written by ``layers.geopackage.gpkg`` (valid against GDAL's strict
validator): geometries of a source in the same CRS are copied as they are
(a master's GeoPackage geometry, a workspace's through SpatiaLite's
``AsGPB``), with the spatial index and extents built at the end; each layer
gets its QGIS default style (categorized by the style field, zh_CN labels and
field aliases) in ``layer_styles``, and the file gets its lineage (source,
time, filter, CRS, counts, tool version) as JSON in ``gpkg_metadata``.  Other
formats go through fiona; formats with one layer per file (all but GPKG)
write ``OUT/<layer>.<ext>`` when several layers are exported.  GeoJSON is
written in EPSG:4326 unless another CRS is asked for (RFC 7946).  CSV has a
UTF-8 byte-order mark (Excel) and X/Y columns for points, WKT otherwise.
Shapefile names longer than 10 characters are shortened (the mapping is
returned) and the .cpg says UTF-8.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import sqlite3
import uuid as uuid_module
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely

from layers import __version__
from layers.crs.epsg import epsg_crs
from layers.errors import ExpressionError, GeoPackageError, SyncError, TongchengError
from layers.geopackage import Column, LayerSchema, envelopes, gpb_wkb, open_geopackage
from layers.log import logger
from layers.schema.definitions import LayerDefinition
from layers.schema.expressions import compile_filter
from layers.sync.checkout import SETTINGS
from layers.sync.master import read_master_info, recover
from layers.sync.rows import AUDIT_COLUMNS

__all__ = ["FORMATS", "ExportResult", "export"]

log = logger(__name__)

#: Output formats: name -> (fiona driver, file extension, layers per file).
FORMATS = {
    "GPKG": ("GPKG", ".gpkg", None),
    "GeoJSON": ("GeoJSON", ".geojson", 1),
    "CSV": ("CSV", ".csv", 1),
    "FlatGeobuf": ("FlatGeobuf", ".fgb", 1),
    "ESRI Shapefile": ("ESRI Shapefile", ".shp", 1),
}
_ALIASES = {"gpkg": "GPKG", "geopackage": "GPKG", "geojson": "GeoJSON", "json": "GeoJSON", "csv": "CSV",
            "flatgeobuf": "FlatGeobuf", "fgb": "FlatGeobuf", "esri shapefile": "ESRI Shapefile",
            "shapefile": "ESRI Shapefile", "shp": "ESRI Shapefile"}
_FIONA_TYPES = {"text": "str", "photo": "str", "json": "str", "integer": "int", "real": "float",
                "boolean": "bool", "date": "date", "datetime": "datetime"}
_GEOMETRY_NAMES = {"POINT": "Point", "LINESTRING": "LineString", "MULTILINESTRING": "MultiLineString",
                   "MULTIPOINT": "MultiPoint", "POLYGON": "Polygon", "MULTIPOLYGON": "MultiPolygon"}
_CHUNK = 20_000

#: Per layer the SQL condition of the filter ("" for none) and its parameters.
Filter = tuple[str, Sequence[Any]]
#: Called with the number of features just written.
Advance = Callable[[int], None]
LINEAGE_URI = "https://tongcheng.invalid/lineage/1"
#: The column of the photos' relative paths in exports other than GeoPackage (``photos/<sha256>.jpg;...``).
PHOTO_COLUMN = "photo_files"


@dataclass
class ExportResult:
    """What :func:`export` wrote.

    Attributes
    ----------
    source : Path
    kind : 'master' or 'workspace'
    format : str
    crs : str
    files : list of Path
    layers : dict of str to int
        Features written per layer.
    renamed : dict
        Shapefile only: ``{layer: {field: short name}}`` for shortened names.
    """

    source: Path
    kind: str
    format: str
    crs: str
    files: list[Path] = field(default_factory=list)
    layers: dict[str, int] = field(default_factory=dict)
    renamed: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Photo links written (GeoPackage: related tables; other formats: files named by hash).
    photos: int = 0


def _format_name(fmt: str | None, out: str | os.PathLike[str]) -> str:
    if fmt is None:
        suffix = Path(out).suffix.lower()
        for name, (_, ext, _) in FORMATS.items():
            if suffix == ext or (suffix == ".json" and name == "GeoJSON"):
                return name
        return "GPKG"
    alias = _ALIASES.get(str(fmt).lower())
    if alias is None:
        raise SyncError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    return alias


class _Source:
    """A workspace or a master, read layer by layer as raw rows."""

    connection: sqlite3.Connection
    definitions: Mapping[str, LayerDefinition]
    identity: dict[str, Any]

    def __init__(self, path: str | os.PathLike[str], stack: ExitStack) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SyncError(f"{self.path}: no such file")
        with open(self.path, "rb") as f:
            header = f.read(100)
        if not header.startswith(b"SQLite format 3\x00"):
            raise SyncError(f"{self.path}: neither a Tongcheng workspace nor a master (not an SQLite file)")
        app_id = int.from_bytes(header[68:72], "big") if len(header) >= 72 else 0
        if app_id == 0x47504B47:
            recover(self.path)
            self.gp = stack.enter_context(open_geopackage(self.path))
            self.info = read_master_info(self.gp)
            self.kind = "master"
            self.connection = self.gp.connection
            self.definitions = self.info.definitions
            self.available = list(self.info.layers)
            self.srid = self.info.srid
            self.geometry_sql = '"geom"'
            self.identity = {"master_id": self.info.master_id, "master_version": self.info.version}
        else:
            from layers.workspace.store import Workspace

            self.ws = stack.enter_context(Workspace.open(self.path))
            self.kind = "workspace"
            self.connection = self.ws.connection
            self.definitions = self.ws.definitions
            self.available = list(self.definitions)
            self.srid = self.ws.srid
            self.geometry_sql = "AsGPB(geom)"
            self.identity = {"workspace_id": self.ws.id}
            master_id = self.ws.setting(SETTINGS["master_id"])
            if master_id:
                version = self.ws.setting(SETTINGS["version"])
                if version is None:
                    raise SyncError(f"{self.path}: checked out from master {master_id} but has no master version")
                self.identity.update(master_id=master_id, master_version=int(version))

    def default_layers(self) -> list[str]:
        return [n for n in self.available if not self.definitions[n].survey and not self.definitions[n].reference]

    def count(self, layer: str, where: str, parameters: Sequence[Any]) -> int:
        sql = f'SELECT count(*) FROM "{layer}"' + (f" WHERE {where}" if where else "")
        count: int = self.connection.execute(sql, parameters).fetchone()[0]
        return count

    def rows(self, layer: str, columns: Sequence[str], where: str,
             parameters: Sequence[Any]) -> Iterator[list[tuple[Any, ...]]]:
        """Chunks of (fid, GPB geometry, *columns)."""
        names = ", ".join(f'"{c}"' for c in columns)
        sql = (f'SELECT fid, {self.geometry_sql}, {names} FROM "{layer}"'
               + (f" WHERE {where}" if where else "") + " ORDER BY fid")
        cursor = self.connection.execute(sql, parameters)
        while True:
            chunk = cursor.fetchmany(_CHUNK)
            if not chunk:
                return
            yield chunk


def _transformer(src_srid: int, crs: str | int | None) -> tuple[pyproj.Transformer | None, int]:
    if crs is None:
        return None, src_srid
    srid, target = epsg_crs(crs, SyncError)
    if srid == src_srid:
        return None, srid
    return pyproj.Transformer.from_crs(pyproj.CRS.from_epsg(src_srid), target, always_xy=True), srid


def _reproject(geoms: Sequence[Any], transformer: pyproj.Transformer | None) -> np.ndarray:
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    if transformer is None:
        return arr

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    moved: np.ndarray = shapely.transform(arr, move)
    return moved


def _output_paths(out: str | os.PathLike[str], fmt: str, layers: Sequence[str]) -> dict[str, Path]:
    """Per layer the file to write (GPKG: one file for all)."""
    folder = Path(out)
    ext = FORMATS[fmt][1]
    if fmt == "GPKG":
        return {layer: folder for layer in layers}
    if len(layers) == 1 and folder.suffix.lower() in (ext, ".json" if fmt == "GeoJSON" else ext):
        return {layers[0]: folder}
    return {layer: folder / f"{layer}{ext}" for layer in layers}


def export(source: str | os.PathLike[str], out: str | os.PathLike[str], *, layers: Iterable[str] | None = None,
           where: str | None = None, crs: str | int | None = None, fmt: str | None = None, keep_audit: bool = False,
           language: str = "zh_CN", progress: Callable[[int, int], object] | None = None,
           profile: str | None = None) -> ExportResult:
    """Export facility layers of a workspace or master for partners.

    Parameters
    ----------
    source : path-like
        A Tongcheng workspace (SpatiaLite) or master (GeoPackage).
    out : path-like
        The file to write (GPKG; or for one layer in another format), or a
        folder (several layers in a one-layer-per-file format).
    layers : iterable of str, optional
        Layers to export (default: the facility layers).
    where : str, optional
        A filter expression (``layers.schema.expressions``: ``status = '在用' AND
        seats_male >= 4``) on the layers' fields and ``uuid``; values become
        SQL parameters, unknown fields are refused.
    crs : str, optional
        Output CRS (``EPSG:n``); default the source's (GeoJSON: EPSG:4326).
    fmt : str, optional
        One of :data:`FORMATS` (default: from *out*'s extension, else GPKG).
    keep_audit : bool
        Keep the audit columns (left out by default).
    language : str
        Language of the style labels and aliases.
    progress : callable(done, total), optional
    profile : str, optional
        ``standard``: the component layers under the national standard's
        column names and codes (``layers.sync.profile``).

    Returns
    -------
    ExportResult

    Raises
    ------
    SyncError, GeoPackageError, WorkspaceError, ExpressionError
        Naming the file, layer or expression at fault; nothing is written.
    """
    if profile is not None:
        from layers.sync.profile import export_profile

        return export_profile(source, out, profile=profile, layers=layers, where=where, crs=crs, fmt=fmt,
                              language=language, progress=progress)
    fmt = _format_name(fmt, out)
    log.info("exporting %s to %s as %s", source, out, fmt)
    if fmt == "GeoJSON" and crs is None:
        crs = "EPSG:4326"
    with ExitStack() as stack:
        src = _Source(source, stack)
        chosen = list(layers) if layers else src.default_layers()
        for name in chosen:
            if name not in src.available:
                raise SyncError(f"{src.path}: no layer {name!r} (layers: {', '.join(src.available)})")
        transformer, srid = _transformer(src.srid, crs)
        filters: dict[str, Filter] = {}
        for name in chosen:
            definition = src.definitions[name]
            if where:
                try:
                    compiled = compile_filter(where, ("uuid", *definition.field_names))
                except ExpressionError as exc:
                    raise ExpressionError(f"filter {where!r}, layer {name!r}: {exc}") from None
                filters[name] = (compiled.sql, compiled.parameters)
            else:
                filters[name] = ("", ())
        counts = {name: src.count(name, *filters[name]) for name in chosen}
        total = sum(counts.values())
        result = ExportResult(Path(source), src.kind, fmt, f"EPSG:{srid}")
        paths = _output_paths(out, fmt, chosen)
        lineage = {
            "source": str(Path(source).absolute()), "source_kind": src.kind, **src.identity,
            "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "filter": where, "crs": f"EPSG:{srid}", "layers": counts, "audit_columns": keep_audit,
            "tool": f"tongcheng {__version__}",
        }
        state = {"done": 0}

        def advance(n: int) -> None:
            state["done"] += n
            if progress:
                progress(state["done"], total)

        if fmt == "GPKG":
            _export_gpkg(src, paths[chosen[0]] if chosen else Path(out), chosen, filters, transformer, srid,
                         keep_audit, language, lineage, advance, result)
        else:
            _export_fiona(src, paths, fmt, chosen, filters, transformer, srid, keep_audit, advance, result)
        result.layers = counts
    return result


def _columns(definition: LayerDefinition, keep_audit: bool) -> list[str]:
    return ["uuid", *definition.field_names, *(AUDIT_COLUMNS if keep_audit else ())]


def _export_gpkg(src: _Source, out: Path, chosen: Sequence[str], filters: Mapping[str, Filter],
                 transformer: pyproj.Transformer | None, srid: int, keep_audit: bool, language: str,
                 lineage: Mapping[str, Any], advance: Advance, result: ExportResult) -> None:
    from layers.geopackage import encode_gpb
    from layers.geopackage.styles import layer_qml, layer_sld

    if out.exists() and out.is_dir():
        raise SyncError(f"{out}: is a folder; give a .gpkg file name")
    if out.exists() and out.resolve() == src.path.resolve():
        raise SyncError(f"{out}: the output cannot be the source")
    with open_geopackage(out, "w") as gp:
        # A big page cache: the spatial index built at the end then stays in memory (the
        # default 2 MB makes SQLite's R*Tree thrash on a million features).
        gp.connection.execute("PRAGMA cache_size = -524288")
        gp.add_srs(srid)
        for name in chosen:
            definition = src.definitions[name]
            columns = _columns(definition, keep_audit)
            types = {f.name: f.sql_type for f in definition.fields}
            schema = LayerSchema(
                name, tuple(Column(c, types.get(c, "DATETIME" if c.endswith("_at") else "TEXT"),
                                   not_null=c == "uuid") for c in columns),
                geometry_type=definition.geometry_type, srs_id=srid,
                identifier=definition.title(language), description=definition.title("en"))
            gp.create_layer(schema)
            names = ["fid", "geom", *columns]
            sql = (f'INSERT INTO "{name}" ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)}) '
                   f"VALUES ({', '.join('?' * len(names))})")
            parts = []
            for chunk in src.rows(name, columns, *filters[name]):
                if transformer is not None:
                    geoms = shapely.from_wkb(np.array([gpb_wkb(r[1]) for r in chunk], dtype=object))
                    moved = _reproject(list(geoms), transformer)
                    chunk = [(r[0], encode_gpb(g, srid), *r[2:]) for r, g in zip(chunk, moved, strict=True)]
                try:
                    gp.connection.executemany(sql, chunk)
                except sqlite3.Error as exc:
                    raise GeoPackageError(f"{out}: writing layer {name!r}: {exc}") from None
                parts.append(envelopes(chunk))
                advance(len(chunk))
            gp.pack_spatial_index(name, parts)
            gp.add_style(name, name[:30], layer_qml(definition, language, columns),
                         sld=layer_sld(definition, language), description=definition.title(language),
                         owner="tongcheng")
        result.photos = _export_gpkg_photos(src, gp.connection, chosen, filters)
        gp.add_metadata(json.dumps(lineage, ensure_ascii=False, indent=1), md_scope="dataset",
                        standard_uri=LINEAGE_URI, mime_type="application/json")
    result.files.append(out)


def _photo_uuids(src: _Source, chosen: Sequence[str], filters: Mapping[str, Filter]) -> set[str] | None:
    """The uuids of the features exported (None: every feature of the chosen layers)."""
    if not any(filters[name][0] for name in chosen):
        return None
    uuids: set[str] = set()
    for name in chosen:
        where, parameters = filters[name]
        uuids.update(r[0] for r in src.connection.execute(
            f'SELECT uuid FROM "{name}"' + (f" WHERE {where}" if where else ""), parameters))
    return uuids


def _layers_with_photos(src: _Source, chosen: Sequence[str]) -> list[str]:
    """The chosen layers whose features have photos in the source."""
    from layers.media.tables import mapping_table, media_layers

    linked = media_layers(src.connection)
    return [name for name in chosen if name in linked and src.connection.execute(
        f'SELECT 1 FROM "{mapping_table(name)}" LIMIT 1').fetchone()]


def _export_gpkg_photos(src: _Source, target: sqlite3.Connection, chosen: Sequence[str],
                        filters: Mapping[str, Filter]) -> int:
    """The exported features' photos as related tables (OGC 18-000); returns the links written."""
    from layers.media.tables import copy_photos

    with_photos = _layers_with_photos(src, chosen)
    if not with_photos:
        return 0
    linked, _ = copy_photos(src.connection, target, with_photos, geopackage=True,
                            uuids=_photo_uuids(src, with_photos, filters))
    return linked


def _short_names(columns: Iterable[str]) -> dict[str, str]:
    """Shapefile field names: at most 10 characters, unique."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for c in columns:
        short = c[:10]
        n = 1
        while short.lower() in used:
            suffix = f"_{n}"
            short = c[:10 - len(suffix)] + suffix
            n += 1
        used.add(short.lower())
        out[c] = short
    return out


def _export_fiona(src: _Source, paths: Mapping[str, Path], fmt: str, chosen: Sequence[str],
                  filters: Mapping[str, Filter], transformer: pyproj.Transformer | None, srid: int,
                  keep_audit: bool, advance: Advance, result: ExportResult) -> None:
    import fiona
    from fiona.crs import CRS

    driver = FORMATS[fmt][0]
    # Every file is written into a staging folder beside the output and moved into place when all
    # are complete: an interrupted or failed export leaves neither half files nor an empty folder,
    # and the previous output stays until the new one is whole.
    targets = sorted({p.parent for p in paths.values()})
    # The output as named: the one file, or the folder of several.
    home = Path(os.path.commonpath([str(p.absolute()) for p in paths.values()])) if paths else Path(".").absolute()
    _remove_stale_staging(home)
    base = home.parent
    if not base.is_dir():
        raise SyncError(f"{home}: folder {base} does not exist")
    staging = base / f".{home.name}.{uuid_module.uuid4().hex[:12]}.tmp"
    created: list[Path] = []
    current: Path = home
    try:
        staging.mkdir()
        # Photos: files named by hash in a folder beside the layer files, a column of relative paths.
        photo_layers = _layers_with_photos(src, chosen)
        photo_folder = "photos" if len(paths) > 1 else f"{paths[chosen[0]].stem}_photos" if chosen else ""
        for name in chosen:
            definition = src.definitions[name]
            columns = _columns(definition, keep_audit)
            photo_paths = _photo_files(src, name, staging / photo_folder, photo_folder,
                                       _photo_uuids(src, [name], filters), result) if name in photo_layers else None
            if photo_paths is not None:
                columns = [*columns, PHOTO_COLUMN]
            kinds = {f.name: _FIONA_TYPES[f.type] for f in definition.fields}
            kinds = {k: _field_type(driver, v) for k, v in kinds.items()}
            names = _short_names(columns) if fmt == "ESRI Shapefile" else {c: c for c in columns}
            renamed = {c: s for c, s in names.items() if c != s}
            if renamed:
                result.renamed[name] = renamed
            properties = {names[c]: kinds.get(c, "str") for c in columns}
            if fmt == "ESRI Shapefile":  # DBF widths are bytes: 3 per Chinese character in UTF-8
                properties = {k: ("str:254" if v == "str" else v) for k, v in properties.items()}
            schema = {"geometry": _GEOMETRY_NAMES[definition.geometry_type], "properties": properties}
            current = paths[name]
            path = staging / paths[name].name
            options: dict[str, str] = {}
            if fmt == "CSV":
                options = {"GEOMETRY": "AS_XY" if definition.geometry_type == "POINT" else "AS_WKT",
                           "WRITE_BOM": "YES", "CREATE_CSVT": "YES"}
            elif fmt == "GeoJSON":
                options = {"WRITE_BBOX": "YES"}
            booleans = {c for c in columns if kinds.get(c) == "bool"}
            with fiona.open(path, "w", driver=driver, schema=schema, crs=CRS.from_epsg(srid),
                            encoding="utf-8", **options) as dst:
                for chunk in src.rows(name, [c for c in columns if c != PHOTO_COLUMN], *filters[name]):
                    if photo_paths is not None:
                        chunk = [(*r, photo_paths.get(r[2])) for r in chunk]  # r[2]: the uuid
                    geoms = shapely.from_wkb(np.array([gpb_wkb(r[1]) for r in chunk], dtype=object))
                    geoms = _reproject(list(geoms), transformer)
                    records = []
                    for r, g in zip(chunk, geoms, strict=True):
                        props: dict[str, Any] = {}
                        for c, v in zip(columns, r[2:], strict=True):
                            props[names[c]] = bool(v) if c in booleans and v is not None else v
                        records.append(fiona.Feature.from_dict(
                            geometry=shapely.geometry.mapping(g) if g is not None else None,
                            properties=props))
                    dst.writerecords(records)
                    advance(len(chunk))
        for target in targets:
            if not target.exists():
                target.mkdir(parents=True)
                created.append(target)
        for name in chosen:
            current = paths[name]
            if paths[name].exists():
                _remove_output(paths[name], fmt)
            stem = paths[name].with_suffix("").name
            for made in sorted(staging.iterdir()):
                if made.with_suffix("").name == stem:
                    os.replace(made, paths[name].parent / made.name)
            result.files.append(paths[name])
        if photo_layers and (staging / photo_folder).is_dir():
            folder = paths[chosen[0]].parent / photo_folder
            folder.mkdir(exist_ok=True)
            for made in sorted((staging / photo_folder).iterdir()):
                os.replace(made, folder / made.name)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(exc, TongchengError) or not isinstance(exc, Exception):
            raise
        if isinstance(exc, OSError):
            raise SyncError(f"{exc.filename or current}: cannot write {fmt}: {exc.strerror or exc}") from exc
        text = str(exc).split(" Failed to write record")[0]  # fiona adds the whole record
        raise SyncError(f"{current}: cannot write {fmt}: {text} (is the disk full or the folder read-only?); "
                        "nothing was written") from exc
    shutil.rmtree(staging, ignore_errors=True)


def _photo_files(src: _Source, layer: str, folder: Path, relative: str, uuids: set[str] | None,
                 result: ExportResult) -> dict[str, str]:
    """Write a layer's photos into *folder* as files named by hash; per uuid its photos' relative paths."""
    from layers.media.content import hash_file_name
    from layers.media.tables import media_data, photo_links

    folder.mkdir(exist_ok=True)
    found: dict[str, list[str]] = {}
    for link in photo_links(src.connection, layer=layer):
        if uuids is not None and link.uuid not in uuids:
            continue
        name = hash_file_name(link.sha256, link.content_type)
        target = folder / name
        if not target.exists():
            data = media_data(src.connection, link.sha256)
            if data is None:
                continue
            target.write_bytes(data)
        found.setdefault(link.uuid, []).append(f"{relative}/{name}")
        result.photos += 1
    return {uuid: ";".join(names) for uuid, names in found.items()}


def _remove_stale_staging(home: Path) -> None:
    """Remove the staging folders a killed export of *home* left beside it."""
    try:
        stale = [p for p in home.parent.glob(f".{home.name}.*.tmp")
                 if p.is_dir() and len(p.name) == len(home.name) + 18]
    except OSError:
        return
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)


def _field_type(driver: str, kind: str) -> str:
    """The fiona type to write: dates and times the driver cannot store go as ISO text."""
    from fiona import drvsupport

    if kind in ("date", "datetime") and (
            not drvsupport._driver_supports_field(driver, kind)
            or drvsupport._driver_converts_field_type_silently_to_str(driver, kind)):
        return "str"
    return kind


def _remove_output(path: str | os.PathLike[str], fmt: str) -> None:
    path = Path(path)
    if fmt == "ESRI Shapefile":
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix"):
            path.with_suffix(ext).unlink(missing_ok=True)
    elif fmt == "CSV":
        path.unlink(missing_ok=True)
        path.with_suffix(".csvt").unlink(missing_ok=True)
    else:
        path.unlink(missing_ok=True)
