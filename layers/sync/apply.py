"""Apply (office side): merge a change package into the master, per field, in one transaction."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely

from layers.errors import GeoPackageError, SyncError, ValidationError
from layers.geopackage import GeoPackage, gpb_srs_id, gpb_wkb, open_geopackage
from layers.log import logger
from layers.media.content import MediaError
from layers.media.removal import pending_removals
from layers.media.tables import media_layers, verify_media
from layers.postgres.urls import is_postgres
from layers.schema.definitions import LayerDefinition, validate_feature
from layers.schema.geometry import validate_geometries, validate_geometry
from layers.sqlite.locks import file_fault
from layers.sync.areas import package_scope, refuse_outside
from layers.sync.changes import PACKAGE_EXTRA, PackageInfo, package_schema, read_package_info
from layers.sync.children import plan_children
from layers.sync.codes import settle_codes
from layers.sync.master import MasterInfo
from layers.sync.merge import LayerCounts
from layers.sync.migrate import upgraded_package
from layers.sync.photos import SqlitePhotos
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
from layers.sync.rows import AUDIT_COLUMNS, canonical, geometries, newer, now_text, quote
from layers.sync.store import LedgerEntry, MasterLocation, MasterPlan, MasterStore, master_location, open_master
from layers.workspace.identity import login_name

__all__ = ["apply_package", "apply_opened"]

log = logger(__name__)


def _check_package_layer(pgp: GeoPackage, pinfo: PackageInfo, minfo: MasterInfo, layer: str) -> None:
    if layer not in minfo.layers:
        raise SyncError(f"{pinfo.path}: layer {layer!r} is not in master {minfo.path} "
                        f"(its layers: {', '.join(minfo.layers)})")
    if not pgp.has_layer(layer):
        raise SyncError(f"{pinfo.path}: layer {layer!r} is missing from the package")
    definition = minfo.definitions[layer]
    schema = pgp.schema(layer)
    got = {c.name: c.type.upper() for c in schema.columns}
    want = {c.name: c.type.upper() for c in package_schema(definition, minfo.srid).columns}
    geometry_type = schema.geometry_type or "NONE"  # an attributes table: a layer without geometry
    if got != want or geometry_type != definition.geometry_type:
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        typed = sorted(n for n in set(got) & set(want) if got[n] != want[n])
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + \
                ([f"unknown {', '.join(extra)}"] if extra else []) + \
                ([f"other types for {', '.join(typed)}"] if typed else [])
        if geometry_type != definition.geometry_type:
            parts.append(f"geometry {geometry_type} instead of {definition.geometry_type}")
        raise SyncError(f"{pinfo.path}: layer {layer!r} has another schema than master "
                        f"{minfo.path} ({'; '.join(parts)})")
    if schema.is_spatial and schema.srs_id not in (minfo.srid, 0, -1) and _stated_crs(pgp, schema.srs_id) is None:
        raise SyncError(f"{pinfo.path}: layer {layer!r} is in srs_id {schema.srs_id}, which the package does not "
                        f"define, and the master in EPSG:{minfo.srid}; nothing was applied")


def _stated_crs(pgp: GeoPackage, srs_id: int) -> pyproj.CRS | None:
    """The CRS the package states for *srs_id* in its gpkg_spatial_ref_sys, or None if it states none."""
    if srs_id in (0, -1):
        return None
    row = pgp.connection.execute("SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys "
                                 "WHERE srs_id = ?", (srs_id,)).fetchone()
    if row is None:
        return None
    organization, code, definition = row
    try:
        if str(organization).upper() == "EPSG" and code:
            return pyproj.CRS.from_epsg(int(code))
        if definition and definition.strip().lower() != "undefined":
            return pyproj.CRS.from_wkt(definition)
    except (pyproj.exceptions.CRSError, ValueError):
        return None
    return None


def _to_master_crs(pgp: GeoPackage, minfo_srid: int, layer_srid: int, blobs: list[bytes | None],
                   wkbs: list[bytes | None]) -> tuple[list[bytes | None], list[str | None]]:
    """The package's geometries in the master's CRS, and per geometry why it cannot be (or None).

    A geometry in another CRS than the master's (its own srs_id, else its layer's) is transformed
    when the package states that CRS, and refused when it does not.
    """
    problems: list[str | None] = [None] * len(wkbs)
    out = list(wkbs)
    transformers: dict[int, pyproj.Transformer | None] = {}
    target = pyproj.CRS.from_epsg(minfo_srid)
    for i, (blob, wkb) in enumerate(zip(blobs, wkbs, strict=True)):
        if wkb is None:
            continue
        srid = gpb_srs_id(blob)
        srid = layer_srid if srid in (None, 0, -1) else srid
        if srid in (minfo_srid, 0, -1):
            continue
        if srid not in transformers:
            crs = _stated_crs(pgp, srid)
            transformers[srid] = None if crs is None else pyproj.Transformer.from_crs(crs, target, always_xy=True)
        transformer = transformers[srid]
        if transformer is None:
            problems[i] = (f"geometry in srs_id {srid}, which the package does not define (the master is in "
                           f"EPSG:{minfo_srid}): refused")
            continue
        moved = shapely.transform(shapely.from_wkb(wkb), lambda xy, t=transformer: np.column_stack(
            t.transform(xy[:, 0], xy[:, 1])))
        out[i] = canonical([moved])[0]
    return out, problems


def _read_package_layer(pgp: GeoPackage, definition: LayerDefinition, master_srid: int) -> dict[str, dict[str, Any]]:
    """Package rows by uuid, values as stored, ``geom`` and base ``geom`` as canonical WKB in the master's CRS.

    A row whose geometry is in a CRS the package does not state carries the reason in ``crs_problem``.
    """
    names = ["uuid", *PACKAGE_EXTRA, *definition.field_names, *AUDIT_COLUMNS, "base", "geom"]
    where = f"{pgp.path}: layer {definition.name!r}"
    layer_srid = pgp.schema(definition.name).srs_id if definition.has_geometry else master_srid
    selected = [*map(quote, names[:-1]), quote("geom") if definition.has_geometry else "NULL"]
    try:
        raw = pgp.connection.execute(
            f"SELECT {', '.join(selected)} FROM {quote(definition.name)}").fetchall()
        geoms = canonical([gpb_wkb(r[-1]) for r in raw])
        geoms, problems = _to_master_crs(pgp, master_srid, layer_srid, [r[-1] for r in raw], geoms)
    except (sqlite3.Error, GeoPackageError) as exc:
        raise SyncError(f"{where}: cannot be read ({exc})") from None
    known = {*definition.field_names, "geom"}
    out, base_geoms = {}, {}
    for r, g, problem in zip(raw, geoms, problems, strict=True):
        d = dict(zip(names, r, strict=True))
        d["geom"] = g
        d["crs_problem"] = problem
        uuid = d["uuid"]
        if d["op"] not in ("insert", "update", "delete"):
            raise SyncError(f"{where}, feature {uuid}: unknown operation {d['op']!r}")
        d["changed"] = [n for n in (d["changed_fields"] or "").split(",") if n]
        unknown = set(d["changed"]) - known
        if unknown:
            raise SyncError(f"{where}, feature {uuid}: unknown changed field(s) {', '.join(sorted(unknown))}")
        try:
            base = json.loads(d["base"]) if d["base"] else {}
            if not isinstance(base, dict) or set(base) - known:
                raise ValueError("not an object of field values")
            if base.get("geom") is not None:
                base_geoms[uuid] = shapely.from_wkt(base["geom"])
        except (ValueError, shapely.errors.GEOSException) as exc:
            raise SyncError(f"{where}, feature {uuid}: bad base values ({exc})") from None
        d["base"] = base
        out[uuid] = d
    base_wkbs = canonical(list(base_geoms.values()))
    if layer_srid not in (master_srid, 0, -1):  # base values are in the layer's CRS
        base_wkbs, _ = _to_master_crs(pgp, master_srid, layer_srid, [None] * len(base_wkbs), base_wkbs)
    for uuid, wkb in zip(base_geoms, base_wkbs, strict=True):
        out[uuid]["base"]["geom"] = wkb
    return out


def apply_package(master: MasterLocation, package: str | os.PathLike, *, policy: str = "office",
                  report: str | os.PathLike | None = None, dry_run: bool = False, user: str | None = None,
                  resolutions: str | os.PathLike | Iterable[Resolution] | None = None,
                  strict: bool = False) -> SyncResult:
    """Apply a change package to the master: per-field three-way merge, one transaction.

    Parameters
    ----------
    master : path-like or str
        The master GeoPackage, or a ``postgresql://`` connection string.
    package : path-like
    policy : {'office', 'field', 'newest', 'manual'}
    report : path-like, optional
        JSON report of counts and every conflict (each with the ``choice``
        a resolutions file may change).
    dry_run : bool
        Compute the counts and conflicts; write nothing (but the report).
    user : str, optional
        Who applies (the ledger's ``applied_by``).
    resolutions : path-like or iterable of Resolution, optional
        A choice per conflict (a dry run's report with edited ``choice``
        values, or :class:`Resolution` objects): the chosen value goes into
        the master.  They must match the conflicts of now exactly.
    strict : bool
        A package checked out for an area scope that changes features
        outside it is refused whole (default: those features are refused,
        reported by uuid, and the rest applied).

    Returns
    -------
    SyncResult
        ``already_applied`` when the ledger has the package (nothing done).

    Raises
    ------
    GeoPackageError
        A file is missing, not a GeoPackage, truncated or corrupt.
    SyncError
        The package is for another master or another schema, or refers to an
        unknown layer, or an earlier package of its workspace was not applied,
        or the resolutions do not match the conflicts.
        The master is unchanged.
    """
    if policy not in POLICIES:
        raise SyncError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    package = Path(package)
    shown = master_location(master)
    items, source, resolutions_path = resolutions_from(resolutions)
    choices = {r.key: r.choice for r in items} if items is not None else None
    log.info("applying %s to %s (policy %s%s)", package, shown, policy, ", dry run" if dry_run else "")

    def fresh() -> SyncResult:
        result = SyncResult("apply", shown, package, policy, dry_run)  # type: ignore[arg-type]
        result.resolutions = resolutions_path
        return result

    with open_geopackage(package) as pgp:  # a missing or broken package is named before the master is opened
        read_package_info(pgp)

    def attempt(store: MasterStore) -> SyncResult:
        store.refresh()  # the master's definitions as of now (PostGIS: no definition change until the end)
        with upgraded_package(package, store) as current, open_geopackage(current) as pgp:
            # made under an older definition: a migrated copy
            pinfo = read_package_info(pgp)
            return _apply(store, pgp, pinfo, package, policy, dry_run, user, items, source, choices, fresh(), strict)

    try:
        with open_master(master, write=not dry_run) as store:
            result = store.run(lambda: attempt(store))
    except sqlite3.Error as exc:
        if is_postgres(master):
            raise SyncError(f"{package}: {exc}; nothing was applied") from exc
        fault = file_fault(Path(master), exc, SyncError)
        raise (fault or SyncError(f"{master}: {exc}; nothing was applied")) from exc
    if report is not None:
        result.write_report(report)
    return result


def apply_opened(store: MasterStore, pgp: GeoPackage, package: Path, *, policy: str = "office",
                 user: str | None = None, resolutions: Iterable[Resolution] | None = None, strict: bool = False,
                 step: Callable[[], None] | None = None) -> SyncResult:
    """Apply an open change package inside a transaction the caller runs on the master (and commits, or not).

    What :func:`apply_package` does, for a caller that applies several
    packages in one transaction (``layers.sync.batch``): *store* is open for
    writing and this runs inside ``store.run``; *pgp* is the package (migrated
    to the master's definitions), *package* the path it was given as.

    Parameters
    ----------
    step : callable, optional
        Called as each layer is planned and written; it may raise
        (``Cancelled``) to stop, and the caller's transaction is rolled back.
    """
    if policy not in POLICIES:
        raise SyncError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    items, source, _path = resolutions_from(resolutions)
    choices = {r.key: r.choice for r in items} if items is not None else None
    result = SyncResult("apply", store.location, package, policy, False)  # type: ignore[arg-type]
    return _apply(store, pgp, read_package_info(pgp), package, policy, False, user, items, source, choices, result,
                  strict, step)


def _apply(store: MasterStore, pgp: GeoPackage, pinfo: PackageInfo, package: Path, policy: str, dry_run: bool,
           user: str | None, items: list[Resolution] | None, source: str,
           choices: Mapping[tuple[Any, Any, str], Choice] | None, result: SyncResult, strict: bool,
           step: Callable[[], None] | None = None) -> SyncResult:
    """apply_package inside the master's transaction (run again from the start if the server asks)."""
    master = store.location
    result.package_uuid = pinfo.package_uuid
    minfo = store.refresh()
    result.version_before = result.version_after = minfo.version
    if pinfo.master_id != minfo.master_id:
        raise SyncError(f"{package}: change package is for master {pinfo.master_id}, but "
                        f"{master} is master {minfo.master_id}; nothing was applied")
    if pinfo.base_version > minfo.version:
        raise SyncError(f"{package}: based on version {pinfo.base_version} of the master, "
                        f"but {master} is at version {minfo.version} (an older copy?)")
    if not (store.claim(pinfo.package_uuid) if not dry_run else not store.in_ledger(pinfo.package_uuid)):
        result.already_applied = True
        result.version_after = store.refresh().version
        for layer in pinfo.layers:
            result.layers[layer] = LayerCounts()
        return result
    missing = [p for p in pinfo.previous if not store.in_ledger(p)]  # a few keys: no read of the whole ledger
    if missing:
        raise SyncError(f"{package}: workspace {pinfo.workspace_id} sent package(s) "
                        f"{', '.join(missing)} before this one; apply them first")
    for layer in pinfo.layers:
        _check_package_layer(pgp, pinfo, minfo, layer)
    photo_layers = _check_package_photos(pgp, minfo, package)
    scope = package_scope(store, pinfo, package)
    plans = {}
    for layer in pinfo.layers:
        definition = minfo.definitions[layer]
        plans[layer] = _plan_apply(store, pgp, definition, policy, result, choices, source, minfo.srid,
                                   lock=not dry_run)
        if scope is not None:
            refuse_outside(scope, definition, plans[layer], result, strict, package)
        if step is not None:
            step()
    # Inspections whose facility is missing are conflicts; facilities follow their latest inspection.
    plan_children(store, minfo.definitions, minfo.layers, plans, MasterPlan, result, policy, choices, source)
    if items is not None:
        check_resolutions(result.conflicts, items, source)
    settle_codes(store, minfo, plans, result, workspace_id=pinfo.workspace_id, package_uuid=pinfo.package_uuid,
                 user=user or login_name(), write=not dry_run)
    if dry_run:
        return result
    now = now_text()
    for layer, plan in plans.items():
        store.write_layer(minfo.definitions[layer], plan, pinfo.package_uuid, now)
        if step is not None:
            step()
    for layer in pinfo.survey:
        _store_survey(store, pgp, minfo, layer, pinfo, now, result)
    if photo_layers:
        try:  # after the layers: a photo of a feature inserted by this package finds its fid
            result.photos["linked"], result.photos["stored"], result.photos["without_bytes"] = store.add_photos(
                SqlitePhotos(pgp.connection), photo_layers)
        except MediaError as exc:
            raise SyncError(f"{package}: {exc}; nothing was applied") from None
    result.photos["unlinked"], result.photos["dropped"] = (
        store.remove_photos(pgp.connection) if pending_removals(pgp.connection) else (0, 0))
    if photo_layers or any(plan.deletes for plan in plans.values()):
        _drop_photos_of_missing(store, pgp, photo_layers, plans, result)
    totals = LayerCounts()
    for c in result.layers.values():
        totals.add(c)
    result.version_after = store.finish_apply(LedgerEntry(
        pinfo.package_uuid, pinfo.workspace_id, pinfo.editor, pinfo.base_version, now, user or login_name(), policy,
        totals.inserts, totals.updates, totals.deletes, totals.conflicts, package.name))
    return result


def _drop_photos_of_missing(store: MasterStore, pgp: GeoPackage, photo_layers: Sequence[str],
                            plans: Mapping[str, MasterPlan], result: SyncResult) -> None:
    """The photos of the features the master does not hold after the apply go: their links, and the bytes no
    other feature refers to (those of an inspection stay with it; inspections are never dropped).

    Counted as ``gone_with_features`` (features this apply deleted) and
    ``of_missing_features`` (the package's photos of features the master does
    not hold: deleted at the office, or refused by this apply).
    """
    deleted = {(layer, k) for layer, plan in plans.items() for k, _, _ in plan.deletes}
    candidates: dict[str, set[str]] = {}
    for layer, k in deleted:
        candidates.setdefault(layer, set()).add(k)
    for link in SqlitePhotos(pgp.connection).links(photo_layers):
        candidates.setdefault(link.layer, set()).add(link.uuid)
    gone, dropped = store.drop_photos_of_missing(candidates)
    if not gone:
        return
    with_features = sum(1 for layer, uuid, _ in gone if (layer, uuid) in deleted)
    result.photos["gone_with_features"] = with_features
    result.photos["of_missing_features"] = len(gone) - with_features
    result.photos["dropped"] = result.photos.get("dropped", 0) + dropped
    for layer, uuid, sha in gone:
        if (layer, uuid) not in deleted:
            log.info("photo %s of %s %s not kept: the master does not hold that feature (deleted at the office?)",
                     sha, layer, uuid)


def _check_package_photos(pgp: GeoPackage, minfo: MasterInfo, package: Path) -> list[str]:
    """The layers whose photos the package carries; SyncError if a photo's content does not match its hash."""
    layers = media_layers(pgp.connection)
    unknown = [name for name in [*layers, *(r[0] for r in pending_removals(pgp.connection))]
               if name not in minfo.layers]
    if unknown:
        raise SyncError(f"{package}: photos of layer {unknown[0]!r}, which the master does not have; "
                        "nothing was applied")
    try:
        verify_media(pgp.connection, str(package))
    except MediaError as exc:
        raise SyncError(f"{exc}; the package was refused, nothing was applied") from None
    return layers


def _store_survey(store: MasterStore, pgp: GeoPackage, minfo: MasterInfo, layer: str, pinfo: PackageInfo, now: str,
                  result: SyncResult) -> None:
    """Keep a survey layer's rows (GPS tracks, waypoints) in the master's ``survey_<layer>`` table.

    Evidence behind the field's positions: never merged into a facility layer.
    Rows that break the definition are rejected (reported), like any other.
    """
    definition = minfo.definitions.get(layer)
    where = f"{pgp.path}: layer {layer!r}"
    if definition is None or not definition.survey:
        raise SyncError(f"{where}: not a survey layer of master {minfo.path}")
    if not pgp.has_layer(layer):
        raise SyncError(f"{where}: listed as survey evidence but missing from the package")
    rows = _read_package_layer(pgp, definition, minfo.srid)
    gone = [k for k, p in rows.items() if p["op"] == "delete"]
    kept = {k: p for k, p in rows.items() if p["op"] != "delete"}
    _validate_package_rows(definition, kept, where, result)
    items = sorted(kept.items())  # in uuid order, like every insert of apply
    store.store_survey(definition, [
        {"uuid": k, **{n: p[n] for n in definition.field_names}, **{a: p[a] for a in AUDIT_COLUMNS}, "geom": p["geom"]}
        for k, p in items], gone, pinfo.package_uuid, pinfo.workspace_id, now)
    result.survey[layer] = len(kept)
    log.info("%s: %d survey features kept as evidence in survey_%s", where, len(kept), layer)


def _plan_apply(store: MasterStore, pgp: GeoPackage, definition: LayerDefinition, policy: str,
                result: SyncResult, choices: Mapping[tuple[Any, Any, str], Choice] | None,
                source: str, srid: int, *, lock: bool) -> MasterPlan:
    layer = definition.name
    where = f"{pgp.path}: layer {layer!r}"
    package_rows = _read_package_layer(pgp, definition, srid)
    # Locked (PostGIS: FOR UPDATE, in uuid order): another apply of these features waits for this one,
    # then reads what this one wrote as the office side of its merge.
    office_full = store.rows_by_uuid(definition, sorted(package_rows), lock=lock)
    for r, g in zip(office_full.values(), canonical([r["geom"] for r in office_full.values()]), strict=True):
        r["geom"] = g
    office = SideRows()
    for k, r in office_full.items():
        office.rows[k] = {"uuid": k, **merge_row(definition, r, r["geom"])}
        office.audit[k] = (r["modified_by"], r["modified_at"])
    office.audit.update(store.deleted_audit(layer, [k for k in package_rows if k not in office_full]))
    _validate_package_rows(definition, package_rows, where, result)
    base, field_side = {}, SideRows()
    for k, p in package_rows.items():
        values = merge_row(definition, p, p["geom"])
        field_side.audit[k] = (p["edited_by"], p["edited_at"])
        if p["op"] != "delete":
            field_side.rows[k] = {"uuid": k, **values}
        if p["op"] == "update":
            base[k] = {**field_side.rows[k], **{n: v for n, v in p["base"].items() if n in values}}
        elif p["op"] == "delete":
            base[k] = {"uuid": k, **values}
    merged, conflicts = merge_layer(definition, base, office, field_side, policy, layer, choices, source)
    result.conflicts.extend(conflicts)
    plan = MasterPlan()
    for k, row in merged.items():
        try:
            full = complete(definition, row, f"{where}, feature {k}")
        except SyncError as exc:
            _reject(result, None, layer, k, str(exc), where)
            continue
        if k not in office_full or row_diff(definition, office_full[k], full):
            problem = check_row(definition, full)
            if problem is not None:  # whatever the policy: the master keeps only valid rows
                _reject(result, None, layer, k, problem, where)
                continue
        if k not in office_full:
            p = package_rows[k]
            audit = {a: p[a] for a in AUDIT_COLUMNS}
            audit["modified_by"], audit["modified_at"] = p["edited_by"], p["edited_at"]
            plan.inserts.append({**full, **audit})
            continue
        changed = row_diff(definition, office_full[k], full)
        if changed:
            editor, when = field_side.audit.get(k, (None, None))
            if not newer(office.audit[k][1], when):
                changed["modified_by"], changed["modified_at"] = editor, when
            plan.updates[k] = changed
            plan.before[k] = office_full[k]
    for k in office_full:
        if k not in merged:
            editor, when = field_side.audit.get(k, (None, None))
            plan.deletes.append((k, editor, when))
            plan.before[k] = office_full[k]
    result.layers[layer] = LayerCounts(len(plan.inserts), len(plan.updates), len(plan.deletes), len(conflicts))
    return plan


def _validate_package_rows(definition: LayerDefinition, rows: dict[str, dict[str, Any]], where: str,
                           result: SyncResult) -> None:
    """Check the field's values against the layer definition, in place (stored form).

    Inserted features are checked whole; updated ones in the fields they
    changed (the others are their base values).  New geometries are checked
    together.  A row that breaks a rule is taken out of *rows* and reported
    (``result.rejected``): it never reaches the master.
    """
    derived = {f.name for f in definition.fields if f.derived}
    checked: list[str] = []
    for k, p in list(rows.items()):
        if p["op"] == "delete":
            continue
        if p.get("crs_problem"):
            _reject(result, rows, definition.name, k, p["crs_problem"], where)
            continue
        if p["op"] == "insert":
            attributes = {f.name: p[f.name] for f in definition.fields if f.name not in derived}
        else:
            attributes = {n: p[n] for n in p["changed"] if n != "geom" and n not in derived}
        try:
            p.update(validate_feature(definition, attributes, partial=p["op"] == "update"))
        except ValidationError as exc:
            _reject(result, rows, definition.name, k, str(exc), where)
            continue
        if definition.has_geometry and (p["op"] == "insert" or "geom" in p["changed"]):
            if p["geom"] is None:
                _reject(result, rows, definition.name, k, f"{definition.name}.geom: no geometry", where)
                continue
            checked.append(k)
    shapes = geometries([rows[k]["geom"] for k in checked])
    try:
        validate_geometries(definition, shapes)
    except ValidationError:
        for k, g in zip(checked, shapes, strict=True):
            try:
                validate_geometry(definition, g)
            except ValidationError as exc:
                _reject(result, rows, definition.name, k, str(exc), where)


def _reject(result: SyncResult, rows: dict[str, dict[str, Any]] | None, layer: str, uuid: str, reason: str,
            where: str) -> None:
    log.info("%s, feature %s: not applied: %s", where, uuid, reason)
    result.reject(layer, uuid, reason)
    if rows is not None:
        rows.pop(uuid, None)
