"""Component codes on the office side: serials per district and class, the blocks checkouts take, renumbering.

A code's first six digits are the district the feature lies in: the master's
administrative area of level ``district`` that holds its position
(``tongcheng_areas``, ``layers.workspace.districts``), or, where none does,
the master's own district (``component_district`` in ``tongcheng_master``,
set by ``init --district`` or ``tongcheng codes --district``; a master
without it numbers nothing).  Every serial the master hands out, to a
checkout or to itself, is a row of ``tongcheng_code_blocks`` (district,
class, first and last serial, holder: the workspace it went to, by its
checkout, update or applied package, or ``office``), so the
next free serial of a district and class is one past the highest block (or
the highest code of them found in the data, whichever is higher); no serial
is handed out twice and no code is ever given again, even when the feature
that had it is deleted.  A code is the feature's identity: moving the
feature into another district does not change it.

* **checkout** reserves a block of serials per class of the layers it takes
  in each district of its scope (a street: its district; a district: that
  one; a box or a city: the districts it shares ground with, and the
  master's own district where it reaches beyond them; the whole master:
  every district) and sends the district polygons along
  (:meth:`CodeBook.reserve_for_checkout`); the workspace numbers its new
  features from them (``layers.workspace.numbering``).
* **apply** keeps each inserted feature's code when it is well formed and
  unused in the master; a feature without one, or with one already taken,
  gets the office's next code in the district of its position, and the
  report lists it (:meth:`CodeBook.settle`).  An update never changes a code.
* **import** into a master numbers its new features the same way
  (``layers.sync.master_import``).
* a new master numbers its demo features (:func:`first_codes`);
  ``codes --assign-missing`` numbers the features of an older master.

:class:`CodeBook` does this on either kind of master (``layers.sync.store``):
a GeoPackage (inside its one write transaction) or PostGIS (inside the
store's transaction; the serials of a district and class are handed out
under an advisory lock on the pair, and a unique index on each layer's code
makes an apply that kept a code a concurrent one just gave run again:
``layers.sync.code_tables``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import shapely

from layers.errors import SyncError
from layers.geopackage import GeoPackage, gpb_wkb
from layers.log import logger
from layers.schema.components import SERIAL_MAX, check_district, component_code, split_code
from layers.schema.definitions import LayerDefinition
from layers.sync.code_tables import (
    BLOCK_COLUMNS,
    BLOCKS_TABLE,
    DISTRICT_KEY,
    gpkg_code_tables,
    has_district_column,
    pg_ensure_code_tables,
    pg_lock,
)
from layers.sync.master import AREAS_TABLE, MASTER_TABLE, MasterInfo
from layers.sync.results import SyncResult
from layers.sync.rows import geometries, now_text, quote
from layers.workspace.districts import DistrictMap, districts_of_areas
from layers.workspace.numbering import set_checkout_blocks
from layers.workspace.store import Workspace

if TYPE_CHECKING:
    from layers.sync.areas import Scope

__all__ = ["BLOCKS_TABLE", "DISTRICT_KEY", "DEFAULT_BLOCK_SIZE", "OFFICE", "CodeBook", "master_district_code",
           "first_codes", "checkout_codes", "settle_codes"]

log = logger(__name__)

#: Serials per district and class a checkout reserves unless told otherwise.
DEFAULT_BLOCK_SIZE = 200
OFFICE = "office"
#: Why a new feature without a code got one on apply.
USED_UP = "no code: the workspace's block of codes was used up"
TAKEN = "code already given to another feature"

Pair = tuple[str, str]  # (district, class)


def master_district_code(district: str | None) -> str | None:
    """A new master's district code checked (SyncError naming it), or None."""
    if district is None:
        return None
    try:
        return check_district(district)
    except ValueError as exc:
        raise SyncError(str(exc)) from None


def first_codes(definition: LayerDefinition, rows: Sequence[MutableMapping[str, Any]], districts: Sequence[str],
                user: str | None, now: str, given: MutableMapping[Pair, int]) -> list[dict[str, Any]]:
    """Number a new master's rows (*districts*: each row's; serials from 1 per district and class, *given*
    counting across layers); the block rows that record them."""
    spec = definition.component
    if spec is None:
        return []
    groups: dict[Pair, list[MutableMapping[str, Any]]] = {}
    for row, district in zip(rows, districts, strict=True):
        if not row.get(spec.field):
            groups.setdefault((district, spec.component_class(row)), []).append(row)
    blocks = []
    for (district, component_class), members in sorted(groups.items()):
        first = given.get((district, component_class), 0) + 1
        for serial, row in enumerate(members, start=first):
            row[spec.field] = component_code(district, component_class, serial)
        given[(district, component_class)] = first + len(members) - 1
        blocks.append({"district": district, "component_class": component_class, "first_serial": first,
                       "last_serial": first + len(members) - 1, "holder": OFFICE, "purpose": "new master",
                       "package_uuid": None, "reserved_at": now, "reserved_by": user})
    return blocks


class _PlanRows(Protocol):
    """What settling needs of an apply's plan of one layer (``layers.sync.store.MasterPlan``)."""

    inserts: list[dict[str, Any]]
    updates: dict[str, dict[str, Any]]


class CodeBook:
    """A master's component-code bookkeeping, on its open store (GeoPackage or PostGIS).

    Writes happen in the store's transaction: a GeoPackage store opened for
    writing, or (PostGIS) inside ``store.run``; make a new book for each run.
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        self.minfo: MasterInfo = store.info
        gp = getattr(store, "gp", None)
        self.gp: GeoPackage | None = gp if isinstance(gp, GeoPackage) else None
        self.con: Any = self.gp.connection if self.gp is not None else store.con
        self.pg = self.gp is None
        self.schema: str = store.pg.schema if self.pg else ""
        #: The highest serial of a (district, class) this book handed out or kept, also where nothing is written.
        self._given: dict[Pair, int] = {}
        self._locked: set[Pair] = set()
        self._districts: DistrictMap | None = None
        self._area_rows: list[dict[str, Any]] | None = None
        self._per_district = False

    # -- SQL on either kind ----------------------------------------------------------

    def _q(self, text: str, parameters: Sequence[Any] = ()) -> Any:
        if not self.pg:
            return self.con.execute(text, parameters)
        return self.store.guarded(lambda: self.con.execute(text.replace("?", "%s"), parameters))

    def _many(self, text: str, rows: Sequence[Sequence[Any]]) -> None:
        if not self.pg:
            self.con.executemany(text, rows)
            return

        def work() -> None:
            with self.con.cursor() as cur:  # psycopg sends the rows in one pipeline
                cur.executemany(text.replace("?", "%s"), rows)

        self.store.guarded(work)

    def _has_blocks(self) -> bool:
        if self.pg:
            return self._q("SELECT to_regclass(?)", (f"{quote(self.schema)}.{BLOCKS_TABLE}",)).fetchone()[0] is not None
        return self._q("SELECT 1 FROM sqlite_master WHERE name = ?", (BLOCKS_TABLE,)).fetchone() is not None

    def _has_district_column(self) -> bool:
        """Whether the blocks count serials per district (an older master's do not, until its first write)."""
        if not self._per_district and self._has_blocks():
            self._per_district = (self.store.guarded(lambda: has_district_column(self.con, True)) if self.pg
                                  else has_district_column(self.con, False))
        return self._per_district

    def ensure_tables(self) -> None:
        """The blocks table (per district) and the code indexes, made or brought up to date (an older master)."""
        definitions = [self.minfo.definitions[n] for n in self.minfo.layers]
        if self.gp is not None:
            gpkg_code_tables(self.gp, definitions, self.district())
        else:
            self.store.guarded(lambda: pg_ensure_code_tables(self.con, self.schema, self.store.location,
                                                             definitions, self.district()))

    def _lock(self, pairs: Iterable[Pair]) -> None:
        """PostGIS: wait for, and hold until the end, each pair's serials (in one order: no two wait in a ring).
        A GeoPackage's writer holds the whole file."""
        for district, component_class in sorted(set(pairs) - self._locked):
            if self.pg:
                self.store.guarded(lambda d=district, c=component_class: pg_lock(
                    self.con, self.schema, f"component codes {d} {c}"))
            self._locked.add((district, component_class))

    @property
    def tables(self) -> list[tuple[str, str]]:
        """(layer, code field) of every component layer of the master."""
        return [(n, spec.field) for n in self.minfo.layers if (spec := self.minfo.definitions[n].component)]

    # -- districts --------------------------------------------------------------------

    def district(self) -> str | None:
        """The master's own district code (of positions outside its district areas), or None (no numbering)."""
        row = self._q(f"SELECT value FROM {MASTER_TABLE} WHERE key = ?", (DISTRICT_KEY,)).fetchone()
        return row[0] if row and row[0] else None

    def set_district(self, district: str) -> str:
        """Set the master's own district code (once: codes already given name the district)."""
        try:
            district = check_district(district)
        except ValueError as exc:
            raise SyncError(f"{self.store.location}: {exc}") from None
        current = self.district()
        if current == district:
            return district
        if current is not None:
            raise SyncError(f"{self.store.location}: numbers components in district {current} already; "
                            "its codes keep it")
        self._q(f"INSERT INTO {MASTER_TABLE} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                "SET value = excluded.value", (DISTRICT_KEY, district))
        self.ensure_tables()
        return district

    def areas(self) -> list[dict[str, Any]]:
        """The master's administrative areas (code, level, name, parent, geom as WKB)."""
        if self._area_rows is None:
            self._area_rows = self.store.table_rows(AREAS_TABLE)
        return self._area_rows

    def district_map(self) -> DistrictMap:
        """The master's district areas, with its own district as the fallback."""
        if self._districts is None:
            self._districts = DistrictMap(districts_of_areas(self.areas()), self.district())
        return self._districts

    def districts_of(self, wkbs: Sequence[bytes | None]) -> list[str]:
        """The district of each geometry (WKB): of the district area holding it, else the master's own."""
        fallback = self.district()
        assert fallback is not None
        return [d or fallback for d in self.district_map().of(geometries(list(wkbs)))]

    def checkout_districts(self, scope: Scope | None, bbox: tuple[float, float, float, float] | None) -> list[str]:
        """The districts a checkout of *scope* (or *bbox*; neither: the whole master) reserves serials in."""
        dmap = self.district_map()
        fallback = self.district()
        assert fallback is not None
        if scope is None and bbox is None:
            return sorted({*dmap.codes, fallback})
        if scope is not None:
            shape, level, code = scope.shape, scope.text.partition(":")[0], scope.area_code
        else:
            assert bbox is not None
            shape, level, code = shapely.box(*bbox), "bbox", None
        parent = {a["code"]: a.get("parent") for a in self.areas()}
        if level == "district" and code in dmap.codes:
            chosen = [str(code)]
        elif level == "street" and parent.get(code) in dmap.codes:
            chosen = [str(parent[code])]
        else:
            chosen = dmap.meeting(shape)
        if not chosen or not dmap.covers(shape):
            chosen.append(fallback)
        return sorted(set(chosen))

    # -- serials ----------------------------------------------------------------------

    def _digits(self, column: str) -> str:
        c = quote(column)
        return f"{c} ~ '^[0-9]{{16}}$'" if self.pg else f"length({c}) = 16 AND {c} NOT GLOB '*[^0-9]*'"

    def next_serial(self, district: str, component_class: str) -> int:
        """One past the highest serial of a district and class handed out (blocks), found in the data, or given
        by this book (a dry run records nothing).

        The data count too: a master whose blocks table was lost (a copy that
        did not carry it) never hands out a serial a feature already has.
        """
        highest = self._given.get((district, component_class), 0)
        if self._has_blocks():
            row = None
            if self._has_district_column():
                row = self._q(f"SELECT max(last_serial) FROM {BLOCKS_TABLE} WHERE component_class = ? AND "
                              "COALESCE(district, ?) = ?", (component_class, self.district(), district)).fetchone()
            elif district == self.district():  # an older master: every block is of its own district
                row = self._q(f"SELECT max(last_serial) FROM {BLOCKS_TABLE} WHERE component_class = ?",
                              (component_class,)).fetchone()
            highest = max(highest, int(row[0] or 0) if row else 0)
        prefix = district + component_class
        for layer, column in self.tables:  # a range on the code's index
            row = self._q(f"SELECT max({quote(column)}) FROM {quote(layer)} WHERE {quote(column)} BETWEEN ? AND ? "
                          f"AND {self._digits(column)}", (prefix + "000000", prefix + "999999")).fetchone()
            if row[0]:
                highest = max(highest, int(str(row[0])[len(prefix):]))
        return highest + 1

    def reserve(self, district: str, component_class: str, size: int, holder: str, purpose: str, *,
                user: str | None = None, package_uuid: str | None = None, write: bool = True,
                start: int | None = None) -> tuple[int, int]:
        """Hand out the next *size* serials of a district and class to *holder*; returns (first, last).

        ``write=False`` (a dry run) says which serials it would be and records nothing.
        """
        if write:
            self._lock([(district, component_class)])
        first = start if start is not None else self.next_serial(district, component_class)
        last = first + size - 1
        if size < 1 or last > SERIAL_MAX:
            raise SyncError(f"component class {component_class} in district {district}: no {size} serials left "
                            f"(serials run to {SERIAL_MAX:06d}; {max(0, SERIAL_MAX - first + 1)} left)")
        if write:
            self._q(f"INSERT INTO {BLOCKS_TABLE} ({', '.join(BLOCK_COLUMNS)}) VALUES "
                    f"({', '.join('?' * len(BLOCK_COLUMNS))})",
                    (district, component_class, first, last, holder, purpose, package_uuid, now_text(), user))
        key = (district, component_class)
        self._given[key] = max(self._given.get(key, 0), last)
        return first, last

    def reserve_for_checkout(self, workspace_id: str, layers: Sequence[str], size: int, user: str | None, *,
                             scope: Scope | None = None, bbox: tuple[float, float, float, float] | None = None,
                             ) -> tuple[str, list[tuple[str, str, int, int]]] | None:
        """A block of *size* serials per class of *layers* in each district of the checkout
        (:meth:`checkout_districts`): (the master's district, [(district, class, first, last)]), or None."""
        fallback = self.district()
        classes = list(dict.fromkeys(c for name in layers if (spec := self.minfo.definitions[name].component)
                                     for c in spec.classes))
        if fallback is None or not classes:
            return None
        if size < 1:
            raise SyncError(f"a block of component codes holds at least 1 serial, not {size}")
        self.ensure_tables()
        pairs = [(d, c) for d in self.checkout_districts(scope, bbox) for c in classes]
        self._lock(pairs)
        blocks = [(d, c, *self.reserve(d, c, size, workspace_id, "checkout", user=user)) for d, c in pairs]
        log.info("%s: reserved %d serials per district and class for workspace %s: %s", self.store.location, size,
                 workspace_id, ", ".join(f"{d} {c} {a:06d}-{b:06d}" for d, c, a, b in blocks))
        return fallback, blocks

    def used_codes(self, codes: Iterable[str]) -> set[str]:
        """Of *codes*, those a feature of the master already has."""
        wanted = sorted(set(codes))
        used: set[str] = set()
        for layer, column in self.tables:
            for i in range(0, len(wanted), 500):
                part = wanted[i:i + 500]
                used.update(r[0] for r in self._q(f"SELECT {quote(column)} FROM {quote(layer)} WHERE {quote(column)} "
                                                  f"IN ({', '.join('?' * len(part))})", part).fetchall())
        return used

    def number(self, items: Sequence[tuple[LayerDefinition, MutableMapping[str, Any]]], districts: Sequence[str], *,
               purpose: str, user: str | None = None, package_uuid: str | None = None, write: bool = True,
               holder: str = OFFICE) -> None:
        """Give each row its office's next code: in its district (*districts*, one per row) and class, one block
        per district and class (held by *holder*: the office, or the workspace whose package is applied), in the
        order given."""
        groups: dict[Pair, list[tuple[str, MutableMapping[str, Any]]]] = {}
        for (definition, row), district in zip(items, districts, strict=True):
            spec = definition.component
            assert spec is not None
            groups.setdefault((district, spec.component_class(row)), []).append((spec.field, row))
        if write:
            self._lock(groups)
        for (district, component_class), members in groups.items():
            first, _ = self.reserve(district, component_class, len(members), holder, purpose, user=user,
                                    package_uuid=package_uuid, write=write)
            for offset, (field, row) in enumerate(members):
                row[field] = component_code(district, component_class, first + offset)

    # -- apply and import -------------------------------------------------------------

    def settle_inserts(self, batches: Sequence[tuple[LayerDefinition, Sequence[dict[str, Any]]]],
                       renumbered: list[dict[str, Any]], *, holder: str, purpose: str, missing: str,
                       package_uuid: str | None, user: str | None, write: bool) -> None:
        """Make the codes of new features (rows with ``uuid`` and WKB ``geom``) unique in the master, in place.

        A well-formed code unused in the master (and in the batch) is kept; if
        it lies beyond the serials of its district and class handed out so
        far, a block of the kept serials is recorded so no one is given them
        later.  A row without a code (*missing* says why), with a malformed
        one or one already taken gets the office's next code in the district
        of its position (beyond the codes kept here, also in a dry run), in
        uuid order; *renumbered* lists it.
        """
        rows = [(d, row) for d, layer_rows in batches if d.component is not None
                for row in sorted(layer_rows, key=lambda r: str(r["uuid"]))]
        fields = [d.component.field for d, _ in rows if d.component is not None]
        used = self.used_codes(str(row[f]) for (_, row), f in zip(rows, fields, strict=True) if split_code(row.get(f)))
        taken: set[str] = set()
        kept: dict[Pair, list[int]] = {}
        again: list[tuple[LayerDefinition, dict[str, Any], str]] = []
        for (definition, row), field in zip(rows, fields, strict=True):
            code = row.get(field)
            parsed = split_code(code)
            if not code:
                reason = missing
            elif parsed is None:
                reason = "not a component code"
            elif code in taken or code in used:
                reason = TAKEN
            else:
                taken.add(code)
                kept.setdefault((parsed[0], parsed[1]), []).append(parsed[2])
                continue
            again.append((definition, row, reason))
        districts = self.districts_of([row.get("geom") for _, row, _ in again]) if again else []
        # Kept serials within those handed out need no lock (serials only grow); one beyond them is checked
        # again under its pair's lock, taken with the pairs renumbering draws from, in one order.
        late = {pair for pair, serials in kept.items() if max(serials) >= self.next_serial(*pair)}
        if write:
            self._lock([*late, *((d, defn.component.component_class(row)) for (defn, row, _), d
                                 in zip(again, districts, strict=True) if defn.component is not None)])
        for district, component_class in sorted(late):
            beyond = [s for s in kept[(district, component_class)] if s >= self.next_serial(district, component_class)]
            if beyond:
                self.reserve(district, component_class, max(beyond) - min(beyond) + 1, holder, "kept", user=user,
                             package_uuid=package_uuid, write=write, start=min(beyond))
        if not again:
            return
        before = []
        for definition, row, _ in again:
            assert definition.component is not None
            before.append(row.get(definition.component.field))
            row[definition.component.field] = None
        self.number([(definition, row) for definition, row, _ in again], districts, purpose=purpose, user=user,
                    package_uuid=package_uuid, write=write, holder=holder)
        for (definition, row, reason), old in zip(again, before, strict=True):
            assert definition.component is not None
            renumbered.append({"layer": definition.name, "uuid": str(row["uuid"]), "from": old,
                               "to": row[definition.component.field], "reason": reason})

    def settle(self, plans: Mapping[str, _PlanRows], result: SyncResult, *, workspace_id: str | None,
               package_uuid: str, user: str | None, write: bool) -> None:
        """Make the codes of an apply's plans unique in the master, in place (see :func:`settle_codes`)."""
        if self.district() is None:
            return
        if write:
            self.ensure_tables()
        batches = []
        for layer, plan in plans.items():
            definition = self.minfo.definitions[layer]
            spec = definition.component
            if spec is None:
                continue
            for uuid, changed in list(plan.updates.items()):
                if spec.field in changed:
                    result.renumbered.append({"layer": layer, "uuid": uuid, "from": changed.pop(spec.field),
                                              "to": None, "reason": "a component code never changes: the "
                                              "master's code is kept"})
                    if not set(changed) - {"modified_by", "modified_at"}:
                        del plan.updates[uuid]
                        result.layers[layer].updates -= 1
            batches.append((definition, plan.inserts))
        self.settle_inserts(batches, result.renumbered, holder=workspace_id or OFFICE, purpose="apply",
                            missing=USED_UP, package_uuid=package_uuid, user=user, write=write)

    # -- the office's commands --------------------------------------------------------

    def _geometry(self) -> str:
        return "ST_AsBinary(geom)" if self.pg else "geom"

    def assign_missing(self, user: str | None) -> dict[str, int]:
        """Give every feature without a component code the office's next code (in its district); per layer how
        many."""
        if self.district() is None:
            raise SyncError(f"{self.store.location}: numbers no components yet: give its district code first "
                            "(--district)")
        self.ensure_tables()
        found: dict[str, list[dict[str, Any]]] = {}
        for name in self.minfo.layers:
            spec = self.minfo.definitions[name].component
            if spec is None:
                continue
            columns = list(dict.fromkeys([spec.field, *(r.field for r in spec.rules)]))
            has_geometry = self.minfo.definitions[name].has_geometry
            found[name] = [{"uuid": r[0], "geom": r[1], **dict(zip(columns, r[2:], strict=True))} for r in self._q(
                f"SELECT uuid, {self._geometry() if has_geometry else 'NULL'}, {', '.join(map(quote, columns))} "
                f"FROM {quote(name)} WHERE {quote(spec.field)} IS NULL OR {quote(spec.field)} = '' ORDER BY uuid"
            ).fetchall()]
            for row in found[name]:
                if row["geom"] is not None:
                    row["geom"] = bytes(row["geom"]) if self.pg else gpb_wkb(row["geom"])
        items = [(self.minfo.definitions[name], row) for name, rows in found.items() for row in rows]
        self.number(items, self.districts_of([row["geom"] for _, row in items]), purpose="assign", user=user)
        for name, rows in found.items():
            field = self.minfo.definitions[name].component.field  # type: ignore[union-attr]
            self._many(f"UPDATE {quote(name)} SET {quote(field)} = ? WHERE uuid = ?",
                       [(r[field], r["uuid"]) for r in rows])
        return {name: len(rows) for name, rows in found.items()}

    def blocks(self) -> list[dict[str, Any]]:
        """Every block handed out, oldest first (empty for a master that numbers nothing)."""
        if not self._has_blocks():
            return []
        per_district = self._has_district_column()
        selected = BLOCK_COLUMNS if per_district else BLOCK_COLUMNS[1:]
        rows = [r if per_district else (None, *r) for r in self._q(
            f"SELECT {', '.join(selected)} FROM {BLOCKS_TABLE} ORDER BY fid").fetchall()]
        own = self.district()
        return [{**dict(zip(BLOCK_COLUMNS, r, strict=True)), "district": r[0] or own} for r in rows]

    def missing(self) -> dict[str, int]:
        """Per component layer, the features without a code."""
        return {layer: int(self._q(f"SELECT count(*) FROM {quote(layer)} WHERE {quote(column)} IS NULL "
                                   f"OR {quote(column)} = ''").fetchone()[0]) for layer, column in self.tables}


def checkout_codes(store: Any, ws: Workspace, layers: Sequence[str], size: int, user: str | None, *,
                   scope: Scope | None = None, bbox: tuple[float, float, float, float] | None = None) -> None:
    """Reserve a checkout's blocks in the master (committed at once) and record them, with the master's district
    polygons, in the workspace.

    *store* is the checkout's open master, read only: a master that numbers
    nothing (no district code, no component layer taken) is never written.
    """
    from layers.sync.store import open_master

    if CodeBook(store).district() is None or not any(store.info.definitions[n].component for n in layers):
        return
    with open_master(store.location, write=True) as writable:
        def work() -> tuple[tuple[str, list[tuple[str, str, int, int]]] | None, CodeBook]:
            book = CodeBook(writable)
            return book.reserve_for_checkout(ws.id, layers, size, user, scope=scope, bbox=bbox), book

        reserved, book = writable.run(work)
    if reserved is not None:
        set_checkout_blocks(ws, *reserved, book.district_map().districts)


def settle_codes(store: Any, minfo: MasterInfo, plans: Mapping[str, _PlanRows], result: SyncResult, *,
                 workspace_id: str | None, package_uuid: str, user: str | None, write: bool) -> None:
    """Make the codes of an apply's plans unique in the master, in place (inside the apply's transaction).

    Inserted features: a code that is missing, malformed or already taken is
    replaced by the office's next one in the district of the feature's
    position (in uuid order), listed in ``result.renumbered``.  A well-formed
    unused code is kept, whichever district it names (a feature moved after
    it was numbered keeps it); if it lies beyond the serials handed out so
    far, a block of them is recorded so no one is given them later.  Updated
    features: a change of the code is dropped (the master's stays), and
    listed too.
    """
    if any(minfo.definitions[layer].component for layer in plans):
        CodeBook(store).settle(plans, result, workspace_id=workspace_id, package_uuid=package_uuid, user=user,
                               write=write)
