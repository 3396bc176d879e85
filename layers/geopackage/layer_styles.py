"""QGIS's ``layer_styles`` table in a GeoPackage: storing and listing the styles QGIS applies on load."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from layers.errors import GeoPackageError
from layers.geopackage.sql import NOW, table_exists

if TYPE_CHECKING:
    from layers.geopackage.gpkg import GeoPackage

__all__ = ["STYLES_TABLE", "add_style", "styles"]

STYLES_TABLE = "layer_styles"

# QGIS's layer_styles table, as QGIS creates it through OGR in a GeoPackage.
_STYLES_DDL = (
    'CREATE TABLE "layer_styles" ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,'
    ' "f_table_catalog" TEXT(256), "f_table_schema" TEXT(256),'
    ' "f_table_name" TEXT(256), "f_geometry_column" TEXT(256),'
    ' "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT,'
    ' "useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30),'
    f' "ui" TEXT(30), "update_time" DATETIME DEFAULT ({NOW}))'
)
_STYLE_LIMITS = {"styleName": 30, "owner": 30, "ui": 30, "f_table_name": 256,
                 "f_geometry_column": 256}


def add_style(gp: GeoPackage, layer: str, name: str, qml: str, *, sld: str = "",
              default: bool = True, description: str = "", owner: str = "",
              ui: str | None = None) -> int:
    """Store a QGIS style for *layer* in ``layer_styles`` (QGIS reads it on load).

    Parameters
    ----------
    gp : GeoPackage
        Opened for writing.
    layer : str
        The feature layer the style is for.
    name : str
        Style name (at most 30 characters, as in QGIS's table).
    qml, sld : str
        The style as QGIS QML and, optionally, SLD.
    default : bool
        Whether QGIS should apply it when the layer is loaded; other styles
        of the layer lose their default flag.
    description, owner, ui : str

    Returns
    -------
    int
        The style's id.
    """
    gp._writable()
    schema = gp.schema(layer)
    # A table without geometry: '' (not NULL), which is what QGIS looks the default style up by.
    values = {"f_table_name": layer, "f_geometry_column": schema.geometry_column
              if schema.is_spatial else "", "styleName": name, "owner": owner, "ui": ui}
    for col, limit in _STYLE_LIMITS.items():
        value = values[col]
        if value is not None and len(value) > limit:
            raise GeoPackageError(
                f"{gp.path}: style {name!r}: {col} is longer than {limit} characters")
    con = gp.connection
    with gp._sql("writing layer_styles"):
        if not table_exists(con, STYLES_TABLE):
            con.execute(_STYLES_DDL)
            con.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, "
                f"description, last_change) VALUES ('layer_styles', 'attributes', "
                f"'layer_styles', 'QGIS layer styles', {NOW})")
        if default:
            con.execute('UPDATE layer_styles SET "useAsDefault" = 0 '
                        "WHERE f_table_name = ?", (layer,))
        cursor = con.execute(
            'INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, '
            'f_geometry_column, "styleName", "styleQML", "styleSLD", "useAsDefault", '
            f'description, owner, ui, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {NOW})',
            ("", "", layer, values["f_geometry_column"], name, qml, sld,
             int(bool(default)), description, owner, ui))
    gp._touched.add(STYLES_TABLE)
    style_id = cursor.lastrowid
    assert style_id is not None  # an INSERT always sets it
    return style_id


def styles(gp: GeoPackage, layer: str | None = None) -> list[dict[str, Any]]:
    """Rows of ``layer_styles`` (all, or those of *layer*), default first; empty without the table."""
    con = gp.connection
    with gp._sql("reading layer_styles"):
        if not table_exists(con, STYLES_TABLE):
            return []
        cursor = con.execute(
            "SELECT * FROM layer_styles WHERE ? IS NULL OR f_table_name = ? "
            'ORDER BY "useAsDefault" DESC, id', (layer, layer))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
