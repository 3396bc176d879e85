"""Update (field side): rebase a checked-out workspace onto a newer master, keeping the unsent edits."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from layers.errors import SyncError
from layers.log import logger
from layers.media.removal import drop_orphan_links, pending_removals
from layers.schema.definitions import LayerDefinition
from layers.sync.areas import resolve_scope
from layers.sync.changes import sent_folder
from layers.sync.checkout import SETTINGS, checkout_info
from layers.sync.children import ParentKey, master_parent_keys, parent_key
from layers.sync.code_topup import copy_reason, plan_codes, top_up
from layers.sync.merge import LayerCounts, same_value
from layers.sync.migrate import added_layers, migrated, workspace_steps
from layers.sync.resolutions import (
    POLICIES,
    Choice,
    Resolution,
    SideRows,
    check_resolutions,
    check_row,
    complete,
    merge_layer,
    merge_row,
    resolutions_from,
    row_diff,
)
from layers.sync.results import SyncResult
from layers.sync.rows import AUDIT_COLUMNS, canonical, geometries
from layers.sync.store import MasterLocation, MasterStore, master_location, open_master
from layers.workspace.districts import write_districts
from layers.workspace.store import Workspace

__all__ = ["update_workspace"]

log = logger(__name__)


def _workspace_rows(ws: Workspace, definition: LayerDefinition) -> dict[str, dict[str, Any]]:
    """The workspace's rows of a layer by uuid (geometry as WKB)."""
    return {row["uuid"]: row for row in ws.raw_rows(definition.name)}


def _same_raw(definition: LayerDefinition, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Same field values and geometry (canonical WKB)."""
    return all(same_value(a.get(n), b.get(n)) for n in definition.field_names) and a.get("geom") == b.get("geom")


def update_workspace(workspace: Workspace, master: MasterLocation, *, policy: str = "office",
                     report: str | os.PathLike | None = None, dry_run: bool = False,
                     resolutions: str | os.PathLike | Iterable[Resolution] | None = None) -> SyncResult:
    """Bring a newer master into a checked-out workspace, keeping the edits not yet sent.

    The rebase: base = the workspace's base, office = the new master, field =
    the workspace now.  Afterwards the base is the new master and the kept
    edits are tracked changes against it, ready for the next change package.

    Parameters
    ----------
    workspace : Workspace
        A checked-out workspace (open).
    master : path-like
        The newer master (same master id).
    policy, report, dry_run : as :func:`~layers.sync.apply.apply_package`.
    resolutions : path-like or iterable of Resolution, optional
        A choice per conflict (a dry run's report with edited ``choice``
        values, or :class:`Resolution` objects).  A ``field`` choice (or a
        literal value) is written back as a tracked edit against the new
        base: the field's value; for a feature the field deleted and the
        office changed, the deletion; for one the office deleted and the
        field changed, the field's feature again, with its uuid.  These are
        pending changes, sent with the next change package.  The
        resolutions must match the conflicts of now exactly, or nothing is
        changed (SyncError naming the first mismatch).

    Everything is written in one transaction on the workspace's own
    connection.

    Returns
    -------
    SyncResult
        Counts are what changed in the workspace, per layer.
    """
    if policy not in POLICIES:
        raise SyncError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    ws = workspace
    shown = master_location(master)
    info = checkout_info(ws)
    result = SyncResult("update", shown, ws.path, policy, dry_run)  # type: ignore[arg-type]
    items, source, result.resolutions = resolutions_from(resolutions)
    choices = {r.key: r.choice for r in items} if items is not None else None
    log.info("updating %s from %s (policy %s%s)", ws.path, shown, policy, ", dry run" if dry_run else "")
    result.version_before = result.version_after = info["version"]
    with open_master(master) as store, ExitStack() as migration:
        master = store.location
        minfo = store.info
        if minfo.master_id != info["master_id"]:
            raise SyncError(f"{master}: master {minfo.master_id} is not the master {info['master_id']} "
                            f"that {ws.path} was checked out from; nothing was changed")
        if minfo.version < info["version"]:
            raise SyncError(f"{master}: version {minfo.version} is older than the workspace's base "
                            f"(version {info['version']}); nothing was changed")
        unapplied = [p for p in info["sent"] if not store.in_ledger(p)]
        if unapplied:
            raise SyncError(f"{master}: the office has not applied the change package(s) "
                            f"{', '.join(unapplied)} sent from {ws.path}; apply them first, "
                            "then update (nothing was changed)")
        # A definition the office changed since, or a layer it added: the workspace is migrated first (for a
        # dry run, until the end of this block).
        steps = workspace_steps(ws, store, minfo, [n for n in info["layers"] if n in minfo.layers])
        added = added_layers(ws, minfo, info["version"])
        if not dry_run and (steps or added):  # the migration and the rebase: one transaction, all or nothing
            migration.enter_context(ws.session())
        migration.enter_context(migrated(ws, steps, minfo, keep=not dry_run, added=added))
        result.definitions = [f"layer {s.layer} definition version {s.old.version} -> {s.new.version}"
                              for s in steps]
        result.definitions += [f"layer {n} added (definition version {minfo.definitions[n].version})" for n in added]
        info["layers"] = [*info["layers"], *added]
        for layer in info["layers"]:
            if layer not in minfo.layers:
                raise SyncError(f"{master}: has no layer {layer!r}, which {ws.path} has")
            definition = ws.layer(layer)
            theirs_def = minfo.definitions[layer]
            if [(f.name, f.type) for f in definition.fields] != [(f.name, f.type) for f in theirs_def.fields]:
                raise SyncError(f"{master}: layer {layer!r} has other fields than in {ws.path}")
        bbox = info["bbox"]
        scope = resolve_scope(store, info["scope"]) if info.get("scope") else None
        shape = scope.shape if scope is not None else None
        parents = None  # the features a child layer's records may belong to: the master's here, and ours
        if any(ws.layer(layer).child_of for layer in info["layers"]):
            spatial = [n for n in info["layers"] if ws.layer(n).has_geometry]
            parents = master_parent_keys(store, minfo.definitions, spatial, bbox)
            parents |= {(n, r[0]) for n in spatial for r in ws.connection.execute(f"SELECT uuid FROM {n}")}
        plans = {}
        for layer in info["layers"]:
            plans[layer] = _plan_update(ws, store, ws.layer(layer), bbox, policy, result, choices, source, shape,
                                        parents)
        if items is not None:
            check_resolutions(result.conflicts, items, source)
        # Component codes: the district areas as the master has them now; blocks where the serials run low.
        codes = plan_codes(ws, store, minfo, info["layers"], scope, tuple(bbox) if bbox else None)
        result.district_areas = codes.changes
        if codes.wanted:
            result.codes_note = copy_reason(ws, shown)
        if dry_run:
            result.code_blocks = [{"district": d, "component_class": c, "serials": n, "first": None, "last": None}
                                  for d, c, n in codes.wanted if result.codes_note is None]
            if report is not None:
                result.write_report(report)
            return result
        with ws.session():
            ws.reset_base(info["layers"])
            for layer, (to_office, _) in plans.items():
                ws.apply_rows(layer, to_office, tracked=False)
            for layer, (_, to_merged) in plans.items():
                ws.apply_rows(layer, to_merged, tracked=True)
            ws.set_setting(SETTINGS["version"], minfo.version)
            if added:
                ws.set_setting(SETTINGS["layers"], json.dumps(info["layers"]))
            ws.set_setting(SETTINGS["sent"], "[]")
            if codes.changes:
                write_districts(ws.connection, codes.districts)
            # The photos of the features deleted at the office go with them here too (also those added
            # here and not yet sent: the facility is gone), and the bytes no other feature refers to.
            gone, _ = drop_orphan_links(ws.connection, info["layers"])
            if gone:
                result.photos["gone_with_features"] = len(gone)
            # The office's unlinks, its photos of the features here, and the bytes it misses sent again.
            result.photos.update(store.update_photos(ws.connection, info["layers"],
                                                     exclude=set(pending_removals(ws.connection))))
    for package_uuid in info["sent"]:  # the master has them now (checked above)
        (sent_folder(ws) / f"{package_uuid}.gpkg").unlink(missing_ok=True)
    result.version_after = minfo.version
    if codes.wanted and result.codes_note is None:
        try:  # after the update is in: a refused block leaves it whole, and the office numbers at apply
            result.code_blocks = top_up(ws, shown, codes, ws.user)
        except SyncError as exc:
            result.codes_note = f"the master reserved no new block ({str(exc).splitlines()[0]}); the office gives " \
                                "the new features their codes at apply"
            log.info("%s: %s", ws.path, result.codes_note)
    if report is not None:
        result.write_report(report)
    return result


def _plan_update(ws: Workspace, store: MasterStore, definition: LayerDefinition,
                 bbox: tuple[float, float, float, float] | None, policy: str, result: SyncResult,
                 choices: Mapping[tuple[Any, Any, str], Choice] | None,
                 source: str, shape: BaseGeometry | None = None, parents: set[ParentKey] | None = None,
                 ) -> tuple[dict[str, dict[str, Any] | None], dict[str, dict[str, Any] | None]]:
    layer = definition.name
    local = {c.uuid: c for c in ws.changes(layer)}
    current = _workspace_rows(ws, definition)
    base_raw = {k: v for k, v in current.items() if k not in local}
    for k, c in local.items():
        if c.op != "insert":
            assert c.base is not None  # an update or delete has its base row
            base_raw[k] = dict(c.base)
    if not definition.has_geometry:  # a child layer: the records of the features here (no area of its own)
        office_raw = {r["uuid"]: r for r in store.rows(definition)
                      if definition.child_of is None or parents is None or parent_key(definition, r) in parents}
        extra = [k for k in set(base_raw) | set(current) if k not in office_raw]
        office_raw.update(store.rows_by_uuid(definition, extra))
    elif bbox:
        office_raw = {r["uuid"]: r for r in store.rows(definition, bbox)}
        box = shape if shape is not None else shapely.box(*bbox)
        geoms = geometries([r["geom"] for r in office_raw.values()])
        office_raw = {k: r for (k, r), g in zip(office_raw.items(), geoms, strict=True)
                      if g is not None and g.intersects(box)}
        extra = [k for k in set(base_raw) | set(current) if k not in office_raw]
        office_raw.update(store.rows_by_uuid(definition, extra))
    else:
        office_raw = {r["uuid"]: r for r in store.rows(definition)}
    for rows in (current, base_raw, office_raw):
        for r, g in zip(rows.values(), canonical([r["geom"] for r in rows.values()]), strict=True):
            r["geom"] = g
    concerned = set(local)
    for k, r in office_raw.items():
        b = base_raw.get(k)
        # A row the office only re-stamped (same values, its own who/when) is concerned too: after
        # the update the workspace holds the master's audit columns.
        if b is None or not _same_raw(definition, b, r) or any(b.get(a) != r[a] for a in AUDIT_COLUMNS):
            concerned.add(k)
    concerned |= {k for k in base_raw if k not in office_raw}

    def to_merge(raw: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {k: {"uuid": k, **merge_row(definition, raw[k], raw[k]["geom"])} for k in concerned if k in raw}

    office = SideRows(to_merge(office_raw),
                   {k: (office_raw[k]["modified_by"], office_raw[k]["modified_at"])
                    for k in concerned if k in office_raw})
    field_side = SideRows(to_merge(current), {})
    for k in concerned:
        if k in current:
            field_side.audit[k] = (current[k]["modified_by"], current[k]["modified_at"])
        elif k in local:
            field_side.audit[k] = (ws.user, local[k].changed_at)
    merged, conflicts = merge_layer(definition, to_merge(base_raw), office, field_side, policy, layer,
                                    choices, source)
    result.conflicts.extend(conflicts)
    # Step 1 (untracked): the workspace takes the office's rows; step 2 (tracked): the merged ones.
    to_office: dict[str, dict[str, Any] | None] = {}
    to_merged: dict[str, dict[str, Any] | None] = {}
    counts = LayerCounts(conflicts=len(conflicts))
    for k in concerned:
        cur, off, m = current.get(k), office_raw.get(k), merged.get(k)
        if off is None:
            if cur is not None:
                to_office[k] = None
        elif cur is None or not _same_raw(definition, cur, off) or any(cur[a] != off[a] for a in AUDIT_COLUMNS):
            to_office[k] = {**off, "fid": cur["fid"] if cur else None}
        if m is None:
            if off is not None:
                to_merged[k] = None
        else:
            try:
                full = complete(definition, m, f"{ws.path}: layer {layer!r}, feature {k}")
                problem = None
            except SyncError as exc:
                full, problem = {}, str(exc)
            if problem is None and (off is None or row_diff(definition, off, full)):
                problem = check_row(definition, full)  # whatever the policy: only valid rows are written
            if problem is not None:
                log.info("%s: layer %r, feature %s: merged row not written: %s", ws.path, layer, k, problem)
                result.reject(layer, k, problem)
            elif off is None or row_diff(definition, off, full):
                # Who made the feature is the master's; who changed it last and when stay the
                # field's while the row carries a field edit still to be sent.
                audit_from = cur or off or {}
                audit = {a: audit_from.get(a) for a in AUDIT_COLUMNS}
                if off is not None:
                    audit["created_by"], audit["created_at"] = off["created_by"], off["created_at"]
                to_merged[k] = {**full, **audit, "fid": cur["fid"] if cur else None}
        final = to_merged[k] if k in to_merged else to_office[k] if k in to_office else cur
        if cur is None and final is not None:
            counts.inserts += 1
        elif cur is not None and final is None:
            counts.deletes += 1
        elif cur is not None and final is not None and row_diff(definition, cur, final):
            counts.updates += 1
    result.layers[layer] = counts
    return to_office, to_merged
