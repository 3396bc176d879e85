"""A master's photos as sync moves them, whatever keeps them: a SQLite file or a PostGIS database.

A :class:`PhotoSource` lists photo links and hands out a photo's bytes a
piece at a time; :class:`SqlitePhotos` reads the ``layers.media`` tables of
any SQLite file (master, change package, workspace), and
``layers.sync.postgis.photos.PostgisPhotos`` a PostGIS master's.  The
functions here write what a source holds into a SQLite file, with the same
rules as ``layers.media.tables`` and ``layers.media.removal`` (which a
GeoPackage master still uses directly): a photo's bytes are stored once per
file, links are matched by (facility uuid, sha256), a workspace gets the
office's photos as its base and forgets the links the office took off.
Memory never holds a whole photo.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Collection, Container, Iterable, Iterator
from pathlib import Path
from typing import Protocol

from layers.geopackage.sql import quote
from layers.media.blobs import CHUNK, small_cache
from layers.media.content import MediaError
from layers.media.removal import drop_unlinked_media
from layers.media.tables import (
    INFO_COLUMNS,
    KNOWN_TABLE,
    MEDIA_TABLE,
    PhotoLink,
    all_hashes,
    ensure_tables,
    link_photo,
    mapping_table,
    media_id,
    media_layers,
    missing_bytes,
    photo_links,
    remember_hashes,
)

__all__ = ["Key", "PhotoSource", "SqlitePhotos", "copy_into_sqlite", "receive_into_workspace", "prune_workspace",
           "resend_to_workspace", "chosen_links", "write_photo_file"]

#: A link: (layer, facility uuid, sha256).
Key = tuple[str, str, str]


class PhotoSource(Protocol):
    """Photos to copy: their links, and the bytes of those the source holds."""

    def layers(self) -> list[str]:
        """The layers that have photo links here."""
        ...

    def links(self, layers: Collection[str]) -> Iterator[PhotoLink]:
        """The links of *layers*' features, by layer then in the order they were made."""
        ...

    def content(self, sha256: str) -> tuple[int, tuple[object, ...]] | None:
        """The length of a photo's bytes and its ``INFO_COLUMNS`` values, or None if the source lacks its bytes."""
        ...

    def pieces(self, sha256: str) -> Iterator[bytes]:
        """A photo's bytes, a piece at a time."""
        ...

    def hashes(self) -> set[str]:
        """The hashes of every photo whose bytes the source holds."""
        ...

    def existing(self, layer: str, pairs: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        """Of (uuid, sha256) *pairs*, the links *layer* has here."""
        ...

    def missing_bytes(self) -> set[Key]:
        """The links whose photo's bytes the source does not hold."""
        ...


class SqlitePhotos:
    """The photos of a SQLite file (master, change package, workspace) as a :class:`PhotoSource`."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def layers(self) -> list[str]:
        return media_layers(self.con)

    def links(self, layers: Collection[str]) -> Iterator[PhotoLink]:
        return (link for link in photo_links(self.con) if link.layer in layers)

    def content(self, sha256: str) -> tuple[int, tuple[object, ...]] | None:
        row = self.con.execute(f"SELECT length(data), {', '.join(INFO_COLUMNS)} FROM {MEDIA_TABLE} "
                               "WHERE sha256 = ?", (sha256,)).fetchone()
        return None if row is None else (int(row[0] or 0), tuple(row[1:]))

    def pieces(self, sha256: str) -> Iterator[bytes]:
        row = self.con.execute(f"SELECT rowid FROM {MEDIA_TABLE} WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            raise MediaError(f"photo {sha256}: not stored")
        with self.con.blobopen(MEDIA_TABLE, "data", row[0], readonly=True) as blob:
            while piece := blob.read(CHUNK):
                yield piece

    def hashes(self) -> set[str]:
        return all_hashes(self.con)

    def existing(self, layer: str, pairs: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        if layer not in self.layers():
            return set()
        rows = self.con.execute(f"SELECT base_uuid, sha256 FROM {quote(mapping_table(layer))}").fetchall()
        return {(u, s) for u, s in rows} & set(pairs)

    def missing_bytes(self) -> set[Key]:
        return missing_bytes(self.con)


def _store_bytes(source: PhotoSource, target: sqlite3.Connection, sha256: str) -> int:
    """Insert a photo's ``media`` row into *target*, its bytes written a piece at a time; returns its id."""
    found = source.content(sha256)
    if found is None:
        raise MediaError(f"photo {sha256}: not stored")
    length, info = found
    cursor = target.execute(f"INSERT INTO {MEDIA_TABLE} (data, {', '.join(INFO_COLUMNS)}) "
                            f"VALUES (zeroblob(?){', ?' * len(INFO_COLUMNS)})", (length, *info))
    new = cursor.lastrowid
    assert new is not None
    written = 0
    with target.blobopen(MEDIA_TABLE, "data", new) as blob:
        for piece in source.pieces(sha256):
            if written + len(piece) > length:
                raise MediaError(f"photo {sha256}: its bytes changed while being copied")
            blob.write(piece)
            written += len(piece)
    if written != length:
        raise MediaError(f"photo {sha256}: only {written} of its {length} bytes could be read")
    return new


def copy_into_sqlite(source: PhotoSource, target: sqlite3.Connection, layers: Iterable[str], *, geopackage: bool,
                     pending: bool | None = None, uuids: Container[str] | None = None,
                     exclude: Container[Key] = (), known: Container[str] = ()) -> tuple[int, int]:
    """Copy links (and the bytes *target* lacks) of *layers* from *source* into a SQLite file.

    The arguments mean what they mean to ``layers.media.tables.copy_photos``.

    Returns
    -------
    (links, photos)
        The links made and the photos whose bytes were copied.
    """
    layers = list(layers)
    ensure_tables(target, layers, geopackage=geopackage, pending=pending is not None)
    linked = copied = 0
    with small_cache(target):
        for link in source.links(layers):
            if (uuids is not None and link.uuid not in uuids) or (link.layer, link.uuid, link.sha256) in exclude:
                continue
            if link.stored and link.sha256 not in known and media_id(target, link.sha256) is None:
                new = _store_bytes(source, target, link.sha256)
                for name in media_layers(target):  # links made before the bytes came
                    target.execute(f"UPDATE {quote(mapping_table(name))} SET related_id = ? "
                                   "WHERE sha256 = ? AND related_id = 0", (new, link.sha256))
                copied += 1
            if link_photo(target, link.layer, link.uuid, link.sha256, added_by=link.added_by, added_at=link.added_at,
                          pending=pending, missing_ok=True, unstored_ok=True):
                linked += 1
    return linked, copied


def receive_into_workspace(source: PhotoSource, ws: sqlite3.Connection, layers: Iterable[str], *,
                           exclude: Container[Key] = ()) -> int:
    """The master's photos of the features a workspace holds, as base (``layers.media.tables.receive_photos``).

    Returns the links added.
    """
    layers = list(layers)
    ensure_tables(ws, layers, geopackage=False, pending=True)
    ws.execute(f"DELETE FROM {KNOWN_TABLE}")
    linked = source.layers()
    chosen = [name for name in layers if name in linked]
    if not chosen:
        remember_hashes(ws, source.hashes())
        return 0
    present: set[str] = set()
    for name in chosen:
        present.update(r[0] for r in ws.execute(f"SELECT uuid FROM {quote(name)}"))
    links, _ = copy_into_sqlite(source, ws, chosen, geopackage=False, pending=False, uuids=present, exclude=exclude)
    remember_hashes(ws, source.hashes())
    return links


def prune_workspace(source: PhotoSource, ws: sqlite3.Connection, layers: Iterable[str]) -> int:
    """Take off a workspace's links the office took off (``layers.media.removal.prune_links``); returns how many."""
    gone: list[Key] = []
    for layer in layers:
        if layer not in media_layers(ws):
            continue
        mapping = quote(mapping_table(layer))
        ours = [(u, s) for u, s in ws.execute(f"SELECT base_uuid, sha256 FROM {mapping} WHERE pending = 0")]
        if not ours:
            continue
        theirs = source.existing(layer, ours)
        gone += [(layer, u, s) for u, s in ours if (u, s) not in theirs]
    for layer, uuid, sha in gone:
        ws.execute(f"DELETE FROM {quote(mapping_table(layer))} WHERE base_uuid = ? AND sha256 = ?", (uuid, sha))
    drop_unlinked_media(ws, [sha for _, _, sha in gone])
    return len(gone)


def resend_to_workspace(source: PhotoSource, ws: sqlite3.Connection, layers: Iterable[str]) -> int:
    """Links the master holds without their bytes go again with the next package
    (``layers.media.tables.resend_missing``); returns how many."""
    chosen = set(layers)
    linked = set(media_layers(ws))
    again = 0
    for layer, uuid, sha in source.missing_bytes():
        if layer in chosen and layer in linked and media_id(ws, sha) is not None:
            again += ws.execute(f"UPDATE {quote(mapping_table(layer))} SET pending = 1 "
                                "WHERE base_uuid = ? AND sha256 = ? AND pending = 0", (uuid, sha)).rowcount
    return again


def chosen_links(source: PhotoSource, layers: Collection[str], *, layer: str | None = None,
                 uuid: str | None = None) -> list[PhotoLink]:
    """The links of *layers* (only *layer*'s, only the feature *uuid*'s), by layer then in the order they were made."""
    return [link for link in source.links([n for n in layers if layer in (None, n)]) if uuid in (None, link.uuid)]


def write_photo_file(source: PhotoSource, sha256: str, path: Path) -> None:
    """Write a photo's bytes to *path*, a piece at a time, through a temporary file beside it.

    Raises
    ------
    MediaError
        The source does not hold its bytes, or they do not match its hash (nothing is left at *path*).
    """
    tmp = path.with_name(f".{path.name}.tmp")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as f:
            for piece in source.pieces(sha256):
                f.write(piece)
                digest.update(piece)
        if digest.hexdigest() != sha256:
            raise MediaError(f"photo {sha256} is damaged (its content does not match its hash)")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
