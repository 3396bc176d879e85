"""Photos taken off a facility: in the workspace (undoable), in change packages, at the office and back.

A photo is unlinked from one facility; its bytes go when no facility of the
file refers to them any more. The workspace remembers an unlink of a link the
master has (one checked out, received, or already sent) in ``media_removed``
until the next change package carries it; the office unlinks it there and
drops the bytes no facility refers to. ``update`` takes the office's unlinks
back into the workspace (:func:`prune_links`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from layers.geopackage.sql import quote
from layers.log import logger
from layers.media.content import MediaError
from layers.media.tables import (
    INFO_COLUMNS,
    KNOWN_TABLE,
    MEDIA_TABLE,
    _exists,
    _register_contents,
    ensure_tables,
    mapping_table,
    media_layers,
    photo_links,
)
from layers.workspace.identity import now_text
from layers.workspace.store import Workspace

__all__ = ["REMOVED_TABLE", "RemovedPhoto", "delete_photo", "restore_photo", "find_photo", "pending_removals",
           "ensure_removed_table", "copy_removals", "forget_sent_removals", "apply_removals", "drop_unlinked_media",
           "prune_links", "drop_orphan_links"]

log = logger(__name__)

#: The unlinks of photos still to be told to the office (workspace), or told by a change package.
REMOVED_TABLE = "media_removed"

_REMOVED_DDL = f"""CREATE TABLE {REMOVED_TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    layer TEXT NOT NULL,
    base_uuid TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    removed_by TEXT,
    removed_at DATETIME,
    UNIQUE (layer, base_uuid, sha256)
)"""

#: The columns of a mapping table kept to put a link back as it was.
_LINK_COLUMNS = ("base_id", "related_id", "base_uuid", "sha256", "added_by", "added_at", "pending")

Key = tuple[str, str, str]  # (layer, facility uuid, sha256)


@dataclass(frozen=True)
class RemovedPhoto:
    """What :func:`delete_photo` took away, enough for :func:`restore_photo` to put it back."""

    layer: str
    uuid: str
    sha256: str
    #: The mapping row as it was (``_LINK_COLUMNS``).
    link: tuple[object, ...]
    #: The ``media`` row (``data`` then ``INFO_COLUMNS``) if the bytes went with the link, else None.
    media: tuple[object, ...] | None
    #: True if the office is to be told (the link was not only here).
    told: bool


def ensure_removed_table(con: sqlite3.Connection, *, geopackage: bool) -> None:
    """Create ``media_removed`` if missing (a GeoPackage registers it as an attributes table)."""
    if _exists(con, REMOVED_TABLE):
        return
    con.execute(_REMOVED_DDL)
    if geopackage:
        _register_contents(con, REMOVED_TABLE, "照片删除 / photos removed",
                           "Photos taken off facilities in the field: the office unlinks them")


def find_photo(con: sqlite3.Connection, uuid: str, sha256: str, layer: str | None = None) -> tuple[str, str]:
    """The layer and full hash of the photo *sha256* (or a unique prefix of it, 6 digits at least) of *uuid*.

    Raises
    ------
    MediaError
        The facility has no such photo, or the prefix names several.
    """
    prefix = sha256.strip().lower()
    if len(prefix) < 6:
        raise MediaError(f"photo {sha256!r}: give at least 6 digits of its sha256")
    found = {(link.layer, link.sha256) for link in photo_links(con, uuid=uuid, layer=layer)
             if link.sha256.startswith(prefix)}
    if not found:
        raise MediaError(f"{uuid}: has no photo {sha256}")
    if len(found) > 1:
        raise MediaError(f"{uuid}: {sha256} names {len(found)} photos; give more digits")
    return found.pop()


def delete_photo(ws: Workspace, uuid: str, sha256: str, layer: str | None = None) -> RemovedPhoto:
    """Take the photo *sha256* (or a unique prefix) off the feature *uuid*, in one transaction.

    The bytes go too when no other feature of the workspace refers to them.
    An unlink the office has to hear of goes out in the next change package.

    Returns
    -------
    RemovedPhoto
        What :func:`restore_photo` needs to undo it.

    Raises
    ------
    MediaError
        The feature has no such photo.
    """
    with ws.session() as con:
        layer, sha = find_photo(con, uuid, sha256, layer)
        mapping = quote(mapping_table(layer))
        link = con.execute(f"SELECT {', '.join(_LINK_COLUMNS)} FROM {mapping} WHERE base_uuid = ? AND sha256 = ?",
                           (uuid, sha)).fetchone()
        con.execute(f"DELETE FROM {mapping} WHERE base_uuid = ? AND sha256 = ?", (uuid, sha))
        told = not link[-1]  # a pending link never left the workspace: nobody else has it
        if told:
            ensure_removed_table(con, geopackage=False)
            con.execute(f"INSERT OR REPLACE INTO {REMOVED_TABLE} (layer, base_uuid, sha256, removed_by, removed_at) "
                        "VALUES (?, ?, ?, ?, ?)", (layer, uuid, sha, ws.user, now_text()))
        media = None
        if not _linked(con, sha):
            media = con.execute(f"SELECT data, {', '.join(INFO_COLUMNS)} FROM {MEDIA_TABLE} WHERE sha256 = ?",
                                (sha,)).fetchone()
            con.execute(f"DELETE FROM {MEDIA_TABLE} WHERE sha256 = ?", (sha,))
    log.info("%s: photo %s taken off %s %s", ws.path, sha, layer, uuid)
    return RemovedPhoto(layer, uuid, sha, tuple(link), None if media is None else tuple(media), told)


def restore_photo(ws: Workspace, removed: RemovedPhoto) -> None:
    """Put back a photo taken off by :func:`delete_photo` (its link, bytes and pending state as they were)."""
    with ws.session() as con:
        ensure_tables(con, [removed.layer], geopackage=False, pending=True)
        if removed.media is not None and not con.execute(
                f"SELECT 1 FROM {MEDIA_TABLE} WHERE sha256 = ?", (removed.sha256,)).fetchone():
            con.execute(f"INSERT INTO {MEDIA_TABLE} (data, {', '.join(INFO_COLUMNS)}) "
                        f"VALUES (?{', ?' * len(INFO_COLUMNS)})", removed.media)
        related = con.execute(f"SELECT id FROM {MEDIA_TABLE} WHERE sha256 = ?", (removed.sha256,)).fetchone()
        if related is None:
            raise MediaError(f"photo {removed.sha256}: its bytes are gone; it cannot be put back")
        link = dict(zip(_LINK_COLUMNS, removed.link, strict=True))
        link["related_id"] = related[0]
        con.execute(f"INSERT OR IGNORE INTO {quote(mapping_table(removed.layer))} ({', '.join(link)}) "
                    f"VALUES ({', '.join('?' * len(link))})", tuple(link.values()))
        if removed.told and _exists(con, REMOVED_TABLE):
            con.execute(f"DELETE FROM {REMOVED_TABLE} WHERE layer = ? AND base_uuid = ? AND sha256 = ?",
                        (removed.layer, removed.uuid, removed.sha256))


def _linked(con: sqlite3.Connection, sha256: str) -> bool:
    """True if a feature of any layer of the file refers to the photo *sha256*."""
    return any(con.execute(f"SELECT 1 FROM {quote(mapping_table(name))} WHERE sha256 = ? LIMIT 1",
                           (sha256,)).fetchone() for name in media_layers(con))


def drop_unlinked_media(con: sqlite3.Connection, hashes: Iterable[str]) -> int:
    """Delete the bytes of those of *hashes* no feature refers to any more; return how many went."""
    dropped = 0
    for sha in set(hashes):
        if not _linked(con, sha):
            dropped += con.execute(f"DELETE FROM {MEDIA_TABLE} WHERE sha256 = ?", (sha,)).rowcount
    return dropped


def pending_removals(con: sqlite3.Connection) -> list[Key]:
    """The unlinks recorded in this file (workspace: not yet sent; package: carried), in order."""
    if not _exists(con, REMOVED_TABLE):
        return []
    return [(r[0], r[1], r[2]) for r in con.execute(
        f"SELECT layer, base_uuid, sha256 FROM {REMOVED_TABLE} ORDER BY id")]


def clear_removal(con: sqlite3.Connection, layer: str, uuid: str, sha256: str) -> bool:
    """The photo was linked to that feature again: forget its unlink not yet sent; True if there was one.

    The link is then as the office has it (not pending): nothing to send.
    """
    if not _exists(con, REMOVED_TABLE) or not con.execute(
            f"DELETE FROM {REMOVED_TABLE} WHERE layer = ? AND base_uuid = ? AND sha256 = ?",
            (layer, uuid, sha256)).rowcount:
        return False
    con.execute(f"UPDATE {quote(mapping_table(layer))} SET pending = 0 WHERE base_uuid = ? AND sha256 = ?",
                (uuid, sha256))
    return True


def copy_removals(source: sqlite3.Connection, target: sqlite3.Connection) -> int:
    """Workspace to change package: the unlinks not yet sent; returns how many."""
    if not _exists(source, REMOVED_TABLE):
        return 0
    rows = source.execute(f"SELECT layer, base_uuid, sha256, removed_by, removed_at FROM {REMOVED_TABLE} "
                          "ORDER BY id").fetchall()
    if not rows:
        return 0
    ensure_removed_table(target, geopackage=True)
    target.executemany(f"INSERT INTO {REMOVED_TABLE} (layer, base_uuid, sha256, removed_by, removed_at) "
                       "VALUES (?, ?, ?, ?, ?)", rows)
    return len(rows)


def forget_sent_removals(con: sqlite3.Connection) -> None:
    """Workspace: the unlinks are on their way; their photos may leave the master, so their hashes are no
    longer counted as the master's (a photo linked again later is sent with its bytes)."""
    if not _exists(con, REMOVED_TABLE):
        return
    if _exists(con, KNOWN_TABLE):
        con.execute(f"DELETE FROM {KNOWN_TABLE} WHERE sha256 IN (SELECT sha256 FROM {REMOVED_TABLE})")
    con.execute(f"DELETE FROM {REMOVED_TABLE}")


def apply_removals(source: sqlite3.Connection, target: sqlite3.Connection) -> tuple[int, int]:
    """Change package to master: unlink the photos the package took off; drop bytes nobody refers to.

    An unlink of a link the master does not have (taken off at the office too) changes nothing.

    Returns
    -------
    (unlinked, dropped)
    """
    removals = pending_removals(source)
    if not removals:
        return 0, 0
    linked = set(media_layers(target))
    unlinked = 0
    for layer, uuid, sha in removals:
        if layer in linked:
            unlinked += target.execute(f"DELETE FROM {quote(mapping_table(layer))} WHERE base_uuid = ? "
                                       "AND sha256 = ?", (uuid, sha)).rowcount
    return unlinked, drop_unlinked_media(target, [sha for _, _, sha in removals])


def prune_links(master: sqlite3.Connection, ws: sqlite3.Connection, layers: Iterable[str]) -> int:
    """Workspace update: take off the links the office took off; returns how many.

    Every link of the workspace that is not pending (it came from the master
    or was sent and applied) must be in the master; one that is not was
    unlinked at the office (or its feature deleted there). The bytes nobody
    refers to any more go too.
    """
    gone: list[tuple[str, str, str]] = []
    master_layers = set(media_layers(master))
    for layer in layers:
        if not _exists(ws, mapping_table(layer)):
            continue
        mapping = quote(mapping_table(layer))
        ours = ws.execute(f"SELECT base_uuid, sha256 FROM {mapping} WHERE pending = 0").fetchall()
        if not ours:
            continue
        theirs: set[tuple[str, str]] = set()
        if layer in master_layers:
            theirs = set(master.execute(f"SELECT base_uuid, sha256 FROM {mapping}").fetchall())
        gone += [(layer, u, s) for u, s in ours if (u, s) not in theirs]
    for layer, uuid, sha in gone:
        ws.execute(f"DELETE FROM {quote(mapping_table(layer))} WHERE base_uuid = ? AND sha256 = ?", (uuid, sha))
    drop_unlinked_media(ws, [sha for _, _, sha in gone])
    return len(gone)


def drop_orphan_links(con: sqlite3.Connection, layers: Iterable[str] | None = None) -> tuple[list[Key], int]:
    """Take off the photo links of features this file does not hold (deleted), and the bytes nobody refers to.

    A deleted facility's photos go with it: its links, and the bytes no other
    feature of any layer refers to (a photo also linked to another facility,
    or to an inspection, stays). In a workspace the hashes of the links taken
    off are no longer counted as the master's (the office drops them when it
    applies the deletion): a photo linked again later is sent with its bytes.

    Parameters
    ----------
    layers : iterable of str, optional
        The layers looked at (default: every layer with photos).

    Returns
    -------
    (links, dropped)
        The links taken off, (layer, uuid, sha256) each, and how many photos' bytes went.
    """
    chosen = None if layers is None else set(layers)
    gone: list[Key] = []
    for name in media_layers(con):
        if (chosen is not None and name not in chosen) or not _exists(con, name):
            continue
        mapping = quote(mapping_table(name))
        orphan = f"NOT EXISTS (SELECT 1 FROM {quote(name)} f WHERE f.uuid = {mapping}.base_uuid)"
        rows = con.execute(f"SELECT base_uuid, sha256 FROM {mapping} WHERE {orphan} ORDER BY id").fetchall()
        if rows:
            con.execute(f"DELETE FROM {mapping} WHERE {orphan}")
            gone += [(name, uuid, sha) for uuid, sha in rows]
    if not gone:
        return [], 0
    if _exists(con, KNOWN_TABLE):
        con.executemany(f"DELETE FROM {KNOWN_TABLE} WHERE sha256 = ?", [(sha,) for _, _, sha in gone])
    dropped = drop_unlinked_media(con, [sha for _, _, sha in gone])
    log.info("%d photo link(s) went with their deleted features (%d file(s) dropped)", len(gone), dropped)
    return gone, dropped
