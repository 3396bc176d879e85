"""Make a master in a PostGIS database (empty or the demo district, with the demo's areas)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import shapely
from psycopg import sql

from layers.errors import DatabaseError
from layers.log import logger
from layers.postgres.connection import connect, parse_location
from layers.sync.master import AREAS_TABLE, MasterInfo, master_content
from layers.sync.postgis.loading import ewkb_hex
from layers.sync.postgis.security import install_policies
from layers.sync.postgis.tables import create_tables, ensure_postgis, read_info

__all__ = ["create_postgis_master", "write_areas"]

log = logger(__name__)


def write_areas(con: psycopg.Connection[Any], srid: int, areas: list[dict[str, Any]]) -> int:
    """Insert or replace administrative areas (``code``, ``level``, ``name``, ``parent``, ``geom`` shapely)."""
    geoms = ewkb_hex([shapely.to_wkb(a["geom"]) if isinstance(a["geom"], shapely.Geometry) else a["geom"]
                      for a in areas], srid)
    with con.cursor() as cur:
        cur.executemany(
            sql.SQL("INSERT INTO {} (code, level, name, parent, geom) VALUES (%s, %s, %s, %s, "
                    "ST_Multi(ST_GeomFromEWKB(decode(%s, 'hex')))) ON CONFLICT (code) DO UPDATE SET "
                    "level = excluded.level, name = excluded.name, parent = excluded.parent, geom = excluded.geom")
            .format(sql.Identifier(AREAS_TABLE)),
            [(a["code"], a["level"], a["name"], a.get("parent"), g) for a, g in zip(areas, geoms, strict=True)])
    return len(areas)


def create_postgis_master(url: str, crs: str = "EPSG:4544", user: str | None = None, demo: bool = False, *,
                          seed: int = 2026, counts: dict[str, int] | None = None,
                          progress: Callable[[int, int], None] | None = None,
                          district: str | None = None) -> MasterInfo:
    """Create the master's tables in the database (and schema) of *url*, in one transaction.

    The PostGIS extension is created first if missing (DatabaseError naming
    the statement a superuser must run if this role may not).  With *demo*,
    the demo district and its administrative areas.  Nothing is left behind
    if any step fails.
    """
    location = parse_location(url)
    content = master_content(crs, user, demo, seed=seed, counts=counts, district=district)
    total = content.total
    with connect(location, autocommit=True) as con:
        ensure_postgis(con, location)
        try:
            with con.transaction():
                create_tables(con, location, content, progress=(lambda n: progress(n, total)) if progress else None)
                install_policies(con, content.facility)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise DatabaseError(f"{location}: this user may not create the master's tables "
                                f"({str(exc).splitlines()[0]}); nothing was written") from None
        info = read_info(con, location)
    log.info("created master %s in %s", info.master_id, location)
    return info
