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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely

from layers.errors import ValidationError
from layers.imports.coordinates import Reprojector, SourceCrs, parse_source_crs
from layers.imports.mapping import Mapping
from layers.imports.problems import InventoryImportError, RowProblem
from layers.imports.sources import Source
from layers.imports.standard import check_standard
from layers.log import logger
from layers.schema.definitions import FieldDefinition, LayerDefinition, validate_feature
from layers.schema.geometry import validate_geometry
from layers.workspace.values import same_value

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

log = logger(__name__)

__all__ = ["PlannedRow", "ImportPlan", "ImportResult", "plan_import", "apply_import", "write_report"]

Progress = Callable[[int], object]


@dataclass
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
    """What an import wrote."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


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


def plan_import(workspace: Workspace, layer: str, source: Source, mapping: Mapping, *,
                source_crs: str | None = None, progress: Progress | None = None) -> ImportPlan:
    """Check every row of ``source`` for ``layer`` of ``workspace``; write nothing.

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
    for index, row in enumerate(source.rows, start=1):
        problems: list[RowProblem] = []
        attributes = _row_attributes(definition, mapping, row.values, row.number, problems)
        geometry = _row_geometry(definition, source, mapping, reproject, crs, row, problems)
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
            absent = [f for f in definition.fields if f.required and f.default is None and not f.derived
                      and f.name not in attributes]
            for f in absent:
                problems.append(RowProblem(row.number, f.name, "", None,
                                           f"{layer}.{f.name}: a value is required (a new feature)"))
        if problems:
            plan.problems.extend(problems)
        else:
            plan.rows.append(PlannedRow(row.number, attributes, geometry, fid))
        if progress is not None and index % 500 == 0:
            progress(index)
    if progress is not None:
        progress(len(source.rows))
    check_standard(workspace, definition, mapping, plan)  # zone rules, located fields, component codes
    return plan


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


def _existing_keys(workspace: Workspace, layer: str, key: str) -> dict[str, list[int]]:
    keys: dict[str, list[int]] = {}
    for feature in workspace.features(layer):
        value = feature.uuid if key == "uuid" else feature.attributes.get(key)
        text = _key_text(value)
        if text is not None:
            keys.setdefault(text, []).append(feature.fid)
    return keys


def _row_attributes(definition: LayerDefinition, mapping: Mapping, values: dict[str, Any], number: int,
                    problems: list[RowProblem]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    sources: dict[str, tuple[str, Any]] = {}
    for name, column in mapping.fields.items():
        raw = values.get(column)
        value = raw
        value_map = mapping.values.get(name)
        if value_map and raw is not None and str(raw).strip() in value_map:
            value = value_map[str(raw).strip()]
        if name == "uuid":
            if value is not None and str(value).strip():
                try:
                    attributes["uuid"] = str(uuid.UUID(str(value).strip()))
                except ValueError:
                    problems.append(RowProblem(number, "uuid", column, raw, f"{raw!r} is not a uuid"))
            continue
        attributes[name] = convert(definition.field(name), value)
        sources[name] = (column, raw)
    for name, value in mapping.constants.items():
        attributes[name] = convert(definition.field(name), value)
        sources[name] = ("", value)
    clean: dict[str, Any] = {}
    for name, value in attributes.items():
        if name == "uuid":
            clean[name] = value
            continue
        try:
            clean.update(validate_feature(definition, {name: value}, partial=True))
        except ValidationError as e:
            column, raw = sources[name]
            problems.append(RowProblem(number, name, column, raw, str(e)))
    return clean


def _row_geometry(definition: LayerDefinition, source: Source, mapping: Mapping, reproject: Reprojector,
                  crs: SourceCrs, row: Any, problems: list[RowProblem]) -> Any:
    number = row.number
    if source.kind == "table":
        assert mapping.x is not None and mapping.y is not None  # Mapping.check
        coordinates = []
        for axis, column in (("x", mapping.x), ("y", mapping.y)):
            raw = row.values.get(column)
            try:
                coordinates.append(float(str(raw).strip().replace(",", "")) if raw is not None else None)
            except ValueError:
                coordinates.append(None)
            if coordinates[-1] is None:
                problems.append(RowProblem(number, "geom", column, raw, f"{axis} is not a number"))
        if None in coordinates:
            return None
        geometry = shapely.Point(coordinates)
    else:
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
    moved, why = reproject(geometry)
    if why is not None:
        problems.append(RowProblem(number, "geom", "", _short_wkt(geometry), f"{why} (source CRS {crs.label})"))
        return None
    try:
        validate_geometry(definition, moved)
    except ValidationError as e:
        problems.append(RowProblem(number, "geom", "", _short_wkt(geometry), str(e)))
        return None
    return moved


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
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    elif suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=["row", "field", "column", "value", "message"])
            writer.writeheader()
            for problem in plan.problems:
                writer.writerow(problem.as_dict())
    else:
        raise InventoryImportError(f"{path}: a report is .csv or .json")
