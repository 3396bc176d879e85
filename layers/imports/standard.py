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
from typing import TYPE_CHECKING

from layers.errors import FeatureNotFoundError, ValidationError
from layers.imports.problems import RowProblem
from layers.schema.components import check_conditions, check_update
from layers.schema.definitions import LayerDefinition
from layers.workspace.located import active_located_fields, locate

if TYPE_CHECKING:
    from layers.imports.importer import ImportPlan, PlannedRow
    from layers.imports.mapping import Mapping
    from layers.workspace.store import Workspace

__all__ = ["check_standard"]


def check_standard(workspace: Workspace, definition: LayerDefinition, mapping: Mapping, plan: ImportPlan) -> None:
    """Apply the standard's rules to a plan, in place (see the module's text)."""
    located = [f.name for f in active_located_fields(workspace, definition)]
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
    found = locate(workspace, definition, [row.geometry for row in new]) if located else {}
    failed: list[PlannedRow] = []
    for i, row in enumerate(new):
        values = {**definition.stored_defaults, **row.attributes, **{n: v[i] for n, v in found.items()}}
        if _refused(row, partial(check_conditions, definition, values), mapping, plan):
            failed.append(row)
    for row in (r for r in plan.rows if r.fid is not None):
        try:
            stored = workspace.get(definition.name, row.fid).attributes  # type: ignore[arg-type]
        except FeatureNotFoundError:
            continue
        if _refused(row, partial(check_update, definition, stored, row.attributes), mapping, plan):
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
