"""Area scopes: a checkout for a district, a street or a box, and an apply that keeps a package inside it.

A **scope** is ``district:<code>``, ``street:<code>``, ``city:<code>`` (an
administrative area of the master's ``tongcheng_areas`` table) or a box
``minx,miny,maxx,maxy`` in the master's CRS.  A checkout records it in the
workspace (setting ``sync_scope``); each change package carries it; apply
refuses the package's changes to features outside it (reported by uuid,
the rest applied), or the whole package with ``strict``.  A PostGIS master
enforces the same rule for people who write with other tools through
row-level security (``layers.sync.postgis.security``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely
from shapely.geometry.base import BaseGeometry

from layers.errors import SyncError
from layers.log import logger
from layers.schema.definitions import LayerDefinition
from layers.sync.merge import LayerCounts
from layers.sync.results import SyncResult
from layers.sync.rows import geometries

if TYPE_CHECKING:
    from layers.sync.changes import PackageInfo
    from layers.sync.store import MasterPlan, MasterStore

__all__ = ["LEVELS", "Scope", "Area", "parse_scope", "resolve_scope", "package_scope", "refuse_outside",
           "list_areas"]

log = logger(__name__)

LEVELS = ("city", "district", "street")


@dataclass(frozen=True)
class Scope:
    """A resolved scope: its text (as recorded), the area's shape and its bounding box."""

    text: str
    shape: BaseGeometry
    bbox: tuple[float, float, float, float]
    area_code: str | None = None


@dataclass(frozen=True)
class Area:
    """An administrative area of a master, as a scope chooser lists it."""

    code: str
    level: str
    name: str | None
    parent: str | None
    bbox: tuple[float, float, float, float] | None

    @property
    def scope(self) -> str:
        """The scope text a checkout takes for this area (``street:510104001``)."""
        return f"{self.level}:{self.code}"


def list_areas(store: MasterStore) -> list[Area]:
    """The master's administrative areas, cities first, then districts, then streets (each by code)."""
    from layers.sync.master import AREAS_TABLE

    areas = []
    for row in store.table_rows(AREAS_TABLE):
        shape = shapely.from_wkb(row["geom"]) if row.get("geom") is not None else None
        bbox = None
        if shape is not None and not shape.is_empty:
            minx, miny, maxx, maxy = (float(v) for v in shape.bounds)
            bbox = (minx, miny, maxx, maxy)
        areas.append(Area(str(row["code"]), str(row["level"]), row.get("name"),
                          str(row["parent"]) if row.get("parent") else None, bbox))
    rank = {level: i for i, level in enumerate(LEVELS)}
    return sorted(areas, key=lambda a: (rank.get(a.level, len(LEVELS)), a.code))


def parse_scope(text: str) -> tuple[str, str]:
    """``('district', '510104')`` from ``district:510104``; ``('bbox', 'x,y,x,y')`` from a box; SyncError else."""
    text = text.strip()
    level, sep, code = text.partition(":")
    if sep and level in LEVELS and code.strip():
        return level, code.strip()
    if sep and level == "bbox":
        return "bbox", code
    if not sep and text.count(",") == 3:
        return "bbox", text
    raise SyncError(f"scope {text!r}: expected district:CODE, street:CODE, city:CODE or minx,miny,maxx,maxy")


def resolve_scope(store: MasterStore, text: str) -> Scope:
    """The shape of a scope in *store*'s master; SyncError if the area is unknown or of another level."""
    from layers.sync.checkout import parse_bbox

    level, value = parse_scope(text)
    if level == "bbox":
        box = parse_bbox(value)
        assert box is not None
        return Scope(f"bbox:{','.join(repr(v) for v in box)}", shapely.box(*box), box)
    area = store.area(value)
    if area is None:
        raise SyncError(f"{store.location}: no administrative area {value!r} (add the areas first: "
                        "tongcheng areas MASTER --add FILE)")
    if area["level"] != level:
        raise SyncError(f"{store.location}: area {value} ({area['name']}) is a {area['level']}, not a {level}")
    shape = shapely.from_wkb(area["geom"])
    minx, miny, maxx, maxy = shape.bounds
    return Scope(f"{level}:{value}", shape, (minx, miny, maxx, maxy), value)


def package_scope(store: MasterStore, pinfo: PackageInfo, package: Path) -> Scope | None:
    """The scope a package was checked out for (None: the whole master)."""
    text = getattr(pinfo, "scope", None)
    if not text:
        return None
    try:
        return resolve_scope(store, text)
    except SyncError as exc:
        raise SyncError(f"{package}: its scope {text!r} cannot be checked: {exc}; nothing was applied") from None


def _outside(scope: Scope, wkbs: list[Any]) -> list[bool]:
    shapes = geometries(wkbs)
    shapely.prepare(scope.shape)
    return [g is not None and not scope.shape.intersects(g) for g in shapes]


def refuse_outside(scope: Scope, definition: LayerDefinition, plan: MasterPlan, result: SyncResult, strict: bool,
                   package: Path) -> None:
    """Take the changes to features outside *scope* out of *plan* and report them (``strict``: refuse all).

    A feature is outside when it lies outside the area before the change
    (updates, deletes) or after it (inserts, moves).
    """
    layer = definition.name
    refused: list[str] = []
    inserts = plan.inserts
    for row, out in zip(inserts, _outside(scope, [r["geom"] for r in inserts]), strict=True):
        if out:
            refused.append(row["uuid"])
    touched = [k for k in plan.updates] + [k for k, _, _ in plan.deletes]
    for k, out in zip(touched, _outside(scope, [plan.before[k]["geom"] for k in touched]), strict=True):
        if out:
            refused.append(k)
    moved = [k for k, c in plan.updates.items() if "geom" in c]
    for k, out in zip(moved, _outside(scope, [plan.updates[k]["geom"] for k in moved]), strict=True):
        if out and k not in refused:
            refused.append(k)
    if not refused:
        return
    if strict:
        shown = ", ".join(refused[:3]) + (f" and {len(refused) - 3} more" if len(refused) > 3 else "")
        raise SyncError(f"{package}: changes {len(refused)} feature(s) of layer {layer!r} outside its scope "
                        f"{scope.text} ({shown}); refused whole (--strict), nothing was applied")
    gone = set(refused)
    for k in refused:
        result.reject(layer, k, f"outside the package's scope {scope.text}: refused")
    log.info("%s: %d feature(s) of %s outside scope %s refused", package, len(refused), layer, scope.text)
    plan.inserts = [r for r in plan.inserts if r["uuid"] not in gone]
    plan.updates = {k: c for k, c in plan.updates.items() if k not in gone}
    plan.deletes = [d for d in plan.deletes if d[0] not in gone]
    old = result.layers.get(layer, LayerCounts())
    result.layers[layer] = LayerCounts(len(plan.inserts), len(plan.updates), len(plan.deletes), old.conflicts)


def read_areas_file(path: Path, srid: int) -> list[dict[str, Any]]:
    """Areas from a polygon file (columns code, level, name, parent), in EPSG:*srid*; SyncError if malformed."""
    import fiona
    import pyproj
    from shapely.geometry import MultiPolygon, shape
    from shapely.ops import transform

    if not path.exists():
        raise SyncError(f"{path}: no such file")
    out = []
    try:
        with fiona.open(path) as src:
            crs = src.crs.to_string() if src.crs else None
            move = None
            if crs and pyproj.CRS.from_user_input(crs) != pyproj.CRS.from_epsg(srid):
                move = pyproj.Transformer.from_crs(crs, f"EPSG:{srid}", always_xy=True).transform
            for i, feature in enumerate(src, 1):
                props = dict(feature.properties)
                code, level = props.get("code"), props.get("level")
                if not code or level not in LEVELS:
                    raise SyncError(f"{path}: feature {i}: needs a code and a level ({', '.join(LEVELS)})")
                geom = shape(feature.geometry)
                if move is not None:
                    geom = transform(move, geom)
                if geom.geom_type == "Polygon":
                    geom = MultiPolygon([geom])
                if geom.geom_type != "MultiPolygon" or not geom.is_valid:
                    raise SyncError(f"{path}: feature {i} ({code}): not a valid polygon")
                out.append({"code": str(code), "level": level, "name": props.get("name"),
                            "parent": props.get("parent"), "geom": geom})
    except (fiona.errors.FionaError, pyproj.exceptions.CRSError) as exc:
        raise SyncError(f"{path}: cannot be read as polygons ({exc})") from None
    return out


def add_areas(master: str | Path, path: Path) -> int:
    """Add (or replace, by code) the administrative areas of a polygon file to a master; returns how many."""
    from layers.postgres.urls import is_postgres
    from layers.sync.store import open_master

    with open_master(master) as store:
        srid = store.info.srid
    areas = read_areas_file(path, srid)
    if is_postgres(master):
        from layers.postgres.connection import connect, parse_location
        from layers.sync.postgis.create import write_areas

        with connect(parse_location(str(master)), autocommit=True) as con, con.transaction():
            return write_areas(con, srid, areas)
    from layers.geopackage import open_geopackage
    from layers.sync.master import AREAS_TABLE, areas_schema

    with open_geopackage(master, "a") as gp:
        if not gp.has_layer(AREAS_TABLE):
            gp.create_layer(areas_schema(srid))
        gp.delete_rows(AREAS_TABLE, "code", [a["code"] for a in areas])
        gp.write_rows(AREAS_TABLE, areas)
    return len(areas)
