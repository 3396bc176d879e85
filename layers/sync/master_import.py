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
* rows are written through the master's own writer (``MasterStore.write_layer``:
  fids in uuid order, exact extent, history), so a GeoPackage and a PostGIS
  master take an import alike.

Nothing is written when nothing changes.
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
from layers.log import logger
from layers.schema.definitions import LayerDefinition, validate_feature
from layers.sync.rows import now_text
from layers.sync.store import LedgerEntry, MasterPlan, MasterStore, open_master
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

    def __init__(self, store: MasterStore) -> None:
        self.store = store
        self.info = store.info
        self.path = store.location
        self.crs = store.info.crs

    def layer(self, name: str) -> LayerDefinition:
        """The definition of a facility layer of the master (SyncError naming the layers otherwise)."""
        if name not in self.info.layers or not self.info.definitions[name].has_geometry:
            layers = [n for n in self.info.layers if self.info.definitions[n].has_geometry]
            raise SyncError(f"{self.path}: no layer {name!r} to import into (layers: {', '.join(layers)})")
        return self.info.definitions[name]

    def features(self, layer: str) -> Iterator[MasterFeature]:
        definition = self.layer(layer)
        for row in self.store.rows(definition):
            yield MasterFeature(row["fid"], row["uuid"], {n: row[n] for n in definition.field_names})


@contextmanager
def open_master_target(master: str | os.PathLike[str], *, write: bool = False) -> Iterator[MasterTarget]:
    """Open a master (GeoPackage or ``postgresql://``) to import into (``write``: in one transaction,
    committed when the block ends without an error) or only to check rows against (a dry run)."""
    with open_master(master, write=write) as store:
        yield MasterTarget(store)


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
    store = target.store
    if not store.writable:
        raise SyncError(f"{target.path}: opened for reading only")
    definition = target.layer(layer)
    user = user or login_name()
    now = now_text()
    result = MasterImportResult(version_before=target.info.version, version_after=target.info.version)
    plan = MasterPlan()
    for attributes, geometry in inserts:
        values = {k: v for k, v in attributes.items() if k != "uuid"}
        try:
            full = validate_feature(definition, values, None)
        except ValidationError as e:
            raise SyncError(f"{target.path}: {e}; nothing was imported") from None
        plan.inserts.append({"uuid": attributes.get("uuid") or new_uuid(), **full, "created_by": user,
                             "created_at": now, "modified_by": user, "modified_at": now,
                             "geom": shapely.to_wkb(geometry)})
    wanted = {fid for fid, _, _ in updates}
    current = {row["fid"]: row for row in store.rows(definition) if row["fid"] in wanted} if wanted else {}
    for fid, attributes, geometry in updates:
        row = current.get(fid)
        if row is None:
            raise SyncError(f"{target.path}: {layer} feature {fid} is gone; nothing was imported")
        changed = {k: v for k, v in attributes.items() if k != "uuid" and not same_value(row.get(k), v)}
        if geometry is not None and (row["geom"] is None or not shapely.equals_exact(
                shapely.from_wkb(row["geom"]), geometry, tolerance=1e-6)):
            changed["geom"] = shapely.to_wkb(geometry)
        if not changed:
            result.unchanged += 1
            continue
        changed.update({"modified_by": user, "modified_at": now})
        plan.updates[row["uuid"]] = changed
        plan.before[row["uuid"]] = row
        result.updated += 1
    result.inserted = len(plan.inserts)
    if plan.empty:
        log.info("import %s into %s of %s: nothing changed", source, layer, target.path)
        return result
    import_uuid = str(uuid_module.uuid4())

    def write() -> int:
        if store.refresh().definitions[layer].version != definition.version:  # PostGIS: changed meanwhile
            raise SyncError(f"{target.path}: the office changed layer {layer!r}'s definition while the rows were "
                            "checked; nothing was imported, run the import again")
        if not store.claim(import_uuid):
            raise SyncError(f"{target.path}: import {import_uuid} is in the ledger already")
        store.write_layer(definition, plan, import_uuid, now)
        return store.finish_apply(LedgerEntry(import_uuid, None, user, target.info.version, now, user, IMPORT_POLICY,
                                              result.inserted, result.updated, 0, 0, Path(source).name))

    version = store.run(write)
    result.import_uuid = import_uuid
    target.info.version = result.version_after = version
    log.info("import %s into %s of %s: %d inserted, %d updated, %d unchanged, %d rows left out; version %d",
             source, layer, target.path, result.inserted, result.updated, result.unchanged, skipped, version)
    return result
