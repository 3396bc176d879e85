"""A master GeoPackage behind :class:`~layers.sync.store.MasterStore` (one file, written in one transaction)."""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable, Collection, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import shapely

from layers.geopackage import Column, GeoPackage, LayerSchema, gpb_wkb, open_geopackage
from layers.geopackage.codec import WKB_OFFSETS
from layers.log import logger
from layers.media.removal import apply_removals, drop_orphan_links, prune_links
from layers.media.tables import (
    copy_photos,
    mapping_table,
    media_layers,
    missing_bytes,
    receive_photos,
    resend_missing,
)
from layers.schema.definitions import LayerDefinition
from layers.sync.evolution import LayerSql, SqliteLayerSql
from layers.sync.history import HISTORY_TABLE, history_rows
from layers.sync.master import (
    AREAS_TABLE,
    DEFINITIONS_TABLE,
    DELETED_TABLE,
    LAYER_ADDED_KEY,
    LAYERS_TABLE,
    LEDGER_TABLE,
    MASTER_TABLE,
    MasterInfo,
    bbox_condition,
    definitions_schema,
    master_columns,
    master_rows,
    master_rows_by_uuid,
    master_schema,
    read_master_info,
    recover,
)
from layers.sync.photos import PhotoSource, SqlitePhotos, copy_into_sqlite
from layers.sync.rows import AUDIT_COLUMNS, CHUNK, bounds, geometries, gpb_of_wkbs, quote
from layers.sync.store import BBox, DefinitionVersion, LedgerEntry, MasterPlan

__all__ = ["GeoPackageMaster", "SURVEY_PREFIX", "history_schema"]

log = logger(__name__)
T = TypeVar("T")

#: The master's table of a survey layer sent as evidence: ``survey_<layer>``.
SURVEY_PREFIX = "survey_"


def _ewkb_hex(blob: bytes | None, srid: int, srid_hex: str) -> str | None:
    """The hex EWKB (with *srid*) of a GeoPackage binary geometry: its header dropped and the SRID written
    into its WKB's, without parsing the coordinates (shapely for anything but little-endian WKB)."""
    if blob is None:
        return None
    offset = WKB_OFFSETS.get(blob[3]) if blob[:2] == b"GP" else None
    if offset is not None and len(blob) > offset + 4 and blob[offset] == 1 and blob[offset + 4] == 0:
        h = blob[offset:].hex()
        return f"{h[:8]}20{srid_hex}{h[10:]}"
    shape = shapely.set_srid(shapely.from_wkb(gpb_wkb(blob)), srid)
    return str(shapely.to_wkb(shape, hex=True, include_srid=True))


def history_schema() -> LayerSchema:
    """The GeoPackage table of every change an apply made (old and new values as JSON)."""
    return LayerSchema(HISTORY_TABLE, (
        Column("package_uuid", "TEXT", not_null=True), Column("layer", "TEXT", not_null=True),
        Column("uuid", "TEXT", not_null=True), Column("op", "TEXT", not_null=True),
        Column("old", "TEXT"), Column("new", "TEXT")),
        description="Tongcheng: every change an apply made to a feature (old and new values)")


class GeoPackageMaster:
    """The master GeoPackage *path*; writing holds the file's write lock from open to close (one transaction)."""

    def __init__(self, path: Path, *, write: bool = False) -> None:
        self.location: Path | str = path
        self.path = path
        self.writable = write
        recover(path)
        self.gp: GeoPackage = open_geopackage(path, "a" if write else "r")
        try:
            self.info: MasterInfo = read_master_info(self.gp)
        except BaseException:
            self.gp.abort() if write else self.gp.close()
            raise
        self.connection: sqlite3.Connection = self.gp.connection
        if write:
            self.connection.execute("PRAGMA cache_size = -262144")  # 256 MiB: no spill of a big transaction

    # -- lifetime ---------------------------------------------------------------

    def run(self, work: Callable[[], T]) -> T:
        """The file is one transaction from open to close: *work* runs once, in it."""
        return work()

    def refresh(self) -> MasterInfo:
        return self.info

    def close(self) -> None:
        self.gp.close()

    def abort(self) -> None:
        if self.writable:
            self.gp.abort()
        else:
            self.gp.close()

    # -- reading ----------------------------------------------------------------

    def count(self, definition: LayerDefinition, bbox: BBox | None = None) -> int:
        where, params = bbox_condition(definition, bbox) if bbox else ("", ())
        n: int = self.connection.execute(f"SELECT count(*) FROM {quote(definition.name)}"
                                         + (f" WHERE {where}" if where else ""), params).fetchone()[0]
        return n

    def rows(self, definition: LayerDefinition, bbox: BBox | None = None) -> Iterator[dict[str, Any]]:
        where, params = bbox_condition(definition, bbox) if bbox else ("", ())
        return master_rows(self.connection, definition, where, params)

    def records(self, definition: LayerDefinition) -> Iterator[list[tuple[Any, ...]]]:
        names = master_columns(definition)
        cursor = self.connection.execute(f"SELECT {', '.join(map(quote, names))} FROM {quote(definition.name)} "
                                         "ORDER BY fid")
        srid, srid_hex = self.info.srid, struct.pack("<I", self.info.srid).hex()
        while chunk := cursor.fetchmany(CHUNK):
            if definition.has_geometry:
                chunk = [(r[0], _ewkb_hex(r[1], srid, srid_hex), *r[2:]) for r in chunk]
            yield chunk

    def rows_by_uuid(self, definition: LayerDefinition, uuids: Iterable[str], *,
                     lock: bool = False) -> dict[str, dict[str, Any]]:
        return master_rows_by_uuid(self.connection, definition, uuids)  # the file's write lock covers all

    def rows_where(self, definition: LayerDefinition, equal: Mapping[str, Any]) -> list[dict[str, Any]]:
        where = " AND ".join(f"{quote(name)} = ?" for name in equal)
        return list(master_rows(self.connection, definition, where, list(equal.values())))

    def deleted_audit(self, layer: str, uuids: Iterable[str]) -> dict[str, tuple[Any, Any]]:
        out: dict[str, tuple[Any, Any]] = {}
        missing = list(uuids)
        for i in range(0, len(missing), 500):
            part = missing[i:i + 500]
            for u, by, at in self.connection.execute(
                    f"SELECT uuid, deleted_by, deleted_at FROM {DELETED_TABLE} WHERE layer = ? AND uuid IN "
                    f"({', '.join('?' * len(part))}) ORDER BY fid", (layer, *part)):
                out[u] = (by, at)
        return out

    def in_ledger(self, package_uuid: str) -> bool:
        return self.connection.execute(f"SELECT 1 FROM {LEDGER_TABLE} WHERE package_uuid = ?",
                                       (package_uuid,)).fetchone() is not None

    def claim(self, package_uuid: str) -> bool:
        return not self.in_ledger(package_uuid)  # the file's write lock keeps other applies out

    def area(self, code: str) -> dict[str, Any] | None:
        if not self.gp.has_layer(AREAS_TABLE):
            return None
        row = self.connection.execute(f"SELECT code, level, name, parent, geom FROM {AREAS_TABLE} WHERE code = ?",
                                      (code,)).fetchone()
        if row is None:
            return None
        return {"code": row[0], "level": row[1], "name": row[2], "parent": row[3], "geom": gpb_wkb(row[4])}

    def photos(self) -> PhotoSource:
        return SqlitePhotos(self.connection)

    def add_photos(self, source: PhotoSource, layers: Sequence[str]) -> tuple[int, int, int]:
        con = self.connection
        missing_before = missing_bytes(con)
        if isinstance(source, SqlitePhotos):  # file to file: SQLite's own piece-by-piece blob copy
            linked, stored = copy_photos(source.con, con, layers, geopackage=True)
        else:
            linked, stored = copy_into_sqlite(source, con, layers, geopackage=True)
        # A link sent without bytes the office has since dropped (the photo was taken off its last
        # facility): kept, and the field sends the bytes again after its update.
        return linked, stored, len(missing_bytes(con) - missing_before)

    def remove_photos(self, package: sqlite3.Connection) -> tuple[int, int]:
        return apply_removals(package, self.connection)

    def drop_photos_of_missing(self, candidates: Mapping[str, Collection[str]]) -> tuple[list[tuple[str, str, str]],
                                                                                       int]:
        return drop_orphan_links(self.connection)  # every layer: the file is scanned quickly

    def send_photos(self, target: sqlite3.Connection, layers: Iterable[str]) -> int:
        """Copy the master's photos of the features *target* (a workspace) holds."""
        return receive_photos(self.connection, target, layers)

    def update_photos(self, target: sqlite3.Connection, layers: Iterable[str],
                      exclude: Container[tuple[str, str, str]]) -> dict[str, int]:
        layers = list(layers)
        unlinked = prune_links(self.connection, target, layers)
        linked = receive_photos(self.connection, target, layers, exclude=exclude)
        return {"unlinked": unlinked, "linked": linked,
                "sent_again": resend_missing(self.connection, target, layers)}

    def photo_counts(self, layer: str) -> dict[str, int]:
        if layer not in media_layers(self.connection):
            return {}
        return {u: n for u, n in self.connection.execute(
            f"SELECT base_uuid, count(*) FROM {quote(mapping_table(layer))} GROUP BY base_uuid")}

    def table_rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a bookkeeping table (master, layers, ledger, deleted, history, areas); [] if absent.

        Geometries (areas) as WKB under ``geom``; ``fid`` left out.
        """
        if not self.gp.has_layer(table):
            return []
        cursor = self.connection.execute(f"SELECT * FROM {quote(table)} ORDER BY rowid")
        names = [d[0] for d in cursor.description]
        out = []
        for record in cursor:
            row = {n: v for n, v in zip(names, record, strict=True) if n != "fid"}
            if "geom" in row and row["geom"] is not None:
                row["geom"] = gpb_wkb(row["geom"])
            out.append(row)
        return out

    def has_extra_tables(self) -> list[str]:
        """Tables a copy to PostGIS cannot carry yet: survey evidence."""
        return [t for t in self.gp.layers() if t.startswith(SURVEY_PREFIX)]

    # -- layer definitions --------------------------------------------------------

    def lock_definitions(self) -> MasterInfo:
        return self.info  # the file's write lock keeps everyone else out

    def definition_history(self, layer: str) -> list[DefinitionVersion]:
        if not self.gp.has_layer(DEFINITIONS_TABLE):
            return []
        return [DefinitionVersion(layer, *row) for row in self.connection.execute(
            f"SELECT version, definition, mappings, changed_at, changed_by FROM {DEFINITIONS_TABLE} "
            "WHERE layer = ? ORDER BY version", (layer,))]

    def layer_sql(self) -> LayerSql:
        return SqliteLayerSql(self.connection)

    def create_layer(self, definition: LayerDefinition) -> None:
        """The layer's feature (or attributes) table: gpkg_contents, gpkg_geometry_columns, its rtree when the
        file is closed; the code index of a component layer."""
        self.gp.create_layer(master_schema(definition, self.info.srid))
        if definition.component is not None:
            from layers.sync.codes import gpkg_code_tables

            gpkg_code_tables(self.gp, [definition])

    def store_definition(self, definition: LayerDefinition, text: str, versions: Sequence[DefinitionVersion],
                         now: str, *, added: bool = False) -> int:
        from layers.geopackage.styles import layer_qml, layer_sld

        con, layer = self.connection, definition.name
        if not self.gp.has_layer(DEFINITIONS_TABLE):
            self.gp.create_layer(definitions_schema())
        self.gp.write_rows(DEFINITIONS_TABLE, [
            {"layer": v.layer, "version": v.version, "definition": v.definition, "mappings": v.mappings,
             "changed_at": v.changed_at, "changed_by": v.changed_by} for v in versions])
        version = self._version
        if added:
            position = con.execute(f"SELECT coalesce(max(position), -1) + 1 FROM {LAYERS_TABLE}").fetchone()[0]
            con.execute(f"INSERT INTO {LAYERS_TABLE} (name, position, facility, definition) VALUES (?, ?, 1, ?)",
                        (layer, position, text))
            con.execute(f"INSERT INTO {MASTER_TABLE} (key, value) VALUES (?, ?)",
                        (LAYER_ADDED_KEY + layer, str(version)))
        else:
            con.execute(f"UPDATE {LAYERS_TABLE} SET definition = ? WHERE name = ?", (text, layer))
        con.execute(f"UPDATE {MASTER_TABLE} SET value = ? WHERE key = 'version'", (str(version),))
        columns = ["uuid", *definition.field_names, *AUDIT_COLUMNS]
        self.gp.add_style(layer, layer[:30], layer_qml(definition, "zh_CN", columns), sld=layer_sld(definition),
                          description=definition.title("zh_CN"), owner="tongcheng")
        con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name IN (?, ?, ?, ?)",
                    (now, layer, MASTER_TABLE, LAYERS_TABLE, DEFINITIONS_TABLE))
        self.info.version = version
        return version

    # -- writing ----------------------------------------------------------------

    @property
    def _version(self) -> int:
        return self.info.version + 1

    def write_layer(self, definition: LayerDefinition, plan: MasterPlan, package_uuid: str, now: str) -> None:
        con = self.connection
        layer = definition.name
        t = quote(layer)
        if plan.deletes:
            con.executemany(f"DELETE FROM {t} WHERE uuid = ?", [(k,) for k, _, _ in plan.deletes])
            con.executemany(
                f"INSERT INTO {DELETED_TABLE} (layer, uuid, deleted_by, deleted_at, package_uuid, version) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(layer, k, by, at or now, package_uuid, self._version) for k, by, at in plan.deletes])
        wkbs = [c["geom"] for c in plan.updates.values() if "geom" in c] + [r["geom"] for r in plan.inserts]
        blobs = dict(zip(map(id, wkbs), gpb_of_wkbs(wkbs, self.info.srid), strict=True))
        groups: dict[tuple[str, ...], list[tuple[str, dict[str, Any]]]] = {}
        for k, changed in plan.updates.items():
            groups.setdefault(tuple(changed), []).append((k, changed))
        for cols, items in groups.items():
            sql = f"UPDATE {t} SET {', '.join(f'{quote(c)} = ?' for c in cols)} WHERE uuid = ?"
            con.executemany(sql, [[blobs[id(changed[c])] if c == "geom" else changed[c] for c in cols] + [k]
                                  for k, changed in items])
        if plan.inserts:
            # New fids in uuid order: two offices applying the same packages to the same master hold
            # the same rows under the same fids.
            plan.inserts.sort(key=lambda r: str(r["uuid"]))
            names = ["uuid", *definition.field_names, *AUDIT_COLUMNS, *(["geom"] if definition.has_geometry else [])]
            sql = f"INSERT INTO {t} ({', '.join(map(quote, names))}) VALUES ({', '.join('?' * len(names))})"
            con.executemany(sql, [[blobs[id(r["geom"])] if n == "geom" else r.get(n) for n in names]
                                  for r in plan.inserts])
        if not plan.empty:
            if definition.has_geometry:
                self._refresh_extent(definition, plan)
            con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (now, layer))
            if not self.gp.has_layer(HISTORY_TABLE):
                self.gp.create_layer(history_schema())
                con.execute(f"CREATE INDEX {HISTORY_TABLE}_uuid ON {HISTORY_TABLE} (uuid)")
            con.executemany(f"INSERT INTO {HISTORY_TABLE} (package_uuid, layer, uuid, op, old, new) "
                            "VALUES (?, ?, ?, ?, ?, ?)", history_rows(definition, plan, package_uuid))

    def _refresh_extent(self, definition: LayerDefinition, plan: MasterPlan) -> None:
        """Keep gpkg_contents' extent exact: widen by new geometries; rescan if one on the edge went."""
        con = self.connection
        layer = definition.name
        old_geoms = [plan.before[k]["geom"] for k, _, _ in plan.deletes]
        old_geoms += [plan.before[k]["geom"] for k, c in plan.updates.items() if "geom" in c]
        new_geoms = [c["geom"] for c in plan.updates.values() if "geom" in c] + [r["geom"] for r in plan.inserts]
        row = con.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?",
                          (layer,)).fetchone()
        extent = None if row is None or row[0] is None else tuple(row)
        rescan = extent is None and bool(old_geoms)
        if extent is not None and old_geoms:
            old = bounds(geometries(old_geoms))
            if old is not None and (old[0] <= extent[0] or old[1] <= extent[1] or old[2] >= extent[2]
                                    or old[3] >= extent[3]):
                rescan = True
        if rescan:
            cursor = con.execute(f"SELECT geom FROM {quote(layer)} WHERE geom IS NOT NULL")
            parts = []
            while True:
                chunk = cursor.fetchmany(100_000)
                if not chunk:
                    break
                b = bounds(geometries([gpb_wkb(r[0]) for r in chunk]))
                if b is not None:
                    parts.append(b)
            extent = (min(p[0] for p in parts), min(p[1] for p in parts), max(p[2] for p in parts),
                      max(p[3] for p in parts)) if parts else None
        else:
            new = bounds(geometries(new_geoms))
            if new is not None:
                extent = new if extent is None else (min(extent[0], new[0]), min(extent[1], new[1]),
                                                     max(extent[2], new[2]), max(extent[3], new[3]))
        values = extent if extent is not None else (None, None, None, None)
        con.execute("UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?",
                    (*values, layer))

    def store_survey(self, definition: LayerDefinition, rows: list[dict[str, Any]], gone: list[str],
                     package_uuid: str, workspace_id: str | None, now: str) -> None:
        table = SURVEY_PREFIX + definition.name
        gp = self.gp
        if not gp.has_layer(table):
            base = master_schema(definition, self.info.srid)
            extra = (Column("package_uuid", "TEXT"), Column("workspace_id", "TEXT"), Column("received_at", "DATETIME"))
            gp.create_layer(replace(base, name=table, columns=(*base.columns, *extra),
                                    identifier=f"{definition.title('zh_CN')} (外业证据)",
                                    description=f"{definition.title('en')}: survey evidence from the field"))
        gp.delete_rows(table, "uuid", [*gone, *(r["uuid"] for r in rows)])
        geoms = geometries([r["geom"] for r in rows])
        gp.write_rows(table, [{**r, "geom": g, "package_uuid": package_uuid, "workspace_id": workspace_id,
                               "received_at": now} for r, g in zip(rows, geoms, strict=True)])

    def finish_apply(self, entry: LedgerEntry) -> int:
        con = self.connection
        version = self._version
        con.execute(f"UPDATE {MASTER_TABLE} SET value = ? WHERE key = 'version'", (str(version),))
        con.execute(
            f"INSERT INTO {LEDGER_TABLE} (package_uuid, workspace_id, editor, base_version, version, "
            "applied_at, applied_by, policy, inserts, updates, deletes, conflicts, file) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (entry.package_uuid, entry.workspace_id, entry.editor, entry.base_version, version, entry.applied_at,
             entry.applied_by, entry.policy, entry.inserts, entry.updates, entry.deletes, entry.conflicts,
             entry.file))
        con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name IN (?, ?)",
                    (entry.applied_at, MASTER_TABLE, LEDGER_TABLE))
        self.info.version = version  # a next apply in the same transaction (layers.sync.batch) comes after it
        return version
