"""Photos added to a workspace's facility; any file with photos opened for reading."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from layers.geopackage import open_geopackage
from layers.log import logger
from layers.media.content import DEFAULT_MAX_BYTES, MediaError, Photo, read_photo
from layers.media.removal import clear_removal
from layers.media.shrink import Shrink, shrink_photo
from layers.media.tables import ensure_tables, link_photo, store_media
from layers.workspace.identity import now_text
from layers.workspace.store import Workspace

__all__ = ["add_photos", "store_photos", "open_photos", "ensure_workspace_tables"]

log = logger(__name__)


def ensure_workspace_tables(ws: Workspace) -> None:
    """Give a workspace its media tables (workspaces made before photos get them on first use)."""
    with ws.session() as con:
        ensure_tables(con, list(ws.definitions), geopackage=False, pending=True)


def add_photos(ws: Workspace, layer: str, uuid: str, paths: Sequence[str | os.PathLike[str]], *,
               max_bytes: int = DEFAULT_MAX_BYTES, shrink: Shrink | None = None) -> list[Photo]:
    """Store photo files and link them to the feature *uuid* of *layer*, all or nothing.

    Each file is checked (size limit before reading, not empty, an image that
    decodes or a PDF), scaled down if *shrink* says so (its EXIF kept) and
    stored once by its SHA-256; the link is pending: it goes out in the next
    change package.

    Returns
    -------
    list of Photo
        The photos stored, in the order given (their bytes included).

    Raises
    ------
    MediaError
        A file is missing, empty, too big, not an image, undecodable, given
        twice, or already a photo of this feature: nothing is stored.
    FeatureNotFoundError
        No such feature.
    """
    ws.layer(layer)
    ws.find(layer, uuid)
    stored: list[Photo] = []
    seen: dict[str, str] = {}
    with ws.session() as con:
        ensure_tables(con, list(ws.definitions), geopackage=False, pending=True)
        for path in paths:
            photo = read_photo(path, max_bytes=max_bytes)
            if shrink is not None:
                photo = shrink_photo(photo, shrink)
            _store(ws, con, layer, uuid, photo, str(path), seen)
            stored.append(photo)
    log.info("%s: %d photo(s) added to %s %s", ws.path, len(stored), layer, uuid)
    return stored


def store_photos(ws: Workspace, layer: str, uuid: str, photos: Sequence[Photo]) -> None:
    """Store photos already checked (e.g. the editor's) and link them to the feature *uuid*, all or nothing.

    Raises
    ------
    MediaError
        A photo is given twice or is already a photo of this feature: nothing is stored.
    """
    seen: dict[str, str] = {}
    with ws.session() as con:
        ensure_tables(con, list(ws.definitions), geopackage=False, pending=True)
        for photo in photos:
            _store(ws, con, layer, uuid, photo, photo.file_name or photo.sha256[:12], seen)
    log.info("%s: %d photo(s) added to %s %s", ws.path, len(photos), layer, uuid)


def _store(ws: Workspace, con: sqlite3.Connection, layer: str, uuid: str, photo: Photo, where: str,
           seen: dict[str, str]) -> None:
    """Store one photo and link it (pending) inside the caller's session."""
    if photo.author is None:
        photo = dataclasses.replace(photo, author=ws.user)
    if photo.sha256 in seen:
        raise MediaError(f"{where}: the same photo as {seen[photo.sha256]} (given twice); nothing was stored")
    seen[photo.sha256] = where
    store_media(con, photo, now_text())
    if not link_photo(con, layer, uuid, photo.sha256, added_by=ws.user, added_at=now_text(), pending=True):
        raise MediaError(f"{where}: already a photo of {layer} {uuid} (sha256 {photo.sha256[:12]}…); "
                         "nothing was stored")
    clear_removal(con, layer, uuid, photo.sha256)  # taken off and put on again: the office keeps it


@contextmanager
def open_photos(source: str | os.PathLike[str]) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a workspace, master, change package or exported GeoPackage.

    A ``.gpkg`` file is opened as a GeoPackage, anything else as a workspace.
    """
    path = Path(source)
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    if path.suffix.lower() == ".gpkg":
        with open_geopackage(path) as gp:
            yield gp.connection
        return
    with Workspace.open(path) as ws, ws.reader() as con:
        yield con
