"""Component codes on the office side: the master's serials, the blocks checkouts take, renumbering on apply.

The master numbers components in one district (``component_district`` in
``tongcheng_master``, set by ``init --district`` or ``tongcheng codes
--district``).  Every serial it hands out, to a checkout or to itself, is a
row of ``tongcheng_code_blocks`` (class, first and last serial, holder:
a workspace id or ``office``), so the next free serial of a class is one
past the highest block; no serial is handed out twice and no code is ever
given again, even when the feature that had it is deleted.

* **checkout** reserves a block of serials per class of the layers it takes
  (:func:`reserve_for_checkout`); the workspace numbers its new features from
  them (``layers.workspace.numbering``).
* **apply** keeps each inserted feature's code when it is well formed and
  unused in the master; a feature without one (its laptop's block was used
  up), or with one already taken, gets the office's next code, and the
  report lists it (:func:`settle_codes`).  An update never changes a code.
* **demo** and ``codes --assign-missing`` number features the office made
  (:func:`number_rows`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from layers.errors import SyncError
from layers.geopackage import Column, GeoPackage, LayerSchema, open_geopackage
from layers.log import logger
from layers.schema.components import SERIAL_MAX, check_district, component_code, split_code
from layers.schema.definitions import LayerDefinition
from layers.sync.master import MASTER_TABLE, MasterInfo
from layers.sync.results import SyncResult
from layers.sync.rows import now_text, quote
from layers.workspace.numbering import set_checkout_blocks
from layers.workspace.store import Workspace

__all__ = ["BLOCKS_TABLE", "DISTRICT_KEY", "DEFAULT_BLOCK_SIZE", "master_district", "set_master_district",
           "ensure_code_tables", "reserve", "reserve_for_checkout", "number_rows", "settle_codes",
           "assign_missing", "block_rows", "checkout_codes", "missing_codes", "first_codes", "master_district_code"]

log = logger(__name__)

BLOCKS_TABLE = "tongcheng_code_blocks"
DISTRICT_KEY = "component_district"
#: Serials per class a checkout reserves unless told otherwise.
DEFAULT_BLOCK_SIZE = 200
OFFICE = "office"


def master_district(con: sqlite3.Connection) -> str | None:
    """The district code the master numbers in, or None (no numbering)."""
    row = con.execute(f"SELECT value FROM {MASTER_TABLE} WHERE key = ?", (DISTRICT_KEY,)).fetchone()
    return row[0] if row and row[0] else None


def set_master_district(gp: GeoPackage, district: str) -> str:
    """Set the master's district code (once: codes already given name the district)."""
    try:
        district = check_district(district)
    except ValueError as exc:
        raise SyncError(f"{gp.path}: {exc}") from None
    current = master_district(gp.connection)
    if current == district:
        return district
    if current is not None:
        raise SyncError(f"{gp.path}: numbers components in district {current} already; its codes keep it")
    ensure_code_tables(gp)
    gp.connection.execute(f"INSERT INTO {MASTER_TABLE} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                          "SET value = excluded.value", (DISTRICT_KEY, district))
    return district


def ensure_code_tables(gp: GeoPackage, definitions: Iterable[LayerDefinition] = ()) -> None:
    """The blocks table, and an index on the code of each component layer given (mode 'w' or 'a')."""
    if not gp.has_layer(BLOCKS_TABLE):
        gp.create_layer(LayerSchema(BLOCKS_TABLE, (
            Column("component_class", "TEXT", not_null=True), Column("first_serial", "INTEGER", not_null=True),
            Column("last_serial", "INTEGER", not_null=True), Column("holder", "TEXT", not_null=True),
            Column("purpose", "TEXT"), Column("package_uuid", "TEXT"), Column("reserved_at", "DATETIME"),
            Column("reserved_by", "TEXT")),
            description="Tongcheng: serials of component codes handed out (never again)"))
    for definition in definitions:
        if definition.component is not None and gp.has_layer(definition.name):
            gp.connection.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(definition.name + '_component_code')} "
                f"ON {quote(definition.name)} ({quote(definition.component.field)})")


#: The master's (layer, code field) pairs: where codes already given can be found.
CodeTables = Sequence[tuple[str, str]]


def code_tables(minfo: MasterInfo) -> list[tuple[str, str]]:
    """(layer, code field) of every component layer of the master."""
    return [(name, spec.field) for name in minfo.layers if (spec := minfo.definitions[name].component)]


def _next_serial(con: sqlite3.Connection, component_class: str, district: str | None = None,
                 tables: CodeTables = ()) -> int:
    """One past the highest serial of a class handed out (blocks) or found in the data (*tables*).

    The data count too: a master whose blocks table was lost (a copy that did not carry it) never hands
    out a serial a feature already has.
    """
    highest = 0
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (BLOCKS_TABLE,)).fetchone():
        row = con.execute(f"SELECT max(last_serial) FROM {BLOCKS_TABLE} WHERE component_class = ?",
                          (component_class,)).fetchone()
        highest = int(row[0] or 0)
    if district is not None:
        prefix = district + component_class
        for layer, column in tables:  # a range on the code's index
            row = con.execute(f"SELECT max({quote(column)}) FROM {quote(layer)} WHERE {quote(column)} BETWEEN ? AND ?",
                              (prefix + "000000", prefix + "999999")).fetchone()
            if row[0]:
                highest = max(highest, int(str(row[0])[len(prefix):]))
    return highest + 1


def reserve(con: sqlite3.Connection, component_class: str, size: int, holder: str, purpose: str, *,
            user: str | None = None, package_uuid: str | None = None, write: bool = True,
            start: int | None = None, district: str | None = None, tables: CodeTables = ()) -> tuple[int, int]:
    """Hand out the next *size* serials of a class to *holder*; returns (first, last).

    ``write=False`` (a dry run) says which serials it would be and records nothing.
    """
    first = start if start is not None else _next_serial(con, component_class, district, tables)
    last = first + size - 1
    if size < 1 or last > SERIAL_MAX:
        raise SyncError(f"component class {component_class}: no {size} serials left "
                        f"(serials run to {SERIAL_MAX:06d}; {max(0, SERIAL_MAX - first + 1)} left)")
    if write:
        con.execute(f"INSERT INTO {BLOCKS_TABLE} (component_class, first_serial, last_serial, holder, purpose, "
                    "package_uuid, reserved_at, reserved_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (component_class, first, last, holder, purpose, package_uuid, now_text(), user))
    return first, last


def reserve_for_checkout(gp: GeoPackage, minfo: MasterInfo, workspace_id: str, layers: Sequence[str],
                         size: int, user: str | None) -> tuple[str, list[tuple[str, int, int]]] | None:
    """Reserve a block of *size* serials per class of *layers* for a checkout (master open in mode 'a').

    Returns
    -------
    (district, [(class, first, last), ...]) or None
        None when the master numbers no components (no district code).
    """
    district = master_district(gp.connection)
    classes = list(dict.fromkeys(c for name in layers if (spec := minfo.definitions[name].component)
                                 for c in spec.classes))
    if district is None or not classes:
        return None
    if size < 1:
        raise SyncError(f"a block of component codes holds at least 1 serial, not {size}")
    ensure_code_tables(gp)
    tables = code_tables(minfo)
    blocks = [(c, *reserve(gp.connection, c, size, workspace_id, "checkout", user=user, district=district,
                           tables=tables)) for c in classes]
    log.info("%s: reserved %d serials per class for workspace %s: %s", gp.path, size, workspace_id,
             ", ".join(f"{c} {a:06d}-{b:06d}" for c, a, b in blocks))
    return district, blocks


def _geopackage_of(store: object) -> tuple[Path, sqlite3.Connection] | None:
    """The file and connection of a GeoPackage master store (None for a PostGIS master: not numbered yet)."""
    path, connection = getattr(store, "path", None), getattr(store, "connection", None)
    if isinstance(path, Path) and isinstance(connection, sqlite3.Connection):
        return path, connection
    log.info("%s: component codes are numbered in GeoPackage masters only (not yet PostGIS)",
             getattr(store, "location", store))
    return None


def checkout_codes(store: object, minfo: MasterInfo, ws: Workspace, layers: Sequence[str], size: int,
                   user: str | None) -> None:
    """Reserve the checkout's blocks in the master (committed at once) and record them in the workspace.

    *store* is the checkout's open master (``layers.sync.store``), read only:
    a master that numbers nothing (no district code, no component layer
    taken) is never opened for writing.
    """
    found = _geopackage_of(store)
    if found is None:
        return
    master, read = found
    if master_district(read) is None or not any(minfo.definitions[name].component for name in layers):
        return
    with open_geopackage(master, "a") as gp:
        reserved = reserve_for_checkout(gp, minfo, ws.id, layers, size, user)
    if reserved is not None:
        set_checkout_blocks(ws, *reserved)


def master_district_code(district: str | None) -> str | None:
    """A new master's district code checked (SyncError naming it), or None."""
    if district is None:
        return None
    try:
        return check_district(district)
    except ValueError as exc:
        raise SyncError(str(exc)) from None


def first_codes(definition: LayerDefinition, rows: Sequence[MutableMapping[str, Any]], district: str,
                user: str | None, now: str) -> list[dict[str, Any]]:
    """Number a new master's rows (serials from 1 per class); the block rows that record them."""
    spec = definition.component
    if spec is None:
        return []
    by_class: dict[str, list[MutableMapping[str, Any]]] = {}
    for row in rows:
        if not row.get(spec.field):
            by_class.setdefault(spec.component_class(row), []).append(row)
    blocks = []
    for component_class, members in by_class.items():
        for serial, row in enumerate(members, start=1):
            row[spec.field] = component_code(district, component_class, serial)
        blocks.append({"component_class": component_class, "first_serial": 1, "last_serial": len(members),
                       "holder": OFFICE, "purpose": "new master", "package_uuid": None, "reserved_at": now,
                       "reserved_by": user})
    return blocks


def number_rows(con: sqlite3.Connection, definition: LayerDefinition, rows: Sequence[MutableMapping[str, Any]],
                district: str, *, purpose: str, user: str | None = None, package_uuid: str | None = None,
                write: bool = True, tables: CodeTables = ()) -> int:
    """Give the rows without a code the office's next codes (one block per class); returns how many."""
    spec = definition.component
    if spec is None:
        return 0
    by_class: dict[str, list[MutableMapping[str, Any]]] = {}
    for row in rows:
        if not row.get(spec.field):
            by_class.setdefault(spec.component_class(row), []).append(row)
    for component_class, members in by_class.items():
        first, _ = reserve(con, component_class, len(members), OFFICE, purpose, user=user,
                           package_uuid=package_uuid, write=write, district=district, tables=tables)
        for offset, row in enumerate(members):
            row[spec.field] = component_code(district, component_class, first + offset)
    return sum(len(m) for m in by_class.values())


class _PlanRows(Protocol):
    """What settle_codes needs of an apply's plan of one layer."""

    inserts: list[dict[str, Any]]
    updates: dict[str, dict[str, Any]]


def _used(con: sqlite3.Connection, minfo: MasterInfo, code: str) -> bool:
    for name in minfo.layers:
        spec = minfo.definitions[name].component
        if spec is not None and con.execute(
                f"SELECT 1 FROM {quote(name)} WHERE {quote(spec.field)} = ? LIMIT 1", (code,)).fetchone():
            return True
    return False


def settle_codes(store: object, minfo: MasterInfo, plans: Mapping[str, _PlanRows], result: SyncResult, *,
                 workspace_id: str | None, package_uuid: str, user: str | None, write: bool) -> None:
    """Make the codes of an apply's plans unique in the master, in place (see the module's text).

    Inserted features: a code that is missing, malformed or already taken is
    replaced by the office's next one (in uuid order), listed in
    ``result.renumbered``.  A well-formed unused code is kept; if it lies
    beyond the serials handed out so far, a block of that one serial is
    recorded so no one is given it later.  Updated features: a change of
    the code is dropped (the master's stays), and listed too.  *store* is
    the apply's open master (``layers.sync.store``): a GeoPackage master.
    """
    gp = getattr(store, "gp", None)
    if not isinstance(gp, GeoPackage) or _geopackage_of(store) is None:
        return
    con = gp.connection
    district = master_district(con)
    if district is None:
        return
    if write:
        ensure_code_tables(gp, (minfo.definitions[name] for name in plans))
    taken: set[str] = set()
    for layer, plan in plans.items():
        spec = minfo.definitions[layer].component
        if spec is None:
            continue
        for uuid, changed in list(plan.updates.items()):
            if spec.field in changed:
                result.renumbered.append({"layer": layer, "uuid": uuid, "from": changed.pop(spec.field),
                                          "to": None, "reason": "a component code never changes: the "
                                          "master's code is kept"})
                if not set(changed) - {"modified_by", "modified_at"}:
                    del plan.updates[uuid]
                    result.layers[layer].updates -= 1
        renumber: list[tuple[dict[str, Any], str]] = []
        for row in sorted(plan.inserts, key=lambda r: str(r["uuid"])):
            code = row.get(spec.field)
            parsed = split_code(code)
            if not code:
                reason = "no code: the workspace's block of codes was used up"
            elif parsed is None:
                reason = "not a component code"
            elif code in taken or _used(con, minfo, code):
                reason = "code already given to another feature"
            else:
                taken.add(code)
                code_district, component_class, serial = parsed
                if code_district == district and serial >= _next_serial(con, component_class) and write:
                    reserve(con, component_class, 1, workspace_id or OFFICE, "kept", user=user,
                            package_uuid=package_uuid, start=serial)
                continue
            renumber.append((row, reason))
        if not renumber:
            continue
        old = [row.get(spec.field) for row, _ in renumber]
        for row, _ in renumber:
            row[spec.field] = None
        number_rows(con, minfo.definitions[layer], [row for row, _ in renumber], district, purpose="apply",
                    user=user, package_uuid=package_uuid, write=write, tables=code_tables(minfo))
        for (row, reason), before in zip(renumber, old, strict=True):
            taken.add(row[spec.field])
            result.renumbered.append({"layer": layer, "uuid": str(row["uuid"]), "from": before,
                                      "to": row[spec.field], "reason": reason})


def assign_missing(gp: GeoPackage, minfo: MasterInfo, user: str | None) -> dict[str, int]:
    """Give every feature of the master without a component code the office's next code (mode 'a')."""
    district = master_district(gp.connection)
    if district is None:
        raise SyncError(f"{gp.path}: numbers no components yet: give its district code first (--district)")
    ensure_code_tables(gp, (minfo.definitions[name] for name in minfo.layers))
    counts = {}
    for name in minfo.layers:
        definition = minfo.definitions[name]
        spec = definition.component
        if spec is None:
            continue
        columns = [spec.field, *(r.field for r in spec.rules)]
        rows = [{"uuid": r[0], **dict(zip(columns, r[1:], strict=True))} for r in gp.connection.execute(
            f"SELECT uuid, {', '.join(map(quote, columns))} FROM {quote(name)} WHERE {quote(spec.field)} IS NULL "
            f"OR {quote(spec.field)} = '' ORDER BY uuid")]
        counts[name] = number_rows(gp.connection, definition, rows, district, purpose="assign", user=user,
                                   tables=code_tables(minfo))
        gp.connection.executemany(f"UPDATE {quote(name)} SET {quote(spec.field)} = ? WHERE uuid = ?",
                                  [(r[spec.field], r["uuid"]) for r in rows])
    return counts


def block_rows(con: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every block handed out, oldest first (empty for a master that numbers nothing)."""
    if not con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (BLOCKS_TABLE,)).fetchone():
        return []
    names = ["component_class", "first_serial", "last_serial", "holder", "purpose", "package_uuid",
             "reserved_at", "reserved_by"]
    return [dict(zip(names, r, strict=True)) for r in con.execute(
        f"SELECT {', '.join(names)} FROM {BLOCKS_TABLE} ORDER BY fid")]


def missing_codes(con: sqlite3.Connection, minfo: MasterInfo) -> dict[str, int]:
    """Per component layer of the master, the features without a code."""
    out = {}
    for name in minfo.layers:
        spec = minfo.definitions[name].component
        if spec is not None:
            out[name] = con.execute(f"SELECT count(*) FROM {quote(name)} WHERE {quote(spec.field)} IS NULL "
                                    f"OR {quote(spec.field)} = ''").fetchone()[0]
    return out
