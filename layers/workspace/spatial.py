"""Reading points for drawing: the spatial index finds the candidates, numpy filters them exactly."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from layers.sqlite.spatialite import point_blob_coordinates

__all__ = ["points_in_extent"]


def points_in_extent(connection: sqlite3.Connection, layer: str, bbox: Sequence[float],
                     fields: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """The points of a point layer inside ``bbox`` (edges included) as numpy arrays
    (see ``Workspace.point_arrays_in_extent``, which checks the layer and fields first).

    Their coordinates are read straight from the geometry blobs, with no SQL
    function call per feature.
    """
    minx, miny, maxx, maxy = bbox
    extra = "".join(f", t.{name}" for name in fields)
    sql = (
        f"SELECT t.fid, t.geom{extra} FROM idx_{layer}_geom AS r JOIN {layer} AS t ON t.fid = r.pkid "
        "WHERE r.xmin <= ? AND r.xmax >= ? AND r.ymin <= ? AND r.ymax >= ?"
    )
    rows = connection.execute(sql, (maxx, minx, maxy, miny)).fetchall()
    x, y = point_blob_coordinates([row[1] for row in rows])
    inside = (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
    fids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    result = {"fid": fids[inside], "x": x[inside], "y": y[inside]}
    for index, name in enumerate(fields, start=2):
        values = np.empty(len(rows), dtype=object)
        values[:] = [row[index] for row in rows]
        result[name] = values[inside]
    return result
