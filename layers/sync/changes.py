"""Change packages: the field's edits since the base as a GeoPackage (write_changes, read_package).

A **change package** is a GeoPackage that opens in any GIS: per layer a
feature table of the features inserted, updated or deleted since the base,
with ``op``, ``changed_fields``, ``edited_by``/``edited_at``, the current
values (for a deletion: the values and geometry it had), and ``base``: a JSON
object of the changed fields' base values (geometries as lossless WKT).  Its
``tongcheng_package`` table holds the package uuid, workspace id, master id,
base version and the packages sent before it.  Writing one resets the
workspace's base: the changes are on their way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import sqlite3
import uuid as uuid_module
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely

from layers import __version__
from layers.errors import GeoPackageError, SyncError, TongchengError
from layers.geopackage import (
    Column,
    GeoPackage,
    LayerSchema,
    open_geopackage,
    remove_stale_temporaries,
    temporary_path,
)
from layers.log import logger
from layers.media.removal import copy_removals, forget_sent_removals, pending_removals
from layers.media.tables import copy_photos, known_hashes, mark_sent, pending_layers, pending_photo_bytes
from layers.schema.definitions import LayerDefinition
from layers.sync.checkout import SETTINGS, checkout_info
from layers.sync.master import MASTER_TABLE, PACKAGE_TABLE, key_value_schema
from layers.sync.merge import geometry_wkt
from layers.sync.rows import AUDIT_COLUMNS, gpb_of_wkbs, now_text, quote
from layers.workspace.store import Workspace
from layers.workspace.tracking import Change

__all__ = ["PACKAGE_FORMAT", "PACKAGE_KIND", "PACKAGE_EXTRA", "PackageResult", "PackageInfo", "package_schema",
           "iso_time", "write_changes", "finish_sending", "sent_folder", "read_package_info", "read_package"]

log = logger(__name__)

PACKAGE_FORMAT = "1"
PACKAGE_KIND = "tongcheng-change-package"
#: The columns of a package layer besides the master's: what happened, and who did it when.
PACKAGE_EXTRA = ("op", "changed_fields", "edited_by", "edited_at")


@dataclass
class PackageResult:
    """A change package written by :func:`write_changes`."""

    path: Path | None
    package_uuid: str | None
    workspace_id: str
    master_id: str
    base_version: int
    layers: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Survey layers sent as evidence (``include_survey``): per layer the counts by operation.
    survey: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Photos linked to facilities since the base, and how many of them carry their bytes (the others
    #: the master has already).
    photos: int = 0
    photo_files: int = 0
    #: Photos taken off facilities since the base (the office unlinks them).
    photos_removed: int = 0
    #: The bytes of the photos carried, and the package's size: estimated before it is written
    #: (``estimated_bytes``), then as written (``size``).
    photo_bytes: int = 0
    estimated_bytes: int = 0
    size: int = 0

    @property
    def total(self) -> int:
        """Features in the package, all layers (survey layers too) and operations."""
        return sum(sum(c.values()) for c in [*self.layers.values(), *self.survey.values()])


def package_schema(definition: LayerDefinition, srid: int) -> LayerSchema:
    """The GeoPackage schema of one change-package layer."""
    columns = [Column("uuid", "TEXT", not_null=True, unique=True), Column("op", "TEXT", not_null=True),
               Column("changed_fields", "TEXT"), Column("edited_by", "TEXT"), Column("edited_at", "DATETIME")]
    columns += [Column(f.name, f.sql_type) for f in definition.fields]
    columns += [Column(c, "DATETIME" if c.endswith("_at") else "TEXT") for c in AUDIT_COLUMNS]
    columns.append(Column("base", "TEXT"))
    return LayerSchema(definition.name, tuple(columns),
                       geometry_type=definition.geometry_type if definition.has_geometry else None,
                       srs_id=srid, identifier=f"{definition.title('zh_CN')} 变更",
                       description=f"{definition.title('en')}: changes")


def iso_time(value: Any) -> str | None:
    """An audit time as GeoPackage DATETIME text (or None)."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) >= 20 and value.endswith("Z"):
        return value
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_changes(workspace: Workspace, out: str | os.PathLike, *, reset: bool = True,
                  include_survey: bool = False, max_bytes: int | None = None,
                  before_writing: Callable[[PackageResult], None] | None = None) -> PackageResult:
    """Write the workspace's changes since its base as a change package.

    Parameters
    ----------
    workspace : Workspace
        A checked-out workspace (open).
    out : path-like
        The GeoPackage to write (replaced atomically if it exists).
    reset : bool
        Reset the base once the package is written (the normal "send").
    include_survey : bool
        Also send the survey layers' changes (GPS tracks and waypoints) as
        evidence; the office stores them in survey tables of their own
        (``survey_<layer>``), never in the facility layers.
    max_bytes : int, optional
        The largest package allowed: one estimated (or, once written, found)
        bigger is refused (SyncError naming its size); nothing is written
        and nothing is marked as sent.
    before_writing : callable, optional
        Called with the result's counts and ``estimated_bytes`` (photos
        included) before anything is written, e.g. to show them.

    Returns
    -------
    PackageResult
        With ``path`` None when there was nothing to send (no file written).
    """
    ws = workspace
    finish_sending(ws)
    info = checkout_info(ws)
    out = Path(out)
    written: list[Path] = []
    staged = temporary_path(out)
    try:
        # The workspace is ours (BEGIN IMMEDIATE) before anything is written. The package is
        # written under a temporary name and kept beside the workspace; the base is reset, the
        # package marked as sent and its publication under *out* recorded in one commit; then the
        # package takes its name (finish_sending completes that step if it was interrupted).
        with ws.session():
            remove_stale_temporaries(out)  # packages a killed run wrote but never marked as sent
            _remove_unsent_copies(ws, info["sent"])
            survey = [n for n, d in ws.definitions.items() if d.survey] if include_survey else []
            result = _write_changes(ws, info, staged, out, reset, written, survey, max_bytes, before_writing)
    except BaseException as exc:
        for path in reversed(written):
            path.unlink(missing_ok=True)
            log.info("%s: removed (the change package was not marked as sent)", path)
        if isinstance(exc, TongchengError) and str(staged) in str(exc):  # name the file the user asked for
            raise type(exc)(str(exc).replace(str(staged), str(out))) from exc
        raise
    if result.path is not None:
        os.replace(staged, out)
        if reset:
            ws.set_setting(SETTINGS["publishing"], None)
    return result


def finish_sending(workspace: Workspace) -> Path | None:
    """Finish what a killed ``write_changes`` committed but could not finish: give the package its name.

    Returns
    -------
    pathlib.Path or None
        The change package now in place, or None if nothing was pending.
    """
    pending = workspace.setting(SETTINGS["publishing"])
    if not pending:
        return None
    step = json.loads(pending)
    staged, out, kept = Path(step["staged"]), Path(step["out"]), Path(step["kept"])
    if staged.exists():
        os.replace(staged, out)
    elif not out.exists() and kept.exists():
        tmp = temporary_path(out)
        shutil.copyfile(kept, tmp)
        os.replace(tmp, out)
    workspace.set_setting(SETTINGS["publishing"], None)
    log.warning("%s: the change package sent before was interrupted; it is now in %s", workspace.path, out)
    return out


def _remove_unsent_copies(ws: Workspace, sent: list[str]) -> None:
    """Remove copies in the sent folder of packages a killed run wrote but never marked as sent."""
    folder = sent_folder(ws)
    if not folder.is_dir():
        return
    for copy in folder.glob(".*.gpkg.*.tmp"):  # a copy being made when the run was killed
        copy.unlink(missing_ok=True)
    for copy in folder.glob("*.gpkg"):
        if copy.stem not in sent:
            copy.unlink(missing_ok=True)
            log.info("%s: removed (a change package that was never sent)", copy)


def _write_changes(ws: Workspace, info: dict[str, Any], staged: Path, out: Path, reset: bool,
                   written: list[Path], survey: list[str], max_bytes: int | None,
                   before_writing: Callable[[PackageResult], None] | None) -> PackageResult:
    """write_changes inside the workspace's transaction, the package to *staged*; *written* collects the files made."""
    result = PackageResult(None, None, ws.id, info["master_id"], info["version"])
    user = ws.user
    collected = {}
    for layer in [*info["layers"], *survey]:
        rows = list(_workspace_changes(ws, ws.layer(layer), user))
        collected[layer] = rows
        counts = {"insert": 0, "update": 0, "delete": 0}
        for row in rows:
            counts[row[1]] += 1
        (result.survey if layer in survey else result.layers)[layer] = counts
    photo_layers = pending_layers(ws.connection, info["layers"])
    removals = pending_removals(ws.connection)
    if result.total == 0 and not photo_layers and not removals:
        return result
    known = known_hashes(ws.connection)
    result.photos, result.photo_files, result.photo_bytes = pending_photo_bytes(ws.connection, photo_layers, known)
    result.photos_removed = len(removals)
    result.estimated_bytes = _estimate(collected, result)
    if before_writing is not None:
        before_writing(result)
    _check_size(out, result, result.estimated_bytes, max_bytes, "would be about")
    package_uuid = str(uuid_module.uuid4())
    from layers.geopackage.styles import operation_qml

    with open_geopackage(staged, "w") as gp:
        gp.add_srs(ws.srid)
        gp.create_layer(key_value_schema(PACKAGE_TABLE, "Tongcheng change package"))
        meta = {
            "format": PACKAGE_FORMAT, "kind": PACKAGE_KIND, "package_uuid": package_uuid,
            "workspace_id": ws.id, "master_id": info["master_id"], "base_version": str(info["version"]),
            "editor": user, "created_at": now_text(), "app_version": __version__,
            "previous_packages": json.dumps(info["sent"]), "layers": json.dumps(info["layers"]),
            "bbox": json.dumps(info["bbox"]), "srid": str(ws.srid), "survey_layers": json.dumps(survey),
            "definition_versions": json.dumps({layer: ws.layer(layer).version for layer in info["layers"]}),
        }
        if info.get("scope"):
            meta["scope"] = info["scope"]
        gp.write_rows(PACKAGE_TABLE, [{"key": k, "value": v} for k, v in meta.items()])
        for layer, rows in collected.items():
            definition = ws.layer(layer)
            schema = package_schema(definition, ws.srid)
            gp.create_layer(schema)
            names = ["uuid", *PACKAGE_EXTRA, *definition.field_names, *AUDIT_COLUMNS, "base", "geom"]
            if not definition.has_geometry:  # an attributes table: the rows' last value (geom) is None
                names.pop()
                rows = [row[:-1] for row in rows]
            try:
                gp.connection.executemany(
                    f"INSERT INTO {quote(layer)} ({', '.join(map(quote, names))}) "
                    f"VALUES ({', '.join('?' * len(names))})", rows)
            except sqlite3.Error as exc:
                raise GeoPackageError(f"{out}: writing layer {layer!r}: {exc}") from None
            gp.add_style(layer, layer[:30], operation_qml(definition, columns=schema.column_names),
                         description="变更 / changes", owner="tongcheng")
        if photo_layers:  # new photos only: the bytes of those the master has stay home
            result.photos, result.photo_files = copy_photos(
                ws.connection, gp.connection, photo_layers, geopackage=True, where="m.pending = 1", known=known)
        result.photos_removed = copy_removals(ws.connection, gp.connection)
    written.append(staged)
    result.size = staged.stat().st_size
    _check_size(out, result, result.size, max_bytes, "is")
    if reset:
        # The base is reset, so these changes can never be written again: keep a copy of the
        # package beside the workspace until the office's master shows it applied (update).
        kept = sent_folder(ws) / f"{package_uuid}.gpkg"
        _copy_atomically(staged, kept, written)
        ws.reset_base([*info["layers"], *survey])
        mark_sent(ws.connection, photo_layers)
        forget_sent_removals(ws.connection)
        ws.set_setting(SETTINGS["sent"], json.dumps([*info["sent"], package_uuid]))
        ws.set_setting(SETTINGS["publishing"], json.dumps({"staged": str(staged), "out": str(out),
                                                           "kept": str(kept)}))
    result.path, result.package_uuid = out, package_uuid
    return result


#: Estimate of a change package's size: the GeoPackage's own tables, per layer (table, rtree,
#: style), per feature row besides its values, the photo tables, per photo besides its bytes (measured).
_EMPTY_PACKAGE, _PER_LAYER, _PER_ROW, _PHOTO_TABLES, _PER_PHOTO = 100_000, 17_000, 125, 24_000, 600


def _estimate(collected: dict[str, list[tuple]], result: PackageResult) -> int:
    """The size of the package about to be written, photos included (within a few per cent)."""
    rows = sum(_PER_ROW + sum(len(v.encode()) if isinstance(v, str) else len(v) if isinstance(v, bytes) else 8
                              for v in row if v is not None)
               for rows in collected.values() for row in rows)
    photos = _PHOTO_TABLES + _PER_PHOTO * result.photos if result.photos or result.photos_removed else 0
    return (_EMPTY_PACKAGE + _PER_LAYER * len(collected) + rows + photos + result.photo_bytes
            + result.photo_bytes // 1000)


def _check_size(out: Path, result: PackageResult, size: int, max_bytes: int | None, verb: str) -> None:
    if max_bytes is None or size <= max_bytes:
        return
    raise SyncError(f"{out}: the change package {verb} {megabytes(size)} ({result.total} feature change(s), "
                    f"{result.photo_files} photo file(s) of {megabytes(result.photo_bytes)}), over the limit of "
                    f"{megabytes(max_bytes)} per package; nothing was written or marked as sent")


def megabytes(n: int) -> str:
    """A size in MB (MiB) for messages: ``12.3 MB``."""
    return f"{n / 1024 / 1024:.1f} MB"


def _copy_atomically(source: Path, target: Path, written: list[Path]) -> None:
    """Copy *source* to *target* through a temporary file beside it (never half a copy under its name)."""
    made_folder = not target.parent.exists()
    target.parent.mkdir(exist_ok=True)
    tmp = temporary_path(target)
    try:
        shutil.copyfile(source, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        written.append(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        if made_folder:
            with contextlib.suppress(OSError):
                target.parent.rmdir()
        raise


def sent_folder(workspace: Workspace) -> Path:
    """Where a workspace keeps copies of the change packages it sent: ``<workspace>.sent/``.

    If a package is lost on its way to the office, send the copy named by its
    uuid again; ``update`` removes the copies once the master has applied them.
    """
    return workspace.path.with_name(workspace.path.name + ".sent")


def _shown_row(change: Change) -> dict[str, Any]:
    """The row a change package shows for a change: the base row of a delete, else the current row."""
    row = change.base if change.op == "delete" else change.current
    assert row is not None  # Workspace.changes gives a delete its base row, the others their current row
    return row


def _workspace_changes(ws: Workspace, definition: LayerDefinition, user: str | None) -> Iterator[tuple]:
    """The net changes of a layer since the base (``Workspace.changes``) as change-package rows."""
    fields = definition.field_names
    changes = list(ws.changes(definition.name))
    shown = [_shown_row(change) for change in changes]
    gpbs = gpb_of_wkbs([values["geom"] for values in shown], ws.srid)
    for change, values, gpb in zip(changes, shown, gpbs, strict=True):
        base_json = None
        if change.op == "delete":
            editor, when = user, change.changed_at
        else:
            editor, when = values["modified_by"], values["modified_at"]
        if change.op == "update":
            base = change.base
            assert base is not None  # an update has its base row
            base_json = json.dumps(
                {n: ((geometry_wkt(shapely.from_wkb(base[n])) if base[n] is not None else None)
                     if n == "geom" else base[n])
                 for n in change.changed_fields},
                ensure_ascii=False,
            )
        changed = change.changed_fields if change.op != "delete" else ()
        yield (change.uuid, change.op, ",".join(changed) or None, editor, iso_time(when),
               *[values[n] for n in fields], values["created_by"], iso_time(values["created_at"]),
               values["modified_by"], iso_time(values["modified_at"]), base_json, gpb)



@dataclass
class PackageInfo:
    """The header of a change package (its ``tongcheng_package`` table)."""

    path: Path
    package_uuid: str
    workspace_id: str
    master_id: str
    base_version: int
    editor: str | None
    created_at: str | None
    previous: list[str]
    layers: list[str]
    srid: int
    #: Survey layers the package carries as evidence (``changes --include-survey``).
    survey: list[str] = field(default_factory=list)
    #: The version of each layer's definition the package was made under (1 for packages that do not say).
    definition_versions: dict[str, int] = field(default_factory=dict)
    #: The area scope of the checkout (``layers.sync.areas``), or None for the whole master.
    scope: str | None = None


def read_package_info(gp: GeoPackage) -> PackageInfo:
    """The header of an open change package; SyncError if it is not one."""
    path = gp.path
    con = gp.connection
    if not con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (PACKAGE_TABLE,)).fetchone():
        if con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (MASTER_TABLE,)).fetchone():
            raise SyncError(f"{path}: this is a master, not a change package")
        raise SyncError(f"{path}: not a Tongcheng change package (no {PACKAGE_TABLE} table)")
    try:
        meta = dict(con.execute(f"SELECT key, value FROM {PACKAGE_TABLE}"))
        info = PackageInfo(path=path, package_uuid=meta["package_uuid"], workspace_id=meta["workspace_id"],
                           master_id=meta["master_id"], base_version=int(meta["base_version"]),
                           editor=meta.get("editor"), created_at=meta.get("created_at"),
                           previous=json.loads(meta.get("previous_packages") or "[]"),
                           layers=json.loads(meta["layers"]), srid=int(meta["srid"]),
                           survey=json.loads(meta.get("survey_layers") or "[]"),
                           definition_versions={k: int(v) for k, v in json.loads(
                               meta.get("definition_versions") or "{}").items()},
                           scope=meta.get("scope") or None)
    except (sqlite3.Error, KeyError, ValueError) as exc:
        raise SyncError(f"{path}: damaged change package header ({exc})") from None
    if meta.get("kind") != PACKAGE_KIND or meta.get("format") != PACKAGE_FORMAT:
        raise SyncError(f"{path}: change package format {meta.get('format')!r} is not supported")
    return info


def read_package(path: str | os.PathLike) -> PackageInfo:
    """Read a change package's header (uuid, workspace, master, base version, layers)."""
    with open_geopackage(path) as gp:
        info = read_package_info(gp)
    return info
