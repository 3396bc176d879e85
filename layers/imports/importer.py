"""Validate every row of a source against a layer, then import the rows in one transaction.

``plan_import`` reads nothing but the source and the workspace: each row's
values through the mapping (value maps, constants), converted where the
source's type differs from the field's (numbers in text fields, 2024/5/1 dates,
是/否 flags), then checked field by field with the layer definition's own rules
(type, range, code list, required), so a row reports every value that breaks a
rule, not just the first. Its geometry is moved to the workspace CRS and
checked: empty, invalid, or outside the CRS's area of use. A key field named
in the mapping finds the existing feature a row updates; rows without a match
become new features with new uuids.

The target is a workspace or anything that reads like one (``crs``,
``layer(name)``, ``features(layer)``: :class:`ImportTarget`), such as a master
opened by ``layers.sync.master_import``, which writes a master's plan itself.

``apply_import`` writes the plan through the ``Workspace`` API in one
transaction: nothing unless every row passed, or with ``skip_invalid`` the
rows that passed. ``write_report`` writes the problems as CSV or JSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import shapely

from layers.errors import ValidationError
from layers.imports.coordinates import Reprojector, SourceCrs, parse_source_crs
from layers.imports.mapping import Mapping
from layers.imports.problems import InventoryImportError, RowProblem
from layers.imports.sources import Source
from layers.imports.standard import check_standard, standard_target
from layers.log import logger
from layers.schema.definitions import FieldDefinition, LayerDefinition, validate_feature, validate_value
from layers.schema.geometry import validate_geometry
from layers.workspace.values import same_value

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

log = logger(__name__)

__all__ = ["ImportTarget", "PlannedRow", "ImportPlan", "ImportResult", "plan_import", "apply_import",
           "write_report"]

Progress = Callable[[int], object]


class _TargetFeature(Protocol):
    @property
    def fid(self) -> int: ...
    @property
    def uuid(self) -> str: ...
    @property
    def attributes(self) -> dict[str, Any]: ...


class ImportTarget(Protocol):
    """What a plan reads of where the rows go: a ``Workspace``, or a master opened for an import."""

    @property
    def crs(self) -> str: ...

    def layer(self, name: str) -> LayerDefinition: ...

    def features(self, layer: str) -> Iterable[_TargetFeature]: ...


@dataclass(slots=True)
class PlannedRow:
    """A row that passed: its values (stored form), its geometry in the workspace CRS, and the
    fid of the existing feature it updates (None: a new feature)."""

    number: int
    attributes: dict[str, Any]
    geometry: Any
    fid: int | None = None


@dataclass
class ImportPlan:
    """What an import would do: the rows that pass, the problems of the others."""

    layer: str
    source: Path
    source_crs: str
    total: int
    rows: list[PlannedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def invalid_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})

    @property
    def new(self) -> int:
        return sum(1 for r in self.rows if r.fid is None)

    @property
    def matched(self) -> int:
        return sum(1 for r in self.rows if r.fid is not None)


@dataclass
class ImportResult:
    """What an import wrote (``codes``: into a master, the component codes it gave: layer, uuid, from, to,
    reason)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    codes: list[dict[str, Any]] = field(default_factory=list)


# --- values ------------------------------------------------------------------------------------

_DATE = re.compile(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(?:[ T]0?0:00(?::00)?)?\s*")
_TRUE = {"true", "t", "yes", "y", "1", "是", "有", "√", "✓", "对"}
_FALSE = {"false", "f", "no", "n", "0", "否", "无", "×", "✗", "错"}


def convert(f: FieldDefinition, value: Any) -> Any:
    """A source value in the form the field's validation reads; values that cannot be converted
    are returned as they are (validation then names the rule they break)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    if f.type in ("text", "photo"):
        if isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
    elif f.type == "integer" and isinstance(value, str):
        number = value.replace(",", "")
        try:
            as_float = float(number)
        except ValueError:
            return value
        return int(as_float) if as_float.is_integer() else value
    elif f.type == "boolean":
        if isinstance(value, str):
            text = value.lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        elif isinstance(value, float) and value in (0.0, 1.0):
            return bool(value)
    elif f.type == "date":
        if isinstance(value, dt.datetime) and value.time() == dt.time(0):
            return value.date()
        if isinstance(value, str):
            match = _DATE.fullmatch(value)
            if match:
                try:
                    return dt.date(*map(int, match.groups()))
                except ValueError:
                    return value
    return value


# --- planning ----------------------------------------------------------------------------------


def plan_import(workspace: ImportTarget, layer: str, source: Source, mapping: Mapping, *,
                source_crs: str | None = None, progress: Progress | None = None) -> ImportPlan:
    """Check every row of ``source`` for ``layer`` of ``workspace`` (or of a master); write nothing.

    Parameters
    ----------
    source_crs : str, optional
        Overrides the mapping's ``source_crs`` and the file's own CRS.

    Raises
    ------
    InventoryImportError
        The mapping does not fit the layer or the source, or the source CRS is unknown.
    """
    definition = workspace.layer(layer)
    if mapping.layer is not None and mapping.layer != layer:
        raise InventoryImportError(f"{mapping.where} is for layer {mapping.layer}, not {layer}")
    mapping.check(definition, source)
    crs_text = source_crs or mapping.source_crs or source.crs
    if crs_text is None:
        raise InventoryImportError(f"{source.path.name} does not say its CRS: give --source-crs (EPSG:n, wgs84, "
                                   "cgcs2000, gcj02 or bd09) or source_crs in the mapping")
    crs = parse_source_crs(crs_text)
    reproject = Reprojector(crs, workspace.crs)
    plan = ImportPlan(layer, source.path, crs.label, len(source.rows), notes=list(source.notes))
    _check_constants(definition, mapping)
    if mapping.key is None:
        missing = [f.name for f in definition.fields
                   if f.required and f.default is None and not f.derived
                   and f.name not in mapping.fields and f.name not in mapping.constants]
        if missing:
            raise InventoryImportError(f"required field(s) {', '.join(missing)} of {layer} have no column and "
                                       "no constant in the mapping (and no default)")
    existing = _existing_keys(workspace, layer, mapping.key) if mapping.key else {}
    seen_keys: dict[str, int] = {}
    checks = _field_checks(definition, mapping)
    constants = _constant_values(definition, mapping)
    required = [f for f in definition.fields if f.required and f.default is None and not f.derived]
    done = 0
    for first in range(0, len(source.rows), _CHUNK):
        chunk = source.rows[first:first + _CHUNK]
        found: list[list[RowProblem]] = [[] for _ in chunk]
        rows_attributes = [_row_attributes(checks, constants, row.values, row.number, problems)
                           for row, problems in zip(chunk, found, strict=True)]
        geometries = _chunk_geometries(definition, source, mapping, reproject, crs, chunk, found)
        for row, attributes, geometry, problems in zip(chunk, rows_attributes, geometries, found, strict=True):
            fid: int | None = None
            if mapping.key is not None and mapping.key in attributes and not problems:
                key = _key_text(attributes[mapping.key])
                column = mapping.fields[mapping.key]
                if key is None:
                    problems.append(RowProblem(row.number, mapping.key, column, None, "the key is empty"))
                elif key in seen_keys:
                    problems.append(RowProblem(row.number, mapping.key, column, key,
                                               f"the same key as row {seen_keys[key]}"))
                else:
                    seen_keys[key] = row.number
                    fids = existing.get(key, [])
                    if len(fids) > 1:
                        problems.append(RowProblem(row.number, mapping.key, column, key,
                                                   f"the key matches {len(fids)} features of {layer}"))
                    elif fids:
                        fid = fids[0]
            if fid is None and not problems:
                for f in required:
                    if f.name not in attributes:
                        problems.append(RowProblem(row.number, f.name, "", None,
                                                   f"{layer}.{f.name}: a value is required (a new feature)"))
            if problems:
                plan.problems.extend(problems)
            else:
                plan.rows.append(PlannedRow(row.number, attributes, geometry, fid))
        done += len(chunk)
        if progress is not None:
            progress(done)
    if progress is not None:
        progress(len(source.rows))
    standard = standard_target(workspace)
    if standard is not None:
        check_standard(standard, definition, mapping, plan)  # zone rules, located fields, component codes
    return plan


#: Rows checked at a time: their geometries are moved to the target CRS in one go.
_CHUNK = 20_000
#: Distinct values of one column whose checks are remembered (a code column has a handful; a name column
#: has as many as rows, each checked once anyway).
_CACHE_LIMIT = 20_000


class _FieldCheck:
    """A mapped column's values through the value map, converted and checked for one field (remembered)."""

    __slots__ = ("definition", "field", "name", "column", "value_map", "cache")

    def __init__(self, definition: LayerDefinition, name: str, column: str,
                 value_map: dict[str, Any] | None) -> None:
        self.definition = definition
        self.field = None if name == "uuid" else definition.field(name)
        self.name = name
        self.column = column
        self.value_map = value_map or None
        self.cache: dict[tuple[type, Any], tuple[Any, str | None]] = {}

    def check(self, raw: Any) -> tuple[Any, str | None]:
        """(the stored value, None) or (None, what is wrong)."""
        try:
            key = (raw.__class__, raw)
            hit = self.cache.get(key)
        except TypeError:  # an unhashable value (a list from a vector file): checked every time
            key, hit = None, None
        if hit is not None:
            return hit
        value = raw
        if self.value_map is not None and raw is not None:
            text = str(raw).strip()
            if text in self.value_map:
                value = self.value_map[text]
        result: tuple[Any, str | None]
        if self.field is None:  # the uuid column
            if value is None or not str(value).strip():
                result = (None, None)
            else:
                try:
                    result = (str(uuid.UUID(str(value).strip())), None)
                except ValueError:
                    result = (None, f"{raw!r} is not a uuid")
        else:
            try:
                result = (validate_value(self.definition, self.field, convert(self.field, value)), None)
            except ValidationError as e:
                result = (None, str(e))
        if key is not None and len(self.cache) < _CACHE_LIMIT:
            self.cache[key] = result
        return result


def _field_checks(definition: LayerDefinition, mapping: Mapping) -> list[_FieldCheck]:
    return [_FieldCheck(definition, name, column, mapping.values.get(name)) for name, column in mapping.fields.items()]


def _constant_values(definition: LayerDefinition, mapping: Mapping) -> dict[str, Any]:
    """The mapping's constants in stored form (checked by ``_check_constants`` before)."""
    return {name: validate_value(definition, definition.field(name), convert(definition.field(name), value))
            for name, value in mapping.constants.items()}


def _check_constants(definition: LayerDefinition, mapping: Mapping) -> None:
    for name, value in mapping.constants.items():
        if name == "uuid":
            raise InventoryImportError(f"{mapping.where}: [constants] uuid: a uuid cannot be a constant")
        try:
            validate_feature(definition, {name: convert(definition.field(name), value)}, partial=True)
        except ValidationError as e:
            raise InventoryImportError(f"{mapping.where}: [constants] {e}") from None


def _key_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _existing_keys(workspace: ImportTarget, layer: str, key: str) -> dict[str, list[int]]:
    keys: dict[str, list[int]] = {}
    for feature in workspace.features(layer):
        value = feature.uuid if key == "uuid" else feature.attributes.get(key)
        text = _key_text(value)
        if text is not None:
            keys.setdefault(text, []).append(feature.fid)
    return keys


def _row_attributes(checks: list[_FieldCheck], constants: dict[str, Any], values: dict[str, Any], number: int,
                    problems: list[RowProblem]) -> dict[str, Any]:
    """A row's values in stored form (a field left empty is None; the uuid column as its uuid)."""
    clean: dict[str, Any] = {}
    for check in checks:
        raw = values.get(check.column)
        value, error = check.check(raw)
        if error is not None:
            problems.append(RowProblem(number, check.name, check.column, raw, error))
        elif check.field is not None or value is not None:
            clean[check.name] = value
    clean.update(constants)
    return clean


def _chunk_geometries(definition: LayerDefinition, source: Source, mapping: Mapping, reproject: Reprojector,
                      crs: SourceCrs, chunk: list[Any], found: list[list[RowProblem]]) -> list[Any]:
    """The geometries of a chunk of rows in the target CRS (None where a row has a problem, then noted)."""
    shapes: list[Any] = [None] * len(chunk)
    if source.kind == "table":  # points made all at once from the coordinate columns
        xy = [_table_xy(mapping, row, found[i]) for i, row in enumerate(chunk)]
        placed = [i for i, pair in enumerate(xy) if pair is not None]
        if placed:
            for i, point in zip(placed, shapely.points(np.array([xy[i] for i in placed], dtype=float)).tolist(),
                                strict=True):
                shapes[i] = point
    else:
        for i, row in enumerate(chunk):
            shapes[i] = _source_geometry(definition, row, found[i])
    present = [i for i, g in enumerate(shapes) if g is not None]
    if not present:
        return shapes
    moved, why = reproject.many(np.array([shapes[i] for i in present], dtype=object))
    type_ids = shapely.get_type_id(moved)
    good = np.isin(type_ids, _TYPE_IDS[definition.geometry_type]) & ~shapely.is_empty(moved)
    if definition.geometry_type != "POINT":
        good &= shapely.is_valid(moved)
    out: list[Any] = [None] * len(chunk)
    for j, i in enumerate(present):
        original = shapes[i]
        if why[j] is not None:
            found[i].append(RowProblem(chunk[i].number, "geom", "", _short_wkt(original),
                                       f"{why[j]} (source CRS {crs.label})"))
            continue
        geometry = moved[j]
        if not good[j]:
            try:
                validate_geometry(definition, geometry)
            except ValidationError as e:
                found[i].append(RowProblem(chunk[i].number, "geom", "", _short_wkt(original), str(e)))
                continue
        out[i] = geometry
    return out


#: The shapely type ids a layer's geometry type takes (as ``validate_geometry`` allows them).
_TYPE_IDS = {"POINT": (0,), "MULTIPOINT": (0, 4), "LINESTRING": (1,), "MULTILINESTRING": (1, 5)}


def _table_xy(mapping: Mapping, row: Any, problems: list[RowProblem]) -> tuple[float, float] | None:
    """A table row's coordinates as numbers; None with a problem noted for each that is not one."""
    assert mapping.x is not None and mapping.y is not None  # Mapping.check
    coordinates: list[float | None] = []
    for axis, column in (("x", mapping.x), ("y", mapping.y)):
        raw = row.values.get(column)
        try:
            value = raw if raw.__class__ is float else (
                float(str(raw).strip().replace(",", "")) if raw is not None else None)
        except ValueError:
            value = None
        if value is None:
            problems.append(RowProblem(row.number, "geom", column, raw, f"{axis} is not a number"))
        coordinates.append(value)
    x, y = coordinates
    return None if x is None or y is None else (x, y)


def _source_geometry(definition: LayerDefinition, row: Any, problems: list[RowProblem]) -> Any:
    """A vector row's geometry in the source CRS, single parts as the layer wants them; None with a problem."""
    number = row.number
    geometry = row.geometry
    if geometry is None:
        problems.append(RowProblem(number, "geom", "", None, "no geometry"))
        return None
    if geometry.is_empty:
        problems.append(RowProblem(number, "geom", "", geometry.wkt, "the geometry is empty"))
        return None
    if definition.geometry_type == "POINT" and geometry.geom_type == "MultiPoint" and len(geometry.geoms) == 1:
        geometry = geometry.geoms[0]
    if definition.geometry_type == "LINESTRING" and geometry.geom_type == "MultiLineString" \
            and len(geometry.geoms) == 1:
        geometry = geometry.geoms[0]
    return geometry


def _short_wkt(geometry: Any) -> str:
    text: str = shapely.to_wkt(geometry, rounding_precision=8, trim=True)
    return text if len(text) <= 120 else text[:119] + "…"


# --- writing -----------------------------------------------------------------------------------


def apply_import(workspace: Workspace, plan: ImportPlan, *, skip_invalid: bool = False,
                 progress: Progress | None = None) -> ImportResult:
    """Write the plan's rows in one transaction.

    Raises
    ------
    InventoryImportError
        Some rows broke a rule and ``skip_invalid`` is not set: nothing was written.
    """
    invalid = plan.invalid_rows
    if invalid and not skip_invalid:
        raise InventoryImportError(
            f"{len(invalid)} of {plan.total} rows of {plan.source.name} break the rules of {plan.layer}: "
            "nothing was written (see the report; --skip-invalid imports the other rows)")
    result = ImportResult(skipped=len(invalid))
    definition = workspace.layer(plan.layer)
    new = [r for r in plan.rows if r.fid is None]
    matched = [r for r in plan.rows if r.fid is not None]
    with workspace.session():
        done = 0
        for row in matched:
            current = workspace.get(plan.layer, row.fid)  # type: ignore[arg-type]
            changes = {name: value for name, value in row.attributes.items()
                       if name != "uuid" and not same_value(current.attributes.get(name), value)}
            geometry = row.geometry
            if current.geometry is not None and shapely.equals_exact(current.geometry, geometry, tolerance=1e-6):
                geometry = None
            if changes or geometry is not None:
                workspace.update(plan.layer, row.fid, changes, geometry)  # type: ignore[arg-type]
                result.updated += 1
            else:
                result.unchanged += 1
            done += 1
            if progress is not None and done % 500 == 0:
                progress(done)
        if new:
            items = []
            for row in new:
                attributes = {k: v for k, v in row.attributes.items() if k != "uuid"}
                identity = {"uuid": row.attributes["uuid"]} if "uuid" in row.attributes else None
                items.append((attributes, row.geometry, identity) if identity else (attributes, row.geometry))
            result.inserted = workspace.insert_many(
                plan.layer, items, progress=(lambda n: progress(done + n)) if progress is not None else None)
    if progress is not None:
        progress(len(plan.rows))
    log.info("import %s into %s: %d inserted, %d updated, %d unchanged, %d rows skipped",
             plan.source, definition.name, result.inserted, result.updated, result.unchanged, result.skipped)
    return result


def write_report(plan: ImportPlan, path: str | Path, result: ImportResult | None = None) -> None:
    """The problems of a plan as CSV (``.csv``, UTF-8 with BOM, as Excel opens it) or JSON (``.json``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        data: dict[str, Any] = {
            "source": str(plan.source), "layer": plan.layer, "source_crs": plan.source_crs, "rows": plan.total,
            "valid": len(plan.rows), "invalid": len(plan.invalid_rows), "new": plan.new, "matched": plan.matched,
            "notes": plan.notes, "problems": [p.as_dict() for p in plan.problems],
        }
        if result is not None:
            data["written"] = {"inserted": result.inserted, "updated": result.updated,
                               "unchanged": result.unchanged, "skipped": result.skipped}
            if result.codes:
                data["written"]["codes"] = result.codes
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    elif suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=["row", "field", "column", "value", "message"])
            writer.writeheader()
            for problem in plan.problems:
                writer.writerow(problem.as_dict())
    else:
        raise InventoryImportError(f"{path}: a report is .csv or .json")
