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

The source is read once, a chunk at a time: ``plan_import`` checks each
chunk and keeps its good rows, compactly, in a temporary file
(``layers.imports.kept``); ``apply_import`` writes them from there, exactly as
checked. A plan also keeps the good rows in memory (``plan.rows``: for a
preview, the editor's undoable import, a master) unless made with
``keep_rows=False``: a file of millions of rows is then checked and imported
in memory that does not grow with it. The new rows' positions, learnt while
checking, let the workspace write each feature straight to its place in
spatial order.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import shapely

from layers.errors import ValidationError
from layers.imports.checks import CheckedChunk, RowChecker, convert, key_text
from layers.imports.coordinates import Reprojector, SourceCrs, parse_source_crs
from layers.imports.kept import KeptChunk, KeptRows
from layers.imports.mapping import Mapping
from layers.imports.problems import InventoryImportError, RowProblem
from layers.imports.sources import Source
from layers.imports.standard import StandardCheck, standard_target
from layers.log import logger
from layers.schema.definitions import LayerDefinition, validate_feature, validate_value
from layers.workspace.values import same_value

if TYPE_CHECKING:
    from layers.workspace.bulk import FeatureBatch
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
    """What an import would do: how many rows pass (kept in ``rows`` unless the plan was made with
    ``keep_rows=False``), and the problems of the others."""

    layer: str
    source: Path
    source_crs: str
    total: int = 0
    rows: list[PlannedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    passed: int = 0
    new: int = 0
    matched: int = 0
    #: The good rows as checked, for ``apply_import`` (a temporary file: ``close`` lets it go).
    kept: KeptRows | None = field(default=None, repr=False, compare=False)
    #: The (x, y) centre of each new row that passed, in order (the workspace stores them in spatial order).
    centres: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def invalid_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})

    def close(self) -> None:
        """Let go of the rows kept for ``apply_import`` (also done when the plan is dropped)."""
        if self.kept is not None:
            self.kept.close()
            self.kept = None


@dataclass
class ImportResult:
    """What an import wrote (``codes``: into a master, the component codes it gave: layer, uuid, from, to,
    reason)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    codes: list[dict[str, Any]] = field(default_factory=list)


# --- planning ----------------------------------------------------------------------------------


def plan_import(workspace: ImportTarget, layer: str, source: Source, mapping: Mapping, *,
                source_crs: str | None = None, progress: Progress | None = None,
                keep_rows: bool = True) -> ImportPlan:
    """Check every row of ``source`` for ``layer`` of ``workspace`` (or of a master); write nothing.

    Parameters
    ----------
    source_crs : str, optional
        Overrides the mapping's ``source_crs`` and the file's own CRS.
    keep_rows : bool
        Keep the rows that pass in ``plan.rows`` (with their geometries). Without
        them a plan holds the problems and counts only; ``apply_import`` reads the
        source again either way.

    Raises
    ------
    InventoryImportError
        The mapping does not fit the layer or the source, or the source CRS is unknown.
    """
    definition = workspace.layer(layer)
    log.info("checking %s for %s", source.path, layer)
    if mapping.layer is not None and mapping.layer != layer:
        raise InventoryImportError(f"{mapping.where} is for layer {mapping.layer}, not {layer}")
    # The coordinate move is made before the mapping is checked against the columns (a workbook's
    # sheet may still be read in the background), but a wrong mapping is said first.
    crs_text = source_crs or mapping.source_crs or source.crs
    moved: tuple[SourceCrs, Reprojector] | InventoryImportError
    try:
        if crs_text is None:
            raise InventoryImportError(f"{source.path.name} does not say its CRS: give --source-crs (EPSG:n, "
                                       "wgs84, cgcs2000, gcj02 or bd09) or source_crs in the mapping")
        crs = parse_source_crs(crs_text)
        moved = (crs, Reprojector(crs, workspace.crs))
    except InventoryImportError as e:
        moved = e
    mapping.check(definition, source)
    if isinstance(moved, InventoryImportError):
        raise moved
    crs, reproject = moved
    _check_constants(definition, mapping)
    if mapping.key is None:
        missing = [f.name for f in definition.fields
                   if f.required and f.default is None and not f.derived
                   and f.name not in mapping.fields and f.name not in mapping.constants]
        if missing:
            raise InventoryImportError(f"required field(s) {', '.join(missing)} of {layer} have no column and "
                                       "no constant in the mapping (and no default)")
    existing = _existing_keys(workspace, layer, mapping.key) if mapping.key else {}
    checker = RowChecker(definition, mapping, source.kind, reproject, crs, existing,
                         _constant_values(definition, mapping))
    target = standard_target(workspace)  # a workspace, or a master that reads like one (master_import)
    standard = StandardCheck(target, definition, mapping) if target is not None else None
    plan = ImportPlan(layer, source.path, crs.label, notes=list(source.notes), kept=KeptRows())
    centres: list[np.ndarray] = []
    try:
        for checked in _checked_chunks(source, checker, standard, geometries=keep_rows):
            plan.total += len(checked.numbers)
            for i in sorted(checked.problems):
                plan.problems.extend(checked.problems[i])
            passed = checked.passed()
            new = checked.new_rows(passed)
            plan.passed += len(passed)
            plan.new += len(new)
            plan.matched += len(passed) - len(new)
            centres.append(checked.centres[new])
            if passed:
                assert plan.kept is not None
                plan.kept.add(_kept(checked, passed, points=source.kind == "table"))
            if keep_rows:
                assert checked.geometries is not None
                plan.rows.extend(PlannedRow(checked.numbers[i], checked.attributes(i), checked.geometries[i],
                                            checked.fids[i]) for i in passed)
            if progress is not None:
                progress(plan.total)
    except BaseException:
        plan.close()
        raise
    if progress is not None:
        progress(plan.total)
    if standard is not None:
        plan.notes.extend(standard.notes)
    together = np.concatenate(centres) if centres else np.empty((0, 2))
    plan.centres = (together[:, 0], together[:, 1])
    return plan


def _kept(checked: CheckedChunk, passed: list[int], *, points: bool) -> KeptChunk:
    """The rows ``passed`` of a chunk as kept for writing (a table's rows as points: their coordinates)."""
    every = len(passed) == len(checked.numbers)

    def pick(column: list[Any]) -> list[Any]:
        return column if every else [column[i] for i in passed]

    values = {name: pick(column) for name, column in checked.values.items()}
    fids = pick(checked.fids) if checked.matched else None
    if points:
        return KeptChunk(pick(checked.numbers), values, set(checked.given), fids,
                         checked.centres if every else checked.centres[passed], None)
    assert checked.geometries is not None
    return KeptChunk(pick(checked.numbers), values, set(checked.given), fids, None,
                     checked.geometries if every else checked.geometries[passed])


def _checked_chunks(source: Source, checker: RowChecker, standard: StandardCheck | None, *,
                    geometries: bool) -> Iterator[CheckedChunk]:
    """A pass over the source: each chunk's rows checked (by the standard's rules too, into a workspace)."""
    checker.start()
    make = geometries or (standard is not None and standard.needs_geometries)
    for chunk in source.chunks():
        checked = checker.check(chunk, geometries=make)
        if standard is not None:
            standard.check(checked)
        yield checked


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


def _existing_keys(workspace: ImportTarget, layer: str, key: str) -> dict[str, list[int]]:
    keys: dict[str, list[int]] = {}
    for feature in workspace.features(layer):
        value = feature.uuid if key == "uuid" else feature.attributes.get(key)
        text = key_text(value)
        if text is not None:
            keys.setdefault(text, []).append(feature.fid)
    return keys


# --- writing -----------------------------------------------------------------------------------


def apply_import(workspace: Workspace, plan: ImportPlan, *, skip_invalid: bool = False,
                 progress: Progress | None = None) -> ImportResult:
    """Write the rows the plan found good, as it checked them, in one transaction.

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
    if plan.kept is None or plan.centres is None:
        raise InventoryImportError(f"{plan.source.name}: the plan is closed (or was not made by plan_import); "
                                   "nothing was written")
    from layers.workspace.bulk import spatial_order

    result = ImportResult(skipped=len(invalid))
    definition = workspace.layer(plan.layer)
    log.info("writing %d rows of %s into %s", plan.passed, plan.source, plan.layer)
    x, y = plan.centres
    order = spatial_order(x, y)
    reordered = not np.array_equal(order, np.arange(len(order)))
    with workspace.session():
        # The new rows come in the order the workspace stores a big load in: each row is appended.
        chunks = plan.kept.in_order(order if reordered else None)
        batches = _batches(workspace, plan.layer, chunks, result, progress)
        result.inserted = workspace.insert_batches(plan.layer, batches, in_order=True,
                                                   centres=(x[order], y[order]) if reordered else (x, y))
    if progress is not None:
        progress(plan.passed)
    log.info("import %s into %s: %d inserted, %d updated, %d unchanged, %d rows skipped",
             plan.source, definition.name, result.inserted, result.updated, result.unchanged, result.skipped)
    return result


def _batches(workspace: Workspace, layer: str, chunks: Iterable[KeptChunk], result: ImportResult,
             progress: Progress | None) -> Iterator[FeatureBatch]:
    """The kept rows: the matched features updated here, the new ones handed on a batch at a time."""
    from layers.workspace.bulk import FeatureBatch

    done = 0
    for chunk in chunks:
        new = list(range(len(chunk.numbers)))
        if chunk.fids is not None:
            new = [i for i, fid in enumerate(chunk.fids) if fid is None]
            for i, fid in enumerate(chunk.fids):
                if fid is not None:
                    _update(workspace, layer, chunk, i, fid, result)
        done += len(chunk.numbers)
        if new:
            every = len(new) == len(chunk.numbers)
            values = {name: column if every else [column[i] for i in new]
                      for name, column in chunk.values.items() if name != "uuid"}
            identity = {"uuid": [chunk.values["uuid"][i] for i in new]} if "uuid" in chunk.values else {}
            # Every value was checked by the layer's rules when the plan was made: not checked again.
            checked = frozenset(values)
            if chunk.xy is not None:
                batch = FeatureBatch(values, identity=identity, xy=chunk.xy if every else chunk.xy[new],
                                     checked=checked)
            else:
                assert chunk.geometries is not None
                batch = FeatureBatch(values, chunk.geometries if every else chunk.geometries[new], identity,
                                     checked=checked)
            del chunk, values, identity
            yield batch
            del batch
        if progress is not None:
            progress(done)


def _update(workspace: Workspace, layer: str, chunk: KeptChunk, i: int, fid: int, result: ImportResult) -> None:
    """Update feature ``fid`` with what differs in row ``i`` (nothing if nothing does)."""
    current = workspace.get(layer, fid)
    changes = {name: value for name, value in chunk.attributes(i).items()
               if name != "uuid" and not same_value(current.attributes.get(name), value)}
    geometry = chunk.geometry(i)
    if current.geometry is not None and shapely.equals_exact(current.geometry, geometry, tolerance=1e-6):
        geometry = None
    if changes or geometry is not None:
        workspace.update(layer, fid, changes, geometry)
        result.updated += 1
    else:
        result.unchanged += 1


def write_report(plan: ImportPlan, path: str | Path, result: ImportResult | None = None) -> None:
    """The problems of a plan as CSV (``.csv``, UTF-8 with BOM, as Excel opens it) or JSON (``.json``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        data: dict[str, Any] = {
            "source": str(plan.source), "layer": plan.layer, "source_crs": plan.source_crs, "rows": plan.total,
            "valid": plan.passed, "invalid": len(plan.invalid_rows), "new": plan.new, "matched": plan.matched,
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
