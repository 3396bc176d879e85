"""A master in a PostGIS database behind :class:`~layers.sync.store.MasterStore`, safe for concurrent applies.

Each apply is one transaction (READ COMMITTED) on its own connection:

* it first claims the package: ``INSERT INTO tongcheng_ledger ... ON
  CONFLICT DO NOTHING``.  A second process applying the same package waits
  on the unique key until the first commits (then it finds the package
  applied and does nothing) or rolls back (then it applies it);
* it reads the office rows of the package's features ``FOR UPDATE``, in uuid
  order: an apply touching the same features waits, then merges against
  what the first one wrote (the office side of its three-way merge);
* it raises the version last, on the one ``version`` row: applies run side
  by side and only take turns for that final step, so versions are
  numbered in commit order.

A deadlock or serialization failure the server reports is retried from the
start, and so is an insert of a component code a concurrent apply has just
given (the unique code index of ``layers.sync.code_tables``: the rerun sees
the code taken and renumbers); a lost connection leaves the master and the
ledger as they were (the server rolls the transaction back).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Container, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from layers.errors import DatabaseError
from layers.log import logger
from layers.media.removal import pending_removals
from layers.postgres.connection import PgLocation, connect, parse_location
from layers.schema.definitions import LayerDefinition
from layers.sync.code_tables import is_code_conflict
from layers.sync.evolution import LayerSql
from layers.sync.gpkg_store import SURVEY_PREFIX
from layers.sync.history import history_rows
from layers.sync.master import (
    AREAS_TABLE,
    DELETED_TABLE,
    HISTORY_TABLE,
    LAYERS_TABLE,
    LEDGER_TABLE,
    MASTER_TABLE,
    MasterInfo,
    master_columns,
    parse_master_info,
)
from layers.sync.photos import PhotoSource, prune_workspace, receive_into_workspace, resend_to_workspace
from layers.sync.postgis.definitions import (
    PostgisLayerSql,
    create_added_layer,
    lock_definitions,
    read_history,
    store_definition,
)
from layers.sync.postgis.loading import KEYS, copy_rows, copy_tuples, json_keys, update_rows
from layers.sync.postgis.photos import (
    PostgisPhotos,
    drop_missing_links,
    photo_counts,
    remove_photos,
    write_photos,
)
from layers.sync.postgis.tables import create_layer_table, read_info
from layers.sync.rows import AUDIT_COLUMNS, CHUNK
from layers.sync.store import BBox, DefinitionVersion, LedgerEntry, MasterPlan

__all__ = ["PostgisMaster", "RETRIES"]

log = logger(__name__)
T = TypeVar("T")

#: How often an apply the server aborted for a concurrent one (deadlock, serialization) is run again.
RETRIES = 8
#: How often an apply whose component code a concurrent apply took is run again (the rerun renumbers it, so
#: another conflict means the same code comes again and again).
CODE_RETRIES = 3


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class PostgisMaster:
    """The master in the database (and schema) of a ``postgresql://`` string."""

    def __init__(self, url: str, *, write: bool = False) -> None:
        self.pg: PgLocation = parse_location(url)
        self.location: Path | str = str(self.pg)
        self.writable = write
        self.con: psycopg.Connection[Any] = connect(self.pg, autocommit=True)
        try:
            self.info: MasterInfo = self._guard(lambda: read_info(self.con, self.pg))
        except BaseException:
            self.con.close()
            raise
        self.srid = self.info.srid
        #: Per layer: the names of a row read, its boolean and its date fields (``_row``).
        self._shapes: dict[str, tuple[tuple[str, ...], list[str], list[str]]] = {}
        #: This transaction deleted features (their ``tongcheng_deleted`` rows get the version at the end).
        self._deleted = False

    # -- lifetime ---------------------------------------------------------------

    def _guard(self, work: Callable[[], T]) -> T:
        """Run *work*; a lost connection or a server error becomes one line (DatabaseError)."""
        try:
            return work()
        except psycopg.OperationalError as exc:
            raise DatabaseError(f"{self.location}: the connection to the server was lost ({_first_line(exc)}); "
                                "nothing was written") from None
        except psycopg.errors.InsufficientPrivilege as exc:
            raise DatabaseError(f"{self.location}: not allowed: {_first_line(exc)}; nothing was written") from None
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
            raise
        except psycopg.Error as exc:
            if is_code_conflict(exc):
                raise  # run() starts again: the code is then seen taken
            raise DatabaseError(f"{self.location}: {_first_line(exc)}; nothing was written") from None

    def guarded(self, work: Callable[[], T]) -> T:
        """Run *work* (statements on ``con``) with the store's one-line errors, inside ``run`` or not."""
        return self._guard(work)

    def run(self, work: Callable[[], T]) -> T:
        for attempt in range(1, RETRIES + 1):
            self._deleted = False
            try:
                def once() -> T:
                    with self.con.transaction():
                        return work()
                return self._guard(once)
            except psycopg.errors.UniqueViolation as exc:  # a component code a concurrent apply just gave
                detail = (exc.diag.message_detail or _first_line(exc)).rstrip(".")
                if attempt >= CODE_RETRIES:
                    raise DatabaseError(f"{self.location}: {detail}: a component code already given to another "
                                        "feature; nothing was written") from None
                log.info("%s: a component code was given by a concurrent apply (%s); attempt %d again",
                         self.location, detail, attempt)
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
                log.info("%s: apply aborted by the server for a concurrent one (%s); attempt %d again",
                         self.location, _first_line(exc), attempt)
                if attempt == RETRIES:
                    raise DatabaseError(f"{self.location}: gave up after {RETRIES} attempts against concurrent "
                                        "applies; nothing was written, try again") from None
        raise AssertionError("unreachable")

    def refresh(self) -> MasterInfo:
        """The master's description as of now; writing, first wait for a definition change to end (and keep the
        next one out until this transaction ends): the definitions read are those this transaction works with."""
        if self.writable:
            self._guard(lambda: lock_definitions(self.con, exclusive=False))
        return self._guard(self._current)

    def _current(self) -> MasterInfo:
        """Read the version, and the definitions again if the office changed or added one since."""
        meta = {k: v for k, v in self.con.execute(sql.SQL("SELECT key, value FROM {}").format(
            sql.Identifier(MASTER_TABLE)))}
        texts = {name: (text, bool(facility)) for name, text, facility in self.con.execute(
            sql.SQL("SELECT name, definition, facility FROM {} ORDER BY position").format(
                sql.Identifier(LAYERS_TABLE)))}
        if {n: t for n, (t, _) in texts.items()} != self.info.texts:
            self.info = parse_master_info(str(self.pg), meta, texts)
            self._shapes.clear()
            log.info("%s: layer definitions changed since opened; read again", self.location)
        else:
            self.info.version = int(meta["version"])
        return self.info

    def close(self) -> None:
        self.con.close()

    def abort(self) -> None:
        self.con.close()  # an open transaction is rolled back by the server

    # -- reading ----------------------------------------------------------------

    def _select(self, definition: LayerDefinition) -> sql.Composed:
        names = [sql.Identifier(n) for n in ("uuid", *definition.field_names, *AUDIT_COLUMNS)]
        geometry = sql.SQL("ST_AsBinary(geom)" if definition.has_geometry else "NULL")
        return sql.SQL("SELECT fid, {}, {} FROM {}").format(
            geometry, sql.SQL(", ").join(names), sql.Identifier(definition.name))

    def _row(self, definition: LayerDefinition, record: tuple[Any, ...]) -> dict[str, Any]:
        shape = self._shapes.get(definition.name)
        if shape is None:
            shape = self._shapes[definition.name] = (
                ("fid", "geom", "uuid", *definition.field_names, *AUDIT_COLUMNS),
                [f.name for f in definition.fields if f.type == "boolean"],
                [f.name for f in definition.fields if f.type == "date"])
        names, booleans, dates = shape
        row = dict(zip(names, record, strict=True))
        if row["geom"] is not None:
            row["geom"] = bytes(row["geom"])
        for name in booleans:  # the form the GeoPackage master stores: booleans 0/1, dates ISO text
            if row[name] is not None:
                row[name] = int(row[name])
        for name in dates:
            if row[name] is not None:
                row[name] = row[name].isoformat()
        return row

    def _box(self, bbox: BBox) -> sql.Composed:
        return sql.SQL("geom && ST_MakeEnvelope({}, {}, {}, {}, {})").format(
            *(sql.Literal(float(v)) for v in bbox), sql.Literal(self.srid))

    def count(self, definition: LayerDefinition, bbox: BBox | None = None) -> int:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(definition.name))
        if bbox:
            query = sql.SQL("{} WHERE {}").format(query, self._box(bbox))
        row = self._guard(lambda: self.con.execute(query).fetchone())
        return int(row[0]) if row else 0

    def rows(self, definition: LayerDefinition, bbox: BBox | None = None) -> Iterator[dict[str, Any]]:
        query = self._select(definition)
        if bbox:
            query = sql.SQL("{} WHERE {}").format(query, self._box(bbox))
        query = sql.SQL("{} ORDER BY fid").format(query)
        with self.con.transaction(), self.con.cursor(name="tongcheng_rows", binary=True) as cur:
            cur.itersize = 10_000
            self._guard(lambda: cur.execute(query))
            for record in cur:
                yield self._row(definition, record)

    def records(self, definition: LayerDefinition) -> Iterator[list[tuple[Any, ...]]]:
        names = master_columns(definition)
        geometry = [sql.SQL("encode(ST_AsEWKB(geom), 'hex')")] if definition.has_geometry else []
        query = sql.SQL("SELECT fid, {} FROM {} ORDER BY fid").format(
            sql.SQL(", ").join([*geometry, *map(sql.Identifier, names[2 if geometry else 1:])]),
            sql.Identifier(definition.name))
        with self.con.transaction(), self.con.cursor(name="tongcheng_records") as cur:
            self._guard(lambda: cur.execute(query))
            while chunk := self._guard(lambda: cur.fetchmany(CHUNK)):
                yield chunk

    def rows_by_uuid(self, definition: LayerDefinition, uuids: Iterable[str], *,
                     lock: bool = False) -> dict[str, dict[str, Any]]:
        keys = sorted(set(uuids))
        if not keys:
            return {}
        query = sql.SQL("{} WHERE uuid IN {} ORDER BY uuid{}").format(
            self._select(definition), KEYS, sql.SQL(" FOR UPDATE" if lock else ""))

        def read() -> list[tuple[Any, ...]]:
            with self.con.cursor(binary=True) as cur:  # bytes and numbers as they are, no text to parse
                return cur.execute(query, (json_keys(keys),)).fetchall()

        return {r["uuid"]: r for r in (self._row(definition, rec) for rec in self._guard(read))}

    def rows_where(self, definition: LayerDefinition, equal: Mapping[str, Any]) -> list[dict[str, Any]]:
        condition = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(name)) for name in equal)
        query = sql.SQL("{} WHERE {} ORDER BY fid").format(self._select(definition), condition)
        records = self._guard(lambda: self.con.execute(query, list(equal.values())).fetchall())
        return [self._row(definition, rec) for rec in records]

    def deleted_audit(self, layer: str, uuids: Iterable[str]) -> dict[str, tuple[Any, Any]]:
        keys = list(uuids)
        if not keys:
            return {}
        records = self._guard(lambda: self.con.execute(
            sql.SQL("SELECT uuid, deleted_by, deleted_at FROM {} WHERE layer = %s AND uuid = ANY(%s) ORDER BY fid")
            .format(sql.Identifier(DELETED_TABLE)), (layer, keys)).fetchall())
        return {u: (by, at) for u, by, at in records}

    def in_ledger(self, package_uuid: str) -> bool:
        return self._guard(lambda: self.con.execute(
            sql.SQL("SELECT 1 FROM {} WHERE package_uuid = %s AND version IS NOT NULL").format(
                sql.Identifier(LEDGER_TABLE)), (package_uuid,)).fetchone()) is not None

    def claim(self, package_uuid: str) -> bool:
        # Waits for a concurrent claim of the same package: its commit makes this one find it applied.
        row = self._guard(lambda: self.con.execute(
            sql.SQL("INSERT INTO {} (package_uuid) VALUES (%s) ON CONFLICT (package_uuid) DO NOTHING RETURNING fid")
            .format(sql.Identifier(LEDGER_TABLE)), (package_uuid,)).fetchone())
        return row is not None

    def area(self, code: str) -> dict[str, Any] | None:
        row = self._guard(lambda: self.con.execute(
            sql.SQL("SELECT code, level, name, parent, ST_AsBinary(geom) FROM {} WHERE code = %s").format(
                sql.Identifier(AREAS_TABLE)), (code,)).fetchone())
        if row is None:
            return None
        return {"code": row[0], "level": row[1], "name": row[2], "parent": row[3],
                "geom": bytes(row[4]) if row[4] is not None else None}

    def table_rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a bookkeeping table, as :meth:`GeoPackageMaster.table_rows` gives them."""
        def work() -> list[dict[str, Any]]:
            found = self.con.execute("SELECT to_regclass(%s)", (sql.Identifier(self.pg.schema, table).as_string(
                self.con),)).fetchone()
            if found is None or found[0] is None:
                return []
            columns = [r[0] for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                "AND column_name <> 'fid' ORDER BY ordinal_position", (self.pg.schema, table))]
            selected = [sql.SQL("ST_AsBinary(geom)") if c == "geom" else sql.Identifier(c) for c in columns]
            order = sql.SQL("fid") if table not in (MASTER_TABLE, LAYERS_TABLE) else sql.SQL("1")
            records = self.con.execute(sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
                sql.SQL(", ").join(selected), sql.Identifier(table), order)).fetchall()
            rows = [dict(zip(columns, r, strict=True)) for r in records]
            for row in rows:
                if row.get("geom") is not None:
                    row["geom"] = bytes(row["geom"])
            return rows

        return self._guard(work)

    def has_extra_tables(self) -> list[str]:
        return [r[0] for r in self._guard(lambda: self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_name LIKE %s",
            (self.pg.schema, SURVEY_PREFIX + "%")).fetchall())]

    def photos(self) -> PhotoSource:
        return PostgisPhotos(self.con, self.info.layers)

    def add_photos(self, source: PhotoSource, layers: Sequence[str]) -> tuple[int, int, int]:
        return self._guard(lambda: write_photos(self.con, source, layers))

    def remove_photos(self, package: sqlite3.Connection) -> tuple[int, int]:
        removals = pending_removals(package)
        return self._guard(lambda: remove_photos(self.con, self.info.layers, removals))

    def drop_photos_of_missing(self, candidates: Mapping[str, Collection[str]]) -> tuple[list[tuple[str, str, str]],
                                                                                       int]:
        return self._guard(lambda: drop_missing_links(self.con, self.info.layers, candidates))

    def _snapshot(self, work: Callable[[PostgisPhotos], T]) -> T:
        """Run *work* on the master's photos as of one moment (a repeatable-read transaction)."""
        def once() -> T:
            with self.con.transaction():
                self.con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                return work(PostgisPhotos(self.con, self.info.layers))

        return self._guard(once)

    def send_photos(self, target: sqlite3.Connection, layers: Iterable[str]) -> int:
        return self._snapshot(lambda photos: receive_into_workspace(photos, target, layers))

    def update_photos(self, target: sqlite3.Connection, layers: Iterable[str],
                      exclude: Container[tuple[str, str, str]]) -> dict[str, int]:
        layers = list(layers)

        def work(photos: PostgisPhotos) -> dict[str, int]:
            unlinked = prune_workspace(photos, target, layers)
            linked = receive_into_workspace(photos, target, layers, exclude=exclude)
            return {"unlinked": unlinked, "linked": linked,
                    "sent_again": resend_to_workspace(photos, target, layers)}

        return self._snapshot(work)

    def photo_counts(self, layer: str) -> dict[str, int]:
        return self._guard(lambda: photo_counts(self.con, layer))

    # -- layer definitions --------------------------------------------------------

    def lock_definitions(self) -> MasterInfo:
        self._guard(lambda: lock_definitions(self.con, exclusive=True))
        return self._guard(self._current)

    def definition_history(self, layer: str) -> list[DefinitionVersion]:
        return self._guard(lambda: read_history(self.con, layer))

    def layer_sql(self) -> LayerSql:
        return PostgisLayerSql(self.con)

    def create_layer(self, definition: LayerDefinition) -> None:
        spatial = [n for n in self.info.layers if self.info.definitions[n].has_geometry]
        roles = self._guard(lambda: create_added_layer(self.con, definition, self.srid, spatial))
        if roles:
            log.info("%s: roles %s may write layer %s in their areas", self.location, ", ".join(roles),
                     definition.name)

    def store_definition(self, definition: LayerDefinition, text: str, versions: Sequence[DefinitionVersion],
                         now: str, *, added: bool = False) -> int:
        version = self._guard(lambda: store_definition(self.con, definition, text, versions, added=added))
        self.info.version = version
        return version

    # -- writing ----------------------------------------------------------------

    def write_layer(self, definition: LayerDefinition, plan: MasterPlan, package_uuid: str, now: str) -> None:
        self._guard(lambda: self._write_layer(definition, plan, package_uuid, now))

    def _write_layer(self, definition: LayerDefinition, plan: MasterPlan, package_uuid: str, now: str) -> None:
        layer = definition.name
        with self.con.cursor() as cur:
            if plan.deletes:
                cur.execute(sql.SQL("DELETE FROM {} WHERE uuid IN {}").format(sql.Identifier(layer), KEYS),
                            (json_keys([k for k, _, _ in plan.deletes]),))
                copy_tuples(cur, DELETED_TABLE, ("layer", "uuid", "deleted_by", "deleted_at", "package_uuid"),
                            [(layer, k, by, at or now, package_uuid) for k, by, at in plan.deletes])
                self._deleted = True
            groups: dict[tuple[str, ...], list[tuple[str, dict[str, Any]]]] = {}
            for k, changed in plan.updates.items():
                groups.setdefault(tuple(changed), []).append((k, changed))
            for cols, items in groups.items():  # one statement per set of changed columns
                update_rows(cur, definition, self.srid, cols, items)
            if plan.inserts:
                plan.inserts.sort(key=lambda r: str(r["uuid"]))
                copy_rows(self.con, definition, self.srid, plan.inserts)
            if not plan.empty:
                copy_tuples(cur, HISTORY_TABLE, ("package_uuid", "layer", "uuid", "op", "old", "new"),
                            history_rows(definition, plan, package_uuid))

    def store_survey(self, definition: LayerDefinition, rows: list[dict[str, Any]], gone: list[str],
                     package_uuid: str, workspace_id: str | None, now: str) -> None:
        table = SURVEY_PREFIX + definition.name

        def work() -> None:
            exists = self.con.execute("SELECT to_regclass(%s)", (sql.Identifier(self.pg.schema, table).as_string(
                self.con),)).fetchone()
            if exists is None or exists[0] is None:
                create_layer_table(self.con, definition, self.srid, name=table, extra=(
                    ("package_uuid", "text"), ("workspace_id", "text"), ("received_at", "text")),
                    comment=f"{definition.title('zh_CN')} (外业证据) / {definition.title('en')}: survey evidence")
            self.con.execute(sql.SQL("DELETE FROM {} WHERE uuid = ANY(%s)").format(sql.Identifier(table)),
                             ([*gone, *(r["uuid"] for r in rows)],))
            copy_rows(self.con, definition, self.srid,
                      [{**r, "package_uuid": package_uuid, "workspace_id": workspace_id, "received_at": now}
                       for r in rows], table=table, extra=("package_uuid", "workspace_id", "received_at"))

        self._guard(work)

    def finish_apply(self, entry: LedgerEntry) -> int:
        def work() -> int:
            # The one row every apply updates last: applies take turns only here, in commit order.
            row = self.con.execute(sql.SQL("UPDATE {} SET value = (value::integer + 1)::text WHERE key = 'version' "
                                           "RETURNING value").format(sql.Identifier(MASTER_TABLE))).fetchone()
            assert row is not None
            version = int(row[0])
            self.con.execute(
                sql.SQL("UPDATE {} SET workspace_id = %s, editor = %s, base_version = %s, version = %s, "
                        "applied_at = %s, applied_by = %s, policy = %s, inserts = %s, updates = %s, deletes = %s, "
                        "conflicts = %s, file = %s WHERE package_uuid = %s").format(sql.Identifier(LEDGER_TABLE)),
                (entry.workspace_id, entry.editor, entry.base_version, version, entry.applied_at, entry.applied_by,
                 entry.policy, entry.inserts, entry.updates, entry.deletes, entry.conflicts, entry.file,
                 entry.package_uuid))
            if self._deleted:
                self.con.execute(sql.SQL("UPDATE {} SET version = %s WHERE package_uuid = %s").format(
                    sql.Identifier(DELETED_TABLE)), (version, entry.package_uuid))
            self.info.version = version
            return version

        return self._guard(work)
