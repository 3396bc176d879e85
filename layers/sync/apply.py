"""Apply (office side): merge a change package into the master, per field, in one transaction."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely

from layers.errors import GeoPackageError, SyncError, ValidationError
from layers.geopackage import Column, GeoPackage, gpb_srs_id, gpb_wkb, open_geopackage
from layers.log import logger
from layers.media.content import MediaError
from layers.media.removal import apply_removals, pending_removals
from layers.media.tables import copy_photos, media_layers, missing_bytes, verify_media
from layers.schema.definitions import LayerDefinition, validate_feature
from layers.schema.geometry import validate_geometries, validate_geometry
from layers.sqlite.locks import file_fault
from layers.sync.changes import PACKAGE_EXTRA, PackageInfo, package_schema, read_package_info
from layers.sync.children import plan_children
from layers.sync.codes import settle_codes
from layers.sync.master import (
    DELETED_TABLE,
    LEDGER_TABLE,
    MASTER_TABLE,
    MasterInfo,
    master_rows_by_uuid,
    master_schema,
    read_master_info,
    recover,
)
from layers.sync.merge import LayerCounts
from layers.sync.migrate import upgraded_package
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
from layers.sync.rows import AUDIT_COLUMNS, bounds, canonical, geometries, gpb_of_wkbs, newer, now_text, quote
from layers.workspace.identity import login_name

__all__ = ["apply_package"]

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


def apply_package(master: str | os.PathLike, package: str | os.PathLike, *, policy: str = "office",
                  report: str | os.PathLike | None = None, dry_run: bool = False, user: str | None = None,
                  resolutions: str | os.PathLike | Iterable[Resolution] | None = None) -> SyncResult:
    """Apply a change package to the master: per-field three-way merge, one transaction.

    Parameters
    ----------
    master, package : path-like
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
    master, package = Path(master), Path(package)
    result = SyncResult("apply", master, package, policy, dry_run)
    items, source, result.resolutions = resolutions_from(resolutions)
    choices = {r.key: r.choice for r in items} if items is not None else None
    log.info("applying %s to %s (policy %s%s)", package, master, policy, ", dry run" if dry_run else "")
    try:
        with upgraded_package(package, master) as current:  # made under an older definition: migrated
            result = _apply(master, current, policy, report, dry_run, user, items, source, choices, result)
    except sqlite3.Error as exc:
        fault = file_fault(master, exc, SyncError)
        raise (fault or SyncError(f"{master}: {exc}; nothing was applied")) from exc
    if report is not None:
        result.write_report(report)
    return result


def _apply(master: Path, package: Path, policy: str, report: str | os.PathLike | None, dry_run: bool,
           user: str | None, items: list[Resolution] | None, source: str,
           choices: Mapping[tuple[Any, Any, str], Choice] | None, result: SyncResult) -> SyncResult:
    """apply_package once its arguments are checked (sqlite3 errors are the caller's to explain)."""
    with open_geopackage(package) as pgp:
        pinfo = read_package_info(pgp)
        result.package_uuid = pinfo.package_uuid
        recover(master)
        with open_geopackage(master, "r" if dry_run else "a") as mgp:
            minfo = read_master_info(mgp)
            con = mgp.connection
            con.execute("PRAGMA cache_size = -262144")  # 256 MiB: no spill of a big transaction
            result.version_before = result.version_after = minfo.version
            if pinfo.master_id != minfo.master_id:
                raise SyncError(f"{package}: change package is for master {pinfo.master_id}, but "
                                f"{master} is master {minfo.master_id}; nothing was applied")
            if pinfo.base_version > minfo.version:
                raise SyncError(f"{package}: based on version {pinfo.base_version} of the master, "
                                f"but {master} is at version {minfo.version} (an older copy?)")
            ledger = con.execute(f"SELECT version, applied_at FROM {LEDGER_TABLE} WHERE package_uuid = ?",
                                 (pinfo.package_uuid,)).fetchone()
            if ledger:
                result.already_applied = True
                result.version_after = minfo.version
                for layer in pinfo.layers:
                    result.layers[layer] = LayerCounts()
                if report is not None:
                    result.write_report(report)
                return result
            applied = {r[0] for r in con.execute(f"SELECT package_uuid FROM {LEDGER_TABLE}")}
            missing = [p for p in pinfo.previous if p not in applied]
            if missing:
                raise SyncError(f"{package}: workspace {pinfo.workspace_id} sent package(s) "
                                f"{', '.join(missing)} before this one; apply them first")
            for layer in pinfo.layers:
                _check_package_layer(pgp, pinfo, minfo, layer)
            photo_layers = _check_package_photos(pgp, minfo, package)
            plans = {}
            for layer in pinfo.layers:
                definition = minfo.definitions[layer]
                plans[layer] = _plan_apply(con, pgp, definition, policy, result, choices, source, minfo.srid)
            # Inspections whose facility is missing are conflicts; facilities follow their latest inspection.
            plan_children(con, minfo.definitions, minfo.layers, plans, _Plan, result, policy, choices, source)
            if items is not None:
                check_resolutions(result.conflicts, items, source)
            settle_codes(mgp, minfo, plans, result, workspace_id=pinfo.workspace_id, package_uuid=pinfo.package_uuid,
                         user=user or login_name(), write=not dry_run)
            if dry_run:
                if report is not None:
                    result.write_report(report)
                return result
            version = minfo.version + 1
            now = now_text()
            for layer, plan in plans.items():
                _write_master_layer(con, minfo, minfo.definitions[layer], plan, pinfo, version, now)
            for layer in pinfo.survey:
                _store_survey(mgp, pgp, minfo, layer, pinfo, now, result)
            if photo_layers:
                try:  # after the layers: a photo of a feature inserted by this package finds its fid
                    missing_before = missing_bytes(con)
                    result.photos["linked"], result.photos["stored"] = copy_photos(
                        pgp.connection, con, photo_layers, geopackage=True)
                    # A link sent without bytes the office has since dropped (the photo was taken off
                    # its last facility): kept, and the field sends the bytes again after its update.
                    result.photos["without_bytes"] = len(missing_bytes(con) - missing_before)
                except MediaError as exc:
                    raise SyncError(f"{package}: {exc}; nothing was applied") from None
            result.photos["unlinked"], result.photos["dropped"] = apply_removals(pgp.connection, con)
            con.execute(f"UPDATE {MASTER_TABLE} SET value = ? WHERE key = 'version'", (str(version),))
            totals = LayerCounts()
            for c in result.layers.values():
                totals.add(c)
            con.execute(
                f"INSERT INTO {LEDGER_TABLE} (package_uuid, workspace_id, editor, base_version, version, "
                "applied_at, applied_by, policy, inserts, updates, deletes, conflicts, file) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (pinfo.package_uuid, pinfo.workspace_id, pinfo.editor, pinfo.base_version, version, now,
                 user or login_name(), policy, totals.inserts, totals.updates, totals.deletes,
                 totals.conflicts, package.name))
            con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name IN (?, ?)",
                        (now, MASTER_TABLE, LEDGER_TABLE))
            result.version_after = version
    return result


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


#: The master's table of a survey layer sent as evidence: ``survey_<layer>``.
SURVEY_PREFIX = "survey_"


def _store_survey(mgp: GeoPackage, pgp: GeoPackage, minfo: MasterInfo, layer: str, pinfo: PackageInfo, now: str,
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
    table = SURVEY_PREFIX + layer
    if not mgp.has_layer(table):
        base = master_schema(definition, minfo.srid)
        extra = (Column("package_uuid", "TEXT"), Column("workspace_id", "TEXT"), Column("received_at", "DATETIME"))
        mgp.create_layer(replace(base, name=table, columns=(*base.columns, *extra),
                                 identifier=f"{definition.title('zh_CN')} (外业证据)",
                                 description=f"{definition.title('en')}: survey evidence from the field"))
    gone = [k for k, p in rows.items() if p["op"] == "delete"]
    kept = {k: p for k, p in rows.items() if p["op"] != "delete"}
    _validate_package_rows(definition, kept, where, result)
    mgp.delete_rows(table, "uuid", [*gone, *kept])
    items = sorted(kept.items())  # in uuid order, like every insert of apply
    geoms = geometries([p["geom"] for _, p in items])
    mgp.write_rows(table, [
        {"uuid": k, **{n: p[n] for n in definition.field_names}, **{a: p[a] for a in AUDIT_COLUMNS},
         "geom": g, "package_uuid": pinfo.package_uuid, "workspace_id": pinfo.workspace_id, "received_at": now}
        for (k, p), g in zip(items, geoms, strict=True)])
    result.survey[layer] = len(kept)
    log.info("%s: %d survey features kept as evidence in %s", where, len(kept), table)


@dataclass
class _Plan:
    """What an apply writes into one master layer."""

    inserts: list[dict[str, Any]] = field(default_factory=list)     # full rows (with audit)
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)  # uuid -> {column: value}
    deletes: list[tuple[str, Any, Any]] = field(default_factory=list)  # (uuid, editor, time)
    old_geoms: list[bytes | None] = field(default_factory=list)   # geometries removed or moved away
    new_geoms: list[bytes | None] = field(default_factory=list)


def _plan_apply(con: sqlite3.Connection, pgp: GeoPackage, definition: LayerDefinition, policy: str,
                result: SyncResult, choices: Mapping[tuple[Any, Any, str], Choice] | None,
                source: str, srid: int) -> _Plan:
    layer = definition.name
    where = f"{pgp.path}: layer {layer!r}"
    package_rows = _read_package_layer(pgp, definition, srid)
    office_full = master_rows_by_uuid(con, definition, package_rows)
    for r, g in zip(office_full.values(), canonical([r["geom"] for r in office_full.values()]), strict=True):
        r["geom"] = g
    office = SideRows()
    for k, r in office_full.items():
        office.rows[k] = {"uuid": k, **merge_row(definition, r, r["geom"])}
        office.audit[k] = (r["modified_by"], r["modified_at"])
    missing = [k for k in package_rows if k not in office_full]
    for i in range(0, len(missing), 500):
        part = missing[i:i + 500]
        for u, by, at in con.execute(
                f"SELECT uuid, deleted_by, deleted_at FROM {DELETED_TABLE} WHERE layer = ? AND uuid IN "
                f"({', '.join('?' * len(part))}) ORDER BY fid", (layer, *part)):
            office.audit[u] = (by, at)
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
    plan = _Plan()
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
            plan.new_geoms.append(full["geom"])
            continue
        changed = row_diff(definition, office_full[k], full)
        if changed:
            editor, when = field_side.audit.get(k, (None, None))
            if not newer(office.audit[k][1], when):
                changed["modified_by"], changed["modified_at"] = editor, when
            plan.updates[k] = changed
            if "geom" in changed:
                plan.old_geoms.append(office_full[k]["geom"])
                plan.new_geoms.append(changed["geom"])
    for k in office_full:
        if k not in merged:
            editor, when = field_side.audit.get(k, (None, None))
            plan.deletes.append((k, editor, when))
            plan.old_geoms.append(office_full[k]["geom"])
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


def _write_master_layer(con: sqlite3.Connection, minfo: MasterInfo, definition: LayerDefinition, plan: _Plan,
                        pinfo: PackageInfo, version: int, now: str) -> None:
    layer = definition.name
    srid = minfo.srid
    t = quote(layer)
    if plan.deletes:
        con.executemany(f"DELETE FROM {t} WHERE uuid = ?", [(k,) for k, _, _ in plan.deletes])
        con.executemany(
            f"INSERT INTO {DELETED_TABLE} (layer, uuid, deleted_by, deleted_at, package_uuid, version) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(layer, k, by, at or now, pinfo.package_uuid, version) for k, by, at in plan.deletes])
    wkbs = [c["geom"] for c in plan.updates.values() if "geom" in c] + [r["geom"] for r in plan.inserts]
    blobs = dict(zip(map(id, wkbs), gpb_of_wkbs(wkbs, srid), strict=True))
    groups: dict[tuple[str, ...], list[tuple[str, dict[str, Any]]]] = {}
    for k, changed in plan.updates.items():
        groups.setdefault(tuple(changed), []).append((k, changed))
    for cols, items in groups.items():
        sql = f"UPDATE {t} SET {', '.join(f'{quote(c)} = ?' for c in cols)} WHERE uuid = ?"
        con.executemany(sql, [[blobs[id(changed[c])] if c == "geom" else changed[c] for c in cols] + [k]
                              for k, changed in items])
    if plan.inserts:
        # New fids in uuid order: two offices applying the same packages to the same master hold
        # the same rows under the same fids.
        plan.inserts.sort(key=lambda r: str(r["uuid"]))
        names = ["uuid", *definition.field_names, *AUDIT_COLUMNS, *(["geom"] if definition.has_geometry else [])]
        sql = f"INSERT INTO {t} ({', '.join(map(quote, names))}) VALUES ({', '.join('?' * len(names))})"
        con.executemany(sql, [[blobs[id(r["geom"])] if n == "geom" else r.get(n) for n in names]
                              for r in plan.inserts])
    if (plan.inserts or plan.updates or plan.deletes) and definition.has_geometry:
        _refresh_extent(con, definition, plan)
    if plan.inserts or plan.updates or plan.deletes:
        con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (now, layer))


def _refresh_extent(con: sqlite3.Connection, definition: LayerDefinition, plan: _Plan) -> None:
    """Keep gpkg_contents' extent exact: widen by new geometries; rescan if one on the edge went."""
    layer = definition.name
    row = con.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?",
                      (layer,)).fetchone()
    extent = None if row is None or row[0] is None else tuple(row)
    rescan = extent is None and bool(plan.old_geoms)
    if extent is not None and plan.old_geoms:
        old = bounds(geometries(plan.old_geoms))
        if old is not None and (old[0] <= extent[0] or old[1] <= extent[1] or old[2] >= extent[2]
                                or old[3] >= extent[3]):
            rescan = True
    if rescan:
        cursor = con.execute(f"SELECT geom FROM {quote(layer)} WHERE geom IS NOT NULL")
        parts = []
        while True:
            chunk = cursor.fetchmany(100_000)
            if not chunk:
                break
            b = bounds(geometries([gpb_wkb(r[0]) for r in chunk]))
            if b is not None:
                parts.append(b)
        extent = (min(p[0] for p in parts), min(p[1] for p in parts), max(p[2] for p in parts),
                  max(p[3] for p in parts)) if parts else None
    else:
        new = bounds(geometries(plan.new_geoms))
        if new is not None:
            extent = new if extent is None else (min(extent[0], new[0]), min(extent[1], new[1]),
                                                 max(extent[2], new[2]), max(extent[3], new[3]))
    values = extent if extent is not None else (None, None, None, None)
    con.execute("UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?",
                (*values, layer))
