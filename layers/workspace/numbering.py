"""Component codes in a workspace: where its serials come from and the next code of a new feature.

A workspace gives each new feature of a component layer its 16-digit code
(district + class + serial, see ``layers.schema.components``) from serials it
alone may use, so that codes made on two laptops never collide:

*checkout*
    The master reserved a block of serials per district and class for this
    workspace at checkout (recorded in the master's ``tongcheng_code_blocks``)
    and sent the polygons of its districts along
    (``layers.workspace.districts``).  A new feature is numbered in the
    district its point lies in (the master's own district where no district
    polygon holds it).  When the block of its district and class is used up,
    or the workspace has none there, the feature keeps an empty code and the
    workspace says so; the office gives it a code when it applies the change
    package (``layers.sync.codes``), and the next update brings it.
*standalone*
    A workspace made by ``init`` with a district code numbers each class from
    its own range (default 000001-999999), in that district (or, where the
    workspace holds district polygons, as the demo does, in the district of
    the feature's point, each district from the same range).  Nothing
    coordinates it with other workspaces: give two standalone workspaces of
    one district distinct ranges.

A workspace with no district code (made before the standard, or by ``init``
without ``--district``) gives no codes.  The numbering lives in the
workspace's settings; a serial is taken in the same transaction as the
feature that uses it, and never given again.  A code, once given, never
changes: a feature moved into another district keeps it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from layers.errors import WorkspaceError
from layers.log import logger
from layers.schema.components import SERIAL_MAX, check_district, component_code
from layers.schema.definitions import LayerDefinition
from layers.workspace.districts import District, DistrictMap, read_districts, write_districts

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

__all__ = ["Block", "Numbering", "numbering", "start_standalone", "set_checkout_blocks", "add_checkout_blocks",
           "blocks_wanted", "give_codes", "give_column_codes", "pending_codes", "numbering_summary",
           "parse_serial_range", "TOP_UP_BELOW"]

log = logger(__name__)

DISTRICT_SETTING = "component_district"
KIND_SETTING = "component_numbering"
BLOCKS_SETTING = "component_blocks"
RANGE_SETTING = "component_range"
STANDALONE = "standalone"
CHECKOUT = "checkout"
#: A checkout's serials of a district and class run low, and an update asks the master for a new block, when
#: fewer than this share of a block are left (the setting ``component_top_up_below`` may hold another share).
TOP_UP_BELOW = 0.2
TOP_UP_SETTING = "component_top_up_below"
#: Serials in a block when the workspace has none to go by (``layers.sync.codes.DEFAULT_BLOCK_SIZE``).
_BLOCK_SIZE = 200


@dataclass
class Block:
    """Serials ``first``..``last`` of one class in one district; ``next`` is the first not yet given."""

    component_class: str
    first: int
    last: int
    next: int
    district: str = ""

    @property
    def left(self) -> int:
        return max(0, self.last - self.next + 1)


@dataclass
class Numbering:
    """How a workspace numbers its components (see the module's text).

    ``district`` is the workspace's own district code: the one of a position
    no district polygon of the workspace holds.
    """

    district: str | None = None
    kind: str | None = None
    blocks: list[Block] = field(default_factory=list)
    serial_range: tuple[int, int] | None = None

    @property
    def active(self) -> bool:
        return self.district is not None and self.kind is not None


def numbering(ws: Workspace) -> Numbering:
    """The workspace's numbering, as its settings hold it (a block recorded before districts: its district)."""
    district, kind = ws.setting(DISTRICT_SETTING), ws.setting(KIND_SETTING)
    blocks = [Block(b["component_class"], int(b["first"]), int(b["last"]), int(b["next"]),
                    b.get("district") or district or "")
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


def _save(ws: Workspace, state: Numbering, districts: Sequence[District] | None = None) -> None:
    with ws.session() as connection:
        ws.set_setting(DISTRICT_SETTING, state.district)
        ws.set_setting(KIND_SETTING, state.kind)
        ws.set_setting(BLOCKS_SETTING, json.dumps([asdict(b) for b in state.blocks]))
        ws.set_setting(RANGE_SETTING, None if state.serial_range is None else
                       f"{state.serial_range[0]}-{state.serial_range[1]}")
        if districts is not None:
            write_districts(connection, districts)


def start_standalone(ws: Workspace, district: str, serials: tuple[int, int] = (1, SERIAL_MAX),
                     districts: Sequence[District] | None = None) -> None:
    """Number a workspace's components itself: district code, serials of each class from *serials*.

    *districts*: polygons of districts to number in by position (the demo's); *district* is then the code
    of a position none of them holds.
    """
    try:
        district = check_district(district)
    except ValueError as exc:
        raise WorkspaceError(f"{ws.path}: {exc}") from None
    if numbering(ws).kind == CHECKOUT:
        raise WorkspaceError(f"{ws.path}: checked out from a master, whose blocks of codes it uses")
    _save(ws, Numbering(district, STANDALONE, [], serials), districts)


def set_checkout_blocks(ws: Workspace, district: str, blocks: Iterable[tuple[str, str, int, int]],
                        districts: Sequence[District] = ()) -> None:
    """Record what the master reserved for this workspace at checkout.

    *district*: the master's own district code; *blocks*: (district, class, first, last); *districts*: the
    master's district polygons, by which a new feature's district is found.
    """
    _save(ws, Numbering(check_district(district), CHECKOUT,
                        [Block(c, first, last, first, d) for d, c, first, last in blocks], None), districts)


def add_checkout_blocks(ws: Workspace, district: str, blocks: Iterable[tuple[str, str, int, int]]) -> None:
    """Record blocks the master reserved for this workspace after its checkout (an update's top-up).

    They are drawn from after the blocks before them of the same district and
    class; a checkout made before the master numbered components starts
    numbering (*district*: the master's own district code).
    """
    state = numbering(ws)
    if state.kind not in (None, CHECKOUT):
        raise WorkspaceError(f"{ws.path}: numbers its components itself ({state.kind}), from no master's blocks")
    state.district = state.district or check_district(district)
    state.kind = CHECKOUT
    state.blocks.extend(Block(c, first, last, first, d) for d, c, first, last in blocks)
    _save(ws, state)


def blocks_wanted(ws: Workspace, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """Of (district, class) *pairs*, those whose serials run low here, with the size of the block to ask for.

    A pair runs low when fewer serials are left than the share
    :data:`TOP_UP_BELOW` (or the workspace's setting ``component_top_up_below``)
    of its last block, or when the workspace has no block of it.  The new
    block is as big as the pair's last block (else the workspace's biggest,
    else 200 serials).  A standalone workspace wants none.
    """
    state = numbering(ws)
    if state.kind == STANDALONE:
        return []
    try:
        share = float(ws.setting(TOP_UP_SETTING) or TOP_UP_BELOW)
    except ValueError:
        share = TOP_UP_BELOW
    biggest = max((b.last - b.first + 1 for b in state.blocks), default=_BLOCK_SIZE)
    wanted = []
    for district, component_class in dict.fromkeys(pairs):
        mine = [b for b in state.blocks if b.district == district and b.component_class == component_class]
        size = mine[-1].last - mine[-1].first + 1 if mine else biggest
        if sum(b.left for b in mine) < share * size or not mine:
            wanted.append((district, component_class, size))
    return wanted


def _take(state: Numbering, district: str, component_class: str) -> int | None:
    """The next serial of a class in a district (and mark it given), or None when there is none left."""
    for block in state.blocks:
        if block.district == district and block.component_class == component_class and block.left:
            block.next += 1
            return block.next - 1
    if state.kind == STANDALONE and state.serial_range is not None \
            and not any(b.district == district and b.component_class == component_class for b in state.blocks):
        first, last = state.serial_range
        state.blocks.append(Block(component_class, first, last, first + 1, district))
        return first
    return None


def give_codes(ws: Workspace, definition: LayerDefinition, rows: Sequence[MutableMapping[str, Any]],
               geometries: Sequence[Any] | None = None) -> int:
    """Give each row (field values) without a component code the next code of its district and class, in order.

    The district is the one of the row's geometry (*geometries*, one per row)
    among the workspace's district polygons, else the workspace's own.  Call
    inside the session that writes the rows: the serials are marked as given
    in the same transaction.  A row whose district and class have no serial
    left keeps an empty code (logged; the office numbers it on apply).

    Returns
    -------
    int
        The number of rows left without a code.
    """
    spec = definition.component
    if spec is None:
        return 0
    waiting = [i for i, row in enumerate(rows) if not row.get(spec.field)]
    if not waiting:
        return 0
    state = numbering(ws)
    if not state.active:
        return 0
    assert state.district is not None
    found: dict[int, str | None] = {}
    if geometries is not None and (polygons := read_districts(ws.connection)):
        found = dict(zip(waiting, DistrictMap(polygons, state.district).of([geometries[i] for i in waiting]),
                         strict=True))
    given = pending = 0
    exhausted: set[tuple[str, str]] = set()
    for i in waiting:
        row = rows[i]
        district = found.get(i) or state.district
        component_class = spec.component_class(row)
        serial = _take(state, district, component_class)
        if serial is None:
            pending += 1
            exhausted.add((district, component_class))
            continue
        row[spec.field] = component_code(district, component_class, serial)
        given += 1
    if given:
        with ws.session():
            ws.set_setting(BLOCKS_SETTING, json.dumps([asdict(b) for b in state.blocks]))
    if pending:
        log.warning("%s: %d new %s wait for a component code: this workspace has no serial left (or no block) of %s; "
                    "the office gives them codes when it applies the changes", ws.path, pending, definition.name,
                    ", ".join(f"class {c} in district {d}" for d, c in sorted(exhausted)))
    return pending


def give_column_codes(ws: Workspace, definition: LayerDefinition, columns: dict[str, list[Any]],
                      geometries: Sequence[Any] | None = None) -> int:
    """``give_codes`` for features given by field (stored values, every field: ``validate_columns``), in place;
    *geometries*, one per feature, say the district of each."""
    spec = definition.component
    if spec is None or not numbering(ws).active:
        return 0
    names = list(columns)
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    pending = give_codes(ws, definition, rows, geometries)
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
    """What ``tongcheng info`` and ``tongcheng codes`` say about the workspace's component codes.

    ``classes``: per class, over all districts; ``districts``: per district, per class; ``district_areas``:
    the codes of the district polygons the workspace numbers by.
    """
    state = numbering(ws)
    classes: dict[str, dict[str, int]] = {}
    by_district: dict[str, dict[str, dict[str, int]]] = {}
    for block in state.blocks:
        for entry in (classes.setdefault(block.component_class, {"serials": 0, "given": 0, "left": 0}),
                      by_district.setdefault(block.district, {}).setdefault(
                          block.component_class, {"serials": 0, "given": 0, "left": 0})):
            entry["serials"] += block.last - block.first + 1
            entry["given"] += block.next - block.first
            entry["left"] += block.left
    return {
        "district": state.district, "numbering": state.kind,
        "range": None if state.serial_range is None else list(state.serial_range),
        "blocks": [asdict(b) for b in state.blocks], "classes": classes, "districts": by_district,
        "district_areas": [d.code for d in read_districts(ws.connection)], "pending": pending_codes(ws),
    }
