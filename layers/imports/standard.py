"""The component standard in an import plan: located fields from the position, zone rules, codes that stay.

An import writes through the workspace, which takes each new or moved
feature's zone and unit grid cell from the reference polygons and gives new
components their codes; an import into a master does the same when it writes
(``layers.sync.master_import``).  The plan says so before anything is
written: a source column mapped to a located field is not used (a note), and
a row that breaks a rule of its zone (``required_if``) or would change a
component code is a problem of that row, like any other broken rule.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from layers.errors import FeatureNotFoundError, ValidationError
from layers.imports.problems import RowProblem
from layers.schema.components import check_conditions, check_update
from layers.schema.definitions import FieldDefinition, LayerDefinition
from layers.workspace.located import active_located_fields, locate

if TYPE_CHECKING:
    from layers.imports.importer import ImportPlan, PlannedRow
    from layers.imports.mapping import Mapping
    from layers.workspace.store import Workspace

__all__ = ["StandardTarget", "WorkspaceStandard", "standard_target", "check_standard"]


class StandardTarget(Protocol):
    """What the standard's rules read of an import's target: a workspace (:class:`WorkspaceStandard`) or a
    master (``layers.sync.master_import.MasterTarget``)."""

    def located_fields(self, definition: LayerDefinition) -> tuple[FieldDefinition, ...]:
        """The located fields of a layer whose reference layer the target holds, with polygons."""
        ...

    def locate(self, definition: LayerDefinition, geometries: Sequence[Any]) -> dict[str, list[Any]]:
        """The values of those fields at each geometry: {field: [value per geometry]}."""
        ...

    def stored(self, layer: str, fids: Collection[int]) -> dict[int, dict[str, Any]]:
        """The field values of the features with these fids (those that exist)."""
        ...


class WorkspaceStandard:
    """A workspace as a :class:`StandardTarget`."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def located_fields(self, definition: LayerDefinition) -> tuple[FieldDefinition, ...]:
        return active_located_fields(self.workspace, definition)

    def locate(self, definition: LayerDefinition, geometries: Sequence[Any]) -> dict[str, list[Any]]:
        return locate(self.workspace, definition, geometries)

    def stored(self, layer: str, fids: Collection[int]) -> dict[int, dict[str, Any]]:
        out = {}
        for fid in fids:
            try:
                out[fid] = self.workspace.get(layer, fid).attributes
            except FeatureNotFoundError:
                continue
        return out


def standard_target(target: object) -> StandardTarget | None:
    """The standard's view of an import target: a workspace wrapped, a target that reads like one, else None."""
    from layers.workspace.store import Workspace

    if isinstance(target, Workspace):
        return WorkspaceStandard(target)
    if all(callable(getattr(target, name, None)) for name in ("located_fields", "locate", "stored")):
        return target  # type: ignore[return-value]
    return None


def check_standard(target: StandardTarget, definition: LayerDefinition, mapping: Mapping, plan: ImportPlan) -> None:
    """Apply the standard's rules to a plan, in place (see the module's text)."""
    located = [f.name for f in target.located_fields(definition)]
    mapped = [name for name in located if name in mapping.fields or name in mapping.constants]
    if mapped:
        layers = sorted({f.located_in.layer for f in definition.located_fields if f.name in mapped and f.located_in})
        plan.notes.append(f"{', '.join(mapped)}: taken from each feature's position ({', '.join(layers)}), "
                          "not from the source")
    for row in plan.rows:
        for name in located:
            row.attributes.pop(name, None)
    if not definition.conditional_fields and definition.component is None:
        return
    new = [row for row in plan.rows if row.fid is None]
    found = target.locate(definition, [row.geometry for row in new]) if located else {}
    failed: list[PlannedRow] = []
    for i, row in enumerate(new):
        values = {**definition.stored_defaults, **row.attributes, **{n: v[i] for n, v in found.items()}}
        if _refused(row, partial(check_conditions, definition, values), mapping, plan):
            failed.append(row)
    matched = [r for r in plan.rows if r.fid is not None]
    stored = target.stored(definition.name, {r.fid for r in matched if r.fid is not None}) if matched else {}
    for row in matched:
        if row.fid not in stored:
            continue
        if _refused(row, partial(check_update, definition, stored[row.fid], row.attributes), mapping, plan):
            failed.append(row)
    if failed:
        drop = {id(row) for row in failed}
        plan.rows[:] = [row for row in plan.rows if id(row) not in drop]


def _refused(row: PlannedRow, check: Callable[[], None], mapping: Mapping, plan: ImportPlan) -> bool:
    """Run a check of a row; a broken rule becomes the row's problem (True)."""
    try:
        check()
    except ValidationError as e:
        column = mapping.fields.get(e.field or "", "")
        plan.problems.append(RowProblem(row.number, e.field or "", column, e.value, str(e)))
        return True
    return False
