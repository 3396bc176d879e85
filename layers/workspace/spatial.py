"""Reading points for drawing: the spatial index finds the candidates, numpy filters them exactly."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from layers.sqlite.spatialite import point_blob_coordinates

__all__ = ["CHUNK_ROWS", "points_in_extent"]

CHUNK_ROWS = 32_768
"""Rows read from SQLite at a time: only one chunk of Python row objects exists at once."""

_SHARED_VALUES = 4096
"""Distinct values of a field shared as one Python object each (low-cardinality fields)."""


def points_in_extent(connection: sqlite3.Connection, layer: str, bbox: Sequence[float],
                     fields: Sequence[str] = (), chunk: int = CHUNK_ROWS) -> dict[str, np.ndarray]:
    """The points of a point layer inside ``bbox`` (edges included) as numpy arrays
    (see ``Workspace.point_arrays_in_extent``, which checks the layer and fields first).

    Their coordinates are read straight from the geometry blobs, with no SQL
    function call per feature. Rows are streamed ``chunk`` at a time into the
    arrays, so memory holds the arrays and one chunk of rows, never every
    row of a full extent as Python objects; equal values of a field (a
    category) are kept as one shared object.
    """
    minx, miny, maxx, maxy = bbox
    extra = "".join(f", t.{name}" for name in fields)
    sql = (
        f"SELECT t.fid, t.geom{extra} FROM idx_{layer}_geom AS r JOIN {layer} AS t ON t.fid = r.pkid "
        "WHERE r.xmin <= ? AND r.xmax >= ? AND r.ymin <= ? AND r.ymax >= ?"
    )
    cursor = connection.execute(sql, (maxx, minx, maxy, miny))
    parts: dict[str, list[np.ndarray]] = {name: [] for name in ("fid", "x", "y", *fields)}
    shared: list[dict[object, object] | None] = [{} for _ in fields]
    try:
        while True:
            rows = cursor.fetchmany(chunk)
            if not rows:
                break
            x, y = point_blob_coordinates([row[1] for row in rows])
            inside = (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
            fids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            parts["fid"].append(fids[inside])
            parts["x"].append(x[inside])
            parts["y"].append(y[inside])
            keep = np.flatnonzero(inside).tolist()
            for index, name in enumerate(fields):
                values = np.empty(len(keep), dtype=object)
                seen = shared[index]
                column = [rows[i][index + 2] for i in keep]
                if seen is not None:
                    column = [seen.setdefault(v, v) for v in column]
                    if len(seen) > _SHARED_VALUES:  # a name or an id: nothing to share
                        shared[index] = None
                values[:] = column
                parts[name].append(values)
            del rows
    finally:
        cursor.close()
    empty = {"fid": np.empty(0, np.int64), "x": np.empty(0), "y": np.empty(0)}
    return {name: (np.concatenate(arrays) if arrays else empty.get(name, np.empty(0, dtype=object)))
            for name, arrays in parts.items()}
