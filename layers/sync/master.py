"""The office's master GeoPackage: its bookkeeping tables, create_master, read_master, recover.

The office keeps the **master**: a GeoPackage with one feature table per
facility layer (``fid``, ``geom``, ``uuid``, the definition's fields, the audit
columns) and attribute tables of its own:

``tongcheng_master``
    key/value: ``master_id`` (a uuid made once), ``version`` (raised by every
    apply that is not a repeat), CRS, the layer definitions' code lists.
``tongcheng_layers``
    the layer definitions (TOML text), so a checkout makes a workspace with
    exactly the master's fields, and a package can be checked against them.
``tongcheng_ledger``
    one row per change package applied: its uuid, workspace, editor, base
    version, the version it made, counts.  A package already in the ledger
    is not applied again.
``tongcheng_deleted``
    who deleted which feature and when (through an apply), so a later
    conflict with a field edit can name the office's editor and time.
``tongcheng_history``
    every change an apply made, with old and new values (``layers.sync.history``;
    made by the first apply that changes something).
``tongcheng_areas``
    administrative areas (city, district, street) as polygons: the scopes of
    checkouts (``layers.sync.areas``).

A master can also live in a PostGIS database (``layers.sync.postgis``), with
the same tables; ``layers.sync.store`` puts both behind one interface.
"""

from __future__ import annotations

import os
import sqlite3
import tomllib
import uuid as uuid_module
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layers import __version__
from layers.crs.epsg import epsg_crs
from layers.errors import GeoPackageError, SyncError
from layers.geopackage import Column, GeoPackage, LayerSchema, gpb_wkb, open_geopackage
from layers.log import logger
from layers.schema.definitions import (
    DEFINITIONS_FOLDER,
    LayerDefinition,
    load_definitions,
    parse_codelists,
    parse_definition,
    validate_feature,
)
from layers.sqlite.locks import busy_timeout, in_use, is_locked
from layers.sync.rows import AUDIT_COLUMNS, CHUNK, now_text, quote
from layers.workspace.identity import login_name

__all__ = [
    "MASTER_TABLE",
    "LAYERS_TABLE",
    "LEDGER_TABLE",
    "DELETED_TABLE",
    "PACKAGE_TABLE",
    "HISTORY_TABLE",
    "AREAS_TABLE",
    "DEFINITIONS_TABLE",
    "LAYER_ADDED_KEY",
    "MasterContent",
    "master_content",
    "INTERNAL_TABLES",
    "MasterInfo",
    "master_schema",
    "parse_master_info",
    "key_value_schema",
    "definitions_schema",
    "create_master",
    "recover",
    "read_master",
    "read_master_info",
    "master_columns",
    "master_rows",
    "master_rows_by_uuid",
    "bbox_condition",
]

log = logger(__name__)

MASTER_TABLE = "tongcheng_master"
LAYERS_TABLE = "tongcheng_layers"
LEDGER_TABLE = "tongcheng_ledger"
DELETED_TABLE = "tongcheng_deleted"
PACKAGE_TABLE = "tongcheng_package"
HISTORY_TABLE = "tongcheng_history"
AREAS_TABLE = "tongcheng_areas"
#: Every version of a layer definition the office changed or added (``layers.sync.definition_changes``).
DEFINITIONS_TABLE = "tongcheng_definition_changes"
#: ``tongcheng_master`` key (with the layer's name after it) of the master version that added a layer.
LAYER_ADDED_KEY = "layer_added:"
#: Tables of masters and packages that are Tongcheng's bookkeeping, not data.
INTERNAL_TABLES = (MASTER_TABLE, LAYERS_TABLE, LEDGER_TABLE, DELETED_TABLE, PACKAGE_TABLE, HISTORY_TABLE, AREAS_TABLE,
                   "layer_styles", "tongcheng_code_blocks", DEFINITIONS_TABLE)
MASTER_FORMAT = "1"


@dataclass
class MasterInfo:
    """What a master GeoPackage says about itself.

    Attributes
    ----------
    path : Path
    master_id : str
    version : int
    srid : int
    definitions : dict
        Every layer definition (facility and survey) by name.
    layers : list of str
        The facility layers the master holds (feature tables).
    codelists : str
        The ``_codelists.toml`` text the definitions use.
    texts : dict
        The TOML text of each definition.
    layers_added : dict
        The master version that added each layer added after the master was made
        (``tongcheng definitions add``).
    """

    path: Path | str
    master_id: str
    version: int
    srid: int
    definitions: dict[str, LayerDefinition]
    layers: list[str]
    codelists: str
    texts: dict[str, str]
    layers_added: dict[str, int] = field(default_factory=dict)

    @property
    def crs(self) -> str:
        return f"EPSG:{self.srid}"


def master_schema(definition: LayerDefinition, srid: int) -> LayerSchema:
    """The GeoPackage schema of one master layer (uuid, fields, audit columns)."""
    columns = [Column("uuid", "TEXT", not_null=True, unique=True)]
    columns += [Column(f.name, f.sql_type) for f in definition.fields]
    columns += [Column(c, "DATETIME" if c.endswith("_at") else "TEXT") for c in AUDIT_COLUMNS]
    return LayerSchema(definition.name, tuple(columns),
                       geometry_type=definition.geometry_type if definition.has_geometry else None,
                       srs_id=srid, identifier=definition.title("zh_CN"),
                       description=definition.title("en"))


def key_value_schema(name: str, description: str) -> LayerSchema:
    return LayerSchema(name, (Column("key", "TEXT", not_null=True, unique=True), Column("value", "TEXT")),
                       description=description)


def _definition_text(definition: LayerDefinition) -> str:
    """The TOML text a definition was read from (stored in the master beside the layer)."""
    if definition.source is None:  # load_definitions reads every definition from a file
        raise SyncError(f"layer {definition.name!r}: its definition file is unknown")
    return definition.source.read_text("utf-8")


@dataclass
class MasterContent:
    """What a new master holds, whatever its kind: meta keys, definitions, and (demo) feature rows."""

    srid: int
    definitions: dict[str, LayerDefinition]
    meta: dict[str, str]
    layer_rows: list[dict[str, Any]]
    #: Per facility layer the rows to insert (uuid, values, geom as a shapely geometry or WKB, audit; ``fid``
    #: kept if present).
    rows: dict[str, Iterable[dict[str, Any]]]
    #: Bookkeeping rows of a master copied whole (``master copy``): ledger, deleted, history.
    ledger: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    #: Administrative areas: code, level, name, parent, geom (shapely or WKB).
    areas: list[dict[str, Any]] = field(default_factory=list)
    #: Rows per facility layer, when known in advance (progress).
    total: int = 0
    #: Serials of component codes handed out (``layers.sync.codes``): rows of ``tongcheng_code_blocks``.
    code_blocks: list[dict[str, Any]] = field(default_factory=list)
    #: Every recorded version of the layer definitions (``master copy``): rows of ``tongcheng_definition_changes``.
    definition_changes: list[dict[str, Any]] = field(default_factory=list)
    #: A master copied whole into PostGIS: per facility layer, chunks of tuples in ``master_columns`` order
    #: (geometry as hex EWKB: ``MasterStore.records``), read instead of *rows*.
    records: dict[str, Iterable[Sequence[Sequence[Any]]]] | None = None

    @property
    def facility(self) -> list[LayerDefinition]:
        return [d for d in self.definitions.values() if not d.survey]


def master_content(crs: str = "EPSG:4544", user: str | None = None, demo: bool = False, *, seed: int = 2026,
                   counts: dict[str, int] | None = None,
                   definitions_folder: str | os.PathLike | None = None, district: str | None = None) -> MasterContent:
    """The content of a new master (empty, or the demo district): the part GeoPackage and PostGIS share.

    *district*: the master's own 6-digit district code (the demo's: ``510104``); the demo's features get
    their codes in the district area each lies in, else in *district* (``layers.sync.codes``).
    """
    from layers.sync.codes import DISTRICT_KEY, first_codes, master_district_code
    from layers.workspace.identity import new_uuid

    srid, _ = epsg_crs(crs, SyncError)
    folder = Path(definitions_folder) if definitions_folder else None
    definitions = load_definitions(folder)
    codelists_path = (folder or DEFINITIONS_FOLDER) / "_codelists.toml"
    codelists = codelists_path.read_text("utf-8") if codelists_path.exists() else ""
    user = user or login_name()
    features = {}
    if demo:
        from layers.demo import DEMO_DISTRICT, demo_features

        features = demo_features(f"EPSG:{srid}", seed, counts)
        district = district or DEMO_DISTRICT
    district = master_district_code(district)
    now = now_text()
    meta = {"format": MASTER_FORMAT, "master_id": str(uuid_module.uuid4()), "version": "1", "srid": str(srid),
            "created_at": now, "created_by": user, "app_version": __version__, "codelists": codelists}
    if district:
        meta[DISTRICT_KEY] = district
    layer_rows = [{"name": d.name, "position": i, "facility": not d.survey, "definition": _definition_text(d)}
                  for i, d in enumerate(definitions.values())]
    rows: dict[str, Iterable[dict[str, Any]]] = {}
    for definition in definitions.values():
        if definition.survey:
            continue
        rows[definition.name] = [
            {"uuid": new_uuid(), **validate_feature(definition, attributes, None), "geom": geometry,
             "created_by": user, "created_at": now, "modified_by": user, "modified_at": now}
            for attributes, geometry in features.get(definition.name, ())]
    areas = []
    if demo:
        from layers.demo import demo_areas

        areas = demo_areas(f"EPSG:{srid}")
    code_blocks: list[dict[str, Any]] = []
    if district:  # each feature numbered in the district (area) it lies in, else in the master's own
        from layers.workspace.districts import DistrictMap, districts_of_areas

        dmap = DistrictMap(districts_of_areas(areas), district)
        given: dict[tuple[str, str], int] = {}
        for d in definitions.values():
            if d.name in rows and d.component is not None:
                features_rows = list(rows[d.name])
                found = dmap.of([r["geom"] for r in features_rows])
                code_blocks += first_codes(d, features_rows, [f or district for f in found], user, now, given)
    return MasterContent(srid, definitions, meta, layer_rows, rows, areas=areas,
                         total=sum(len(features.get(d, ())) for d in rows), code_blocks=code_blocks)


def create_master(path: str | os.PathLike, crs: str = "EPSG:4544", user: str | None = None,
                  demo: bool = False, *, seed: int = 2026, counts: dict[str, int] | None = None,
                  definitions_folder: str | os.PathLike | None = None,
                  progress: Callable[[int, int], None] | None = None, district: str | None = None) -> MasterInfo:
    """Create the office's master GeoPackage (empty, or filled with the demo district).

    Parameters
    ----------
    path : path-like
        The ``.gpkg`` file to create; it must not exist.
    crs : str
        CRS of every layer (``EPSG:n``).
    user : str, optional
        Name written into the audit columns of demo features.
    demo : bool
        Fill the facility layers with the demo district (``layers.demo``).
    seed, counts : passed to ``layers.demo.demo_features``.
    definitions_folder : path-like, optional
        Layer definitions (default: the shipped ones).
    progress : callable(done, total), optional
    district : str, optional
        The 6-digit district code its component codes are numbered in
        (``layers.sync.codes``; the demo's is ``510104``). Without one, no
        codes are given until ``tongcheng codes --district`` sets it.

    Returns
    -------
    MasterInfo
    """
    path = Path(path)
    if path.exists():
        raise SyncError(f"{path}: already exists")
    content = master_content(crs, user, demo, seed=seed, counts=counts, definitions_folder=definitions_folder,
                             district=district)
    write_master_file(path, content, progress)
    return read_master(path)


def areas_schema(srid: int) -> LayerSchema:
    """The GeoPackage layer of administrative areas (city, district, street polygons)."""
    return LayerSchema(AREAS_TABLE, (
        Column("code", "TEXT", not_null=True, unique=True), Column("level", "TEXT", not_null=True),
        Column("name", "TEXT"), Column("parent", "TEXT")),
        geometry_type="MULTIPOLYGON", srs_id=srid, identifier="行政区划",
        description="Tongcheng: administrative areas (city, district, street), the scopes of checkouts")


def definitions_schema() -> LayerSchema:
    """The GeoPackage table of every recorded version of a layer definition."""
    return LayerSchema(DEFINITIONS_TABLE, (
        Column("layer", "TEXT", not_null=True), Column("version", "INTEGER", not_null=True),
        Column("definition", "TEXT", not_null=True), Column("mappings", "TEXT"),
        Column("changed_at", "DATETIME"), Column("changed_by", "TEXT")),
        description="Tongcheng layer definitions: every version of a changed definition")


def _shapes(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Rows with WKB geometries given shapely ones (in chunks), as GeoPackage.write_rows takes them."""
    import numpy as np
    import shapely

    chunk: list[dict[str, Any]] = []

    def flush() -> Iterator[dict[str, Any]]:
        wkbs = [i for i, r in enumerate(chunk) if isinstance(r.get("geom"), (bytes, bytearray, memoryview))]
        if wkbs:
            arr = np.empty(len(wkbs), dtype=object)
            arr[:] = [bytes(chunk[i]["geom"]) for i in wkbs]
            for i, g in zip(wkbs, shapely.from_wkb(arr), strict=True):
                chunk[i] = {**chunk[i], "geom": g}
        yield from chunk

    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield from flush()
            chunk = []
    yield from flush()


def write_master_file(path: Path, content: MasterContent, progress: Callable[[int, int], None] | None = None,
                      finish: Callable[[GeoPackage], None] | None = None) -> None:
    """Write a master GeoPackage at *path* (new) holding *content*; *finish* writes more into it (photos) before
    the file is complete."""
    srid, facility = content.srid, content.facility
    total = content.total
    done = 0
    with open_geopackage(path, "w") as gp:
        gp.add_srs(srid)
        for definition in facility:
            gp.create_layer(master_schema(definition, srid))
        gp.create_layer(key_value_schema(MASTER_TABLE, "Tongcheng master: id and version"))
        gp.create_layer(LayerSchema(LAYERS_TABLE, (
            Column("name", "TEXT", not_null=True, unique=True), Column("position", "INTEGER"),
            Column("facility", "BOOLEAN"), Column("definition", "TEXT", not_null=True)),
            description="Tongcheng layer definitions"))
        gp.create_layer(LayerSchema(LEDGER_TABLE, (
            Column("package_uuid", "TEXT", not_null=True, unique=True), Column("workspace_id", "TEXT"),
            Column("editor", "TEXT"), Column("base_version", "INTEGER"), Column("version", "INTEGER"),
            Column("applied_at", "DATETIME"), Column("applied_by", "TEXT"), Column("policy", "TEXT"),
            Column("inserts", "INTEGER"), Column("updates", "INTEGER"), Column("deletes", "INTEGER"),
            Column("conflicts", "INTEGER"), Column("file", "TEXT")),
            description="Tongcheng change packages applied"))
        gp.create_layer(LayerSchema(DELETED_TABLE, (
            Column("layer", "TEXT", not_null=True), Column("uuid", "TEXT", not_null=True),
            Column("deleted_by", "TEXT"), Column("deleted_at", "DATETIME"),
            Column("package_uuid", "TEXT"), Column("version", "INTEGER")),
            description="Features deleted through Tongcheng change packages"))
        gp.connection.execute(f"CREATE INDEX {DELETED_TABLE}_uuid ON {DELETED_TABLE} (uuid)")
        gp.create_layer(areas_schema(srid))
        gp.write_rows(MASTER_TABLE, [{"key": k, "value": v} for k, v in content.meta.items()])
        gp.write_rows(LAYERS_TABLE, content.layer_rows)
        if content.ledger:
            gp.write_rows(LEDGER_TABLE, content.ledger)
        if content.deleted:
            gp.write_rows(DELETED_TABLE, content.deleted)
        if content.history:
            from layers.sync.gpkg_store import history_schema

            gp.create_layer(history_schema())
            gp.connection.execute(f"CREATE INDEX {HISTORY_TABLE}_uuid ON {HISTORY_TABLE} (uuid)")
            gp.write_rows(HISTORY_TABLE, content.history)
        if content.areas:
            gp.write_rows(AREAS_TABLE, _shapes(content.areas))
        if content.definition_changes:
            gp.create_layer(definitions_schema())
            gp.write_rows(DEFINITIONS_TABLE, content.definition_changes)
        if any(d.component for d in facility):  # component codes: the serials handed out, an index per layer
            from layers.sync.code_tables import BLOCKS_TABLE, DISTRICT_KEY, gpkg_code_tables, with_districts

            gpkg_code_tables(gp, facility)
            if content.code_blocks:
                gp.write_rows(BLOCKS_TABLE, with_districts(content.code_blocks, content.meta.get(DISTRICT_KEY)))
        from layers.geopackage.styles import layer_qml, layer_sld

        for definition in facility:
            rows = _shapes(content.rows.get(definition.name, []))
            if not definition.has_geometry:  # an attributes table (inspections): rows read from a master carry
                rows = ({k: v for k, v in r.items() if k != "geom"} for r in rows)  # geom None
            n = gp.write_rows(definition.name, rows)
            done += n
            if progress:
                progress(done, total)
            gp.add_style(definition.name, definition.name[:30], layer_qml(definition),
                         sld=layer_sld(definition), description=definition.title("zh_CN"),
                         owner="tongcheng")
        if finish is not None:
            finish(gp)


def recover(path: str | os.PathLike) -> None:
    """Roll back what an interrupted apply left in *path* (a hot journal), if anything.

    SQLite does this on the next read-write open; a read-only open cannot, so
    readers call this first.
    """
    path = Path(path)
    if Path(str(path) + "-journal").exists() and path.is_file():
        try:
            con = sqlite3.connect(path, timeout=busy_timeout())
        except sqlite3.Error as exc:
            raise GeoPackageError(f"{path}: cannot recover an interrupted write: {exc}") from None
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            if is_locked(exc):
                raise in_use(path) from None
            raise GeoPackageError(f"{path}: cannot recover an interrupted write: {exc}") from None
        finally:
            con.close()


def read_master_info(gp: GeoPackage) -> MasterInfo:
    """The :class:`MasterInfo` of an open master GeoPackage (SyncError if it is not one)."""
    path = gp.path
    if not gp.connection.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (MASTER_TABLE,)).fetchone():
        if gp.connection.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (PACKAGE_TABLE,)).fetchone():
            raise SyncError(f"{path}: this is a change package, not a Tongcheng master")
        raise SyncError(f"{path}: not a Tongcheng master (no {MASTER_TABLE} table)")
    try:
        meta = dict(gp.connection.execute(f"SELECT key, value FROM {MASTER_TABLE}"))
        texts = {name: (text, bool(facility)) for name, text, facility in gp.connection.execute(
            f"SELECT name, definition, facility FROM {LAYERS_TABLE} ORDER BY position")}
    except sqlite3.Error as exc:
        raise SyncError(f"{path}: damaged Tongcheng master ({exc})") from None
    info = parse_master_info(path, meta, texts)
    present = set(gp.layers())
    for name in info.layers:
        if name not in present:
            raise SyncError(f"{path}: master layer {name!r} is missing")
    return info


def parse_master_info(path: Path | str, meta: dict[str, str], texts: dict[str, tuple[str, bool]]) -> MasterInfo:
    """The :class:`MasterInfo` of a master's key/value rows and layer definitions (any kind of master).

    *texts* maps each layer to its definition's TOML text and whether it is a facility layer.
    """
    if meta.get("format") != MASTER_FORMAT:
        newer = str(meta.get("format") or "").isdigit() and int(str(meta.get("format"))) > int(MASTER_FORMAT)
        raise SyncError(f"{path}: master format {meta.get('format')!r} is not supported "
                        f"(this Tongcheng reads {MASTER_FORMAT}"
                        + ("; the master was made by a newer Tongcheng: upgrade this one)" if newer else ")"))
    try:
        codelists = parse_codelists(tomllib.loads(meta.get("codelists") or ""), f"{path} code lists")
        definitions = {name: parse_definition(tomllib.loads(text), codelists, f"{path}: layer {name}", name)
                       for name, (text, _) in texts.items()}
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise SyncError(f"{path}: damaged layer definitions ({exc})") from None
    layers = [name for name, (_, facility) in texts.items() if facility]
    added = {key[len(LAYER_ADDED_KEY):]: int(value) for key, value in meta.items()
             if key.startswith(LAYER_ADDED_KEY) and str(value).isdigit()}
    return MasterInfo(path=path, master_id=meta["master_id"], version=int(meta["version"]),
                      srid=int(meta["srid"]), definitions=definitions, layers=layers,
                      codelists=meta.get("codelists") or "",
                      texts={name: text for name, (text, _) in texts.items()}, layers_added=added)


def read_master(path: str | os.PathLike) -> MasterInfo:
    """Read a master's id, version, CRS and layer definitions.

    Raises
    ------
    GeoPackageError
        The file is missing, not a GeoPackage, truncated.
    SyncError
        It is a GeoPackage but not a Tongcheng master.
    """
    recover(path)
    with open_geopackage(path) as gp:
        info = read_master_info(gp)
    return info


def master_columns(definition: LayerDefinition) -> list[str]:
    """The columns of a master layer that sync reads, in order (no ``geom`` in an attributes table)."""
    return ["fid", *(["geom"] if definition.has_geometry else []), "uuid", *definition.field_names, *AUDIT_COLUMNS]


def master_rows(con: sqlite3.Connection, definition: LayerDefinition, where: str = "",
                parameters: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
    """Raw rows of a master layer as dicts (geometry as WKB under 'geom'), in chunks."""
    names = master_columns(definition)
    sql = f"SELECT {', '.join(map(quote, names))} FROM {quote(definition.name)}" + (f" WHERE {where}" if where else "")
    cursor = con.execute(sql, parameters)
    while True:
        chunk = cursor.fetchmany(CHUNK)
        if not chunk:
            return
        for row in chunk:
            d = dict(zip(names, row, strict=True))
            d["geom"] = gpb_wkb(d.get("geom"))
            yield d


def master_rows_by_uuid(con: sqlite3.Connection, definition: LayerDefinition,
                        uuids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Raw master rows (as :func:`master_rows`) of the given uuids, by uuid."""
    out = {}
    uuids = list(uuids)
    for i in range(0, len(uuids), 500):
        part = uuids[i:i + 500]
        for row in master_rows(con, definition, f"uuid IN ({', '.join('?' * len(part))})", part):
            out[row["uuid"]] = row
    return out


def bbox_condition(definition: LayerDefinition,
                   bbox: tuple[float, float, float, float]) -> tuple[str, tuple[float, ...]]:
    """An SQL condition (and its parameters) on a master layer's R-tree: features whose box meets *bbox*."""
    rtree = f"rtree_{definition.name}_geom"
    return (f"fid IN (SELECT id FROM {quote(rtree)} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)",
            (bbox[2], bbox[0], bbox[3], bbox[1]))
