"""The master behind one interface: a GeoPackage file or a PostGIS database, as apply, checkout and update use it.

Apply, checkout, update, export, ``log`` and ``master copy`` are written once,
against :class:`MasterStore`; two classes implement it:
:class:`~layers.sync.gpkg_store.GeoPackageMaster` (a ``.gpkg`` file) and
:class:`~layers.sync.postgis.store.PostgisMaster` (a ``postgresql://``
database).  :func:`open_master` picks one by the location's form.

The seam is small: read the master's description (:class:`MasterInfo`),
read feature rows (all, by bounding box, by uuid, locked for an apply),
read the ledger and who deleted what, write one layer's planned rows (with
their history), keep survey evidence and photos, and finish an apply
(version, ledger).  Merging, validation and reporting stay in the
operation modules and never know which kind of master they talk to.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Collection, Container, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from layers.postgres.urls import is_postgres
from layers.schema.definitions import LayerDefinition
from layers.sync.evolution import LayerSql
from layers.sync.master import MasterInfo
from layers.sync.photos import PhotoSource

__all__ = ["MasterLocation", "MasterPlan", "LedgerEntry", "DefinitionVersion", "MasterStore", "open_master",
           "master_location", "is_postgres"]

#: A master: the path of a GeoPackage, or a ``postgresql://`` connection string.
MasterLocation = str | os.PathLike[str]
T = TypeVar("T")
BBox = tuple[float, float, float, float]


def master_location(master: MasterLocation) -> Path | str:
    """*master* as shown and stored: a connection string stays text, a file becomes a Path."""
    return str(master) if is_postgres(master) else Path(master)


@dataclass
class MasterPlan:
    """What an apply writes into one master layer (all geometries as canonical WKB)."""

    inserts: list[dict[str, Any]] = field(default_factory=list)     # full rows (with audit)
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)  # uuid -> {column: value}
    deletes: list[tuple[str, Any, Any]] = field(default_factory=list)  # (uuid, editor, time)
    #: The office rows before the apply of every updated or deleted feature (for history and extents).
    before: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.inserts or self.updates or self.deletes)


@dataclass
class LedgerEntry:
    """One ledger row: a package applied."""

    package_uuid: str
    workspace_id: str | None
    editor: str | None
    base_version: int | None
    applied_at: str
    applied_by: str
    policy: str
    inserts: int
    updates: int
    deletes: int
    conflicts: int
    file: str


@dataclass
class DefinitionVersion:
    """One recorded version of a layer definition (a row of ``tongcheng_definition_changes``)."""

    layer: str
    version: int
    definition: str  # the TOML text
    mappings: str | None = None  # JSON: where the values of removed fields and codes went (``Step.mappings_json``)
    changed_at: str | None = None
    changed_by: str | None = None


class MasterStore(Protocol):
    """A master as the sync operations read and write it (see the module docstring)."""

    location: Path | str
    info: MasterInfo
    writable: bool

    def run(self, work: Callable[[], T]) -> T:
        """Run *work* in one transaction (committed at the end); a transaction the server
        aborted for a concurrent one (deadlock, serialization) is run again from the start."""
        ...

    def refresh(self) -> MasterInfo:
        """Read the master's description again (inside a transaction: as of now)."""
        ...

    def count(self, definition: LayerDefinition, bbox: BBox | None = None) -> int: ...

    def rows(self, definition: LayerDefinition, bbox: BBox | None = None) -> Iterator[dict[str, Any]]:
        """Raw rows (``fid``, ``geom`` as WKB, ``uuid``, fields, audit) whose bounding box meets *bbox*."""
        ...

    def records(self, definition: LayerDefinition) -> Iterator[list[tuple[Any, ...]]]:
        """Every row as a tuple in ``master_columns`` order, the geometry as hex EWKB (the text form a PostGIS
        geometry column takes), in chunks, by fid: what ``master copy`` into PostGIS loads as it is."""
        ...

    def rows_by_uuid(self, definition: LayerDefinition, uuids: Iterable[str], *,
                     lock: bool = False) -> dict[str, dict[str, Any]]:
        """Raw rows of the given uuids; *lock*: keep them from other applies until the transaction ends."""
        ...

    def rows_where(self, definition: LayerDefinition, equal: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Raw rows whose fields have the given values (a child layer's records of one feature)."""
        ...

    def deleted_audit(self, layer: str, uuids: Iterable[str]) -> dict[str, tuple[Any, Any]]:
        """Who deleted the given features and when (the latest deletion of each)."""
        ...

    def in_ledger(self, package_uuid: str) -> bool: ...

    def claim(self, package_uuid: str) -> bool:
        """Start applying *package_uuid*: False if it is (or, concurrently, was just) applied."""
        ...

    def write_layer(self, definition: LayerDefinition, plan: MasterPlan, package_uuid: str, now: str) -> None: ...

    def store_survey(self, definition: LayerDefinition, rows: list[dict[str, Any]], gone: list[str],
                     package_uuid: str, workspace_id: str | None, now: str) -> None:
        """Keep survey evidence in ``survey_<layer>`` (rows with WKB ``geom``; *gone*: uuids to remove)."""
        ...

    def finish_apply(self, entry: LedgerEntry) -> int:
        """Raise the version, write the ledger row; return the new version."""
        ...

    def lock_definitions(self) -> MasterInfo:
        """Inside the transaction: keep applies and other definition changes out until it ends; the master's
        description as of now (its definitions included)."""
        ...

    def definition_history(self, layer: str) -> list[DefinitionVersion]:
        """Every recorded version of *layer*'s definition, oldest first ([] if none is recorded)."""
        ...

    def layer_sql(self) -> LayerSql:
        """The master's layer tables as a definition change checks and migrates them (inside the transaction)."""
        ...

    def create_layer(self, definition: LayerDefinition) -> None:
        """A new facility layer's empty table, made as the master's own layers are (inside the transaction)."""
        ...

    def store_definition(self, definition: LayerDefinition, text: str, versions: Sequence[DefinitionVersion],
                         now: str, *, added: bool = False) -> int:
        """Keep *text* as the layer's definition (*added*: a layer new to the master, listed last), *versions* in
        the history, the layer's labels and style renewed; raise the version and return it."""
        ...

    def area(self, code: str) -> dict[str, Any] | None:
        """An administrative area by code (``code``, ``level``, ``name``, ``parent``, ``geom`` WKB), or None."""
        ...

    def photos(self) -> PhotoSource:
        """The master's photos, to read (``master copy``)."""
        ...

    def add_photos(self, source: PhotoSource, layers: Sequence[str]) -> tuple[int, int, int]:
        """Store *source*'s photo links of *layers* with the bytes the master lacks (inside the transaction);
        returns (links made, photos stored, links made without bytes).  MediaError if a photo cannot be read."""
        ...

    def remove_photos(self, package: sqlite3.Connection) -> tuple[int, int]:
        """Unlink the photos a change package took off, drop the bytes nobody refers to: (unlinked, dropped)."""
        ...

    def drop_photos_of_missing(self, candidates: Mapping[str, Collection[str]]) -> tuple[list[tuple[str, str, str]],
                                                                                       int]:
        """Take off the photo links of features the master does not hold (at least of those *candidates* names:
        layer -> uuids), and the bytes nobody refers to any more; returns the links taken off, (layer, uuid,
        sha256) each, and how many photos' bytes went."""
        ...

    def send_photos(self, target: sqlite3.Connection, layers: Iterable[str]) -> int:
        """Checkout: copy the master's photos of the features a workspace holds into it; returns the links."""
        ...

    def update_photos(self, target: sqlite3.Connection, layers: Iterable[str],
                      exclude: Container[tuple[str, str, str]]) -> dict[str, int]:
        """Update: take the office's unlinks, then its photos (not the *exclude* links), into a workspace; mark
        again the photos the office lacks the bytes of.  Returns ``unlinked``, ``linked``, ``sent_again``."""
        ...

    def photo_counts(self, layer: str) -> dict[str, int]:
        """How many photos each feature of *layer* has (features without photos left out)."""
        ...

    def table_rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a bookkeeping table (no ``fid``; geometries as WKB); [] if the master has none."""
        ...

    def has_extra_tables(self) -> list[str]:
        """Tables a copy between the two kinds cannot carry yet (survey evidence)."""
        ...

    def close(self) -> None: ...


@contextmanager
def open_master(master: MasterLocation, *, write: bool = False) -> Iterator[MasterStore]:
    """The master at *master* (GeoPackage path or ``postgresql://`` string), open for reading or writing.

    Raises
    ------
    GeoPackageError, SyncError, DatabaseError
        Missing or broken file, unreachable server, refused login, not a master.
    """
    store: MasterStore
    if is_postgres(master):
        from layers.sync.postgis.store import PostgisMaster

        store = PostgisMaster(str(master), write=write)
    else:
        from layers.sync.gpkg_store import GeoPackageMaster

        store = GeoPackageMaster(Path(master), write=write)
    try:
        yield store
    except BaseException:
        abort = getattr(store, "abort", None)
        if abort is not None:
            abort()
        raise
    else:
        store.close()
