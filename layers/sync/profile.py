"""Exchange profiles: the component layers under another platform's column names and codes.

``tongcheng export SOURCE OUT --profile standard`` writes each component
layer (a definition with ``[component]``) of a workspace or master with the
columns of the profile ``layers/definitions/_standard.toml``: the national
component standard's attribute names (ObjID, ObjName, BGID, ObjState ...),
each taken from the first of its ``from`` fields that holds a value, values
mapped to the standard's terms.  What the profile cannot say is said in
``notes`` (a feature without a code yet, a status with no standard term), one
line each.  GeoPackage is written by ``layers.geopackage`` (GDAL's validator
passes it), other formats by fiona, one file per layer.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tomllib
import uuid as uuid_module
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyproj
import shapely

from layers.crs.epsg import epsg_crs
from layers.errors import ExpressionError, SyncError
from layers.geopackage import Column, LayerSchema, gpb_wkb, open_geopackage
from layers.log import logger
from layers.schema.definitions import DEFINITIONS_FOLDER, LayerDefinition
from layers.schema.expressions import compile_filter
from layers.sync.export import ExportResult
from layers.sync.exporting.formats import FORMATS, GEOMETRY_NAMES, format_name
from layers.sync.exporting.naming import layout
from layers.sync.master import read_master_info, recover
from layers.sync.rows import AUDIT_COLUMNS, quote

__all__ = ["PROFILES", "ProfileColumn", "Profile", "ProfileExportResult", "load_profile", "export_profile"]

log = logger(__name__)

#: Profile name -> its file in the definitions folder.
PROFILES = {"standard": "_standard.toml"}
_TYPES = {"text": "TEXT", "date": "DATE", "integer": "INTEGER"}
_FIONA_TYPES = {"text": "str", "date": "date", "integer": "int"}


@dataclass(frozen=True)
class ProfileColumn:
    """One column of an exchange profile."""

    name: str
    labels: dict[str, str]
    type: str
    sources: tuple[str, ...]
    values: str | None = None


@dataclass(frozen=True)
class Profile:
    """An exchange profile: its columns and value maps (``terms``: the values kept as they are)."""

    name: str
    titles: dict[str, str]
    columns: tuple[ProfileColumn, ...]
    maps: dict[str, dict[str, str]]
    terms: dict[str, frozenset[str]]


@dataclass
class ProfileExportResult(ExportResult):
    """:class:`~layers.sync.export.ExportResult` of a profile export, with what the profile could not say."""

    profile: str = ""
    notes: list[str] = field(default_factory=list)


def load_profile(name: str, folder: str | os.PathLike[str] | None = None) -> Profile:
    """Read a profile (``standard``) from the definitions folder; SyncError naming the file if it is wrong."""
    if name not in PROFILES:
        raise SyncError(f"profile {name!r} is not one of {', '.join(PROFILES)}")
    path = Path(folder or DEFINITIONS_FOLDER) / PROFILES[name]
    try:
        data = tomllib.loads(path.read_text("utf-8"))
        columns = []
        for raw in data["columns"]:
            if raw.get("type", "text") not in _TYPES:
                raise ValueError(f"column {raw.get('name')!r}: type must be one of {', '.join(_TYPES)}")
            columns.append(ProfileColumn(str(raw["name"]), dict(raw.get("label", {})), raw.get("type", "text"),
                                         tuple(raw["from"]), raw.get("values")))
        maps = {k: {str(a): str(b) for a, b in v.get("map", {}).items()} for k, v in data.get("values", {}).items()}
        terms = {k: frozenset(map(str, v.get("terms", []))) for k, v in data.get("values", {}).items()}
        for column in columns:
            if column.values is not None and column.values not in maps:
                raise ValueError(f"column {column.name!r}: no value map {column.values!r}")
    except (OSError, KeyError, ValueError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise SyncError(f"{path}: not a valid exchange profile ({exc})") from None
    return Profile(name, dict(data.get("title", {})), tuple(columns), maps, terms)


class _Counts:
    """What a profile could not say, counted per layer for the notes."""

    def __init__(self) -> None:
        self.no_code = 0
        self.unmapped: dict[tuple[str, Any], int] = {}


def _value(profile: Profile, column: ProfileColumn, definition: LayerDefinition, row: Mapping[str, Any],
           counts: _Counts) -> Any:
    source = next((s for s in column.sources if row.get(s) not in (None, "")), None)
    value = None if source is None else row[source]
    if column.values is not None and value is not None:
        mapped = profile.maps[column.values].get(str(value))
        if mapped is None and str(value) not in profile.terms.get(column.values, frozenset()):
            counts.unmapped[(column.name, value)] = counts.unmapped.get((column.name, value), 0) + 1
            return None
        value = mapped or value
    if column.type == "date" and value is not None:
        text = str(value)[:10]
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    if column.type == "integer" and value is not None:
        return int(value)
    return value


def _rows(con: Any, definition: LayerDefinition, geometry_sql: str, where: str,
          parameters: Sequence[Any]) -> Iterator[tuple[dict[str, Any], bytes | None]]:
    names = [*definition.field_names, *AUDIT_COLUMNS]
    sql = (f"SELECT {', '.join(map(quote, names))}, {geometry_sql} FROM {quote(definition.name)}"
           + (f" WHERE {where}" if where else "") + " ORDER BY fid")
    cursor = con.execute(sql, parameters)
    while chunk := cursor.fetchmany(10_000):
        for r in chunk:
            yield dict(zip(names, r[:-1], strict=True)), r[-1]


def export_profile(source: str | os.PathLike[str], out: str | os.PathLike[str], *, profile: str = "standard",
                   layers: Iterable[str] | None = None, where: str | None = None, crs: str | int | None = None,
                   fmt: str | None = None, language: str = "zh_CN",
                   progress: Callable[[int, int], object] | None = None) -> ProfileExportResult:
    """Export the component layers of a workspace or master with an exchange profile's columns.

    Parameters are those of :func:`layers.sync.export.export` (``layers``
    default: every layer with a component class; ``fmt`` default from
    *out*'s extension, else GPKG; GeoJSON in EPSG:4326 unless *crs*).

    Returns
    -------
    ProfileExportResult
        Files written, features per layer, and ``notes``.
    """
    chosen_profile = load_profile(profile)
    fmt = format_name(fmt, out)
    if fmt == "GeoJSON" and crs is None:
        crs = "EPSG:4326"
    with ExitStack() as stack:
        con, definitions, srid, geometry_sql, kind = _open_source(Path(source), stack)
        components = [n for n, d in definitions.items() if d.component is not None]
        chosen = list(layers) if layers else components
        for name in chosen:
            if name not in components:
                raise SyncError(f"{source}: {name!r} is not a component layer (component layers: "
                                f"{', '.join(components) or 'none'}); the profile exports component layers only")
        if not chosen:
            raise SyncError(f"{source}: no component layers to export (made before the standard?)")
        transformer, out_srid = None, srid
        if crs is not None:
            out_srid, target = epsg_crs(crs, SyncError)
            if out_srid != srid:
                transformer = pyproj.Transformer.from_crs(pyproj.CRS.from_epsg(srid), target, always_xy=True)
        filters = {}
        for name in chosen:
            if where:
                try:
                    compiled = compile_filter(where, ("uuid", *definitions[name].field_names))
                except ExpressionError as exc:
                    raise ExpressionError(f"filter {where!r}, layer {name!r}: {exc}") from None
                filters[name] = (compiled.sql, compiled.parameters)
            else:
                filters[name] = ("", ())
        total = sum(con.execute(f"SELECT count(*) FROM {quote(n)}" + (f" WHERE {filters[n][0]}" if filters[n][0]
                                                                        else ""), filters[n][1]).fetchone()[0]
                    for n in chosen)
        result = ProfileExportResult(Path(source), kind, fmt, f"EPSG:{out_srid}", profile=profile)
        done = 0

        def features(name: str) -> Iterator[tuple[dict[str, Any], Any]]:
            nonlocal done
            definition = definitions[name]
            counts = _Counts()
            spec = definition.component
            for row, blob in _rows(con, definition, geometry_sql, *filters[name]):
                wkb = gpb_wkb(blob) if kind == "master" else blob
                geometry = shapely.from_wkb(wkb) if wkb is not None else None
                if transformer is not None and geometry is not None:
                    geometry = shapely.transform(geometry, lambda xy: _moved(transformer, xy))
                if spec is not None and not row.get(spec.field):
                    counts.no_code += 1
                yield {c.name: _value(chosen_profile, c, definition, row, counts)
                       for c in chosen_profile.columns}, geometry
                done += 1
                if progress and done % 5000 == 0:
                    progress(done, total)
            result.notes.extend(_notes(name, counts))

        if fmt == "GPKG":
            _write_gpkg(Path(out), chosen_profile, definitions, chosen, out_srid, features, language, result)
        else:
            _write_fiona(Path(out), fmt, chosen_profile, definitions, chosen, out_srid, features, result)
        if progress:
            progress(done, total)
    return result


def _moved(transformer: pyproj.Transformer, xy: Any) -> Any:
    import numpy as np

    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _notes(layer: str, counts: _Counts) -> list[str]:
    notes = []
    if counts.no_code:
        notes.append(f"{layer}: {counts.no_code} features have no component code yet (the office gives them one "
                     "on apply): their ObjID is empty")
    for (column, value), n in sorted(counts.unmapped.items(), key=lambda item: str(item[0])):
        notes.append(f"{layer}: {n} features with {value!r}, which the standard has no term for: {column} "
                     "is left empty")
    return notes


def _open_source(path: Path, stack: ExitStack) -> tuple[Any, dict[str, LayerDefinition], int, str, str]:
    """(connection, definitions, srid, SQL of the geometry as WKB or GPB, kind) of a master or workspace."""
    if not path.is_file():
        raise SyncError(f"{path}: no such file")
    with open(path, "rb") as f:
        header = f.read(72)
    if len(header) == 72 and int.from_bytes(header[68:72], "big") == 0x47504B47:
        recover(path)
        gp = stack.enter_context(open_geopackage(path))
        info = read_master_info(gp)
        return gp.connection, {n: info.definitions[n] for n in info.layers}, info.srid, "geom", "master"
    from layers.workspace.store import Workspace

    ws = stack.enter_context(Workspace.open(path))
    return ws.connection, dict(ws.definitions), ws.srid, "AsBinary(geom)", "workspace"


FeatureSource = Callable[[str], Iterator[tuple[dict[str, Any], Any]]]


def _write_gpkg(out: Path, profile: Profile, definitions: Mapping[str, LayerDefinition], chosen: Sequence[str],
                srid: int, features: FeatureSource, language: str, result: ProfileExportResult) -> None:
    if out.is_dir():
        raise SyncError(f"{out}: is a folder; give a .gpkg file name")
    with open_geopackage(out, "w") as gp:
        gp.add_srs(srid)
        for name in chosen:
            definition = definitions[name]
            gp.create_layer(LayerSchema(
                name, tuple(Column(c.name, _TYPES[c.type]) for c in profile.columns),
                geometry_type=definition.geometry_type, srs_id=srid,
                identifier=f"{definition.title(language)}（{profile.titles.get(language, profile.name)}）",
                description=f"{definition.title('en')}: {profile.titles.get('en', profile.name)}"))
            rows = [{**values, "geom": geometry} for values, geometry in features(name)]
            gp.write_rows(name, rows)
            result.layers[name] = len(rows)
            aliases = [(c.name, c.labels.get(language) or c.name) for c in profile.columns]
            gp.add_style(name, name[:30], _alias_qml(aliases), description=profile.titles.get(language, profile.name),
                         owner="tongcheng")
    result.files.append(out)


def _alias_qml(aliases: Sequence[tuple[str, str]]) -> str:
    """A QML style holding only the columns' aliases (the profile's columns are not the style field)."""
    from xml.sax.saxutils import quoteattr

    items = "".join(f'<alias field={quoteattr(f)} index="{i}" name={quoteattr(a)}/>'
                    for i, (f, a) in enumerate(aliases))
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis styleCategories="Fields"><aliases>{items}</aliases></qgis>\n')


def _write_fiona(out: Path, fmt: str, profile: Profile, definitions: Mapping[str, LayerDefinition],
                 chosen: Sequence[str], srid: int, features: FeatureSource, result: ProfileExportResult) -> None:
    import fiona
    from fiona.crs import CRS

    driver = FORMATS[fmt][0]
    where = layout(out, fmt, chosen)  # one layer named as a file: that file; else a folder named as a folder
    targets = {name: where.path(name) for name in chosen}
    home = where.home
    if not home.parent.is_dir():
        raise SyncError(f"{home}: folder {home.parent} does not exist")
    staging = home.parent / f".{home.name}.{uuid_module.uuid4().hex[:12]}.tmp"
    staging.mkdir()
    try:
        for name in chosen:
            definition = definitions[name]
            properties = {c.name: _field_type(driver, c.type) for c in profile.columns}
            if fmt == "ESRI Shapefile":  # DBF widths are bytes: 3 per Chinese character in UTF-8
                properties = {k: ("str:254" if v == "str" else v) for k, v in properties.items()}
            schema = {"geometry": GEOMETRY_NAMES[definition.geometry_type], "properties": properties}
            options: dict[str, str] = {}
            if fmt == "CSV":
                options = {"GEOMETRY": "AS_XY" if definition.geometry_type == "POINT" else "AS_WKT",
                           "WRITE_BOM": "YES"}
            count = 0
            as_text = {c.name for c in profile.columns if c.type == "date" and properties[c.name] == "str"}
            with fiona.open(staging / targets[name].name, "w", driver=driver, schema=schema,
                            crs=CRS.from_epsg(srid), encoding="utf-8", **options) as dst:
                for values, geometry in features(name):
                    for key in as_text:  # a date the format cannot hold goes as ISO text
                        if values[key] is not None:
                            values[key] = values[key].isoformat()
                    dst.write(fiona.Feature.from_dict(
                        geometry=shapely.geometry.mapping(geometry) if geometry is not None else None,
                        properties=values))
                    count += 1
            result.layers[name] = count
        if where.folder:
            home.mkdir(exist_ok=True)
        for name in chosen:
            stem = targets[name].with_suffix("").name
            for made in sorted(staging.iterdir()):
                if made.with_suffix("").name == stem:
                    os.replace(made, targets[name].parent / made.name)
            result.files.append(targets[name])
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _field_type(driver: str, kind: str) -> str:
    """The fiona type of a profile column: a date the driver cannot store goes as ISO text."""
    from fiona import drvsupport

    fiona_type = _FIONA_TYPES[kind]
    if kind == "date" and (not drvsupport._driver_supports_field(driver, "date")
                           or drvsupport._driver_converts_field_type_silently_to_str(driver, "date")):
        return "str"
    return fiona_type
