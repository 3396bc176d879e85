"""Inserting many features at once: validated in batches, and packed fast into an empty layer."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from layers.errors import Cancelled, ValidationError, WorkspaceError
from layers.schema.definitions import validate_feature
from layers.schema.geometry import validate_geometries
from layers.sqlite.rtree import bulk_load_rtree
from layers.sqlite.spatialite import MMAP_BYTES, geometry_blobs
from layers.workspace.identity import new_uuid, now_text
from layers.workspace.tracking import AUDIT_COLUMNS, NOW_SQL, SETTINGS_TABLE

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

__all__ = ["CACHE_KIB", "BULK_CACHE_KIB", "insert_many"]
CACHE_KIB = 65_536  # page cache per connection
BULK_CACHE_KIB = 262_144  # during a bulk load (see _BulkLoad)

#: One feature to insert: (attributes, geometry) or (attributes, geometry, identity).
FeatureItem = Sequence[Any]


def insert_many(ws: Workspace, layer: str, features: Iterable[FeatureItem], *,
                progress: Callable[[int], object] | None = None, cancel: Callable[[], bool] | None = None,
                batch_size: int = 5000) -> int:
    """Validate and insert many features in one transaction (see ``Workspace.insert_many``)."""
    definition = ws.layer(layer)
    user, now, srid = ws.user, now_text(), ws.srid
    names = [f.name for f in definition.fields]
    columns = ", ".join(["uuid", *names, *AUDIT_COLUMNS, "geom"])
    sql = f"INSERT INTO {layer} ({columns}) VALUES ({', '.join('?' * (len(names) + 6))})"
    count = 0
    bulk: _BulkLoad | None = None  # once a big load into an empty layer is recognised
    with ws.session() as connection:
        empty_layer = connection.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {layer})").fetchone()[0]
        batch: list[tuple[dict[str, Any], Any, dict[str, Any] | None]] = []

        def flush() -> None:
            geometries = validate_geometries(definition, [item[1] for item in batch],
                                             first_number=count - len(batch) + 1)
            blobs = geometry_blobs(geometries, srid)
            rows = []
            for (values, _, identity), blob in zip(batch, blobs, strict=True):
                identity = identity or {}
                rows.append((
                    identity.get("uuid") or new_uuid(),
                    *values.values(),  # every field, in the definition's order
                    identity.get("created_by", user),
                    identity.get("created_at", now),
                    identity.get("modified_by", user),
                    identity.get("modified_at", now),
                    blob,
                ))
            connection.executemany(sql, rows)
            if bulk:
                bulk.add(geometries)
            batch.clear()

        for item in features:
            attributes, geometry = item[0], item[1]
            count += 1
            try:
                values = validate_feature(definition, attributes)
            except ValidationError as e:
                raise ValidationError(f"feature {count}: {e}", layer=e.layer, field=e.field, value=e.value,
                                      rule=e.rule) from None
            batch.append((values, geometry, item[2] if len(item) > 2 else None))
            if len(batch) >= batch_size:
                if empty_layer and bulk is None:
                    bulk = _BulkLoad(connection, layer)
                flush()
                if progress:
                    progress(count)
                if cancel and cancel():
                    raise Cancelled(f"{layer}: cancelled; nothing was written")
        if batch:
            flush()
        if bulk:
            bulk.finish()
        if progress:
            progress(count)
    return count


class _BulkLoad:
    """A big load into an empty layer, inside the caller's transaction.

    SpatiaLite's per-row triggers on insert are suspended: the spatial index
    trigger (the index is packed once at the end with ``bulk_load_rtree``),
    the geometry-type check (every blob was made by us from validated
    geometries of the layer's type and SRID) and the last-insert timestamp
    (stamped once at the end); so is our change-tracking insert trigger when
    tracking is off (a base state is being loaded: it would record nothing).
    They are restored before the transaction commits; on an error the rollback
    restores them with everything else.
    """

    def __init__(self, connection: sqlite3.Connection, layer: str) -> None:
        self.connection = connection
        self.layer = layer
        names = [f"ggi_{layer}_geom", f"tmi_{layer}_geom", f"gii_{layer}_geom"]
        tracking = connection.execute(f"SELECT value FROM {SETTINGS_TABLE} WHERE key = 'tracking'").fetchone()
        if tracking and tracking[0] == "0":  # loading a base state: our insert trigger would do nothing per row
            names.append(f"tongcheng_insert_{layer}")
        self.triggers: list[tuple[str, str]] = connection.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({', '.join('?' * len(names))})",
            names,
        ).fetchall()
        for name, _ in self.triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        # Reads through the memory map would leave every page of the growing file
        # resident; a load only appends, so plain reads serve it as fast.
        connection.execute("PRAGMA mmap_size = 0")
        # A big page cache keeps the growing table and uuid index in memory instead of
        # spilling pages to the WAL and reading them back (about a third faster).
        connection.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        self.bounds: list[np.ndarray] = []
        self.last_fids: list[tuple[int, int]] = []

    def add(self, geometries: Sequence[Any] | np.ndarray) -> None:
        """Record the bounds of a batch just inserted (its fids are the last ones given)."""
        self.bounds.append(shapely.bounds(geometries))
        last = self.connection.execute(f"SELECT max(fid) FROM {self.layer}").fetchone()[0]
        self.last_fids.append((last, len(geometries)))

    def finish(self) -> None:
        ids = np.concatenate([np.arange(last - n + 1, last + 1, dtype=np.int64) for last, n in self.last_fids])
        bounds = np.concatenate(self.bounds)
        count = self.connection.execute(f"SELECT count(*) FROM {self.layer}").fetchone()[0]
        first = self.connection.execute(f"SELECT min(fid) FROM {self.layer}").fetchone()[0]
        if count != len(ids) or ids[0] != first:
            raise WorkspaceError(f"{self.layer}: bulk load lost track of fids; nothing was written")
        bulk_load_rtree(self.connection, f"idx_{self.layer}_geom", ids,
                        bounds[:, 0], bounds[:, 2], bounds[:, 1], bounds[:, 3])
        for _, sql in self.triggers:
            self.connection.execute(sql)
        self.connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        self.connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self.connection.execute(
            f"UPDATE geometry_columns_time SET last_insert = {NOW_SQL} WHERE lower(f_table_name) = lower(?)",
            (self.layer,),
        )
