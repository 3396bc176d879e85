"""A private GeoPackage snapshot of a master: of a PostGIS master, or of any master as it was at a version.

``tongcheng export`` reads GeoPackage masters and workspaces; a PostGIS
master, or a master ``--as-of`` an older version, is first copied into a
temporary GeoPackage (``layers.sync.copy``) and, for a version, turned back
with the history (``layers.sync.history.rewind``).  The snapshot is deleted
when the ``with`` block ends.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from layers.errors import SyncError
from layers.sync.copy import copy_master
from layers.sync.history import changes, rewind
from layers.sync.master import LEDGER_TABLE
from layers.sync.store import MasterLocation, open_master

__all__ = ["snapshot"]


@contextmanager
def snapshot(master: MasterLocation, version: int | None = None) -> Iterator[Path]:
    """A temporary GeoPackage copy of *master* (as of *version*, if given)."""
    with tempfile.TemporaryDirectory(prefix="tongcheng-snapshot-") as folder:
        path = Path(folder) / "master.gpkg"
        info = copy_master(master, path)
        if version is not None:
            if not 1 <= version <= info.version:
                raise SyncError(f"{master}: has versions 1 to {info.version}, not {version}")
            with open_master(path) as store:
                later = changes(store, as_after=version)
                ledger = store.table_rows(LEDGER_TABLE)
            rewind(path, version, later, ledger)
        yield path
