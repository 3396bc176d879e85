"""Export to one-layer-per-file formats (GeoJSON, CSV, FlatGeobuf, Shapefile) through fiona.

Each layer file gets its ``.qml`` style beside it (same base name: QGIS
applies it on open), CSV its ``.csvt``; the export gets ``code_lists.csv`` and
``fields.csv``.  Everything is written into one staging folder and moved into
place at the end (``layers.sync.exporting.staging``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from layers.errors import SyncError, TongchengError
from layers.geopackage.styles import layer_qml
from layers.sync.exporting.formats import (
    FORMATS,
    GEOMETRY_NAMES,
    SHAPEFILE_TEXT_BYTES,
    column_kinds,
    converter,
    csvt_line,
    fiona_type,
    sidecar_suffixes,
    stored_type,
)
from layers.sync.exporting.naming import CODE_LISTS, FIELDS, Layout, short_names
from layers.sync.exporting.photos import PHOTO_COLUMN, layers_with_photos, photo_files, photo_uuids
from layers.sync.exporting.source import Geometries, Source, decimals_of
from layers.sync.exporting.staging import check_target, publish_files, publish_folder, staging_folder
from layers.sync.exporting.tables import CODE_COLUMNS, FIELD_COLUMNS, code_rows, field_rows, write_csv

__all__ = ["FileExport", "write_files"]

Filter = tuple[str, Sequence[Any]]


class FileExport:
    """What :func:`write_files` did: per layer the shortened names, the photo links, values it had to cut."""

    def __init__(self) -> None:
        self.renamed: dict[str, dict[str, str]] = {}
        self.photos = 0
        self.warnings: list[str] = []


def _expected_names(layout: Layout, fmt: str, chosen: Sequence[str]) -> set[str]:
    """Every name the export may write into its folder (an earlier export of it holds only these)."""
    names = {layout.extra(f"{CODE_LISTS}.csv"), layout.extra(f"{FIELDS}.csv"), layout.extra("photos")}
    for name in chosen:
        stem = Path(layout.files[name]).stem
        names.update(f"{stem}{suffix}" for suffix in sidecar_suffixes(fmt))
    return names


def write_files(src: Source, layout: Layout, fmt: str, chosen: Sequence[str],
                columns: Mapping[str, Sequence[str]], filters: Mapping[str, Filter], geometries: Geometries,
                language: str, advance: Callable[[int], None]) -> FileExport:
    """Write each chosen layer as a file of *fmt* with its style, and the export's tables, then put them in place."""
    import fiona
    from fiona.crs import CRS

    driver = FORMATS[fmt][0]
    done = FileExport()
    check_target(layout.home, layout.folder, _expected_names(layout, fmt, chosen))
    current = layout.home
    with staging_folder(layout.home) as staging:
        try:
            photo_layers = layers_with_photos(src, chosen)
            photo_folder = layout.extra("photos")
            codes: list[dict[str, Any]] = []
            fields: list[dict[str, Any]] = []
            for name in chosen:
                definition = src.definitions[name]
                layer_columns = list(columns[name])
                photo_paths = None
                if name in photo_layers:
                    photo_paths, links = photo_files(src, name, staging / photo_folder, photo_folder,
                                                     photo_uuids(src, [name], filters))
                    done.photos += links
                    layer_columns.append(PHOTO_COLUMN)
                kinds = column_kinds(layer_columns, {f.name: f.type for f in definition.fields})
                names = short_names(layer_columns) if fmt == "ESRI Shapefile" else {c: c for c in layer_columns}
                renamed = {c: s for c, s in names.items() if c != s}
                if renamed:
                    done.renamed[name] = renamed
                properties = {names[c]: fiona_type(fmt, k) for c, k in zip(layer_columns, kinds, strict=True)}
                schema = {"geometry": GEOMETRY_NAMES.get(definition.geometry_type, "None"), "properties": properties}
                current = layout.path(name)
                path = staging / layout.files[name]
                grid = geometries.grid(definition)
                options: dict[str, Any] = {}
                if fmt == "CSV":
                    options = {"GEOMETRY": "AS_XY" if definition.geometry_type == "POINT" else "AS_WKT",
                               "WRITE_BOM": "YES"}
                    if not definition.has_geometry:
                        del options["GEOMETRY"]
                    path.with_suffix(".csvt").write_text(csvt_line(definition.geometry_type, kinds), "utf-8")
                elif fmt == "GeoJSON":
                    options = {"WRITE_BBOX": "YES", "COORDINATE_PRECISION": decimals_of(grid)}
                elif fmt == "FlatGeobuf" and not definition.has_geometry:
                    options = {"SPATIAL_INDEX": "NO"}  # FlatGeobuf's index needs a geometry per record
                converters = [converter(fmt, k) for k in kinds]
                too_long = 0
                with fiona.open(path, "w", driver=driver, schema=schema, crs=CRS.from_epsg(geometries.srid),
                                encoding="utf-8", **options) as dst:
                    source_columns = [c for c in layer_columns if c != PHOTO_COLUMN]
                    for chunk in src.rows(name, source_columns, *filters[name]):
                        if photo_paths is not None:
                            chunk = [(*r, photo_paths.get(r[2])) for r in chunk]  # r[2]: the uuid
                        moved = (geometries.convert([r[1] for r in chunk], grid) if definition.has_geometry
                                 else [None] * len(chunk))
                        records = []
                        for r, g in zip(chunk, moved, strict=True):
                            props = {names[c]: convert(v) for c, convert, v in
                                     zip(layer_columns, converters, r[2:], strict=True)}
                            records.append(fiona.Feature.from_dict(
                                geometry=None if g is None else g.__geo_interface__, properties=props))
                        if fmt == "ESRI Shapefile":
                            too_long += _too_long(chunk, kinds)
                        dst.writerecords(records)
                        advance(len(chunk))
                if too_long:
                    done.warnings.append(f"{name}: {too_long} text value(s) longer than {SHAPEFILE_TEXT_BYTES} "
                                         "bytes were cut in the Shapefile (a DBF limit); other formats keep them")
                stored = {f.name: stored_type(fmt, f.type) for f in definition.fields}
                path.with_suffix(".qml").write_text(
                    layer_qml(definition, language, layer_columns, names=names, stored=stored), "utf-8")
                codes += code_rows(definition, names)
                fields += field_rows(definition, fmt, layer_columns, names)
            write_csv(staging / layout.extra(f"{CODE_LISTS}.csv"), CODE_COLUMNS, codes)
            write_csv(staging / layout.extra(f"{FIELDS}.csv"), FIELD_COLUMNS, fields)
            current = layout.home
            if layout.folder:
                publish_folder(staging, layout.home)
            else:
                (name,) = chosen
                stem = Path(layout.files[name]).stem
                made = {p.name for p in staging.iterdir()}
                stale = {f"{stem}{suffix}" for suffix in sidecar_suffixes(fmt)} - made
                publish_files(staging, layout.parent, {layout.files[name]}, stale)
        except Exception as exc:
            if isinstance(exc, TongchengError):
                raise
            if isinstance(exc, OSError):
                raise SyncError(f"{exc.filename or current}: cannot write {fmt}: {exc.strerror or exc}") from exc
            text = str(exc).split(" Failed to write record")[0]  # fiona adds the whole record
            raise SyncError(f"{current}: cannot write {fmt}: {text} (is the disk full or the folder read-only?); "
                            "nothing was written") from exc
    return done


def _too_long(chunk: Sequence[Sequence[Any]], kinds: Sequence[str]) -> int:
    """Text values of a chunk longer than a DBF field holds."""
    text = [i for i, k in enumerate(kinds) if stored_type("ESRI Shapefile", k) == "text"]
    return sum(1 for r in chunk for i in text
               if isinstance(r[2 + i], str) and len(r[2 + i].encode("utf-8")) > SHAPEFILE_TEXT_BYTES)

