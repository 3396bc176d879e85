"""The media tables on any SQLite connection (workspace, master, package, export): create, store, list, read.

See the package docstring (``layers.media``) for the layout. Functions here
never commit: the caller's transaction (a workspace session, a GeoPackage
opened for writing) makes a whole batch of photos one write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass

from layers.geopackage.sql import NOW, quote
from layers.media.blobs import blob_sha256, copy_blob, no_mmap, small_cache
from layers.media.content import MediaError, Photo

__all__ = ["MEDIA_TABLE", "RELATIONS_TABLE", "EXTENSION_NAME", "PhotoLink", "mapping_table", "has_media",
           "ensure_tables", "media_id", "store_media", "link_photo", "photo_links", "media_data", "media_layers",
           "refresh_base_ids", "copy_photos", "KNOWN_TABLE", "known_hashes", "remember_hashes", "all_hashes",
           "verify_media", "pending_layers", "pending_photo_bytes", "missing_bytes", "resend_missing", "mark_sent",
           "receive_photos"]

MEDIA_TABLE = "media"
RELATIONS_TABLE = "gpkgext_relations"
#: ``gpkg_extensions.extension_name`` of the Related Tables Extension (OGC 18-000).
EXTENSION_NAME = "gpkg_related_tables"
EXTENSION_DEFINITION = "http://www.geopackage.org/18-000.html"
RELATION_NAME = "media"
#: Workspace only: the hashes of the photos the master has (a change package does not send their bytes).
KNOWN_TABLE = "media_known"

# ``data`` is the last column: a photo's facts (type, size, hash ...) are read without walking the
# overflow pages of its bytes (a column after a 2 MB blob costs reading the 2 MB).
_MEDIA_DDL = f"""CREATE TABLE {MEDIA_TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    taken_at TEXT,
    author TEXT,
    exif_lon DOUBLE,
    exif_lat DOUBLE,
    exif_direction DOUBLE,
    file_name TEXT,
    added_at DATETIME,
    data BLOB NOT NULL
)"""

_RELATIONS_DDL = f"""CREATE TABLE {RELATIONS_TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    base_table_name TEXT NOT NULL,
    base_primary_column TEXT NOT NULL DEFAULT 'id',
    related_table_name TEXT NOT NULL,
    related_primary_column TEXT NOT NULL DEFAULT 'id',
    relation_name TEXT NOT NULL,
    mapping_table_name TEXT NOT NULL UNIQUE
)"""

#: The columns of ``media`` besides ``id`` and ``data``, as listed and copied.
INFO_COLUMNS = ("sha256", "content_type", "size", "taken_at", "author", "exif_lon", "exif_lat", "exif_direction",
                "file_name", "added_at")


@dataclass(frozen=True)
class PhotoLink:
    """A photo of a facility, without its bytes."""

    layer: str
    uuid: str
    sha256: str
    content_type: str
    size: int
    taken_at: str | None = None
    author: str | None = None
    lon: float | None = None
    lat: float | None = None
    direction: float | None = None
    file_name: str | None = None
    added_by: str | None = None
    added_at: str | None = None
    #: False where the file links the photo but does not hold its bytes (a change package leaves out
    #: the photos the master has).
    stored: bool = True


def mapping_table(layer: str) -> str:
    """The mapping table linking *layer*'s features to their photos."""
    return f"{layer}_media"


def _exists(con: sqlite3.Connection, table: str) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone() is not None


def has_media(con: sqlite3.Connection) -> bool:
    """True if the file has the media tables (files made before photos have none)."""
    return _exists(con, MEDIA_TABLE) and _exists(con, RELATIONS_TABLE)


def ensure_tables(con: sqlite3.Connection, layers: Iterable[str], *, geopackage: bool,
                  pending: bool = False) -> None:
    """Create what is missing of ``media``, ``gpkgext_relations`` and the layers' mapping tables.

    Parameters
    ----------
    geopackage : bool
        Also register the tables in ``gpkg_contents`` (attributes) and the
        extension in ``gpkg_extensions``, as OGC 18-000 asks.
    pending : bool
        The workspace: mapping tables get a ``pending`` column (1 for a photo
        added here and not yet sent), and ``media_known`` holds the hashes the
        master has.
    """
    if not _exists(con, MEDIA_TABLE):
        con.execute(_MEDIA_DDL)
        if geopackage:
            _register_contents(con, MEDIA_TABLE, "照片 / photos", "Photos and attachments of the facilities")
    if pending and not _exists(con, KNOWN_TABLE):
        con.execute(f"CREATE TABLE {KNOWN_TABLE} (sha256 TEXT PRIMARY KEY) WITHOUT ROWID")
    if not _exists(con, RELATIONS_TABLE):
        con.execute(_RELATIONS_DDL)
        if geopackage:
            _register_extension(con, RELATIONS_TABLE)
    for layer in layers:
        mapping = mapping_table(layer)
        if _exists(con, mapping):
            continue
        extra = ",\n    pending INTEGER NOT NULL DEFAULT 0" if pending else ""
        con.execute(f"""CREATE TABLE {quote(mapping)} (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    base_id INTEGER NOT NULL,
    related_id INTEGER NOT NULL,
    base_uuid TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    added_by TEXT,
    added_at DATETIME{extra},
    UNIQUE (base_uuid, sha256)
)""")
        con.execute(f"INSERT INTO {RELATIONS_TABLE} (base_table_name, base_primary_column, related_table_name, "
                    "related_primary_column, relation_name, mapping_table_name) VALUES (?, 'fid', ?, 'id', ?, ?)",
                    (layer, MEDIA_TABLE, RELATION_NAME, mapping))
        if geopackage:
            _register_contents(con, mapping, f"{layer} 照片关系", f"Which photo belongs to which {layer} feature")
            _register_extension(con, mapping)


def _register_contents(con: sqlite3.Connection, table: str, identifier: str, description: str) -> None:
    con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
                f"VALUES (?, 'attributes', ?, ?, {NOW})", (table, identifier, description))


def _register_extension(con: sqlite3.Connection, table: str) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, "
                "extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, "
                "CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))")
    con.execute("INSERT INTO gpkg_extensions VALUES (?, NULL, ?, ?, 'read-write')",
                (table, EXTENSION_NAME, EXTENSION_DEFINITION))


def media_layers(con: sqlite3.Connection) -> list[str]:
    """The layers that have a media mapping table in this file, in the order they got it."""
    if not has_media(con):
        return []
    return [r[0] for r in con.execute(f"SELECT base_table_name FROM {RELATIONS_TABLE} "
                                      "WHERE relation_name = ? ORDER BY id", (RELATION_NAME,))]


def media_id(con: sqlite3.Connection, sha256: str) -> int | None:
    """The ``media.id`` of the photo with this hash, or None."""
    row = con.execute(f"SELECT id FROM {MEDIA_TABLE} WHERE sha256 = ?", (sha256,)).fetchone()
    return int(row[0]) if row else None


def store_media(con: sqlite3.Connection, photo: Photo, added_at: str | None = None) -> int:
    """Store a photo's bytes once (by hash); return its ``media.id``."""
    known = media_id(con, photo.sha256)
    if known is not None:
        return known
    cursor = con.execute(
        f"INSERT INTO {MEDIA_TABLE} (data, content_type, sha256, size, taken_at, author, exif_lon, exif_lat, "
        f"exif_direction, file_name, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, coalesce(?, {NOW}))",
        (photo.data, photo.content_type, photo.sha256, photo.size, photo.taken_at, photo.author, photo.lon,
         photo.lat, photo.direction, photo.file_name, added_at))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def link_photo(con: sqlite3.Connection, layer: str, uuid: str, sha256: str, *, added_by: str | None = None,
               added_at: str | None = None, pending: bool | None = None, missing_ok: bool = False,
               unstored_ok: bool = False) -> bool:
    """Link the stored photo *sha256* to the feature *uuid* of *layer*.

    The mapping's ``base_id`` is the feature's fid in this file (0 if the file
    does not hold it and *missing_ok*); its ``related_id`` the photo's
    ``media.id`` (0 if the file does not hold its bytes and *unstored_ok*).
    Returns False if the link was there already; MediaError if the feature or
    the photo is missing.
    """
    row = con.execute(f"SELECT fid FROM {quote(layer)} WHERE uuid = ?", (uuid,)).fetchone()
    if row is None and not missing_ok:
        raise MediaError(f"{layer}: no feature with uuid {uuid}")
    related = media_id(con, sha256)
    if related is None and not unstored_ok:
        raise MediaError(f"photo {sha256}: not stored")
    mapping = mapping_table(layer)
    if con.execute(f"SELECT 1 FROM {quote(mapping)} WHERE base_uuid = ? AND sha256 = ?",
                   (uuid, sha256)).fetchone():
        return False
    columns = ["base_id", "related_id", "base_uuid", "sha256", "added_by", "added_at"]
    values: list[object] = [row[0] if row else 0, related or 0, uuid, sha256, added_by, added_at]
    if pending is not None:
        columns.append("pending")
        values.append(int(pending))
    con.execute(f"INSERT INTO {quote(mapping)} ({', '.join(columns)}) "
                f"VALUES (?, ?, ?, ?, ?, coalesce(?, {NOW}){', ?' if pending is not None else ''})", values)
    return True


def photo_links(con: sqlite3.Connection, *, uuid: str | None = None, layer: str | None = None,
                where: str = "") -> Iterator[PhotoLink]:
    """The photos linked to features (all, or of one feature or layer), by layer then time added.

    *where* is an extra SQL condition on the mapping table ``m`` (e.g. ``m.pending = 1``).
    """
    for name in media_layers(con):
        if layer is not None and name != layer:
            continue
        conditions = [c for c in ("m.base_uuid = ?" if uuid else "", where) if c]
        sql = ("SELECT m.base_uuid, m.sha256, coalesce(p.content_type, ''), coalesce(p.size, 0), "
               f"{', '.join('p.' + c for c in INFO_COLUMNS[3:-1])}, m.added_by, m.added_at, p.id IS NOT NULL "
               f"FROM {quote(mapping_table(name))} m LEFT JOIN {MEDIA_TABLE} p ON p.sha256 = m.sha256"
               + (f" WHERE {' AND '.join(conditions)}" if conditions else "") + " ORDER BY m.id")
        for row in con.execute(sql, (uuid,) if uuid else ()):
            (base_uuid, sha, content_type, size, taken_at, author, lon, lat, direction, file_name, added_by,
             added_at, stored) = row
            yield PhotoLink(name, base_uuid, sha, content_type, size, taken_at, author, lon, lat, direction,
                            file_name, added_by, added_at, bool(stored))


def media_data(con: sqlite3.Connection, sha256: str) -> bytes | None:
    """The bytes of the photo with this hash, or None."""
    row = con.execute(f"SELECT data FROM {MEDIA_TABLE} WHERE sha256 = ?", (sha256,)).fetchone()
    return bytes(row[0]) if row else None


def refresh_base_ids(con: sqlite3.Connection) -> None:
    """Point every mapping's ``base_id`` at its feature's fid in this file (0 where it has none)."""
    for name in media_layers(con):
        con.execute(f"UPDATE {quote(mapping_table(name))} SET base_id = coalesce("
                    f"(SELECT fid FROM {quote(name)} f WHERE f.uuid = base_uuid), 0)")


def copy_photos(source: sqlite3.Connection, target: sqlite3.Connection, layers: Iterable[str], *,
                geopackage: bool, where: str = "", known: Container[str] = (), pending: bool | None = None,
                verify: bool = False, uuids: Container[str] | None = None,
                unstored_ok: bool = True, exclude: Container[tuple[str, str, str]] = ()) -> tuple[int, int]:
    """Copy the links (and the bytes) of photos from one file into another, the bytes a piece at a time.

    Parameters
    ----------
    layers : iterable of str
        The layers whose photos are copied (the target gets their mapping tables).
    geopackage : bool
        The target is a GeoPackage (tables registered, see :func:`ensure_tables`).
    where : str
        An extra condition on the source's mapping table ``m``.
    known : container of str
        Hashes whose bytes are not copied (the target's reader has them already);
        their links are.
    pending : bool, optional
        The target is a workspace: the links' ``pending`` value.
    verify : bool
        Check each photo's bytes against its hash; MediaError if they differ.
    uuids : container of str, optional
        Only the photos of these features.
    unstored_ok : bool
        False: a link to a photo neither copied nor in the target is an error
        (MediaError), e.g. a package naming a photo the master does not have.
    exclude : container of (layer, uuid, sha256)
        Links not copied (a workspace's unlinks not yet sent).

    Returns
    -------
    (links, photos)
        The links made and the photos whose bytes were copied.
    """
    layers = list(layers)
    ensure_tables(target, layers, geopackage=geopackage, pending=pending is not None)
    linked = copied = 0
    with small_cache(target), small_cache(source), no_mmap(source):
        for link in list(photo_links(source, where=where)):
            if link.layer not in layers or (uuids is not None and link.uuid not in uuids) or \
                    (link.layer, link.uuid, link.sha256) in exclude:
                continue
            if link.stored and link.sha256 not in known and media_id(target, link.sha256) is None:
                row = source.execute(f"SELECT rowid, {', '.join(INFO_COLUMNS)} FROM {MEDIA_TABLE} "
                                     "WHERE sha256 = ?", (link.sha256,)).fetchone()
                try:
                    new = copy_blob(source, target, MEDIA_TABLE, row[0], INFO_COLUMNS, row[1:],
                                    verify=link.sha256 if verify else None)
                except ValueError:
                    raise MediaError(f"photo {link.sha256}: its content does not match its hash "
                                     "(damaged or altered)") from None
                for name in media_layers(target):  # links made before the bytes came (sent again)
                    target.execute(f"UPDATE {quote(mapping_table(name))} SET related_id = ? "
                                   "WHERE sha256 = ? AND related_id = 0", (new, link.sha256))
                copied += 1
            if link_photo(target, link.layer, link.uuid, link.sha256, added_by=link.added_by,
                          added_at=link.added_at, pending=pending, missing_ok=True, unstored_ok=unstored_ok):
                linked += 1
    return linked, copied


def missing_bytes(con: sqlite3.Connection) -> set[tuple[str, str, str]]:
    """The links (layer, uuid, sha256) whose photo's bytes this file does not hold (read from the hash index)."""
    out: set[tuple[str, str, str]] = set()
    for name in media_layers(con):
        out.update((name, u, s) for u, s in con.execute(
            f"SELECT base_uuid, sha256 FROM {quote(mapping_table(name))} m WHERE NOT EXISTS "
            f"(SELECT 1 FROM {MEDIA_TABLE} p WHERE p.sha256 = m.sha256)"))
    return out


def resend_missing(master: sqlite3.Connection, ws: sqlite3.Connection, layers: Iterable[str]) -> int:
    """Workspace update: links the master holds without the photo's bytes (it had dropped them when the
    link arrived) are sent again, with their bytes, by the next change package; returns how many."""
    missing = missing_bytes(master) if has_media(master) else set()
    chosen = set(layers)
    again = 0
    for layer, uuid, sha in missing:
        if layer in chosen and _exists(ws, mapping_table(layer)) and media_id(ws, sha) is not None:
            again += ws.execute(f"UPDATE {quote(mapping_table(layer))} SET pending = 1 "
                                "WHERE base_uuid = ? AND sha256 = ? AND pending = 0", (uuid, sha)).rowcount
    return again


def all_hashes(con: sqlite3.Connection) -> set[str]:
    """The hashes of every photo whose bytes this file holds."""
    if not _exists(con, MEDIA_TABLE):
        return set()
    return {r[0] for r in con.execute(f"SELECT sha256 FROM {MEDIA_TABLE}")}


def known_hashes(con: sqlite3.Connection) -> set[str]:
    """Workspace: the hashes of the photos the master has (as last seen by checkout, update or a send)."""
    if not _exists(con, KNOWN_TABLE):
        return set()
    return {r[0] for r in con.execute(f"SELECT sha256 FROM {KNOWN_TABLE}")}


def remember_hashes(con: sqlite3.Connection, hashes: Iterable[str]) -> None:
    """Workspace: record that the master has these photos."""
    con.executemany(f"INSERT OR IGNORE INTO {KNOWN_TABLE} VALUES (?)", ((h,) for h in hashes))


def verify_media(con: sqlite3.Connection, where: str) -> int:
    """Check every photo's bytes against its hash, read a piece at a time; return how many.

    Raises
    ------
    MediaError
        Naming *where* and the first photo whose content does not match its hash.
    """
    if not _exists(con, MEDIA_TABLE):
        return 0
    rows = con.execute(f"SELECT id, sha256, size FROM {MEDIA_TABLE} ORDER BY id").fetchall()
    with no_mmap(con), small_cache(con):
        for media, sha, size in rows:
            (kind,) = con.execute(f"SELECT typeof(data) FROM {MEDIA_TABLE} WHERE id = ?", (media,)).fetchone()
            if kind != "blob" or blob_sha256(con, MEDIA_TABLE, media) != (sha, size):
                raise MediaError(f"{where}: photo {sha} does not match its content (damaged or altered)")
    ids = rows
    return len(ids)


def pending_photo_bytes(con: sqlite3.Connection, layers: Iterable[str], known: Container[str]) -> tuple[int, int, int]:
    """Workspace: what the next change package carries of the pending photos: (links, files, bytes).

    Files are the distinct photos whose bytes go (the master does not have them).
    """
    links = 0
    sizes: dict[str, int] = {}
    for name in layers:
        for sha, size in con.execute(f"SELECT m.sha256, p.size FROM {quote(mapping_table(name))} m "
                                     f"LEFT JOIN {MEDIA_TABLE} p ON p.sha256 = m.sha256 WHERE m.pending = 1"):
            links += 1
            if size is not None and sha not in known:
                sizes[sha] = int(size)
    return links, len(sizes), sum(sizes.values())


def pending_layers(con: sqlite3.Connection, layers: Iterable[str]) -> list[str]:
    """Workspace: the layers with photos added and not yet sent."""
    linked = media_layers(con)
    return [name for name in layers if name in linked and con.execute(
        f"SELECT 1 FROM {quote(mapping_table(name))} WHERE pending = 1 LIMIT 1").fetchone()]


def mark_sent(con: sqlite3.Connection, layers: Iterable[str]) -> None:
    """Workspace: the pending photos of these layers are on their way; the master will know their hashes."""
    for name in layers:
        mapping = quote(mapping_table(name))
        remember_hashes(con, [r[0] for r in con.execute(f"SELECT sha256 FROM {mapping} WHERE pending = 1")])
        con.execute(f"UPDATE {mapping} SET pending = 0 WHERE pending = 1")


def receive_photos(source: sqlite3.Connection, target: sqlite3.Connection, layers: Iterable[str], *,
                   exclude: Container[tuple[str, str, str]] = ()) -> int:
    """Workspace: the master's photos of the features the workspace holds (bytes it lacks), as base, not pending.

    The hashes of the master are remembered (they replace those remembered
    before: the office may have dropped some), so a change package never sends
    one back. *exclude*: links not taken (the workspace's unlinks not yet
    sent). Returns the links added.
    """
    layers = list(layers)
    ensure_tables(target, layers, geopackage=False, pending=True)
    target.execute(f"DELETE FROM {KNOWN_TABLE}")
    if not has_media(source):
        return 0
    linked = media_layers(source)
    chosen = [name for name in layers if name in linked]
    present: set[str] = set()
    for name in chosen:
        present.update(r[0] for r in target.execute(f"SELECT uuid FROM {quote(name)}"))
    links, _ = copy_photos(source, target, chosen, geopackage=False, pending=False, uuids=present,
                           exclude=exclude)
    remember_hashes(target, all_hashes(source))
    return links
