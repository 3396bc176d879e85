"""History: every change an apply made to a feature, with old and new values, in the master itself.

Each apply writes one row per feature it inserted, updated or deleted into
``tongcheng_history`` (``package_uuid``, ``layer``, ``uuid``, ``op``, and
``old``/``new`` as JSON objects of the columns that changed; a geometry as
hex WKB).  The ledger row of the package gives its version, who applied it
and when.  That is enough to list a feature's changes (``tongcheng log``) and
to rewind the master to any version (``tongcheng export --as-of``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely

from layers.errors import SyncError
from layers.schema.definitions import LayerDefinition
from layers.sync.master import HISTORY_TABLE, LEDGER_TABLE

__all__ = ["HISTORY_TABLE", "encode_values", "decode_values", "history_rows", "Change", "changes", "rewind"]


def encode_values(values: dict[str, Any] | None) -> str | None:
    """Column values as JSON (a geometry's WKB as hex under ``geom``); None stays None."""
    if values is None:
        return None
    return json.dumps({k: (bytes(v).hex() if k == "geom" and v is not None else v)
                       for k, v in values.items() if k != "fid"}, ensure_ascii=False, sort_keys=True)


def decode_values(text: str | None) -> dict[str, Any] | None:
    """The inverse of :func:`encode_values` (geometry back to WKB bytes)."""
    if text is None:
        return None
    values: dict[str, Any] = json.loads(text)
    if values.get("geom") is not None:
        values["geom"] = bytes.fromhex(values["geom"])
    return values


def history_rows(definition: LayerDefinition, plan: Any, package_uuid: str) -> Iterator[tuple[Any, ...]]:
    """The history rows of one layer's :class:`~layers.sync.store.MasterPlan`:
    (package_uuid, layer, uuid, op, old JSON, new JSON)."""
    layer = definition.name
    for row in plan.inserts:
        yield package_uuid, layer, row["uuid"], "insert", None, encode_values(row)
    for k, changed in plan.updates.items():
        before = plan.before[k]
        yield package_uuid, layer, k, "update", encode_values({c: before.get(c) for c in changed}), \
            encode_values(changed)
    for k, _, _ in plan.deletes:
        yield package_uuid, layer, k, "delete", encode_values(plan.before[k]), None


@dataclass
class Change:
    """One change of one feature by one apply (``tongcheng log``)."""

    version: int
    applied_at: str | None
    applied_by: str | None
    editor: str | None
    package_uuid: str
    layer: str
    uuid: str
    op: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None

    def fields(self) -> list[tuple[str, Any, Any]]:
        """(field, old value, new value) of every column the change touched (geometries as WKT)."""
        names = sorted(set(self.old or {}) | set(self.new or {}), key=lambda n: (n == "geom", n))
        out = []
        for n in names:
            a, b = (self.old or {}).get(n), (self.new or {}).get(n)
            if n == "geom":
                a = shapely.from_wkb(a).wkt if a is not None else None
                b = shapely.from_wkb(b).wkt if b is not None else None
            out.append((n, a, b))
        return out


def changes(store: Any, *, uuid: str | None = None, since: str | None = None,
            as_after: int | None = None) -> list[Change]:
    """The changes recorded in a master (a :class:`~layers.sync.store.MasterStore`), oldest first.

    *uuid*: of one feature; *since*: applied at or after this ISO date/time;
    *as_after*: made by versions after this one.
    """
    ledger = {r["package_uuid"]: r for r in store.table_rows(LEDGER_TABLE) if r.get("version") is not None}
    out = []
    for r in store.table_rows(HISTORY_TABLE):
        entry = ledger.get(r["package_uuid"])
        if entry is None or (uuid is not None and r["uuid"] != uuid):
            continue
        if since is not None and str(entry.get("applied_at") or "") < since:
            continue
        if as_after is not None and int(entry["version"]) <= as_after:
            continue
        out.append(Change(int(entry["version"]), entry.get("applied_at"), entry.get("applied_by"),
                          entry.get("editor"), r["package_uuid"], r["layer"], r["uuid"], r["op"],
                          decode_values(r["old"]), decode_values(r["new"])))
    out.sort(key=lambda c: c.version)
    return out


def rewind(path: Path, version: int, changes_after: list[Change], ledger: list[dict[str, Any]]) -> None:
    """Turn the master GeoPackage *path* (a private copy) back to *version*, undoing *changes_after*."""
    from layers.geopackage import open_geopackage
    from layers.sync.master import MASTER_TABLE, read_master_info
    from layers.sync.rows import gpb_of_wkbs, quote

    later = [e for e in ledger if e.get("version") is not None and int(e["version"]) > version]
    recorded = {c.package_uuid for c in changes_after}
    unrecorded = [e for e in later if e["package_uuid"] not in recorded
                  and (e.get("inserts") or e.get("updates") or e.get("deletes"))]
    if unrecorded:
        first = min(int(e["version"]) for e in unrecorded)
        raise SyncError(f"{path}: version {first} was applied before the master kept history; "
                        f"cannot go back to version {version}")
    with open_geopackage(path, "a") as gp:
        srid = read_master_info(gp).srid
        con = gp.connection
        for c in sorted(changes_after, key=lambda c: -c.version):
            t = quote(c.layer)
            if c.op == "insert":
                con.execute(f"DELETE FROM {t} WHERE uuid = ?", (c.uuid,))
                continue
            old = dict(c.old or {})
            if "geom" in old:
                old["geom"] = gpb_of_wkbs([old["geom"]], srid)[0]
            if c.op == "update":
                con.execute(f"UPDATE {t} SET {', '.join(f'{quote(n)} = ?' for n in old)} WHERE uuid = ?",
                            [*old.values(), c.uuid])
            else:
                row = {"uuid": c.uuid, **old}
                con.execute(f"INSERT INTO {t} ({', '.join(map(quote, row))}) VALUES ({', '.join('?' * len(row))})",
                            list(row.values()))
        con.execute(f"UPDATE {MASTER_TABLE} SET value = ? WHERE key = 'version'", (str(version),))
