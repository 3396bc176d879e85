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
    from layers.imports.checks import CheckedChunk
    from layers.imports.mapping import Mapping
    from layers.workspace.store import Workspace

__all__ = ["StandardTarget", "WorkspaceStandard", "standard_target", "StandardCheck"]


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


class StandardCheck:
    """The standard's rules for the rows of an import into a workspace or a master (*target*), a chunk at a
    time."""

    def __init__(self, target: StandardTarget, definition: LayerDefinition, mapping: Mapping) -> None:
        self.target = target
        self.definition = definition
        self.mapping = mapping
        self.located = [f.name for f in target.located_fields(definition)]
        mapped = [name for name in self.located if name in mapping.fields or name in mapping.constants]
        self.notes: list[str] = []
        if mapped:
            layers = sorted({f.located_in.layer for f in definition.located_fields
                             if f.name in mapped and f.located_in})
            self.notes.append(f"{', '.join(mapped)}: taken from each feature's position ({', '.join(layers)}), "
                              "not from the source")
        #: Whether ``check`` reads the rows' geometries (the zone rules of new features need their position).
        self.needs_geometries = bool(self.located and definition.conditional_fields)

    def check(self, checked: CheckedChunk) -> None:
        """Apply the rules to a chunk's rows, in place: located fields are not taken from the source; a
        new feature missing what its zone requires, or an update changing a component code, is a problem."""
        for name in self.located:
            checked.values.pop(name, None)
            checked.given.discard(name)
        definition = self.definition
        if not definition.conditional_fields and definition.component is None:
            return
        passed = checked.passed()
        new = checked.new_rows(passed)
        if definition.conditional_fields and new:
            found: dict[str, list[Any]] = {}
            if self.located:
                assert checked.geometries is not None  # made: needs_geometries
                found = self.target.locate(definition, [checked.geometries[i] for i in new])
            for k, i in enumerate(new):
                values = {**definition.stored_defaults, **checked.attributes(i),
                          **{name: column[k] for name, column in found.items()}}
                self._refused(checked, i, partial(check_conditions, definition, values))
        matched = {i: fid for i in (passed if checked.matched else ()) if (fid := checked.fids[i]) is not None}
        stored = self.target.stored(definition.name, set(matched.values())) if matched else {}
        for i, fid in matched.items():
            if fid in stored:
                self._refused(checked, i, partial(check_update, definition, stored[fid], checked.attributes(i)))

    def _refused(self, checked: CheckedChunk, i: int, check: Callable[[], None]) -> None:
        """Run a check of row ``i``; a broken rule becomes the row's problem."""
        try:
            check()
        except ValidationError as e:
            column = self.mapping.fields.get(e.field or "", "")
            checked.problem(i, RowProblem(checked.numbers[i], e.field or "", column, e.value, str(e)))
