"""The edit buffer: edits held in memory until saved, as in QGIS's edit session.

The editor pushes every user edit as an undoable command that calls one of the
``EditSession`` methods below; nothing reaches the workspace until ``save()``
writes all pending edits in one transaction through the workspace (so the
change-tracking triggers record them). ``discard()`` drops them. Reads through
the session (features, extent queries, fids for the attribute table) show the
workspace with the pending edits applied.

Features added in the session have negative temporary fids (-1, -2, ...)
until saved; ``save()`` returns the mapping to their real fids. Every edit
method validates first and raises ``ValidationError`` (naming layer, field,
value and rule) leaving the session unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import shapely

from layers.errors import FeatureNotFoundError, WorkspaceError
from layers.schema.components import check_update
from layers.schema.definitions import LayerDefinition, validate_feature
from layers.schema.geometry import conform_geometry, validate_geometry
from layers.workspace.located import with_location
from layers.workspace.store import Feature

if TYPE_CHECKING:
    import sqlite3

    from layers.workspace.store import Workspace

__all__ = ["EditSession", "LayerEdits", "Companion"]

#: A bounding box (minx, miny, maxx, maxy) in the workspace CRS.
BBox = tuple[float, float, float, float]
#: A feature added in a session has no uuid until it is saved.
_NO_UUID: Any = None


@dataclass
class LayerEdits:
    """The pending edits of one layer."""

    added: dict[int, Feature] = field(default_factory=dict)  # temporary fid -> Feature (fid < 0)
    changed: dict[int, dict[str, Any]] = field(default_factory=dict)  # fid -> {field: new value}
    moved: dict[int, Any] = field(default_factory=dict)  # fid -> new geometry
    deleted: dict[int, Feature] = field(default_factory=dict)  # fid -> Feature as it was stored

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.moved or self.deleted)

    def touched(self) -> set[int]:
        """Stored fids whose current state differs from the workspace."""
        return set(self.changed) | set(self.moved) | set(self.deleted)


class Companion(Protocol):
    """Another buffer of edits saved and discarded with an :class:`EditSession` (see ``attach``)."""

    @property
    def is_dirty(self) -> bool: ...

    def save(self, new_fids: Mapping[str, Mapping[int, int]]) -> None: ...

    def discard(self) -> None: ...


class EditSession:
    """Pending edits over a workspace.

    Parameters
    ----------
    workspace : layers.workspace.store.Workspace
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._edits = {name: LayerEdits() for name in workspace.definitions}
        self._next_temporary_fid = -1
        self._companions: list[Companion] = []

    def attach(self, companion: Companion) -> None:
        """Save and discard another buffer of edits with this one (e.g. ``layers.media.edits.PhotoEdits``).

        Its ``save(new_fids)`` runs in the same transaction, after the
        features are written; ``is_dirty`` and ``discard()`` cover it too.
        """
        self._companions.append(companion)

    # --- state ----------------------------------------------------------------

    @property
    def is_dirty(self) -> bool:
        """True when there are edits not yet saved."""
        return any(self._edits.values()) or any(c.is_dirty for c in self._companions)

    def edits(self, layer: str) -> LayerEdits:
        """The pending edits of a layer (read-only use)."""
        self.workspace.layer(layer)
        return self._edits[layer]

    def pending_counts(self) -> dict[str, dict[str, int]]:
        """{layer: {'added': n, 'changed': n, 'deleted': n}} of unsaved edits."""
        return {
            name: {
                "added": len(e.added),
                "changed": len(set(e.changed) | set(e.moved)),
                "deleted": len(e.deleted),
            }
            for name, e in self._edits.items()
        }

    # --- edits (each returns what its undo needs) -------------------------------------

    def _editable(self, layer: str) -> LayerDefinition:
        """The definition of a layer the user may edit (a reference layer is read-only here)."""
        definition = self.workspace.layer(layer)
        if definition.reference:
            raise WorkspaceError(f"{definition.title('en')} ({layer}) is a reference layer: read-only in the "
                                 "editor (the office loads it; tongcheng import fills it)")
        return definition

    def add_feature(
        self, layer: str, attributes: Mapping[str, Any], geometry: Any, *, fid: int | None = None,
        uuid: str | None = None,
    ) -> int:
        """Validate and buffer a new feature; returns its temporary (negative) fid.

        ``fid`` is given only by redo, to bring back the same temporary fid;
        ``uuid``, when given, is the uuid it is saved with (others may refer to it before the save).
        """
        definition = self._editable(layer)
        attributes = with_location(self.workspace, definition, attributes, geometry)
        values = validate_feature(definition, attributes, geometry)
        if fid is None:
            fid = self._next_temporary_fid
            self._next_temporary_fid -= 1
        feature = Feature(layer, fid, uuid or _NO_UUID, values, conform_geometry(definition, geometry))
        self._edits[layer].added[fid] = feature
        return fid

    def remove_added(self, layer: str, fid: int) -> None:
        """Drop a feature added in this session (undo of add_feature)."""
        del self._edits[layer].added[fid]

    def change_attributes(self, layer: str, fid: int, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """Validate and buffer new values for some fields; returns their previous values."""
        definition = self._editable(layer)
        current = self.feature(layer, fid)
        merged = {**definition.editable_values(current.attributes), **attributes}
        values = validate_feature(definition, merged)  # the whole feature must stay valid
        check_update(definition, current.attributes, values)
        previous = {name: current.attributes.get(name) for name in attributes}
        edits = self._edits[layer]
        derived = [f.name for f in definition.fields if f.derived]
        if fid < 0:
            edits.added[fid].attributes = values
            return previous
        stored = self.workspace.get(layer, fid).attributes
        pending = edits.changed.setdefault(fid, {})
        for name in [*attributes, *derived]:
            if values[name] == stored[name] and type(values[name]) is type(stored[name]):
                pending.pop(name, None)
            else:
                pending[name] = values[name]
        if not pending:
            del edits.changed[fid]
        return previous

    def set_geometry(self, layer: str, fid: int, geometry: Any) -> Any:
        """Validate and buffer a new geometry (a move); returns the previous geometry.

        The fields located in reference polygons (zone, unit grid cell) follow
        the new position; the feature must stay valid there (a stricter zone
        may require more).
        """
        definition = self._editable(layer)
        validate_geometry(definition, geometry)
        geometry = conform_geometry(definition, geometry)
        current = self.feature(layer, fid)
        previous = current.geometry
        located = with_location(self.workspace, definition, {}, geometry)
        if located:
            values = validate_feature(definition, {**definition.editable_values(current.attributes), **located})
            self._set_located(layer, fid, values, located)
        edits = self._edits[layer]
        if fid < 0:
            edits.added[fid].geometry = geometry
        elif geometry.equals_exact(self.workspace.get(layer, fid).geometry, 0):
            edits.moved.pop(fid, None)
        else:
            edits.moved[fid] = geometry
        return previous

    def _set_located(self, layer: str, fid: int, values: dict[str, Any], located: Mapping[str, Any]) -> None:
        """Buffer the located fields' values of a moved feature (only those that differ from the stored ones)."""
        edits = self._edits[layer]
        if fid < 0:
            edits.added[fid].attributes = values
            return
        stored = self.workspace.get(layer, fid).attributes
        pending = edits.changed.setdefault(fid, {})
        for name in located:
            if values[name] == stored[name]:
                pending.pop(name, None)
            else:
                pending[name] = values[name]
        if not pending:
            del edits.changed[fid]

    def delete_feature(self, layer: str, fid: int) -> Feature:
        """Buffer the deletion of a feature; returns it as it was (for undo)."""
        self._editable(layer)
        feature = self.feature(layer, fid)
        edits = self._edits[layer]
        if fid < 0:
            del edits.added[fid]
        else:
            edits.deleted[fid] = feature
        return feature

    def undelete(self, layer: str, feature: Feature) -> None:
        """Bring back a feature deleted in this session (undo of delete_feature)."""
        edits = self._edits[layer]
        if feature.fid < 0:
            edits.added[feature.fid] = feature
        else:
            edits.deleted.pop(feature.fid, None)

    # --- reads with the edits applied ----------------------------------------------------

    def feature(self, layer: str, fid: int) -> Feature:
        """A feature as the user sees it now (pending edits applied)."""
        edits = self.edits(layer)
        if fid < 0:
            if fid not in edits.added:
                raise FeatureNotFoundError(f"{layer}: no feature with fid {fid}")
            return _copy(edits.added[fid])
        if fid in edits.deleted:
            raise FeatureNotFoundError(f"{layer}: feature {fid} is deleted (not yet saved)")
        feature = self.workspace.get(layer, fid)
        feature.attributes.update(edits.changed.get(fid, {}))
        if fid in edits.moved:
            feature.geometry = edits.moved[fid]
        return feature

    def features_by_fid(self, layer: str, fids: Sequence[int]) -> list[Feature]:
        """Features for a list of fids (a window of the attribute table), pending edits applied, in that order.

        Stored features are read in one query; fids that no longer exist are skipped.
        """
        edits = self.edits(layer)
        stored = [int(fid) for fid in fids if fid >= 0 and fid not in edits.deleted]
        found: dict[int, Feature] = {}
        for start in range(0, len(stored), 500):
            chunk = stored[start : start + 500]
            where = f"fid IN ({', '.join('?' * len(chunk))})"
            for feature in self.workspace.features(layer, where, chunk):
                feature.attributes.update(edits.changed.get(feature.fid, {}))
                if feature.fid in edits.moved:
                    feature.geometry = edits.moved[feature.fid]
                found[feature.fid] = feature
        for fid in fids:
            if fid < 0 and fid in edits.added:
                found[fid] = _copy(edits.added[fid])
        return [found[fid] for fid in fids if fid in found]

    def count(self, layer: str) -> int:
        edits = self.edits(layer)
        return self.workspace.count(layer) - len(edits.deleted) + len(edits.added)

    def fids(self, layer: str, where: str | None = None, parameters: Sequence[Any] = ()) -> np.ndarray:
        """All fids of a layer in display order (stored by fid, then added ones), as an int64 array.

        ``where`` filters stored features with an SQL condition on their
        columns and pending features by the same condition evaluated in a
        temporary copy (see ``matches``); build it with ``layers.schema.expressions``.
        """
        edits = self.edits(layer)
        sql = f"SELECT fid FROM {layer}" + (f" WHERE {where}" if where else "") + " ORDER BY fid"
        cursor = self.workspace.connection.execute(sql, parameters)
        stored = np.fromiter((row[0] for row in cursor), dtype=np.int64)
        touched = edits.touched()
        if touched:
            stored = stored[~np.isin(stored, np.fromiter(touched, dtype=np.int64))]
            pending = sorted(fid for fid in set(edits.changed) | set(edits.moved) if fid not in edits.deleted)
            if where:
                pending = [fid for fid in pending if self.matches(layer, fid, where, parameters)]
            stored = np.sort(np.concatenate([stored, np.array(pending, dtype=np.int64)]))
        added = sorted(edits.added, reverse=True)
        if where:
            added = [fid for fid in added if self.matches(layer, fid, where, parameters)]
        return np.concatenate([stored, np.array(added, dtype=np.int64)])

    def field_values(self, layer: str, name: str) -> tuple[np.ndarray, list[Any]]:
        """Every feature's value of one field, pending edits applied: (fids, values), stored ones by fid first.

        One column read at once, e.g. for sorting the attribute table by a field.
        """
        self.workspace.layer(layer).field(name)  # an unknown name never reaches the SQL
        edits = self.edits(layer)
        cursor = self.workspace.connection.execute(f"SELECT fid, {name} FROM {layer} ORDER BY fid")
        values: dict[int, Any] = {fid: value for fid, value in cursor if fid not in edits.deleted}
        for fid, changed in edits.changed.items():
            if name in changed and fid in values:
                values[fid] = changed[name]
        for fid in sorted(edits.added, reverse=True):
            values[fid] = edits.added[fid].attributes.get(name)
        return np.fromiter(values, dtype=np.int64, count=len(values)), list(values.values())

    def matches(self, layer: str, fid: int, where: str, parameters: Sequence[Any] = ()) -> bool:
        """Whether a feature, pending edits applied, satisfies an SQL condition on its fields."""
        feature = self.feature(layer, fid)
        definition = self.workspace.layer(layer)
        names = ["fid", *definition.field_names]
        values = [fid, *(feature.attributes.get(n) for n in definition.field_names)]
        columns = ", ".join(f"? AS {name}" for name in names)
        sql = f"SELECT EXISTS (SELECT 1 FROM (SELECT {columns}) WHERE {where})"
        return bool(self.workspace.connection.execute(sql, (*values, *parameters)).fetchone()[0])

    def point_arrays_in_extent(
        self,
        layer: str,
        bbox: BBox,
        fields: Sequence[str] = (),
        connection: sqlite3.Connection | None = None,
    ) -> dict[str, np.ndarray]:
        """Like ``Workspace.point_arrays_in_extent`` with the pending edits applied."""
        arrays = self.workspace.point_arrays_in_extent(layer, bbox, fields, connection=connection)
        edits = self.edits(layer)
        touched = edits.touched()
        pending = [fid for fid in set(edits.changed) | set(edits.moved) if fid not in edits.deleted]
        if not touched and not edits.added:
            return arrays
        keep = ~np.isin(arrays["fid"], np.fromiter(touched, dtype=np.int64)) if touched else slice(None)
        arrays = {name: values[keep] for name, values in arrays.items()}
        extra = [self.feature(layer, fid) for fid in pending] + [_copy(f) for f in edits.added.values()]
        minx, miny, maxx, maxy = bbox
        extra = [f for f in extra if minx <= _shape(f).x <= maxx and miny <= _shape(f).y <= maxy]
        if not extra:
            return arrays
        additions = {
            "fid": np.array([f.fid for f in extra], dtype=np.int64),
            "x": np.array([_shape(f).x for f in extra]),
            "y": np.array([_shape(f).y for f in extra]),
        }
        for name in fields:
            additions[name] = np.array([f.attributes.get(name) for f in extra], dtype=object)
        return {name: np.concatenate([arrays[name], additions[name]]) for name in arrays}

    def features_in_extent(self, layer: str, bbox: BBox) -> list[Feature]:
        """Features whose bounding box meets ``bbox``, pending edits applied."""
        edits = self.edits(layer)
        touched = edits.touched()
        result = [f for f in self.workspace.features_in_extent(layer, bbox) if f.fid not in touched]
        region = shapely.box(*bbox)
        pending = [
            self.feature(layer, fid) for fid in set(edits.changed) | set(edits.moved) if fid not in edits.deleted
        ]
        pending += [_copy(f) for f in edits.added.values()]
        result += [f for f in pending if shapely.box(*_shape(f).bounds).intersects(region)]
        return result

    # --- save and discard ---------------------------------------------------------------

    def save(self) -> dict[str, dict[int, int]]:
        """Write every pending edit in one transaction; returns {layer: {temporary fid: fid}}.

        On any error nothing is written and the edits stay pending.
        """
        workspace = self.workspace
        new_fids: dict[str, dict[int, int]] = {}
        with workspace.session():
            for layer, edits in self._edits.items():
                for fid in edits.deleted:
                    workspace.delete(layer, fid)
                for fid in set(edits.changed) | set(edits.moved):
                    if fid in edits.deleted:
                        continue
                    attributes = edits.changed.get(fid)
                    definition = workspace.layer(layer)
                    if attributes:
                        attributes = {k: v for k, v in attributes.items() if not definition.field(k).derived}
                    workspace.update(layer, fid, attributes or None, edits.moved.get(fid))
                mapping: dict[int, int] = {}
                for fid, feature in sorted(edits.added.items(), reverse=True):
                    definition = workspace.layer(layer)
                    saved = workspace.insert(layer, definition.editable_values(feature.attributes), feature.geometry,
                                             uuid=feature.uuid)
                    mapping[fid] = saved.fid
                new_fids[layer] = mapping
            for companion in self._companions:
                companion.save(new_fids)
        self.discard()
        return new_fids

    def follow_definitions(self) -> None:
        """Take the workspace's layers as they are now, after an update or a restore point changed its definitions.

        A layer the office added gets an empty buffer; a layer gone loses its own.
        Only a session without pending edits follows (they were made under the
        definitions of before): WorkspaceError otherwise, and nothing changes.
        """
        if self.is_dirty:
            raise WorkspaceError(f"{self.workspace.path}: the definitions changed while edits were pending; "
                                 "save or discard them before an update")
        self._edits = {name: LayerEdits() for name in self.workspace.definitions}

    def discard(self) -> None:
        """Drop every pending edit."""
        self._edits = {name: LayerEdits() for name in self.workspace.definitions}
        for companion in self._companions:
            companion.discard()


def _shape(feature: Feature) -> Any:
    """The shapely geometry of a feature."""
    return feature.geometry


def _copy(feature: Feature) -> Feature:
    return Feature(
        feature.layer, feature.fid, feature.uuid, dict(feature.attributes), feature.geometry, dict(feature.audit)
    )
