"""Photos kept the older way moved to the media tables, where they travel.

Before the media tables a facility could hold one photo in a field of type
``photo``: a path, relative to the workspace's folder, of a copy kept beside
the workspace (``attachments/``). The path travelled in change packages, the
file never did. :func:`adopt_photo_fields` stores each such file as a photo
of its feature (sent with the next change package) and empties the field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from layers.geopackage.sql import quote
from layers.log import logger
from layers.media.content import DEFAULT_MAX_BYTES, MediaError, read_photo
from layers.media.removal import clear_removal
from layers.media.tables import ensure_tables, link_photo, store_media
from layers.workspace.identity import now_text
from layers.workspace.store import Workspace

__all__ = ["Adopted", "photo_fields", "adopt_photo_fields"]

log = logger(__name__)


@dataclass(frozen=True)
class Adopted:
    """One value of a one-path photo field, and what became of it."""

    layer: str
    uuid: str
    field: str
    value: str
    #: The photo's hash once stored (or found already stored) as a photo of the feature; None if left.
    sha256: str | None = None
    #: Why the value was left as it is (the file is missing, or not a photo), or None.
    problem: str | None = None


def photo_fields(ws: Workspace) -> dict[str, list[str]]:
    """Per layer, its fields of type ``photo`` (layers without one left out)."""
    out = {}
    for name, definition in ws.definitions.items():
        names = [f.name for f in definition.fields if f.type == "photo"]
        if names:
            out[name] = names
    return out


def adopt_photo_fields(ws: Workspace, *, max_bytes: int = DEFAULT_MAX_BYTES, dry_run: bool = False) -> list[Adopted]:
    """Move the files named by one-path photo fields into the media tables, in one transaction.

    Each file (its path relative to the workspace's folder) is checked as any
    photo is, stored once by hash and linked to its feature (pending: the
    next change package sends it); the field is then emptied, a tracked edit
    the office receives too. A missing file or one that is not a photo is
    reported and its field left as it is.

    Parameters
    ----------
    dry_run : bool
        Check the files and report; change nothing.

    Returns
    -------
    list of Adopted
        One per non-empty value, in layer then fid order.
    """
    found: list[Adopted] = []
    folder = ws.path.parent
    fields = photo_fields(ws)
    with ws.session() as con:
        if not dry_run and fields:
            ensure_tables(con, list(ws.definitions), geopackage=False, pending=True)
        for layer, names in fields.items():
            for name in names:
                column = quote(name)
                rows = con.execute(f"SELECT fid, uuid, {column} FROM {quote(layer)} WHERE {column} IS NOT NULL "
                                   f"AND trim({column}) <> '' ORDER BY fid").fetchall()
                for fid, uuid, value in rows:
                    item = Adopted(layer, uuid, name, str(value))
                    try:
                        photo = read_photo(folder / str(value), max_bytes=max_bytes)
                    except MediaError as exc:
                        found.append(dataclasses.replace(item, problem=str(exc)))
                        continue
                    found.append(dataclasses.replace(item, sha256=photo.sha256))
                    if dry_run:
                        continue
                    if photo.author is None:
                        photo = dataclasses.replace(photo, author=ws.user)
                    store_media(con, photo, now_text())
                    if link_photo(con, layer, uuid, photo.sha256, added_by=ws.user, added_at=now_text(),
                                  pending=True):
                        clear_removal(con, layer, uuid, photo.sha256)
                    ws.update(layer, fid, {name: None})
    adopted = sum(1 for a in found if a.sha256 is not None)
    log.info("%s: %d one-path photo(s) %s the media tables, %d left", ws.path,
             adopted, "could move to" if dry_run else "moved to", len(found) - adopted)
    return found

