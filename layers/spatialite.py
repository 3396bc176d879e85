"""Open SQLite connections with SpatiaLite (mod_spatialite) loaded.

The only place in the core that knows where mod_spatialite comes from: the
``TONGCHENG_SPATIALITE`` environment variable, the folder of a frozen bundle,
or the system library path (Debian's ``libsqlite3-mod-spatialite``).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from .errors import WorkspaceError

__all__ = ["connect", "spatialite_library"]


def spatialite_library():
    """The name or path of mod_spatialite to load."""
    explicit = os.environ.get("TONGCHENG_SPATIALITE")
    if explicit:
        return explicit
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidate = Path(bundle) / "mod_spatialite.so"
        if candidate.exists():
            return str(candidate.with_suffix(""))
    return "mod_spatialite"


def connect(path, *, readonly=False, timeout=30.0):
    """Open a connection to ``path`` with mod_spatialite loaded.

    The connection is in autocommit mode (``isolation_level=None``): the
    workspace's ``session()`` issues BEGIN/COMMIT itself, so a transaction's
    extent is always explicit.

    Raises
    ------
    WorkspaceError
        If this Python cannot load SQLite extensions or mod_spatialite is missing.
    """
    uri = Path(path).absolute().as_uri() + ("?mode=ro" if readonly else "")
    connection = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout, check_same_thread=False)
    try:
        if not hasattr(connection, "enable_load_extension"):
            raise WorkspaceError(
                f"this Python ({sys.executable}) cannot load SQLite extensions; "
                "use Debian's python3 (the README's setup command does)"
            )
        connection.enable_load_extension(True)
        try:
            connection.load_extension(spatialite_library())
        except sqlite3.OperationalError as e:
            raise WorkspaceError(
                f"cannot load SpatiaLite ({spatialite_library()}): {e}; "
                "install libsqlite3-mod-spatialite (the README's setup command does)"
            ) from None
        connection.enable_load_extension(False)
    except BaseException:
        connection.close()
        raise
    return connection
