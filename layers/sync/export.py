"""Partner export: a workspace or a master to GeoPackage, GeoJSON, CSV, FlatGeobuf or Shapefile.

What partners get: per facility layer the ``uuid`` (a stable identifier: the
same toilet has the same uuid in every export, so a partner can match next
month's file to this one and report a feature back to us unambiguously) and
the definition's fields, values and Chinese text as stored.  Tongcheng's
bookkeeping is left out: the master's and packages' own tables, the
workspace's tracking tables, and the audit columns (``created_by``,
``modified_by`` name staff members, which partners have no need for; ask for
them with ``keep_audit``).

Every format keeps the fields' types where it can and says in one line what
it cannot hold (``layers.sync.exporting.formats``); every layer comes with its
QGIS style (categories, labels from the definition's label field, aliases,
value maps of the code lists) in the chosen language: inside a GeoPackage
(``layer_styles``), as a ``.qml`` of the same base name beside other files; every
export carries the code lists (value, zh_CN, en) and the fields (the
Shapefile's short names mapped to the full ones) as tables
(``layers.sync.exporting.tables``).  Coordinates are rounded to the layer's
precision (a definition setting; 0.01 m projected, 1e-7 degrees geographic).

GeoPackage output is valid against GDAL's strict validator, with the spatial
index, extents and lineage (source, time, filter, CRS, counts, tool version as
JSON in ``gpkg_metadata``).  Formats with one layer per file write
``OUT/<layer>.<ext>`` when several layers are exported (``out.geojson`` names
the folder ``out``), staged in one folder and moved into place at once
(``layers.sync.exporting.staging``).  GeoJSON is written in EPSG:4326 unless
another CRS is asked for (RFC 7946).  CSV has a UTF-8 byte-order mark (Excel),
X/Y columns for points (WKT otherwise) and a ``.csvt``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from layers import __version__
from layers.errors import ExpressionError, SyncError
from layers.log import logger
from layers.postgres.urls import is_postgres
from layers.schema.definitions import LANGUAGES, LayerDefinition
from layers.schema.expressions import compile_filter
from layers.sync.children import child_filter
from layers.sync.exporting.formats import FORMATS, LIMITS, format_name
from layers.sync.exporting.gpkg import LINEAGE_URI, Filter, write_gpkg
from layers.sync.exporting.naming import layout
from layers.sync.exporting.photos import PHOTO_COLUMN
from layers.sync.exporting.source import Geometries, Source
from layers.sync.rows import AUDIT_COLUMNS

__all__ = ["FORMATS", "LIMITS", "LINEAGE_URI", "PHOTO_COLUMN", "ExportResult", "export"]

log = logger(__name__)


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
        The layer files (or the one GeoPackage).
    layers : dict of str to int
        Features written per layer.
    renamed : dict
        Shapefile only: ``{layer: {field: short name}}`` for shortened names.
    folder : Path or None
        The folder holding the files, when several layers went to one.
    limits : str
        One line: what the format cannot hold, and where it went instead.
    warnings : list of str
        Values the format could not hold as they are (e.g. text cut to a DBF field's 254 bytes).
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
    folder: Path | None = None
    limits: str = ""
    warnings: list[str] = field(default_factory=list)


def _columns(definition: LayerDefinition, keep_audit: bool) -> list[str]:
    return ["uuid", *definition.field_names, *(AUDIT_COLUMNS if keep_audit else ())]


def export(source: str | os.PathLike[str], out: str | os.PathLike[str], *, layers: Iterable[str] | None = None,
           where: str | None = None, crs: str | int | None = None, fmt: str | None = None, keep_audit: bool = False,
           language: str = "zh_CN", progress: Callable[[int, int], object] | None = None,
           as_of: int | None = None, profile: str | None = None) -> ExportResult:
    """Export facility layers of a workspace or master for partners.

    Parameters
    ----------
    source : path-like
        A Tongcheng workspace (SpatiaLite) or master (GeoPackage).
    out : path-like
        The file to write (GPKG; or for one layer in another format), or a
        folder (several layers in a one-layer-per-file format; a name with
        the format's extension loses it: ``out.geojson`` -> folder ``out``).
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
    language : {'zh_CN', 'en'}
        Language of the styles' category labels, value maps and aliases, and of the layer titles.
    progress : callable(done, total), optional
    as_of : int, optional
        A master only: export the master as it was at this version (its history).
    profile : str, optional
        ``standard``: the component layers under the national standard's
        column names and codes (``layers.sync.profile``; a GeoPackage master).

    A PostGIS master (``postgresql://``) is exported through a temporary
    GeoPackage snapshot (``layers.sync.snapshot``).

    Returns
    -------
    ExportResult

    Raises
    ------
    SyncError, GeoPackageError, WorkspaceError, ExpressionError
        Naming the file, layer or expression at fault; nothing is written.
    """
    if is_postgres(source) or as_of is not None:
        from layers.sync.snapshot import snapshot

        with snapshot(source, as_of) as copy:
            result = export(copy, out, layers=layers, where=where, crs=crs, fmt=fmt, keep_audit=keep_audit,
                            language=language, progress=progress)
        result.source = Path(source) if not is_postgres(source) else result.source
        return result
    if profile is not None:
        from layers.sync.profile import export_profile

        return export_profile(source, out, profile=profile, layers=layers, where=where, crs=crs, fmt=fmt,
                              language=language, progress=progress)
    fmt = format_name(fmt, out)
    if language not in LANGUAGES:
        raise SyncError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    log.info("exporting %s to %s as %s", source, out, fmt)
    if fmt == "GeoJSON" and crs is None:
        crs = "EPSG:4326"
    with ExitStack() as stack:
        src = Source(source, stack)
        chosen = list(layers) if layers else src.default_layers()
        for name in chosen:
            if name not in src.available:
                raise SyncError(f"{src.path}: no layer {name!r} (layers: {', '.join(src.available)})")
        geometries = Geometries(src.srid, crs)
        filters: dict[str, Filter] = {}
        for name in sorted(chosen, key=lambda n: src.definitions[n].child_of is not None):  # parents first
            definition = src.definitions[name]
            parents = child_filter(definition, filters, chosen) if definition.child_of else None
            if parents is not None:  # a child layer (inspections) goes with the features exported
                filters[name] = parents
            elif where:
                try:
                    compiled = compile_filter(where, ("uuid", *definition.field_names))
                except ExpressionError as exc:
                    raise ExpressionError(f"filter {where!r}, layer {name!r}: {exc}") from None
                filters[name] = (compiled.sql, compiled.parameters)
            else:
                filters[name] = ("", ())
        counts = {name: src.count(name, *filters[name]) for name in chosen}
        total = sum(counts.values())
        srid = geometries.srid
        result = ExportResult(Path(source), src.kind, fmt, f"EPSG:{srid}", limits=LIMITS[fmt])
        columns = {name: _columns(src.definitions[name], keep_audit) for name in chosen}
        state = {"done": 0}

        def advance(n: int) -> None:
            state["done"] += n
            if progress:
                progress(state["done"], total)

        if fmt == "GPKG":
            lineage = {
                "source": str(Path(source).absolute()), "source_kind": src.kind, **src.identity,
                "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                "filter": where, "crs": f"EPSG:{srid}", "layers": counts, "audit_columns": keep_audit,
                "language": language, "tool": f"tongcheng {__version__}",
            }
            target = Path(out)
            result.photos = write_gpkg(src, target, chosen, columns, filters, geometries, language, lineage,
                                       advance)
            result.files.append(target)
        else:
            from layers.sync.exporting.files import write_files

            place = layout(out, fmt, chosen)
            if fmt == "ESRI Shapefile":  # a table without geometry is a .dbf alone
                place.files.update({n: str(Path(place.files[n]).with_suffix(".dbf")) for n in chosen
                                    if not src.definitions[n].has_geometry})
            done = write_files(src, place, fmt, chosen, columns, filters, geometries, language, advance)
            result.files = [place.path(name) for name in chosen]
            result.folder = place.home if place.folder else None
            result.renamed, result.photos, result.warnings = done.renamed, done.photos, done.warnings
        result.layers = counts
    return result
