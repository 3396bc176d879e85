"""``tongcheng master copy``: move a master between a GeoPackage and a PostGIS database, both ways, whole.

Copied: the master's id and version, its layer definitions and code lists,
every feature with its ``fid``, ``uuid``, values, geometry and audit columns,
the ledger (so packages already applied stay applied), who deleted what,
the history, the administrative areas, every recorded version of the layer
definitions (so older workspaces and packages still migrate), and the photos (links and bytes, a
piece at a time).  The copy is the same master (same id): checkouts of one
can send their packages to the other.  Survey evidence tables are not carried
between the two kinds yet: a master holding them is refused rather than
copied in part.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from layers.errors import SyncError
from layers.geopackage import GeoPackage
from layers.log import logger
from layers.postgres.urls import is_postgres
from layers.sync.code_tables import BLOCKS_TABLE
from layers.sync.master import (
    AREAS_TABLE,
    DEFINITIONS_TABLE,
    DELETED_TABLE,
    HISTORY_TABLE,
    LAYERS_TABLE,
    LEDGER_TABLE,
    MASTER_TABLE,
    MasterContent,
    MasterInfo,
    write_master_file,
)
from layers.sync.photos import PhotoSource, copy_into_sqlite
from layers.sync.store import MasterLocation, open_master

__all__ = ["copy_master"]

log = logger(__name__)


def copy_master(source: MasterLocation, dest: MasterLocation,
                progress: Callable[[int, int], None] | None = None) -> MasterInfo:
    """Copy the master *source* to *dest* (a new ``.gpkg`` file, or a database/schema without a master).

    Returns the :class:`MasterInfo` of the copy.  Nothing is left at *dest* if the copy fails.
    """
    with open_master(source) as src:
        extra = src.has_extra_tables() if is_postgres(dest) or is_postgres(source) else []
        if extra:
            raise SyncError(f"{src.location}: holds {', '.join(extra)}, which a copy between GeoPackage and PostGIS "
                            "does not carry yet; nothing was copied")
        info = src.info
        table_rows = src.table_rows
        meta = {r["key"]: r["value"] for r in table_rows(MASTER_TABLE)}
        layer_rows = [{"name": r["name"], "position": r["position"], "facility": bool(r["facility"]),
                       "definition": r["definition"]} for r in table_rows(LAYERS_TABLE)]
        content = MasterContent(
            info.srid, info.definitions, meta, layer_rows,
            rows={name: src.rows(info.definitions[name]) for name in info.layers},
            ledger=table_rows(LEDGER_TABLE), deleted=table_rows(DELETED_TABLE), history=table_rows(HISTORY_TABLE),
            areas=table_rows(AREAS_TABLE), total=sum(src.count(info.definitions[name]) for name in info.layers),
            code_blocks=table_rows(BLOCKS_TABLE),  # the serials of component codes handed out (layers.sync.codes)
            definition_changes=table_rows(DEFINITIONS_TABLE))  # every version of the layer definitions
        photos = src.photos()
        photo_layers = [name for name in photos.layers() if name in info.layers]
        log.info("copying master %s (version %d) from %s to %s", info.master_id, info.version, src.location, dest)
        if is_postgres(dest):  # COPY takes the rows as tuples, straight from the source
            content.records = {name: src.records(info.definitions[name]) for name in info.layers}
            return _to_postgis(str(dest), content, photos, photo_layers, progress)
        path = Path(dest)
        if path.exists():
            raise SyncError(f"{path}: already exists")

        def add_photos(gp: GeoPackage) -> None:
            if photo_layers:
                copy_into_sqlite(photos, gp.connection, photo_layers, geopackage=True)

        write_master_file(path, content, progress, finish=add_photos)
    with open_master(path) as copy:
        return copy.info


def _to_postgis(url: str, content: MasterContent, photos: PhotoSource, photo_layers: list[str],
                progress: Callable[[int, int], None] | None) -> MasterInfo:
    from layers.postgres.connection import connect, parse_location
    from layers.sync.postgis.photos import write_photos
    from layers.sync.postgis.security import install_policies
    from layers.sync.postgis.tables import create_tables, ensure_postgis, read_info

    location = parse_location(url)
    total = content.total

    def advance(n: int) -> None:
        if progress:
            progress(n, total)

    with connect(location, autocommit=True) as con:
        ensure_postgis(con, location)
        with con.transaction():
            create_tables(con, location, content, progress=advance)
            install_policies(con, content.facility)
            if photo_layers:
                write_photos(con, photos, photo_layers)
        info: MasterInfo = read_info(con, location)
    return info
