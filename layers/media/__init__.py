"""Photos and other attachments of facilities, stored the GeoPackage way (Related Tables Extension).

Every file that holds photos (workspace, master, change package, export) has
the same tables:

``media``
    an attributes table, one row per distinct content: ``id``, ``data`` (the
    bytes, a BLOB), ``content_type`` (MIME type sniffed from the bytes),
    ``sha256`` (unique), ``size``, ``taken_at`` (EXIF, local time as the
    camera wrote it), ``author`` (EXIF Artist, else the person who added it),
    ``exif_lon``/``exif_lat``/``exif_direction`` (WGS 84 degrees, where the
    photo holds them), ``file_name`` (the name only, never a path),
    ``added_at``.
``<layer>_media``
    the mapping table of a facility layer: ``base_id`` (the facility's fid in
    this file, 0 when the file does not hold that facility: a change package
    carries only changed features), ``related_id`` (``media.id``),
    ``base_uuid`` and ``sha256``: the facility and the photo as they are
    matched between files. A photo is linked to a facility once.
``gpkgext_relations``
    one row per layer: relation ``media`` from the layer to ``media`` through
    its mapping table; ``gpkg_extensions`` registers ``gpkg_related_tables``
    for it and for each mapping table (GeoPackage files only need these, the
    workspace keeps them so every file looks alike).

Nothing refers to a file outside the database: moving a workspace never
breaks a photo.

Modules
-------
* ``content``: reading a photo file: size limit, SHA-256, MIME sniffing,
  decoding, EXIF (Pillow).
* ``tables``: the tables above on any SQLite connection: create, register,
  store, list, read.
* ``attach``: photos added to a workspace's facility (``tongcheng photos add``),
  and any photo file (workspace, master, package, export) opened for reading.
* ``shrink``: large photos scaled down on import (longest edge, JPEG
  quality), their EXIF kept.
* ``removal``: a photo taken off a facility (``tongcheng photos delete``) and
  put back (undo); ``media_removed`` carries the unlink to the office, and
  ``update`` brings the office's unlinks back; the photos of deleted features
  go with them (:func:`~layers.media.removal.drop_orphan_links`).
* ``legacy``: the files of the older one-path ``photo`` field moved into the
  media tables (``tongcheng photos adopt``).
"""

from __future__ import annotations

from layers.media.attach import add_photos, open_photos
from layers.media.content import DEFAULT_MAX_BYTES, Photo, read_photo
from layers.media.removal import RemovedPhoto, delete_photo, restore_photo
from layers.media.shrink import Shrink, shrink_photo
from layers.media.tables import MEDIA_TABLE, PhotoLink, mapping_table

__all__ = ["DEFAULT_MAX_BYTES", "MEDIA_TABLE", "Photo", "PhotoLink", "RemovedPhoto", "Shrink", "add_photos",
           "delete_photo", "mapping_table", "open_photos", "read_photo", "restore_photo", "shrink_photo"]
