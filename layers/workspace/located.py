"""Fields taken from reference polygons: a facility's management zone and unit grid cell from its position.

A field with ``located_in = { layer = "zones", field = "zone" }`` gets the
``zone`` of the ``zones`` polygon its feature lies in (on the edge counts;
where polygons overlap, the one with the lowest fid), or nothing outside
every polygon.  The core sets it when a feature is added or moved; the
editor shows it and never lets it be typed.  A located field is *active*
only while its reference layer is in the workspace and holds polygons: a
workspace without zones (made before them, or checked out without them)
keeps the zone values it was given.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from layers.schema.definitions import FieldDefinition, LayerDefinition

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

__all__ = ["active_located_fields", "locate", "located_points", "lowest_polygons", "with_location"]


def active_located_fields(ws: Workspace, definition: LayerDefinition,
                          connection: sqlite3.Connection | None = None) -> tuple[FieldDefinition, ...]:
    """The located fields of a layer whose reference layer is in the workspace and not empty."""
    con = connection or ws.connection
    active = []
    for f in definition.located_fields:
        assert f.located_in is not None
        layer = f.located_in.layer
        if layer in ws.definitions and con.execute(f"SELECT EXISTS (SELECT 1 FROM {layer})").fetchone()[0]:
            active.append(f)
    return tuple(active)


def located_points(geometries: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(points, present): each geometry as a point (a point on its surface if it is not one), and which are
    there (not None, not empty)."""
    shapes = np.empty(len(geometries), dtype=object)
    shapes[:] = list(geometries)
    present = ~shapely.is_missing(shapes)
    present[present] = ~shapely.is_empty(shapes[present])
    points = shapes.copy()
    not_points = present & (shapely.get_type_id(shapes) != 0)
    if not_points.any():
        points[not_points] = shapely.point_on_surface(shapes[not_points])
    return points, present


def lowest_polygons(polygons: Sequence[Any], points: np.ndarray, present: np.ndarray) -> list[int | None]:
    """Per point, the index of the first of *polygons* it meets (on the edge counts), or None."""
    result: list[int | None] = [None] * len(points)
    if not len(polygons) or not present.any():
        return result
    tree = shapely.STRtree(np.asarray(polygons, dtype=object))
    indexes = np.flatnonzero(present)
    hits = tree.query(points[indexes], predicate="intersects")
    best: dict[int, int] = {}
    for point_index, polygon_index in zip(hits[0].tolist(), hits[1].tolist(), strict=True):
        if point_index not in best or polygon_index < best[point_index]:
            best[point_index] = polygon_index
    for point_index, polygon_index in best.items():
        result[int(indexes[point_index])] = polygon_index
    return result


def locate(ws: Workspace, definition: LayerDefinition, geometries: Sequence[Any],
           connection: sqlite3.Connection | None = None) -> dict[str, list[Any]]:
    """The values of the active located fields at each geometry: {field: [value per geometry]}.

    One query per reference layer reads the polygons meeting the box of all
    the geometries (through the spatial index); points are matched to them
    together (shapely's STRtree).  A geometry that is not a point is located
    by a point on its surface.
    """
    con = connection or ws.connection
    fields = active_located_fields(ws, definition, con)
    if not fields or not len(geometries):
        return {f.name: [None] * len(geometries) for f in fields}
    points, present = located_points(geometries)
    bounds = shapely.total_bounds(points[present]) if present.any() else None
    by_layer: dict[str, list[FieldDefinition]] = {}
    for f in fields:
        assert f.located_in is not None
        by_layer.setdefault(f.located_in.layer, []).append(f)
    out: dict[str, list[Any]] = {}
    for layer, layer_fields in by_layer.items():
        columns = list(dict.fromkeys(f.located_in.field for f in layer_fields if f.located_in))
        found = _polygon_values(con, layer, columns, points, present, bounds)
        for f in layer_fields:
            assert f.located_in is not None
            index = columns.index(f.located_in.field)
            out[f.name] = [None if hit is None else hit[index] for hit in found]
    return out


def _polygon_values(con: sqlite3.Connection, layer: str, columns: list[str], points: np.ndarray,
                    present: np.ndarray, bounds: np.ndarray | None) -> list[tuple[Any, ...] | None]:
    """Per point the column values of the lowest-fid polygon of *layer* it meets (None: none)."""
    if bounds is None or not np.isfinite(bounds).all():
        return [None] * len(points)
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    rows = con.execute(
        f"SELECT fid, {', '.join(columns)}, AsBinary(geom) FROM {layer} WHERE geom IS NOT NULL AND fid IN "
        f"(SELECT pkid FROM idx_{layer}_geom WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?) "
        "ORDER BY fid", (maxx, minx, maxy, miny)).fetchall()
    if not rows:
        return [None] * len(points)
    found = lowest_polygons(shapely.from_wkb([r[-1] for r in rows]), points, present)  # rows are in fid order
    return [None if i is None else tuple(rows[i][1:-1]) for i in found]


def with_location(ws: Workspace, definition: LayerDefinition, attributes: Mapping[str, Any],
                  geometry: Any) -> dict[str, Any]:
    """*attributes* with the active located fields set from *geometry*'s position."""
    values = dict(attributes)
    if geometry is None or not definition.located_fields:
        return values
    for name, found in locate(ws, definition, [geometry]).items():
        values[name] = found[0]
    return values
