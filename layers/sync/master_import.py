"""Features imported straight into the master: one recorded master change, like an applied package.

``tongcheng import SOURCE master.gpkg`` checks its rows against the master's
own definitions (``layers.imports`` plans them through :class:`MasterTarget`,
which reads like a workspace: ``crs``, ``layer()``, ``features()``) and then
writes them here, in one transaction of the master:

* new features get new uuids (uuid v7, or the row's own uuid when the mapping
  gives one) and audit columns (``created_by/at``, ``modified_by/at``: the
  importing user, now), and are validated in full against the definition
  (defaults filled, required fields checked);
* new features take their located fields (zone, unit grid cell) from the
  master's reference polygons at their position, as the editor does, and
  their component code from the master (:class:`~layers.sync.codes.CodeBook`:
  the next serial of the district the feature lies in and its class; a code
  the source brings is kept when it is well formed and no feature has it,
  else replaced), every code given listed in the result;
* features matched by key are updated field by field (only values that
  differ), their ``modified_by/at`` set; one moved takes its located fields
  anew (its component code stays);
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
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely

from layers.errors import SyncError, ValidationError
from layers.log import logger
from layers.schema.definitions import FieldDefinition, LayerDefinition, validate_feature
from layers.sync.codes import OFFICE, CodeBook
from layers.sync.rows import now_text
from layers.sync.store import LedgerEntry, MasterPlan, MasterStore, open_master
from layers.workspace.identity import login_name, new_uuid
from layers.workspace.located import located_points, lowest_polygons
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

    # -- the standard (``layers.imports.standard.StandardTarget``) ----------------------

    def located_fields(self, definition: LayerDefinition) -> tuple[FieldDefinition, ...]:
        """The located fields of a layer whose reference layer the master holds, with polygons in it."""
        active = []
        for f in definition.located_fields:
            assert f.located_in is not None
            layer = f.located_in.layer
            if layer in self.info.layers and self.store.count(self.info.definitions[layer]):
                active.append(f)
        return tuple(active)

    def locate(self, definition: LayerDefinition, geometries: Sequence[Any]) -> dict[str, list[Any]]:
        """The values of the active located fields at each geometry (the master's reference polygons meeting
        the geometries' box, the lowest fid where they overlap)."""
        fields = self.located_fields(definition)
        out: dict[str, list[Any]] = {f.name: [None] * len(geometries) for f in fields}
        if not fields or not len(geometries):
            return out
        points, present = located_points(geometries)
        if not present.any():
            return out
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(points[present]))
        for f in fields:
            assert f.located_in is not None
            reference = self.info.definitions[f.located_in.layer]
            polygons = [r for r in self.store.rows(reference, (minx, miny, maxx, maxy)) if r["geom"] is not None]
            found = lowest_polygons(shapely.from_wkb([r["geom"] for r in polygons]), points, present)
            out[f.name] = [None if i is None else polygons[i][f.located_in.field] for i in found]
        return out

    def stored(self, layer: str, fids: Collection[int]) -> dict[int, dict[str, Any]]:
        """The field values of the features of *layer* with these fids."""
        wanted = set(fids)
        definition = self.layer(layer)
        return {row["fid"]: {n: row[n] for n in definition.field_names} for row in self.store.rows(definition)
                if row["fid"] in wanted}


@contextmanager
def open_master_target(master: str | os.PathLike[str], *, write: bool = False) -> Iterator[MasterTarget]:
    """Open a master (GeoPackage or ``postgresql://``) to import into (``write``: in one transaction,
    committed when the block ends without an error) or only to check rows against (a dry run)."""
    with open_master(master, write=write) as store:
        yield MasterTarget(store)


@dataclass
class MasterImportResult:
    """What an import wrote into the master.

    ``codes``: each component code the import gave (``layer``, ``uuid``,
    ``from``: the source's code or None, ``to``, ``reason``); ``kept``: new
    features whose code from the source was kept; ``located``: the fields
    taken from the reference polygons.
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    version_before: int = 0
    version_after: int = 0
    import_uuid: str | None = None
    codes: list[dict[str, Any]] = field(default_factory=list)
    kept: int = 0
    located: list[str] = field(default_factory=list)


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
    result.located = [f.name for f in target.located_fields(definition)]
    located = target.locate(definition, [geometry for _, geometry in inserts]) if result.located else {}
    new_rows: list[dict[str, Any]] = []
    for i, (attributes, geometry) in enumerate(inserts):
        values = {**{k: v for k, v in attributes.items() if k != "uuid"}, **{n: v[i] for n, v in located.items()}}
        try:
            full = validate_feature(definition, values, None)
        except ValidationError as e:
            raise SyncError(f"{target.path}: {e}; nothing was imported") from None
        new_rows.append({"uuid": attributes.get("uuid") or new_uuid(), **full, "created_by": user,
                         "created_at": now, "modified_by": user, "modified_at": now,
                         "geom": shapely.to_wkb(geometry)})
    plan = MasterPlan()
    wanted = {fid for fid, _, _ in updates}
    current = {row["fid"]: row for row in store.rows(definition) if row["fid"] in wanted} if wanted else {}
    moved: list[tuple[str, dict[str, Any], Any]] = []
    for fid, attributes, geometry in updates:
        row = current.get(fid)
        if row is None:
            raise SyncError(f"{target.path}: {layer} feature {fid} is gone; nothing was imported")
        changed = {k: v for k, v in attributes.items() if k != "uuid" and not same_value(row.get(k), v)}
        if geometry is not None and (row["geom"] is None or not shapely.equals_exact(
                shapely.from_wkb(row["geom"]), geometry, tolerance=1e-6)):
            changed["geom"] = shapely.to_wkb(geometry)
            moved.append((row["uuid"], changed, geometry))
        if not changed:
            result.unchanged += 1
            continue
        plan.updates[row["uuid"]] = changed
        plan.before[row["uuid"]] = row
    if moved and result.located:  # a moved feature lies in other polygons now
        found = target.locate(definition, [geometry for _, _, geometry in moved])
        for i, (uuid, changed, _) in enumerate(moved):
            changed.update({n: v[i] for n, v in found.items() if not same_value(plan.before[uuid].get(n), v[i])})
    for changed in plan.updates.values():
        changed.update({"modified_by": user, "modified_at": now})
    result.updated = len(plan.updates)
    result.inserted = len(new_rows)
    if not new_rows and not plan.updates:
        log.info("import %s into %s of %s: nothing changed", source, layer, target.path)
        return result
    import_uuid = str(uuid_module.uuid4())

    def write() -> int:
        if store.refresh().definitions[layer].version != definition.version:  # PostGIS: changed meanwhile
            raise SyncError(f"{target.path}: the office changed layer {layer!r}'s definition while the rows were "
                            "checked; nothing was imported, run the import again")
        if not store.claim(import_uuid):
            raise SyncError(f"{target.path}: import {import_uuid} is in the ledger already")
        plan.inserts = [dict(row) for row in new_rows]  # afresh for each attempt: a rerun numbers them again
        result.codes = []
        book = CodeBook(store)
        if definition.component is not None and book.district() is not None:
            book.ensure_tables()
            book.settle_inserts([(definition, plan.inserts)], result.codes, holder=OFFICE, purpose="import",
                                missing="no code: given by the import", package_uuid=import_uuid, user=user,
                                write=True)
        store.write_layer(definition, plan, import_uuid, now)
        return store.finish_apply(LedgerEntry(import_uuid, None, user, target.info.version, now, user, IMPORT_POLICY,
                                              result.inserted, result.updated, 0, 0, Path(source).name))

    version = store.run(write)
    if definition.component is not None:  # codes the source brought, less those replaced
        brought = sum(1 for r in new_rows if r.get(definition.component.field))
        result.kept = brought - sum(1 for c in result.codes if c["from"])
    result.import_uuid = import_uuid
    target.info.version = result.version_after = version
    log.info("import %s into %s of %s: %d inserted, %d updated, %d unchanged, %d rows left out, %d component "
             "codes given; version %d", source, layer, target.path, result.inserted, result.updated,
             result.unchanged, skipped, len(result.codes), version)
    return result
