"""Checkout: a SpatiaLite workspace made from the master, and the settings that tie it to the master.

A **checkout** is a SpatiaLite workspace (``layers.workspace.store``) loaded from the
master as its base state (untracked), with the master id, base version, area
and layers in its settings (:data:`SETTINGS`, the one place these names are
written).  The workspace's triggers track every edit since.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.errors import SyncError
from layers.geopackage import remove_stale_temporaries, temporary_path
from layers.log import logger
from layers.schema.definitions import LayerDefinition
from layers.sqlite.locks import file_fault
from layers.sync.children import parent_key, parent_layers
from layers.sync.codes import DEFAULT_BLOCK_SIZE, checkout_codes
from layers.sync.rows import AUDIT_COLUMNS, CHUNK, geometries, now_text, quote
from layers.workspace.store import Workspace

if TYPE_CHECKING:
    from layers.sync.areas import Scope
    from layers.sync.master import MasterInfo
    from layers.sync.store import MasterStore

__all__ = ["SETTINGS", "MASTER_ID_SETTING", "CheckoutInfo", "checked_out_master_id", "checkout_info",
           "parse_bbox", "checkout_layers", "checkout_area", "taken", "checkout"]

log = logger(__name__)

#: The workspace settings a checkout writes (and apply, changes and update read), by short name.
SETTINGS = {
    "master_id": "sync_master_id", "version": "sync_base_version", "bbox": "sync_bbox",
    "layers": "sync_layers", "path": "sync_master_path", "sent": "sync_sent_packages",
    "at": "sync_checked_out_at", "publishing": "sync_publishing", "scope": "sync_scope",
}
#: The setting holding the master's id; absent in a workspace that was not checked out.
MASTER_ID_SETTING = SETTINGS["master_id"]

#: ``master_id``, ``version``, ``bbox``, ``layers``, ``sent``: what :func:`checkout_info` returns.
CheckoutInfo = dict[str, Any]


def checked_out_master_id(workspace: Workspace) -> str | None:
    """The id of the master *workspace* was checked out from, or None if it was not checked out.

    Parameters
    ----------
    workspace : Workspace
        An open workspace.

    Returns
    -------
    str or None
    """
    value = workspace.setting(MASTER_ID_SETTING)
    return str(value) if value else None


def _offset_progress(progress: Callable[[int, int], None] | None, offset: int,
                     total: int) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda n: progress(offset + n, total)


def parse_bbox(bbox: str | Sequence[float] | None) -> tuple[float, float, float, float] | None:
    """A bounding box from ``'minx,miny,maxx,maxy'`` or four numbers (None kept); SyncError if malformed."""
    if bbox is None:
        return None
    if isinstance(bbox, str):
        try:
            bbox = [float(v) for v in bbox.split(",")]
        except ValueError:
            raise SyncError(f"bbox {bbox!r}: expected minx,miny,maxx,maxy") from None
    bbox = tuple(float(v) for v in bbox)
    if len(bbox) != 4 or not all(math.isfinite(v) for v in bbox) or bbox[0] > bbox[2] or bbox[1] > bbox[3]:
        raise SyncError(f"bbox {bbox!r}: expected minx,miny,maxx,maxy with min <= max")
    return bbox


def checkout_info(ws: Workspace) -> CheckoutInfo:
    """What a checkout wrote into a workspace's settings; SyncError if it was not checked out."""
    master_id = checked_out_master_id(ws)
    if not master_id:
        raise SyncError(f"{ws.path}: not checked out from a master (make one with tongcheng checkout)")
    version, layers = ws.setting(SETTINGS["version"]), ws.setting(SETTINGS["layers"])
    if version is None or layers is None:
        raise SyncError(f"{ws.path}: its checkout settings are incomplete (no version or layers)")
    return {
        "master_id": master_id,
        "version": int(version),
        "bbox": json.loads(ws.setting(SETTINGS["bbox"]) or "null"),
        "layers": json.loads(layers),
        "sent": json.loads(ws.setting(SETTINGS["sent"]) or "[]"),
        "scope": ws.setting(SETTINGS["scope"]) or None,
    }


def checkout_layers(info: MasterInfo, layers: Iterable[str] | None = None) -> list[str]:
    """The master's layers a checkout of *layers* takes, in the master's order.

    Parameters
    ----------
    info : MasterInfo
    layers : iterable of str, optional
        The layers asked for (default: every layer of the master).

    Returns
    -------
    list of str
        The layers asked for, the reference polygons they take their zone
        and grid cell from, and the child layers whose records belong to any
        of them (inspections go with their facilities).

    Raises
    ------
    SyncError
        A layer the master does not hold.
    """
    if not layers:
        return list(info.layers)
    chosen = list(layers)
    for name in chosen:
        if name not in info.layers:
            raise SyncError(f"{info.path}: no layer {name!r} (layers: {', '.join(info.layers)})")
    chosen += [f.located_in.layer for n in list(chosen) for f in info.definitions[n].located_fields
               if f.located_in and f.located_in.layer in info.layers]
    chosen += [n for n in info.layers if info.definitions[n].child_of is not None
               and parent_layers(info.definitions[n], chosen)]
    return [n for n in info.layers if n in chosen]


def checkout_area(store: MasterStore, scope: str | None = None,
                  bbox: str | Sequence[float] | None = None) -> tuple[Scope | None, tuple[float, float, float, float]
                                                                      | None, BaseGeometry | None]:
    """The area of a checkout: the resolved scope (or None), its bounding box and its shape (None: all of it)."""
    from layers.sync.areas import resolve_scope

    box = parse_bbox(bbox)
    if box is not None and scope is not None:
        raise SyncError("give either a bbox or a scope, not both")
    resolved = resolve_scope(store, scope) if scope else None
    if resolved is not None:
        return resolved, resolved.bbox, resolved.shape
    return None, box, shapely.box(*box) if box else None


def taken(geoms: Sequence[BaseGeometry | None], shape: BaseGeometry | None) -> np.ndarray:
    """Which of a layer's geometries (read by the area's bounding box) a checkout of *shape* takes."""
    if shape is None or not len(geoms):
        return np.ones(len(geoms), dtype=bool)
    return np.asarray(shapely.intersects(np.array(geoms, dtype=object), shape), dtype=bool)


def checkout(master: str | os.PathLike, workspace: str | os.PathLike, *, user: str | None = None,
             bbox: str | Sequence[float] | None = None, layers: Iterable[str] | None = None,
             progress: Callable[[int, int], None] | None = None, scope: str | None = None,
             code_block: int | None = None) -> dict[str, int]:
    """Make an offline workspace from the master (all of it, or an area and some layers).

    Parameters
    ----------
    master : path-like or str
        The master GeoPackage, or a ``postgresql://`` connection string.
    workspace : path-like
        The SpatiaLite workspace to create; it must not exist.
    user : str, optional
        The editor's name for the audit columns (default: login name).
    bbox : (minx, miny, maxx, maxy) or 'minx,miny,maxx,maxy', optional
        Area to take, in the master's CRS; features whose bounding box meets it.
    layers : iterable of str, optional
        Facility layers to take (default: all); the reference polygons and
        child layers they need come with them (:func:`checkout_layers`).
        Survey layers (GPS) are always in the workspace, empty and local.
    progress : callable(done, total), optional
    scope : str, optional
        ``district:CODE``, ``street:CODE`` or a box (``layers.sync.areas``):
        the features in that area; recorded in the workspace and carried by
        its change packages, which apply keeps inside it.
    code_block : int, optional
        Serials of component codes to reserve per class, in each district of
        the scope, for the new features made offline (default
        ``layers.sync.codes.DEFAULT_BLOCK_SIZE``); the master records the
        blocks, so no other workspace gets them.

    Returns
    -------
    dict
        Per layer the number of features checked out.
    """
    workspace = Path(workspace)
    log.info("checking out %s into %s", master, workspace)
    if workspace.exists():
        raise SyncError(f"{workspace}: already exists")
    if not workspace.absolute().parent.is_dir():
        raise SyncError(f"{workspace}: folder {workspace.absolute().parent} does not exist (or is not a folder)")
    if parse_bbox(bbox) is not None and scope is not None:
        raise SyncError("give either a bbox or a scope, not both")
    try:
        return _checkout(master, workspace, user, bbox, layers, progress, scope, code_block)
    except sqlite3.Error as exc:
        fault = file_fault(workspace, exc, SyncError)
        raise (fault or SyncError(f"{workspace}: {exc}; nothing was checked out")) from exc
    except OSError as exc:
        if exc.filename and Path(exc.filename).name.startswith(f".{workspace.name}."):
            exc.filename = str(workspace)  # name the file asked for, not its temporary name
        raise


def _checkout(master: str | os.PathLike, workspace: Path, user: str | None,
              bbox_text: str | Sequence[float] | None, layers: Iterable[str] | None,
              progress: Callable[[int, int], None] | None, scope_text: str | None,
              code_block: int | None = None) -> dict[str, int]:
    """checkout once its arguments are checked."""
    from layers.sync.store import master_location, open_master

    counts = {}
    with open_master(master) as store:
        info = store.info
        scope, bbox, box = checkout_area(store, scope_text, bbox_text)
        chosen = checkout_layers(info, layers)
        wanted = chosen + [n for n, d in info.definitions.items() if d.survey]
        children = [n for n in chosen if not info.definitions[n].has_geometry]  # taken with their parents
        total = sum(store.count(info.definitions[name], bbox if info.definitions[name].has_geometry else None)
                    for name in chosen)
        with tempfile.TemporaryDirectory(prefix="tongcheng-defs-") as temporary:
            folder = Path(temporary)
            (folder / "_codelists.toml").write_text(info.codelists, "utf-8")
            for name in wanted:
                (folder / f"{name}.toml").write_text(info.texts[name], "utf-8")
            # Built under a temporary name beside the workspace, renamed when complete: an
            # interrupted checkout leaves nothing under the final name, and a rerun starts afresh.
            remove_stale_temporaries(workspace)
            partial = temporary_path(workspace)
            ws = Workspace.create(partial, crs=info.crs, user=user, definitions_folder=folder)
        try:
            with ws:
                done = 0
                with ws.untracked():
                    for name in [n for n in chosen if n not in children]:
                        definition = info.definitions[name]
                        rows = store.rows(definition, bbox)
                        offset = done

                        def features(rows: Iterator[dict[str, Any]] = rows,
                                     definition: LayerDefinition = definition) -> Iterator[tuple]:
                            batch = []
                            for row in rows:
                                batch.append(row)
                                if len(batch) >= CHUNK:
                                    yield from _checkout_features(definition, batch, box)
                                    batch = []
                            yield from _checkout_features(definition, batch, box)

                        counts[name] = ws.insert_many(
                            name, features(),
                            progress=_offset_progress(progress, offset, total))
                        done += counts[name]
                    for name in children:
                        counts[name] = _checkout_children(store, ws, info.definitions[name], chosen)
                    store.send_photos(ws.connection, chosen)
                    checkout_codes(store, ws, chosen, code_block or DEFAULT_BLOCK_SIZE, user, scope=scope, bbox=bbox)
                    location = master_location(master)
                    settings: dict[str, Any] = {
                        "master_id": info.master_id, "version": info.version,
                        "bbox": json.dumps(bbox), "layers": json.dumps(chosen),
                        "path": str(location.absolute()) if isinstance(location, Path) else location,
                        "sent": "[]", "at": now_text(),
                    }
                    if scope is not None:
                        settings["scope"] = scope.text
                    for key, value in settings.items():
                        ws.set_setting(SETTINGS[key], value)
                ws.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if workspace.exists():
                raise SyncError(f"{workspace}: already exists")
            os.replace(partial, workspace)
        except BaseException:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(partial) + suffix).unlink(missing_ok=True)
            raise
    return counts


def _checkout_children(store: MasterStore, ws: Workspace, definition: LayerDefinition,
                       chosen: Sequence[str]) -> int:
    """Load a layer without geometry: of a child layer (inspections), the records of the features checked out."""
    parents = None
    if definition.child_of is not None:
        parents = {(layer, uuid) for layer in parent_layers(definition, chosen)
                   for (uuid,) in ws.connection.execute(f"SELECT uuid FROM {quote(layer)}")}
    rows = {r["uuid"]: {**r, "fid": None} for r in store.rows(definition)
            if parents is None or parent_key(definition, r) in parents}
    ws.apply_rows(definition.name, rows, tracked=False)
    return len(rows)


def _checkout_features(definition: LayerDefinition, rows: list[dict[str, Any]],
                       box: BaseGeometry | None) -> Iterator[tuple[dict[str, Any], Any, dict[str, Any]]]:
    geoms = geometries([r["geom"] for r in rows])
    keep = taken(geoms, box)
    names = definition.field_names
    derived = {f.name for f in definition.fields if f.derived}
    for row, geom, k in zip(rows, geoms, keep, strict=True):
        if not k:
            continue
        attributes = {n: row[n] for n in names if n not in derived}
        identity = {"uuid": row["uuid"], **{c: row[c] for c in AUDIT_COLUMNS if row[c] is not None}}
        yield attributes, geom, identity
