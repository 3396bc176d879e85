"""The tables that go with every export: the code lists and the fields (file column -> full name, type, labels).

``code_lists``: one row per code of every coded field of the exported layers
(``layer``, ``field``, ``column`` as the file names it, ``value`` as stored,
``zh_CN`` and ``en`` labels), so a partner can read the stored codes in
either language.  ``fields``: one row per column of each layer file (the
Shapefile's short ``column`` beside the full ``field`` name, the definition's
``type`` and the type the file ``stored_as``, the labels).  A GeoPackage
holds them as attribute tables; other formats get them as CSV files (UTF-8
with a byte-order mark, for Excel) beside the layer files.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from layers.geopackage import Column, GeoPackage, LayerSchema
from layers.geopackage.styles import COLUMN_LABELS
from layers.schema.definitions import LayerDefinition
from layers.sync.exporting.formats import stored_type

__all__ = ["CODE_COLUMNS", "FIELD_COLUMNS", "SYSTEM_LABELS", "code_rows", "field_rows", "write_csv",
           "write_gpkg_table"]

CODE_COLUMNS = ("layer", "field", "column", "value", "zh_CN", "en")
FIELD_COLUMNS = ("layer", "column", "field", "type", "stored_as", "zh_CN", "en")
#: Labels of the columns that are not a definition's fields.
SYSTEM_LABELS = COLUMN_LABELS


def code_rows(definition: LayerDefinition, names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The code-list rows of one layer; *names* maps a field to its column in the file where they differ."""
    return [{"layer": definition.name, "field": f.name, "column": names.get(f.name, f.name), "value": code.value,
             "zh_CN": code.label("zh_CN"), "en": code.label("en")}
            for f in definition.fields for code in f.codes]


def field_rows(definition: LayerDefinition, fmt: str, columns: Sequence[str],
               names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The fields rows of one layer file: each column as the file names it, with its full name and labels."""
    fields = {f.name: f for f in definition.fields}
    rows = []
    for c in columns:
        f = fields.get(c)
        kind = f.type if f is not None else "datetime" if c.endswith("_at") else "text"
        labels = {"zh_CN": f.label("zh_CN"), "en": f.label("en")} if f is not None else SYSTEM_LABELS.get(c, {})
        rows.append({"layer": definition.name, "column": names.get(c, c), "field": c, "type": kind,
                     "stored_as": stored_type(fmt, kind), "zh_CN": labels.get("zh_CN", c),
                     "en": labels.get("en", c)})
    return rows


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """A table as CSV: UTF-8 with a byte-order mark (Excel reads the Chinese text), a header line."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)


def write_gpkg_table(gp: GeoPackage, name: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]],
                     description: str) -> None:
    """A table as a GeoPackage attribute table (text columns)."""
    gp.create_layer(LayerSchema(name, tuple(Column(c, "TEXT") for c in columns), description=description))
    if rows:
        gp.write_rows(name, rows)
