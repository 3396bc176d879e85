"""What an export reads: a workspace or a master, layer by layer, and its geometries moved and rounded."""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely

from layers.crs.epsg import epsg_crs
from layers.errors import SyncError
from layers.geopackage import gpb_wkb, open_geopackage
from layers.schema.definitions import LayerDefinition
from layers.sync.checkout import SETTINGS
from layers.sync.master import read_master_info, recover

__all__ = ["Source", "Geometries", "CHUNK", "decimals_of"]

CHUNK = 20_000


class Source:
    """A workspace or a master, read layer by layer as raw rows."""

    connection: sqlite3.Connection
    definitions: Mapping[str, LayerDefinition]
    identity: dict[str, Any]

    def __init__(self, path: str | os.PathLike[str], stack: ExitStack) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SyncError(f"{self.path}: no such file")
        with open(self.path, "rb") as f:
            header = f.read(100)
        if not header.startswith(b"SQLite format 3\x00"):
            raise SyncError(f"{self.path}: neither a Tongcheng workspace nor a master (not an SQLite file)")
        app_id = int.from_bytes(header[68:72], "big") if len(header) >= 72 else 0
        if app_id == 0x47504B47:
            recover(self.path)
            self.gp = stack.enter_context(open_geopackage(self.path))
            self.info = read_master_info(self.gp)
            self.kind = "master"
            self.connection = self.gp.connection
            self.definitions = self.info.definitions
            self.available = list(self.info.layers)
            self.srid = self.info.srid
            self.geometry_sql = '"geom"'
            self.identity = {"master_id": self.info.master_id, "master_version": self.info.version}
        else:
            from layers.workspace.store import Workspace

            self.ws = stack.enter_context(Workspace.open(self.path))
            self.kind = "workspace"
            self.connection = self.ws.connection
            self.definitions = self.ws.definitions
            self.available = list(self.definitions)
            self.srid = self.ws.srid
            self.geometry_sql = "AsGPB(geom)"
            self.identity = {"workspace_id": self.ws.id}
            master_id = self.ws.setting(SETTINGS["master_id"])
            if master_id:
                version = self.ws.setting(SETTINGS["version"])
                if version is None:
                    raise SyncError(f"{self.path}: checked out from master {master_id} but has no master version")
                self.identity.update(master_id=master_id, master_version=int(version))

    def default_layers(self) -> list[str]:
        return [n for n in self.available if not self.definitions[n].survey and not self.definitions[n].reference]

    def count(self, layer: str, where: str, parameters: Sequence[Any]) -> int:
        sql = f'SELECT count(*) FROM "{layer}"' + (f" WHERE {where}" if where else "")
        count: int = self.connection.execute(sql, parameters).fetchone()[0]
        return count

    def rows(self, layer: str, columns: Sequence[str], where: str,
             parameters: Sequence[Any]) -> Iterator[list[tuple[Any, ...]]]:
        """Chunks of (fid, GPB geometry, *columns)."""
        names = ", ".join(f'"{c}"' for c in columns)
        geometry = self.geometry_sql if self.definitions[layer].has_geometry else "NULL"
        sql = (f'SELECT fid, {geometry}, {names} FROM "{layer}"'
               + (f" WHERE {where}" if where else "") + " ORDER BY fid")
        cursor = self.connection.execute(sql, parameters)
        while True:
            chunk = cursor.fetchmany(CHUNK)
            if not chunk:
                return
            yield chunk


class Geometries:
    """The source's geometries in the output CRS, rounded to a layer's precision."""

    def __init__(self, src_srid: int, crs: str | int | None) -> None:
        self.transformer: pyproj.Transformer | None = None
        self.srid = src_srid
        target = pyproj.CRS.from_epsg(src_srid)
        if crs is not None:
            self.srid, target = epsg_crs(crs, SyncError)
            if self.srid != src_srid:
                self.transformer = pyproj.Transformer.from_crs(pyproj.CRS.from_epsg(src_srid), target,
                                                               always_xy=True)
        self.geographic = bool(target.is_geographic)

    def grid(self, definition: LayerDefinition) -> float:
        """The layer's coordinate precision in the output CRS (degrees or metres)."""
        return definition.coordinate_precision(self.geographic)

    def convert(self, blobs: Sequence[bytes | None], grid: float) -> np.ndarray:
        """GeoPackage geometry blobs as shapely geometries, moved to the output CRS and rounded to *grid*."""
        geoms = shapely.from_wkb(np.array([gpb_wkb(b) for b in blobs], dtype=object))
        transformer = self.transformer
        decimals = decimals_of(grid)

        def move(coords: np.ndarray) -> np.ndarray:
            if transformer is not None:
                x, y = transformer.transform(coords[:, 0], coords[:, 1])
                coords = np.column_stack([x, y])
            if _is_power_of_ten(grid):
                rounded: np.ndarray = np.round(coords, decimals)
            else:
                rounded = np.round(np.round(coords / grid) * grid, decimals)
            return rounded

        moved: np.ndarray = shapely.transform(geoms, move)
        return moved


def _is_power_of_ten(grid: float) -> bool:
    exponent = math.log10(grid)
    return abs(exponent - round(exponent)) < 1e-9


def decimals_of(grid: float) -> int:
    """Decimals that write any multiple of *grid* exactly (0.01 -> 2, 1e-7 -> 7, 0.05 -> 3)."""
    decimals = max(0, -math.floor(math.log10(grid) + 1e-9))
    return decimals if _is_power_of_ten(grid) else decimals + 1
