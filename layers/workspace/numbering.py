"""Component codes in a workspace: where its serials come from and the next code of a new feature.

A workspace gives each new feature of a component layer its 16-digit code
(district + class + serial, see ``layers.schema.components``) from serials it
alone may use, so that codes made on two laptops never collide:

*checkout*
    The master reserved a block of serials per class for this workspace at
    checkout (recorded in the master's ``tongcheng_code_blocks``).  When a
    class's block is used up, a new feature keeps an empty code and the
    workspace says so; the office gives it a code when it applies the
    change package (``layers.sync.codes``), and the next update brings it.
*standalone*
    A workspace made by ``init`` with a district code numbers each class from
    its own range (default 000001-999999).  Nothing coordinates it with other
    workspaces: give two standalone workspaces of one district distinct
    ranges.

A workspace with no district code (made before the standard, or by ``init``
without ``--district``) gives no codes.  The numbering lives in the
workspace's settings; a serial is taken in the same transaction as the
feature that uses it, and never given again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, MutableMapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from layers.errors import WorkspaceError
from layers.log import logger
from layers.schema.components import SERIAL_MAX, check_district, component_code
from layers.schema.definitions import LayerDefinition

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

__all__ = ["Block", "Numbering", "numbering", "start_standalone", "set_checkout_blocks", "give_codes",
           "give_column_codes", "pending_codes", "numbering_summary", "parse_serial_range"]

log = logger(__name__)

DISTRICT_SETTING = "component_district"
KIND_SETTING = "component_numbering"
BLOCKS_SETTING = "component_blocks"
RANGE_SETTING = "component_range"
STANDALONE = "standalone"
CHECKOUT = "checkout"


@dataclass
class Block:
    """Serials ``first``..``last`` of one class; ``next`` is the first not yet given."""

    component_class: str
    first: int
    last: int
    next: int

    @property
    def left(self) -> int:
        return max(0, self.last - self.next + 1)


@dataclass
class Numbering:
    """How a workspace numbers its components (see the module's text)."""

    district: str | None = None
    kind: str | None = None
    blocks: list[Block] = field(default_factory=list)
    serial_range: tuple[int, int] | None = None

    @property
    def active(self) -> bool:
        return self.district is not None and self.kind is not None


def numbering(ws: Workspace) -> Numbering:
    """The workspace's numbering, as its settings hold it."""
    district, kind = ws.setting(DISTRICT_SETTING), ws.setting(KIND_SETTING)
    blocks = [Block(b["component_class"], int(b["first"]), int(b["last"]), int(b["next"]))
              for b in json.loads(ws.setting(BLOCKS_SETTING) or "[]")]
    text = ws.setting(RANGE_SETTING)
    serial_range = parse_serial_range(text) if text else None
    return Numbering(district or None, kind or None, blocks, serial_range)


def parse_serial_range(text: str) -> tuple[int, int]:
    """``"1-999999"`` -> (1, 999999); ValueError if it is not a range of serials."""
    try:
        first, last = (int(part) for part in str(text).split("-"))
    except ValueError:
        raise ValueError(f"serial range {text!r} is not FIRST-LAST (e.g. 1-999999)") from None
    if not 1 <= first <= last <= SERIAL_MAX:
        raise ValueError(f"serial range {text!r}: serials run from 1 to {SERIAL_MAX}, first <= last")
    return first, last


def _save(ws: Workspace, state: Numbering) -> None:
    with ws.session():
        ws.set_setting(DISTRICT_SETTING, state.district)
        ws.set_setting(KIND_SETTING, state.kind)
        ws.set_setting(BLOCKS_SETTING, json.dumps([asdict(b) for b in state.blocks]))
        ws.set_setting(RANGE_SETTING, None if state.serial_range is None else
                       f"{state.serial_range[0]}-{state.serial_range[1]}")


def start_standalone(ws: Workspace, district: str, serials: tuple[int, int] = (1, SERIAL_MAX)) -> None:
    """Number a workspace's components itself: district code, serials of each class from *serials*."""
    try:
        district = check_district(district)
    except ValueError as exc:
        raise WorkspaceError(f"{ws.path}: {exc}") from None
    if numbering(ws).kind == CHECKOUT:
        raise WorkspaceError(f"{ws.path}: checked out from a master, whose blocks of codes it uses")
    _save(ws, Numbering(district, STANDALONE, [], serials))


def set_checkout_blocks(ws: Workspace, district: str, blocks: Iterable[tuple[str, int, int]]) -> None:
    """Record the blocks the master reserved for this workspace at checkout: (class, first, last)."""
    _save(ws, Numbering(check_district(district), CHECKOUT,
                        [Block(c, first, last, first) for c, first, last in blocks], None))


def _take(state: Numbering, component_class: str) -> int | None:
    """The next serial of a class (and mark it given), or None when the class has none left."""
    for block in state.blocks:
        if block.component_class == component_class and block.left:
            block.next += 1
            return block.next - 1
    if state.kind == STANDALONE and state.serial_range is not None \
            and not any(b.component_class == component_class for b in state.blocks):
        first, last = state.serial_range
        state.blocks.append(Block(component_class, first, last, first + 1))
        return first
    return None


def give_codes(ws: Workspace, definition: LayerDefinition, rows: Iterable[MutableMapping[str, Any]]) -> int:
    """Give each row (field values) without a component code the next code of its class, in order.

    Call inside the session that writes the rows: the serials are marked as
    given in the same transaction.  A row whose class has no serial left
    keeps an empty code (logged; the office numbers it on apply).

    Returns
    -------
    int
        The number of rows left without a code.
    """
    spec = definition.component
    if spec is None:
        return 0
    state = numbering(ws)
    if not state.active:
        return 0
    assert state.district is not None
    given = pending = 0
    exhausted: set[str] = set()
    for row in rows:
        if row.get(spec.field):
            continue
        component_class = spec.component_class(row)
        serial = _take(state, component_class)
        if serial is None:
            pending += 1
            exhausted.add(component_class)
            continue
        row[spec.field] = component_code(state.district, component_class, serial)
        given += 1
    if given:
        with ws.session():
            ws.set_setting(BLOCKS_SETTING, json.dumps([asdict(b) for b in state.blocks]))
    if pending:
        log.warning("%s: %d new %s wait for a component code: no serial left in this workspace's block of "
                    "class %s; the office gives them codes when it applies the changes", ws.path, pending,
                    definition.name, ", ".join(sorted(exhausted)))
    return pending


def give_column_codes(ws: Workspace, definition: LayerDefinition, columns: dict[str, list[Any]]) -> int:
    """``give_codes`` for features given by field (stored values, every field: ``validate_columns``), in place."""
    spec = definition.component
    if spec is None or not numbering(ws).active:
        return 0
    names = list(columns)
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    pending = give_codes(ws, definition, rows)
    columns[spec.field] = [row[spec.field] for row in rows]
    return pending


def pending_codes(ws: Workspace) -> dict[str, int]:
    """Per component layer, the features without a component code."""
    out = {}
    for name, definition in ws.definitions.items():
        if definition.component is not None:
            field_name = definition.component.field
            out[name] = ws.connection.execute(
                f"SELECT count(*) FROM {name} WHERE {field_name} IS NULL OR {field_name} = ''").fetchone()[0]
    return out


def numbering_summary(ws: Workspace) -> dict[str, Any]:
    """What ``tongcheng info`` and ``tongcheng codes`` say about the workspace's component codes."""
    state = numbering(ws)
    classes: dict[str, dict[str, int]] = {}
    for block in state.blocks:
        entry = classes.setdefault(block.component_class, {"serials": 0, "given": 0, "left": 0})
        entry["serials"] += block.last - block.first + 1
        entry["given"] += block.next - block.first
        entry["left"] += block.left
    return {
        "district": state.district, "numbering": state.kind,
        "range": None if state.serial_range is None else list(state.serial_range),
        "blocks": [asdict(b) for b in state.blocks], "classes": classes, "pending": pending_codes(ws),
    }
