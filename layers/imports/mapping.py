"""The mapping file of an import: which source column feeds which field, and how.

A TOML file::

    layer = "toilets"
    source_crs = "gcj02"          # EPSG:n, wgs84, cgcs2000, gcj02 or bd09 (else the file's own CRS)
    encoding = "gb18030"          # optional: the source's text encoding (else detected)
    sheet = "公厕"                # optional: the XLSX sheet (else the first)
    source_layer = "toilets"      # optional: the layer of a multi-layer source (GeoPackage)
    x = "经度"                    # tables: the column of longitudes or eastings
    y = "纬度"                    # tables: the column of latitudes or northings
    key = "name"                  # optional: the field that finds an existing feature to update

    [fields]                      # field = "source column"
    name = "名称"
    status = "状态"

    [values.status]               # source value = stored value
    "正常" = "在用"

    [constants]                   # field = value of every row
    district = "锦江区"

``suggest_mapping`` writes a first one from the source's column names and the
definition's field names and labels (zh_CN and en), with the values of coded
columns that are not codes listed for the user to map.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layers.imports.problems import InventoryImportError
from layers.imports.sources import Source
from layers.schema.definitions import LayerDefinition

__all__ = ["Mapping", "load_mapping", "suggest_mapping", "find_coordinate_columns"]

_KEYS = {"layer", "source_crs", "encoding", "sheet", "source_layer", "x", "y", "key", "fields", "values",
         "constants"}

X_NAMES = ("x", "lon", "lng", "long", "longitude", "经度", "东坐标", "easting", "east", "横坐标", "坐标x", "xcoord")
Y_NAMES = ("y", "lat", "latitude", "纬度", "北坐标", "northing", "north", "纵坐标", "坐标y", "ycoord")


@dataclass
class Mapping:
    """A parsed mapping (see the module's docstring); ``where`` names its file in messages."""

    layer: str | None = None
    source_crs: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    source_layer: str | None = None
    x: str | None = None
    y: str | None = None
    key: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    where: str = "the mapping"

    def check(self, definition: LayerDefinition, source: Source) -> None:
        """Refuse names the layer or the source do not have, with the names it has.

        Raises
        ------
        InventoryImportError
        """
        known = set(definition.field_names) | {"uuid"}
        derived = {f.name for f in definition.derived_fields}
        for section, names in (("fields", self.fields), ("values", self.values), ("constants", self.constants)):
            for name in names:
                if name not in known:
                    raise InventoryImportError(
                        f"{self.where}: [{section}] {name}: layer {definition.name} has no such field "
                        f"(fields: {', '.join(definition.field_names)})")
                if name in derived:
                    raise InventoryImportError(f"{self.where}: [{section}] {name}: a derived field is computed, "
                                               "not imported")
        both = set(self.fields) & set(self.constants)
        if both:
            raise InventoryImportError(f"{self.where}: {', '.join(sorted(both))} in both [fields] and [constants]")
        columns = set(source.columns)
        for name, column in self.fields.items():
            if column not in columns:
                raise InventoryImportError(f"{self.where}: [fields] {name} = {column!r}: {source.path.name} has no "
                                           f"such column (columns: {', '.join(source.columns)})")
        if source.kind == "table":
            for axis in ("x", "y"):
                column = getattr(self, axis)
                if column is None:
                    raise InventoryImportError(
                        f"{self.where}: no {axis} column: a table needs x and y (columns: "
                        f"{', '.join(source.columns)})")
                if column not in columns:
                    raise InventoryImportError(f"{self.where}: {axis} = {column!r}: {source.path.name} has no such "
                                               f"column (columns: {', '.join(source.columns)})")
        if self.key is not None and self.key not in self.fields:
            raise InventoryImportError(f"{self.where}: key = {self.key!r} must be a field of [fields] "
                                       "(its source column holds the key)")


def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping file.

    Raises
    ------
    InventoryImportError
        The file cannot be read, is not TOML, or has an unknown key or a wrong type.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InventoryImportError(f"{path}: no such mapping file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InventoryImportError(f"{path}: not a TOML mapping ({e})") from None
    return parse_mapping(data, str(path))


def parse_mapping(data: dict[str, Any], where: str = "the mapping") -> Mapping:
    """A mapping from parsed TOML (see ``load_mapping``)."""
    unknown = set(data) - _KEYS
    if unknown:
        raise InventoryImportError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
                                   f"(known: {', '.join(sorted(_KEYS))})")
    mapping = Mapping(where=where)
    for name in ("layer", "source_crs", "encoding", "sheet", "source_layer", "x", "y", "key"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise InventoryImportError(f"{where}: {name} must be text, not {value!r}")
        setattr(mapping, name, value)
    for section in ("fields", "values", "constants"):
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise InventoryImportError(f"{where}: [{section}] must be a table")
    for name, column in data.get("fields", {}).items():
        if not isinstance(column, str):
            raise InventoryImportError(f"{where}: [fields] {name} must be a column name (text), not {column!r}")
        mapping.fields[name] = column
    for name, table in data.get("values", {}).items():
        if not isinstance(table, dict):
            raise InventoryImportError(f"{where}: [values.{name}] must be a table of source value = stored value")
        mapping.values[name] = {str(k).strip(): v for k, v in table.items()}
    mapping.constants = dict(data.get("constants", {}))
    return mapping


# --- the suggested mapping -------------------------------------------------------------------------


def _normal(name: str) -> str:
    """A name compared loosely: lower case, without spaces, _ - . or anything in brackets (units, 市)."""
    name = re.sub(r"[（(\[【][^（()）\[\]【】]*[)）\]】]", "", name.strip())
    return re.sub(r"[\s_\-.·:：]", "", name).lower()


def find_coordinate_columns(columns: list[str]) -> tuple[str | None, str | None]:
    """The x and y columns of a table, found by name (lon/lng/x/经度 ..., lat/y/纬度 ...)."""
    x = next((c for c in columns if _normal(c) in X_NAMES), None)
    y = next((c for c in columns if _normal(c) in Y_NAMES), None)
    return x, y


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def suggest_mapping(source: Source, definition: LayerDefinition) -> str:
    """A first mapping (TOML text) for the user to edit: columns matched to fields by name and labels."""
    columns = source.columns
    normal = {c: _normal(c) for c in columns}
    chosen: dict[str, str] = {}
    used: set[str] = set()
    candidates = {f.name: {_normal(f.name), _normal(f.label("zh_CN")), _normal(f.label("en"))}
                  for f in definition.fields if not f.derived}
    candidates["uuid"] = {"uuid"}
    for name, wanted in candidates.items():  # the same name first
        column = next((c for c in columns if normal[c] in wanted and c not in used), None)
        if column is not None:
            chosen[name] = column
            used.add(column)
    # Then a column containing the Chinese label or contained in it (公厕名称 or 男厕位 for 男厕位数).
    for f in definition.fields:
        label = _normal(f.label("zh_CN"))
        if f.name in chosen or f.derived or len(label) < 2:
            continue
        matches = [c for c in columns if c not in used and len(normal[c]) >= 2
                   and (label in normal[c] or normal[c] in label)]
        if len(matches) == 1:
            chosen[f.name] = matches[0]
            used.add(matches[0])

    lines = [f"# Tongcheng import mapping: {source.path.name} -> layer {definition.name} "
             f"({definition.title('zh_CN')} / {definition.title('en')}).",
             "# Edit it, then check it with a dry run:",
             f"#   tongcheng import {source.path.name} WORKSPACE --layer {definition.name} "
             "--mapping THIS_FILE --dry-run --report report.csv",
             f"layer = {_toml_value(definition.name)}"]
    if source.crs:
        lines.append(f"source_crs = {_toml_value(source.crs)}   # the file's own CRS; gcj02 or bd09 for "
                     "web-map coordinates")
    if source.kind == "table":
        x, y = find_coordinate_columns([c for c in columns if c not in used])
        guess = _guess_crs(source, x, y)
        if guess:
            lines.append(f"source_crs = {_toml_value(guess)}   # CHECK: EPSG:4326 (WGS84, GPS), EPSG:4490 "
                         "(CGCS2000), a Gauss-Krueger zone (EPSG:4544 ...), gcj02 (AMap, Tencent), bd09 (Baidu)")
        else:
            lines.append('# source_crs = "EPSG:4544"   # REQUIRED: EPSG:n, wgs84, cgcs2000, gcj02 or bd09')
        lines.append(f"x = {_toml_value(x)}   # longitude or easting" if x else '# x = ""   # REQUIRED: column of '
                     "longitudes or eastings")
        lines.append(f"y = {_toml_value(y)}   # latitude or northing" if y else '# y = ""   # REQUIRED: column of '
                     "latitudes or northings")
    if source.encoding:
        lines.append(f"encoding = {_toml_value(source.encoding)}   # as detected")
    lines.append('# key = "name"   # a field of [fields] whose value finds an existing feature to update')
    lines.append("")
    lines.append('[fields]   # field = "source column"')
    for f in definition.fields:
        if f.derived:
            continue
        text = f"{f.label('zh_CN')} / {f.label('en')}, {f.type}{', required' if f.required else ''}"
        if f.name in chosen:
            lines.append(f"{_toml_key(f.name)} = {_toml_value(chosen[f.name])}   # {text}")
        else:
            default = f", default {f.default!r}" if f.default is not None else ""
            lines.append(f'# {_toml_key(f.name)} = ""   # {text}{default}: no column found')
    if "uuid" in chosen:
        lines.append(f"uuid = {_toml_value(chosen['uuid'])}")
    if source.kind == "table":
        used.update(c for c in find_coordinate_columns([c for c in columns if c not in used]) if c)
    unused = [c for c in columns if c not in used]
    if unused:
        lines.append(f"# columns not used: {', '.join(unused)}")
    for f in definition.fields:
        if not f.codes or f.name not in chosen:
            continue
        entries = []
        labels: dict[str, str] = {}
        for code in f.codes:
            for language in ("zh_CN", "en"):
                labels.setdefault(_normal(str(code.label(language))), code.value)
        for value in source.distinct_values(chosen[f.name]):
            text = str(value).strip()
            if text in f.code_set:
                continue
            target = labels.get(_normal(text))
            if target is not None:
                entries.append(f"{_toml_value(text)} = {_toml_value(target)}")
            else:
                entries.append(f'# {_toml_value(text)} = ""   # not a code: one of '
                               f"{', '.join(map(str, f.code_values))}")
        if entries:
            lines.append("")
            lines.append(f"[values.{_toml_key(f.name)}]   # source value = stored value")
            lines.extend(entries)
    lines.append("")
    lines.append("[constants]   # field = value of every row, e.g.")
    lines.append('# district = "锦江区"')
    return "\n".join(lines) + "\n"


def _guess_crs(source: Source, x: str | None, y: str | None) -> str | None:
    if x is None or y is None:
        return None
    for row in source.head(20):
        try:
            vx, vy = float(row.values.get(x)), float(row.values.get(y))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        return "EPSG:4326" if abs(vx) <= 180 and abs(vy) <= 90 else None
    return None
