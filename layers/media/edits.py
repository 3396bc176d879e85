"""The editor's photo edits: held in memory with the feature edits and saved with them, in one transaction.

``PhotoEdits`` is attached to the editor's ``EditSession``: the editor's
undoable commands call :meth:`PhotoEdits.add` / :meth:`PhotoEdits.remove` and
their inverses; reads (:meth:`PhotoEdits.photos`, :meth:`PhotoEdits.data`)
show the workspace with the pending photo edits applied; ``save()`` stores
them through :func:`~layers.media.attach.store_photos` and
:func:`~layers.media.removal.delete_photo`. A feature added in the session
(negative fid) gets its photos once it is saved.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from layers.media.attach import store_photos
from layers.media.content import DEFAULT_MAX_BYTES, MediaError, Photo, photo_from_bytes, read_photo
from layers.media.removal import delete_photo, drop_orphan_links
from layers.media.shrink import Shrink, shrink_photo
from layers.media.tables import has_media, media_data, photo_links
from layers.workspace.editing import EditSession

__all__ = ["PhotoEdits", "PhotoItem"]

Key = tuple[str, int]  # (layer, fid)


@dataclass(frozen=True)
class PhotoItem:
    """A photo of a feature as the editor shows it (pending edits applied)."""

    sha256: str
    content_type: str
    size: int
    file_name: str | None = None
    taken_at: str | None = None
    author: str | None = None
    #: Added in this session, not yet saved.
    pending: bool = False

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


@dataclass
class _FeaturePhotos:
    added: dict[str, Photo] = field(default_factory=dict)  # sha256 -> photo
    removed: set[str] = field(default_factory=set)  # stored photos taken off
    #: sha256 -> place among the added photos (kept when one is taken off, so undo puts it back there)
    place: dict[str, int] = field(default_factory=dict)

    def put(self, photo: Photo) -> None:
        self.place.setdefault(photo.sha256, len(self.place))
        self.added[photo.sha256] = photo
        self.added = dict(sorted(self.added.items(), key=lambda kv: self.place[kv[0]]))

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


class PhotoEdits:
    """Pending photo edits over an edit session's workspace (attached to the session).

    Parameters
    ----------
    session : EditSession
    max_bytes : int
        Largest file accepted.
    shrink : Shrink, optional
        Scale large photos down as they are added (the editor's setting).
    """

    def __init__(self, session: EditSession, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 shrink: Shrink | None = None) -> None:
        self.session = session
        self.workspace = session.workspace
        self.max_bytes = max_bytes
        self.shrink = shrink
        self._edits: dict[Key, _FeaturePhotos] = {}
        session.attach(self)

    # --- state ------------------------------------------------------------------------

    @property
    def is_dirty(self) -> bool:
        return any(edits for key, edits in self._edits.items() if self._alive(key))

    def pending_count(self) -> tuple[int, int]:
        """(photos added, photos taken off) not yet saved, of the features still there (not deleted)."""
        alive = [edits for key, edits in self._edits.items() if self._alive(key)]
        return sum(len(e.added) for e in alive), sum(len(e.removed) for e in alive)

    def _alive(self, key: Key) -> bool:
        """Whether the feature is there in the session (a deleted one's photo edits are not saved)."""
        layer, fid = key
        edits = self.session.edits(layer)
        return fid in edits.added if fid < 0 else fid not in edits.deleted

    # --- reading files ------------------------------------------------------------------

    def read_file(self, path: str | os.PathLike[str]) -> Photo:
        """A photo file checked (MediaError naming it if it is not one) and shrunk per the setting."""
        return self._shrunk(read_photo(path, max_bytes=self.max_bytes))

    def read_bytes(self, data: bytes, where: str, file_name: str | None = None) -> Photo:
        """Bytes (e.g. an image pasted from the clipboard) checked and shrunk as :meth:`read_file` does."""
        return self._shrunk(photo_from_bytes(data, where, file_name=file_name, max_bytes=self.max_bytes))

    def _shrunk(self, photo: Photo) -> Photo:
        if self.shrink is not None:
            photo = shrink_photo(photo, self.shrink)
        if photo.author is None:
            photo = dataclasses.replace(photo, author=self.workspace.user)
        return photo

    # --- edits (each undone by its inverse) -----------------------------------------------

    def add(self, layer: str, fid: int, photo: Photo) -> None:
        """Add a photo to a feature; MediaError if the feature has it already."""
        self.session.feature(layer, fid)  # FeatureNotFoundError if it is not there
        if any(item.sha256 == photo.sha256 for item in self.photos(layer, fid)):
            name = photo.file_name or "this photo"
            raise MediaError(f"{name}: already a photo of {layer} {fid} (sha256 {photo.sha256[:12]}…)")
        edits = self._edits.setdefault((layer, fid), _FeaturePhotos())
        if photo.sha256 in edits.removed:  # taken off and put on again
            edits.removed.discard(photo.sha256)
        else:
            edits.put(photo)

    def remove(self, layer: str, fid: int, sha256: str) -> Photo | None:
        """Take a photo off a feature; returns the photo if it was added in this session (for undo)."""
        if not any(item.sha256 == sha256 for item in self.photos(layer, fid)):
            raise MediaError(f"{layer} {fid}: has no photo {sha256}")
        edits = self._edits.setdefault((layer, fid), _FeaturePhotos())
        added = edits.added.pop(sha256, None)
        if added is None:
            edits.removed.add(sha256)
        return added

    def restore(self, layer: str, fid: int, sha256: str, added: Photo | None) -> None:
        """Undo :meth:`remove` (*added*: what it returned)."""
        edits = self._edits.setdefault((layer, fid), _FeaturePhotos())
        if added is not None:
            edits.put(added)
        else:
            edits.removed.discard(sha256)

    def unadd(self, layer: str, fid: int, sha256: str) -> None:
        """Undo :meth:`add`."""
        edits = self._edits.setdefault((layer, fid), _FeaturePhotos())
        if edits.added.pop(sha256, None) is None:  # it had been taken off before: off again
            edits.removed.add(sha256)

    # --- reads, pending edits applied ---------------------------------------------------------

    def photos(self, layer: str, fid: int) -> list[PhotoItem]:
        """The photos of a feature as the user sees them now (stored ones first, then those added)."""
        edits = self._edits.get((layer, fid), _FeaturePhotos())
        items: list[PhotoItem] = []
        if fid >= 0 and has_media(self.workspace.connection):
            uuid = self.workspace.get(layer, fid).uuid
            items = [PhotoItem(link.sha256, link.content_type, link.size, link.file_name, link.taken_at,
                               link.author) for link in photo_links(self.workspace.connection, uuid=uuid, layer=layer)
                     if link.sha256 not in edits.removed]
        items += [PhotoItem(p.sha256, p.content_type, p.size, p.file_name, p.taken_at, p.author, pending=True)
                  for p in edits.added.values()]
        return items

    def data(self, sha256: str) -> bytes | None:
        """The bytes of a photo (added in this session or stored), or None."""
        for edits in self._edits.values():
            if sha256 in edits.added:
                return edits.added[sha256].data
        if not has_media(self.workspace.connection):
            return None
        return media_data(self.workspace.connection, sha256)

    # --- save and discard (called by the edit session) ----------------------------------------

    def save(self, new_fids: Mapping[str, Mapping[int, int]]) -> None:
        """Store the pending photo edits (inside the session's transaction).

        The photos of the features the session deleted go with them: their
        links, and the bytes no other feature (facility or inspection) refers
        to. Undo before Save brings them back (nothing is written until then).
        """
        ws = self.workspace
        deleted = [layer for layer in ws.definitions if self.session.edits(layer).deleted]
        if deleted:
            with ws.session() as con:
                drop_orphan_links(con, deleted)
        for (layer, fid), edits in self._edits.items():
            if not edits:
                continue
            real = new_fids.get(layer, {}).get(fid, fid) if fid < 0 else fid
            if real < 0 or real in self.session.edits(layer).deleted:  # the feature is not there any more
                continue
            uuid = ws.get(layer, real).uuid
            for sha in sorted(edits.removed):
                delete_photo(ws, uuid, sha, layer=layer)
            if edits.added:
                store_photos(ws, layer, uuid, list(edits.added.values()))

    def discard(self) -> None:
        self._edits = {}
