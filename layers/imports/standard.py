"""The component standard in an import plan: located fields from the position, zone rules, codes that stay.

An import writes through the workspace, which takes each new or moved
feature's zone and unit grid cell from the reference polygons and gives new
components their codes.  The plan says so before anything is written: a
source column mapped to a located field is not used (a note), and a row that
breaks a rule of its zone (``required_if``) or would change a component code
is a problem of that row, like any other broken rule.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from layers.errors import FeatureNotFoundError, ValidationError
from layers.imports.problems import RowProblem
from layers.schema.components import check_conditions, check_update
from layers.schema.definitions import LayerDefinition
from layers.workspace.located import active_located_fields, locate

if TYPE_CHECKING:
    from layers.imports.checks import CheckedChunk
    from layers.imports.mapping import Mapping
    from layers.workspace.store import Workspace

__all__ = ["StandardCheck"]


class StandardCheck:
    """The standard's rules for the rows of an import into a workspace, a chunk at a time."""

    def __init__(self, workspace: Workspace, definition: LayerDefinition, mapping: Mapping) -> None:
        self.workspace = workspace
        self.definition = definition
        self.mapping = mapping
        self.located = [f.name for f in active_located_fields(workspace, definition)]
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
                found = locate(self.workspace, definition, [checked.geometries[i] for i in new])
            for k, i in enumerate(new):
                values = {**definition.stored_defaults, **checked.attributes(i),
                          **{name: column[k] for name, column in found.items()}}
                self._refused(checked, i, partial(check_conditions, definition, values))
        for i in passed if checked.matched else ():
            fid = checked.fids[i]
            if fid is None:
                continue
            try:
                stored = self.workspace.get(definition.name, fid).attributes
            except FeatureNotFoundError:
                continue
            self._refused(checked, i, partial(check_update, definition, stored, checked.attributes(i)))

    def _refused(self, checked: CheckedChunk, i: int, check: Callable[[], None]) -> None:
        """Run a check of row ``i``; a broken rule becomes the row's problem."""
        try:
            check()
        except ValidationError as e:
            column = self.mapping.fields.get(e.field or "", "")
            checked.problem(i, RowProblem(checked.numbers[i], e.field or "", column, e.value, str(e)))
