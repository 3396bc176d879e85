"""Builders of sync test data: masters, checked-out workspaces, change packages (plain functions).

``tests/conftest.py`` wraps them in fixtures (``master_file``, ``master``); call
them directly where a test needs more than one.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

from shapely.geometry import Point

from layers.sync.changes import PackageResult, write_changes
from layers.sync.checkout import checkout
from layers.sync.master import MasterInfo, create_master
from layers.workspace.store import Workspace

__all__ = ["DEFAULT_COUNTS", "make_master", "copy_master", "checked_out", "change_package", "in_district",
           "toilets_geojson"]

#: Demo features per facility layer of a test master.
DEFAULT_COUNTS = {"toilets": 30, "signboards": 40, "kiosks": 10}


def make_master(path: Path, counts: dict[str, int] | None = None, *, user: str = "office") -> MasterInfo:
    """A demo master at *path* with *counts* features per layer, made by *user*."""
    return create_master(path, user=user, demo=True, counts=counts or DEFAULT_COUNTS)


def copy_master(source: Path, folder: Path, name: str = "master.gpkg") -> Path:
    """A copy of a master file in *folder* (tests write to copies, never to a shared master)."""
    copy = Path(folder) / name
    shutil.copy2(source, copy)
    return copy


@functools.cache
def _centroids(crs: str) -> dict[str, tuple[float, float]]:
    from layers.demo import demo_areas

    return {a["code"]: (a["geom"].centroid.x, a["geom"].centroid.y) for a in demo_areas(crs)}


def in_district(code: str, i: int = 0, crs: str = "EPSG:4544") -> Point:
    """A point in demo district *code* (e.g. ``510108`` 成华区): its area's centroid, *i* times 3 m east."""
    x, y = _centroids(crs)[code]
    return Point(x + 3 * i, y)


def checked_out(master: Path, path: Path, *, user: str = "张三", **options: object) -> Path:
    """A workspace checked out from *master* at *path*; *options* go to ``checkout``."""
    checkout(master, path, user=user, **options)  # type: ignore[arg-type]
    return Path(path)


def change_package(workspace: Path, out: Path) -> PackageResult:
    """The change package of a workspace's edits since its base, written to *out*."""
    with Workspace.open(workspace) as ws:
        return write_changes(ws, out)


def toilets_geojson(path: Path, rows: list[tuple[dict[str, object], Point]], crs: str = "EPSG:4544") -> Path:
    """An inventory of toilets written by GDAL (fiona): columns ``name``, ``district``, ``component_code``,
    ``zone`` (text), points in *crs*."""
    import fiona

    schema = {"geometry": "Point", "properties": {"name": "str", "district": "str", "component_code": "str",
                                                   "zone": "str"}}
    with fiona.open(path, "w", driver="GeoJSON", schema=schema, crs=crs) as out:
        for properties, point in rows:
            out.write({"geometry": {"type": "Point", "coordinates": (point.x, point.y)},
                       "properties": {"name": None, "district": None, "component_code": None, "zone": None,
                                      **properties}})
    return path
