"""The district a feature lies in: the first six digits of its component code.

A component code starts with the code of the administrative district
(GB/T 2260) the feature stands in.  A master knows its districts as areas
(level ``district`` of its ``tongcheng_areas``); a checkout carries their
polygons into the workspace (table :data:`DISTRICTS_TABLE`), so a laptop
offline numbers a new feature in the district its point lies in.  Where no
district polygon holds the point (or there are none), the master's own
district code stands in (the *fallback*).

A point on the edge of two districts counts in both; where districts meet or
overlap, the one with the lowest code is taken.  A feature that is not a
point is placed by a point on its surface.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from layers.schema.components import check_district
from layers.workspace.located import located_points, lowest_polygons

__all__ = ["DISTRICTS_TABLE", "COVERED", "District", "DistrictMap", "districts_of_areas", "read_districts",
           "write_districts"]

#: The workspace table of the district polygons its checkout carried (code, name, WKB).
DISTRICTS_TABLE = "tongcheng_code_districts"
#: What a scope may leave outside every district (a share of its area) and still count as covered.
COVERED = 1e-6


@dataclass(frozen=True)
class District:
    """An administrative district: its 6-digit code, its name and its polygon."""

    code: str
    name: str | None
    shape: BaseGeometry


def districts_of_areas(areas: Iterable[dict[str, Any]]) -> list[District]:
    """The districts among a master's administrative areas (``code``, ``level``, ``name``, ``geom`` as WKB or
    shapely), by code; an area of level district whose code is not a district code is left out."""
    out = []
    for area in areas:
        if area.get("level") != "district" or area.get("geom") is None:
            continue
        try:
            code = check_district(area["code"])
        except ValueError:
            continue
        geom = area["geom"]
        shape = geom if isinstance(geom, BaseGeometry) else shapely.from_wkb(bytes(geom))
        if not shape.is_empty:
            out.append(District(code, area.get("name"), shape))
    return sorted(out, key=lambda d: d.code)


class DistrictMap:
    """Which district a position lies in (see the module's text).

    Parameters
    ----------
    districts : the district polygons (any order).
    fallback : the district code of a position no polygon holds (None: no code).
    """

    def __init__(self, districts: Sequence[District], fallback: str | None) -> None:
        self.districts = sorted(districts, key=lambda d: d.code)
        self.fallback = fallback
        self._tree = shapely.STRtree([d.shape for d in self.districts]) if self.districts else None
        self._union: BaseGeometry | None = None

    @property
    def codes(self) -> list[str]:
        return [d.code for d in self.districts]

    def of(self, geometries: Sequence[Any]) -> list[str | None]:
        """Per geometry (shapely, or None) the code of the district it lies in, else the fallback."""
        if not self.districts or not len(geometries):
            return [self.fallback] * len(geometries)
        points, present = located_points(geometries)
        found = lowest_polygons([d.shape for d in self.districts], points, present)  # districts in code order
        return [self.fallback if i is None else self.districts[i].code for i in found]

    def meeting(self, shape: BaseGeometry) -> list[str]:
        """The districts a polygon (a checkout's scope) shares some area with, by code."""
        if self._tree is None:
            return []
        return [self.districts[i].code for i in sorted(self._tree.query(shape, predicate="intersects").tolist())
                if shape.intersection(self.districts[i].shape).area > 0]

    def covers(self, shape: BaseGeometry) -> bool:
        """Whether the districts hold all of *shape* (but a sliver): no fallback code is needed inside it."""
        if self._tree is None:
            return False
        if self._union is None:
            self._union = shapely.union_all([d.shape for d in self.districts])
        return bool(shape.difference(self._union).area <= COVERED * max(shape.area, 0.0))


def read_districts(connection: sqlite3.Connection) -> list[District]:
    """The district polygons a workspace holds (none before its checkout carried them)."""
    if not connection.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (DISTRICTS_TABLE,)).fetchone():
        return []
    return [District(code, name, shapely.from_wkb(bytes(wkb))) for code, name, wkb in connection.execute(
        f"SELECT code, name, wkb FROM {DISTRICTS_TABLE} ORDER BY code")]


def write_districts(connection: sqlite3.Connection, districts: Iterable[District]) -> None:
    """Keep these district polygons in a workspace (in place of any before); call inside its session."""
    connection.execute(f"CREATE TABLE IF NOT EXISTS {DISTRICTS_TABLE} (code TEXT PRIMARY KEY, name TEXT, "
                       "wkb BLOB NOT NULL)")
    connection.execute(f"DELETE FROM {DISTRICTS_TABLE}")
    connection.executemany(f"INSERT INTO {DISTRICTS_TABLE} (code, name, wkb) VALUES (?, ?, ?)",
                           [(d.code, d.name, shapely.to_wkb(d.shape)) for d in districts])
