"""Features imported straight into the master: one recorded master change, like an applied package.

``tongcheng import SOURCE master.gpkg`` checks its rows against the master's
own definitions (``layers.imports`` plans them through :class:`MasterTarget`,
which reads like a workspace: ``crs``, ``layer()``, ``features()``) and then
writes them here, in one transaction of the master:

* new features get new uuids (uuid v7, or the row's own uuid when the mapping
  gives one) and audit columns (``created_by/at``, ``modified_by/at``: the
  importing user, now), and are validated in full against the definition
  (defaults filled, required fields checked);
* features matched by key are updated field by field (only values that
  differ), their ``modified_by/at`` set;
* the master's version goes up by one and the ledger gets a row (a uuid of its
  own, ``policy`` = ``import``, the counts and the source file), so laptops
  see the import with their next ``update`` and the office sees who imported
  what and when;
* rows are written with apply's own writer (fids in uuid order, exact extent).

Nothing is written when nothing changes. This module is the only one that
knows how an import lands in a GeoPackage master; a PostGIS master needs its
own version of :func:`open_master_target` and :func:`write_master_import`.
"""

from __future__ import annotations

import os
import uuid as uuid_module
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely

from layers.errors import SyncError, ValidationError
from layers.geopackage import GeoPackage, open_geopackage
from layers.log import logger
from layers.schema.definitions import LayerDefinition, validate_feature
from layers.sync.apply import _Plan, _write_master_layer
from layers.sync.changes import PackageInfo
from layers.sync.master import LEDGER_TABLE, MASTER_TABLE, MasterInfo, master_rows, read_master_info, recover
from layers.sync.rows import now_text
from layers.workspace.identity import login_name, new_uuid
from layers.workspace.values import same_value

__all__ = ["MasterFeature", "MasterTarget", "MasterImportResult", "open_master_target", "write_master_import"]

log = logger(__name__)

#: The ledger's ``policy`` of an import (an applied package has its merge policy there).
IMPORT_POLICY = "import"


@dataclass(frozen=True)
class MasterFeature:
    """A master feature as an import matches keys: fid, uuid, field values."""

    fid: int
    uuid: str
    attributes: dict[str, Any]


class MasterTarget:
    """An open master seen as an import target: its CRS, its facility layers' definitions and features."""

    def __init__(self, gp: GeoPackage, info: MasterInfo) -> None:
        self.gp = gp
        self.info = info
        self.path = Path(info.path)
        self.crs = info.crs

    def layer(self, name: str) -> LayerDefinition:
        """The definition of a facility layer of the master (SyncError naming the layers otherwise)."""
        if name not in self.info.layers:
            raise SyncError(f"{self.path}: no layer {name!r} to import into (layers: {', '.join(self.info.layers)})")
        return self.info.definitions[name]

    def features(self, layer: str) -> Iterator[MasterFeature]:
        definition = self.layer(layer)
        for row in master_rows(self.gp.connection, definition):
            yield MasterFeature(row["fid"], row["uuid"], {n: row[n] for n in definition.field_names})


@contextmanager
def open_master_target(path: str | os.PathLike[str], *, write: bool = False) -> Iterator[MasterTarget]:
    """Open a master to import into (``write``: in one transaction, committed when the block ends
    without an error) or only to check rows against (a dry run)."""
    recover(path)
    with open_geopackage(path, "a" if write else "r") as gp:
        yield MasterTarget(gp, read_master_info(gp))


@dataclass
class MasterImportResult:
    """What an import wrote into the master."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    version_before: int = 0
    version_after: int = 0
    import_uuid: str | None = None


def write_master_import(target: MasterTarget, layer: str, inserts: Sequence[tuple[dict[str, Any], Any]],
                        updates: Sequence[tuple[int, dict[str, Any], Any]], *, source: str,
                        user: str | None = None, skipped: int = 0) -> MasterImportResult:
    """Write checked rows into a master layer as one recorded change (see the module notes).

    Parameters
    ----------
    target : an open :class:`MasterTarget` (``write=True``).
    inserts : (attributes, geometry) of new features, geometry in the master CRS; an ``uuid``
        among the attributes is kept as the feature's uuid.
    updates : (fid, attributes, geometry) of matched features.
    source : the file imported (named in the ledger).
    skipped : rows of the source left out (for the log).

    Raises
    ------
    SyncError
        The master was opened for reading only, or a new row breaks the definition.
    """
    if target.gp.mode != "a":
        raise SyncError(f"{target.path}: opened for reading only")
    definition = target.layer(layer)
    con = target.gp.connection
    user = user or login_name()
    now = now_text()
    result = MasterImportResult(version_before=target.info.version, version_after=target.info.version)
    plan = _Plan()
    for attributes, geometry in inserts:
        values = {k: v for k, v in attributes.items() if k != "uuid"}
        try:
            full = validate_feature(definition, values, None)
        except ValidationError as e:
            raise SyncError(f"{target.path}: {e}; nothing was imported") from None
        wkb = shapely.to_wkb(geometry)
        plan.inserts.append({"uuid": attributes.get("uuid") or new_uuid(), **full, "created_by": user,
                             "created_at": now, "modified_by": user, "modified_at": now, "geom": wkb})
        plan.new_geoms.append(wkb)
    current = {row["fid"]: row for row in _rows_by_fid(con, definition, [fid for fid, _, _ in updates])}
    for fid, attributes, geometry in updates:
        row = current.get(fid)
        if row is None:
            raise SyncError(f"{target.path}: {layer} feature {fid} is gone; nothing was imported")
        changed = {k: v for k, v in attributes.items() if k != "uuid" and not same_value(row.get(k), v)}
        if geometry is not None and (row["geom"] is None or not shapely.equals_exact(
                shapely.from_wkb(row["geom"]), geometry, tolerance=1e-6)):
            changed["geom"] = shapely.to_wkb(geometry)
            plan.new_geoms.append(changed["geom"])
            if row["geom"] is not None:
                plan.old_geoms.append(row["geom"])
        if not changed:
            result.unchanged += 1
            continue
        changed.update({"modified_by": user, "modified_at": now})
        plan.updates[row["uuid"]] = changed
        result.updated += 1
    result.inserted = len(plan.inserts)
    if not plan.inserts and not plan.updates:
        log.info("import %s into %s of %s: nothing changed", source, layer, target.path)
        return result
    version = target.info.version + 1
    result.import_uuid = str(uuid_module.uuid4())
    header = PackageInfo(path=Path(source), package_uuid=result.import_uuid, workspace_id="", master_id=
                         target.info.master_id, base_version=target.info.version, editor=user, created_at=now,
                         previous=[], layers=[layer], srid=target.info.srid)
    _write_master_layer(con, target.info, definition, plan, header, version, now)
    con.execute(f"UPDATE {MASTER_TABLE} SET value = ? WHERE key = 'version'", (str(version),))
    con.execute(
        f"INSERT INTO {LEDGER_TABLE} (package_uuid, workspace_id, editor, base_version, version, applied_at, "
        "applied_by, policy, inserts, updates, deletes, conflicts, file) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?)",
        (result.import_uuid, None, user, target.info.version, version, now, user, IMPORT_POLICY, result.inserted,
         result.updated, Path(source).name))
    con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name IN (?, ?)",
                (now, MASTER_TABLE, LEDGER_TABLE))
    target.info.version = result.version_after = version
    log.info("import %s into %s of %s: %d inserted, %d updated, %d unchanged, %d rows left out; version %d",
             source, layer, target.path, result.inserted, result.updated, result.unchanged, skipped, version)
    return result


def _rows_by_fid(con: Any, definition: LayerDefinition, fids: list[int]) -> Iterator[dict[str, Any]]:
    for start in range(0, len(fids), 500):
        part = fids[start:start + 500]
        yield from master_rows(con, definition, f"fid IN ({', '.join('?' * len(part))})", part)
