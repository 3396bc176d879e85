"""Photos in exports: related tables in a GeoPackage (OGC 18-000), files named by hash beside other formats."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from layers.sync.exporting.source import Source

__all__ = ["PHOTO_COLUMN", "layers_with_photos", "photo_uuids", "export_gpkg_photos", "photo_files"]

#: The column of the photos' relative paths in exports other than GeoPackage (``photos/<sha256>.jpg;...``).
PHOTO_COLUMN = "photo_files"

Filter = tuple[str, Sequence[Any]]


def photo_uuids(src: Source, chosen: Sequence[str], filters: Mapping[str, Filter]) -> set[str] | None:
    """The uuids of the features exported (None: every feature of the chosen layers)."""
    if not any(filters[name][0] for name in chosen):
        return None
    uuids: set[str] = set()
    for name in chosen:
        where, parameters = filters[name]
        uuids.update(r[0] for r in src.connection.execute(
            f'SELECT uuid FROM "{name}"' + (f" WHERE {where}" if where else ""), parameters))
    return uuids


def layers_with_photos(src: Source, chosen: Sequence[str]) -> list[str]:
    """The chosen layers whose features have photos in the source."""
    from layers.media.tables import mapping_table, media_layers

    linked = media_layers(src.connection)
    return [name for name in chosen if name in linked and src.connection.execute(
        f'SELECT 1 FROM "{mapping_table(name)}" LIMIT 1').fetchone()]


def export_gpkg_photos(src: Source, target: sqlite3.Connection, chosen: Sequence[str],
                       filters: Mapping[str, Filter]) -> int:
    """The exported features' photos as related tables (OGC 18-000); returns the links written."""
    from layers.media.tables import copy_photos

    with_photos = layers_with_photos(src, chosen)
    if not with_photos:
        return 0
    linked, _ = copy_photos(src.connection, target, with_photos, geopackage=True,
                            uuids=photo_uuids(src, with_photos, filters))
    return linked


def photo_files(src: Source, layer: str, folder: Path, relative: str,
                uuids: set[str] | None) -> tuple[dict[str, str], int]:
    """Write a layer's photos into *folder* as files named by hash.

    Returns per uuid its photos' relative paths (``;``-separated), and the number of links.
    """
    from layers.media.blobs import write_blob_file
    from layers.media.content import hash_file_name
    from layers.media.tables import MEDIA_TABLE, media_id, photo_links

    folder.mkdir(exist_ok=True)
    found: dict[str, list[str]] = {}
    links = 0
    for link in photo_links(src.connection, layer=layer):
        if uuids is not None and link.uuid not in uuids:
            continue
        name = hash_file_name(link.sha256, link.content_type)
        target = folder / name
        if not target.exists():
            rowid = media_id(src.connection, link.sha256)
            if rowid is None:
                continue
            write_blob_file(src.connection, MEDIA_TABLE, rowid, target)  # a piece at a time
        found.setdefault(link.uuid, []).append(f"{relative}/{name}")
        links += 1
    return {uuid: ";".join(names) for uuid, names in found.items()}, links
