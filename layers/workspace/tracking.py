"""Change capture by triggers: every insert, update and delete, whatever tool made it.

For each layer table ``T`` the workspace holds

- ``tongcheng_changes``: one row per changed feature (layer, uuid, fid, op,
  changed_at), ``op`` being the net operation since the base: ``insert``,
  ``update`` or ``delete``. An insert followed by a delete leaves nothing.
- ``tongcheng_base_T``: the base state (the state at creation, checkout or the
  last sync) of every feature changed since, copied by the trigger before its
  first update or delete. A feature absent from it and from the changes is
  unchanged, so its base is its current row: the base snapshot costs space
  only for what was edited.

The triggers also stamp ``created_by``/``modified_by``/``modified_at`` when an
edit from another tool left them unset, so raw SQL edits are audited too.
Tracking is switched off (setting ``tracking`` = 0) only while a base state is
loaded, e.g. when the demo or a checkout fills a new workspace.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layers.workspace.values import same_value

if TYPE_CHECKING:
    from layers.schema.definitions import LayerDefinition

__all__ = [
    "CHANGES_TABLE",
    "Change",
    "base_table",
    "tracking_ddl",
    "NOW_SQL",
    "AUDIT_COLUMNS",
    "net_changes",
    "insert_trigger",
    "record_inserts",
]

AUDIT_COLUMNS = ("created_by", "created_at", "modified_by", "modified_at")

CHANGES_TABLE = "tongcheng_changes"
SETTINGS_TABLE = "tongcheng_settings"
NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
_TRACKING_ON = f"(SELECT value FROM {SETTINGS_TABLE} WHERE key = 'tracking') = '1'"
_USER = f"(SELECT value FROM {SETTINGS_TABLE} WHERE key = 'user')"


def base_table(layer: str) -> str:
    """Name of the table holding the base state of a layer's changed features."""
    return f"tongcheng_base_{layer}"


def changes_table_ddl() -> list[str]:
    return [
        f"""CREATE TABLE {CHANGES_TABLE} (
            layer TEXT NOT NULL,
            uuid TEXT NOT NULL,
            fid INTEGER NOT NULL,
            op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
            changed_at TEXT NOT NULL,
            PRIMARY KEY (layer, uuid)
        )"""
    ]


def tracking_ddl(layer: str, columns: Sequence[tuple[str, str]]) -> list[str]:
    """SQL statements creating the base table and triggers of one layer.

    Parameters
    ----------
    layer : str
        The layer table name.
    columns : list of (name, declared type)
        Every column of the layer table, ``fid``, ``uuid`` and ``geom`` included.
    """
    base = base_table(layer)
    names = [name for name, _ in columns]
    column_list = ", ".join(names)
    old_values = ", ".join(f"OLD.{name}" for name in names)
    base_columns = ",\n            ".join(
        "uuid TEXT PRIMARY KEY" if name == "uuid" else f"{name} {'BLOB' if name == 'geom' else sql_type}"
        for name, sql_type in columns
    )
    is_pending_insert = (
        f"EXISTS (SELECT 1 FROM {CHANGES_TABLE} WHERE layer = '{layer}' AND uuid = OLD.uuid AND op = 'insert')"
    )
    save_base = (
        f"INSERT OR IGNORE INTO {base} ({column_list}) SELECT {old_values} WHERE NOT {is_pending_insert};"
    )
    return [
        f"CREATE TABLE {base} (\n            {base_columns}\n        )",
        f"""CREATE TRIGGER tongcheng_uuid_fixed_{layer} BEFORE UPDATE OF uuid ON {layer}
        WHEN NEW.uuid IS NOT OLD.uuid
        BEGIN
            SELECT RAISE(ABORT, 'the uuid of a feature never changes');
        END""",
        f"""CREATE TRIGGER {insert_trigger(layer)} AFTER INSERT ON {layer}
        WHEN {_TRACKING_ON}
        BEGIN
            INSERT INTO {CHANGES_TABLE} (layer, uuid, fid, op, changed_at)
            VALUES ('{layer}', NEW.uuid, NEW.fid,
                    CASE WHEN EXISTS (SELECT 1 FROM {base} WHERE uuid = NEW.uuid) THEN 'update' ELSE 'insert' END,
                    {NOW_SQL})
            ON CONFLICT (layer, uuid) DO UPDATE
                SET fid = excluded.fid, op = excluded.op, changed_at = excluded.changed_at;
            UPDATE {layer} SET created_by = coalesce(created_by, {_USER}),
                               modified_by = coalesce(modified_by, created_by, {_USER}),
                               modified_at = coalesce(modified_at, created_at)
            WHERE fid = NEW.fid AND (NEW.created_by IS NULL OR NEW.modified_by IS NULL OR NEW.modified_at IS NULL);
        END""",
        f"""CREATE TRIGGER tongcheng_update_{layer} AFTER UPDATE ON {layer}
        WHEN {_TRACKING_ON}
        BEGIN
            {save_base}
            INSERT INTO {CHANGES_TABLE} (layer, uuid, fid, op, changed_at)
            VALUES ('{layer}', NEW.uuid, NEW.fid, 'update', {NOW_SQL})
            ON CONFLICT (layer, uuid) DO UPDATE SET
                fid = excluded.fid,
                op = CASE WHEN op = 'insert' THEN 'insert' ELSE 'update' END,
                changed_at = excluded.changed_at;
            UPDATE {layer} SET modified_at = {NOW_SQL}, modified_by = {_USER}
            WHERE fid = NEW.fid AND NEW.modified_at IS OLD.modified_at;
        END""",
        f"""CREATE TRIGGER tongcheng_delete_{layer} AFTER DELETE ON {layer}
        WHEN {_TRACKING_ON}
        BEGIN
            {save_base}
            DELETE FROM {CHANGES_TABLE} WHERE layer = '{layer}' AND uuid = OLD.uuid AND op = 'insert';
            INSERT INTO {CHANGES_TABLE} (layer, uuid, fid, op, changed_at)
            SELECT '{layer}', OLD.uuid, OLD.fid, 'delete', {NOW_SQL}
            WHERE EXISTS (SELECT 1 FROM {base} WHERE uuid = OLD.uuid)
            ON CONFLICT (layer, uuid) DO UPDATE SET op = 'delete', changed_at = excluded.changed_at;
        END""",
    ]


def insert_trigger(layer: str) -> str:
    """The name of the trigger that records a layer's inserts (a bulk load suspends it: ``record_inserts``)."""
    return f"tongcheng_insert_{layer}"


def record_inserts(connection: sqlite3.Connection, layer: str, first_fid: int, last_fid: int, *,
                   audit_gaps: bool = True) -> None:
    """Do for the rows ``first_fid``..``last_fid`` of a layer, at once, what its insert trigger does row by row.

    A bulk load suspends the trigger while it writes (a statement per row costs
    more than the row) and calls this before its transaction ends, with the
    trigger restored: each row is recorded in the changes (``insert``, or
    ``update`` where its uuid has a base row), and audit columns left empty are
    filled (``audit_gaps=False``: the caller wrote none empty, so no row is
    read for them). Nothing is done while tracking is off (a base state is loaded).
    """
    on = connection.execute(f"SELECT {_TRACKING_ON}").fetchone()[0]
    if not on:
        return
    base = base_table(layer)
    # In uuid order (read from the uuid index, which holds the fid too: "+fid" keeps the
    # planner off the rowid range), so the rows append to the changes' key index.
    connection.execute(
        f"INSERT INTO {CHANGES_TABLE} (layer, uuid, fid, op, changed_at) "
        f"SELECT '{layer}', t.uuid, t.fid, "
        f"CASE WHEN EXISTS (SELECT 1 FROM {base} AS b WHERE b.uuid = t.uuid) THEN 'update' ELSE 'insert' END, "
        f"{NOW_SQL} FROM {layer} AS t WHERE +t.fid BETWEEN ? AND ? ORDER BY t.uuid "
        "ON CONFLICT (layer, uuid) DO UPDATE "
        "SET fid = excluded.fid, op = excluded.op, changed_at = excluded.changed_at",
        (first_fid, last_fid),
    )
    if audit_gaps:
        connection.execute(
            f"UPDATE {layer} SET created_by = coalesce(created_by, {_USER}), "
            f"modified_by = coalesce(modified_by, created_by, {_USER}), "
            "modified_at = coalesce(modified_at, created_at) "
            "WHERE fid BETWEEN ? AND ? AND (created_by IS NULL OR modified_by IS NULL OR modified_at IS NULL)",
            (first_fid, last_fid),
        )


@dataclass(frozen=True)
class Change:
    """The net change of one feature since the base state.

    Attributes
    ----------
    layer, uuid, fid : where the feature is.
    op : 'insert', 'update' or 'delete'.
    changed_fields : names of the fields (and ``geom``) whose values differ
        from the base; for inserts every field, for deletes none.
    base : dict or None
        The base row (fields, ``geom`` as WKB, audit columns); None for inserts.
    current : dict or None
        The current row; None for deletes.
    changed_at : when the last edit was made (UTC, ISO 8601).
    """

    layer: str
    uuid: str
    fid: int
    op: str
    changed_fields: tuple
    base: dict | None
    current: dict | None
    changed_at: str


def net_changes(connection: sqlite3.Connection, definition: LayerDefinition) -> Iterator[Change]:
    """The net changes of a layer since the base, as ``Change`` records, by fid (``Workspace.changes``).

    One query joins the tracking table to the current and base rows. An
    update that returned every field (and the geometry) to its base value
    is no change and is left out. Geometries are WKB in ``base["geom"]``
    and ``current["geom"]``.
    """
    layer = definition.name
    names = ["fid", "uuid", *definition.field_names, *AUDIT_COLUMNS]
    keys = [*names, "geom"]
    width = len(keys)
    current_geom, base_geom = ("AsBinary(t.geom)", "AsBinary(b.geom)") if definition.has_geometry else ("NULL", "NULL")
    sql = (
        f"SELECT c.uuid, c.fid, c.op, c.changed_at, "
        f"{', '.join('t.' + n for n in names)}, {current_geom}, "
        f"{', '.join('b.' + n for n in names)}, {base_geom} "
        f"FROM {CHANGES_TABLE} AS c LEFT JOIN {layer} AS t ON t.uuid = c.uuid "
        f"LEFT JOIN {base_table(layer)} AS b ON b.uuid = c.uuid WHERE c.layer = ? ORDER BY c.fid"
    )
    compared = (*definition.field_names, "geom") if definition.has_geometry else definition.field_names
    for row in connection.execute(sql, (layer,)):
        uuid, fid, op, changed_at = row[:4]
        current = dict(zip(keys, row[4 : 4 + width], strict=True)) if op != "delete" else None
        base = dict(zip(keys, row[4 + width :], strict=True)) if op != "insert" else None
        if op == "insert":
            changed = compared
        elif op == "delete":
            changed = ()
        else:
            assert base is not None and current is not None  # an update has both rows
            changed = tuple(name for name in compared if not same_value(base[name], current[name]))
            if not changed:
                continue
        yield Change(layer, uuid, fid, op, changed, base, current, changed_at)
