"""Export to one GeoPackage: the layers (valid against GDAL's strict validator), their QGIS styles, the
code-list and fields tables, the photos as related tables, the lineage."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from layers.errors import GeoPackageError, SyncError
from layers.geopackage import Column, LayerSchema, encode_gpb_many, envelopes, open_geopackage
from layers.geopackage.styles import layer_qml, layer_sld
from layers.sync.exporting.naming import CODE_LISTS, FIELDS
from layers.sync.exporting.photos import export_gpkg_photos
from layers.sync.exporting.source import Geometries, Source
from layers.sync.exporting.tables import CODE_COLUMNS, FIELD_COLUMNS, code_rows, field_rows, write_gpkg_table

__all__ = ["LINEAGE_URI", "write_gpkg"]

LINEAGE_URI = "https://tongcheng.invalid/lineage/1"

#: Per layer the SQL condition of the filter ("" for none) and its parameters.
Filter = tuple[str, Sequence[Any]]


def write_gpkg(src: Source, out: Path, chosen: Sequence[str], columns: Mapping[str, Sequence[str]],
               filters: Mapping[str, Filter], geometries: Geometries, language: str,
               lineage: Mapping[str, Any], advance: Any) -> int:
    """Write the chosen layers of *src* into the GeoPackage *out* (atomically); returns the photo links written."""
    if out.exists() and out.is_dir():
        raise SyncError(f"{out}: is a folder; give a .gpkg file name")
    if out.exists() and out.resolve() == src.path.resolve():
        raise SyncError(f"{out}: the output cannot be the source")
    srid = geometries.srid
    codes: list[dict[str, Any]] = []
    fields: list[dict[str, Any]] = []
    with open_geopackage(out, "w") as gp:
        # A big page cache: the spatial index built at the end then stays in memory (the
        # default 2 MB makes SQLite's R*Tree thrash on a million features).
        gp.connection.execute("PRAGMA cache_size = -524288")
        gp.add_srs(srid)
        for name in chosen:
            definition = src.definitions[name]
            layer_columns = list(columns[name])
            types = {f.name: f.sql_type for f in definition.fields}
            spatial = definition.has_geometry
            schema = LayerSchema(
                name, tuple(Column(c, types.get(c, "DATETIME" if c.endswith("_at") else "TEXT"),
                                   not_null=c == "uuid") for c in layer_columns),
                geometry_type=definition.geometry_type if spatial else None, srs_id=srid,
                identifier=definition.title(language), description=definition.title("en"))
            gp.create_layer(schema)
            names = ["fid", "geom", *layer_columns] if spatial else ["fid", *layer_columns]
            sql = (f'INSERT INTO "{name}" ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)}) '
                   f"VALUES ({', '.join('?' * len(names))})")
            grid = geometries.grid(definition)
            parts = []
            for chunk in src.rows(name, layer_columns, *filters[name]):
                if spatial:
                    blobs = encode_gpb_many(list(geometries.convert([r[1] for r in chunk], grid)), srid)
                    chunk = [(r[0], b, *r[2:]) for r, b in zip(chunk, blobs, strict=True)]
                else:  # an attributes table: the rows without their (NULL) geometry
                    chunk = [(r[0], *r[2:]) for r in chunk]
                try:
                    gp.connection.executemany(sql, chunk)
                except sqlite3.Error as exc:
                    raise GeoPackageError(f"{out}: writing layer {name!r}: {exc}") from None
                if spatial:
                    parts.append(envelopes(chunk))
                advance(len(chunk))
            if spatial:
                gp.pack_spatial_index(name, parts)
            gp.add_style(name, name[:30], layer_qml(definition, language, layer_columns),
                         sld=layer_sld(definition, language), description=definition.title(language),
                         owner="tongcheng")
            codes += code_rows(definition, {})
            fields += field_rows(definition, "GPKG", layer_columns, {})
        write_gpkg_table(gp, CODE_LISTS, CODE_COLUMNS, codes, "Code lists: stored value, zh_CN and en labels")
        write_gpkg_table(gp, FIELDS, FIELD_COLUMNS, fields, "Fields: type and zh_CN and en labels")
        photos = export_gpkg_photos(src, gp.connection, chosen, filters)
        gp.add_metadata(json.dumps(lineage, ensure_ascii=False, indent=1), md_scope="dataset",
                        standard_uri=LINEAGE_URI, mime_type="application/json")
    return photos
