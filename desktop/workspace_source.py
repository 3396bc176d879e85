"""Canvas layer sources over a workspace and its edit session.

A :class:`WorkspaceLayerSource` lets the map canvas draw a workspace layer
with the pending edits applied. Render workers read the stored features
through a read-only connection of their own (one per thread, from
``Workspace.reader()``; WAL lets them read while the editor writes), and lay
a snapshot of the pending edits over them. The snapshot is taken in the GUI
thread by :meth:`WorkspaceLayerSource.invalidate` after every edit, so
workers never touch the edit session itself, whose dictionaries the GUI
thread changes.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
import shapely

from layers.workspace.store import Workspace

from .canvas.source import LINESTRING, POINT, POLYGON, BBox, FeatureArrays

__all__ = ["ReaderPool", "WorkspaceLayerSource", "canvas_style", "sources_for_session"]


class ReaderPool:
    """One read-only view of a workspace per thread, closed together.

    Each view is a :class:`~layers.workspace.store.Workspace` over a connection from
    ``workspace.reader()``, so the core's own read methods run on it. A view
    reads the layer definitions once, when it opens; after the core changed
    them (an update, a restore point) :meth:`follow_definitions` hands every
    view the window's.
    """

    def __init__(self, workspace):
        self._workspace = workspace
        self._local = threading.local()
        self._lock = threading.Lock()
        self._stacks: list[ExitStack] = []
        self._closed = False
        self._definitions = None  # the definitions every view reads with, once the window followed a change

    def follow_definitions(self, definitions) -> None:
        """Read with these layer definitions from now on (the workspace's, after the core changed them)."""
        self._definitions = definitions

    def view(self) -> Workspace:
        """The calling thread's read-only workspace view (opened on first use)."""
        view = getattr(self._local, "view", None)
        if view is not None:
            definitions = self._definitions
            if definitions is not None and view.definitions is not definitions:
                view.definitions = definitions
            return view
        with self._lock:
            if self._closed:
                raise RuntimeError("the workspace readers are closed")
            stack = ExitStack()
            # A render streams a view's rows once: reading them through the
            # memory map would leave every page of a full extent resident in
            # the editor (a 1,000,000-point layer: over 300 MB); plain reads
            # into the connection's small page cache serve a stream as fast.
            connection = stack.enter_context(self._workspace.reader(mapped=False))
            view = Workspace(self._workspace.path, connection)
            self._stacks.append(stack)
        self._local.view = view
        return view

    def close(self) -> None:
        """Close every thread's connection (after the render workers stopped)."""
        with self._lock:
            self._closed = True
            stacks, self._stacks = self._stacks, []
        for stack in stacks:
            stack.close()


def canvas_style(definition, language: str = "zh_CN") -> dict:
    """The canvas style dict of a layer definition.

    Adds what the canvas needs and the definition keeps elsewhere: the label
    field, and legend labels of each class taken from the style field's code
    list (zh_CN and en).
    """
    style = dict(definition.style)
    style["label_field"] = definition.label_field
    field_name = style.get("field")
    codes = None
    if field_name:
        codes = {code.value: code for code in definition.field(field_name).codes}
    classes = []
    for entry in style.get("classes", ()):
        entry = dict(entry)
        label = dict(entry.get("label") or {})
        code = codes.get(entry.get("value")) if codes else None
        for lang in ("zh_CN", "en"):
            if lang not in label:
                label[lang] = code.label(lang) if code else str(entry.get("value"))
        entry["label"] = label
        classes.append(entry)
    style["classes"] = classes
    return style


@dataclass
class _Overlay:
    """The pending edits of one layer, as drawn: a snapshot taken in the GUI thread."""

    hidden: np.ndarray  # stored fids whose stored state must not be drawn
    fid: np.ndarray
    x: np.ndarray
    y: np.ndarray
    lines: list  # per feature: list of (k, 2) arrays (line layers)
    category: np.ndarray
    label: np.ndarray
    bounds: tuple | None

    @classmethod
    def empty(cls):
        none = np.empty(0, dtype=object)
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.empty(0), [], none, none, None)


class WorkspaceLayerSource:
    """A workspace layer as the canvas sees it: stored features with pending edits applied.

    Parameters
    ----------
    session : layers.workspace.editing.EditSession
        The edit session; read only in the GUI thread (:meth:`invalidate`).
    name : str
        Layer name.
    readers : ReaderPool
        Per-thread read-only views of the workspace, for the render workers.
    language : str
        Language of the title and legend labels.
    """

    def __init__(self, session, name: str, readers: ReaderPool, language: str = "zh_CN"):
        definition = session.workspace.layer(name)
        self._session = session
        self._definition = definition
        self._readers = readers
        self.name = name
        self.title = definition.title(language)
        self.geometry_type = (POINT if definition.geometry_type in ("POINT", "MULTIPOINT")
                              else POLYGON if "POLYGON" in definition.geometry_type else LINESTRING)
        self.style = canvas_style(definition, language)
        #: Map tools pick features of this layer (a reference layer is only drawn).
        self.pickable = not definition.reference
        self._style_field = self.style.get("field")
        self._label_field = definition.label_field
        self._fields = tuple(dict.fromkeys(f for f in (self._style_field, self._label_field) if f))
        self._revision = 1
        self._overlay = _Overlay.empty()
        self._language = language
        self._colouring = None  # (style, categories) drawn instead of the definition's style
        self.invalidate()

    @property
    def definition(self):
        """The layer definition."""
        return self._definition

    @property
    def revision(self) -> int:
        """Changes on every edit of the layer, so the canvas renders it again."""
        return self._revision

    def set_language(self, language: str) -> None:
        """Use titles and legend labels of another language."""
        self.title = self._definition.title(language)
        self._language = language
        if self._colouring is None:
            self.style = canvas_style(self._definition, language)

    def set_colouring(self, style: dict | None, categories=None) -> None:
        """Draw the points with another ``style`` whose class per feature is ``categories(fids)``
        (an object array), e.g. by the facility's open cases; None returns to the definition's style.

        ``categories`` is called from the render threads: it must read only what it owns.
        """
        self._colouring = (style, categories) if style is not None else None
        self.style = style if style is not None else canvas_style(self._definition, self._language)
        self._revision += 1

    def invalidate(self) -> None:
        """Take a new snapshot of the layer's pending edits and bump the revision (GUI thread)."""
        session = self._session
        edits = session.edits(self.name)
        if not edits:
            self._overlay = _Overlay.empty()
        else:
            hidden = np.fromiter(edits.touched(), dtype=np.int64)
            changed = sorted(fid for fid in set(edits.changed) | set(edits.moved) if fid not in edits.deleted)
            features = [session.feature(self.name, fid) for fid in changed]
            features += [session.feature(self.name, fid) for fid in sorted(edits.added, reverse=True)]
            features = [f for f in features if f.geometry is not None and not f.geometry.is_empty]
            self._overlay = self._snapshot(hidden, features)
        self._revision += 1

    def _snapshot(self, hidden, features) -> _Overlay:
        n = len(features)
        fid = np.array([f.fid for f in features], dtype=np.int64)
        category = np.empty(n, dtype=object)
        label = np.empty(n, dtype=object)
        for i, f in enumerate(features):
            category[i] = f.attributes.get(self._style_field) if self._style_field else None
            label[i] = f.attributes.get(self._label_field) if self._label_field else None
        bounds = None
        if n:
            b = np.array([f.geometry.bounds for f in features])
            bounds = (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))
        if self.geometry_type == POINT:
            points = [_first_point(f.geometry) for f in features]
            x = np.array([p[0] for p in points], dtype=np.float64)
            y = np.array([p[1] for p in points], dtype=np.float64)
            return _Overlay(hidden, fid, x, y, [], category, label, bounds)
        lines = [_line_parts(f.geometry) for f in features]
        return _Overlay(hidden, fid, np.empty(0), np.empty(0), lines, category, label, bounds)

    # -- LayerSource protocol (any thread) ---------------------------------------------

    def extent(self) -> BBox | None:
        """The box of the stored features and the pending ones (deletions do not shrink it)."""
        stored = self._readers.view().extent(self.name)
        pending = self._overlay.bounds
        boxes = [b for b in (stored, pending) if b is not None]
        if not boxes:
            return None
        a = np.array(boxes, dtype=np.float64)
        return (float(a[:, 0].min()), float(a[:, 1].min()), float(a[:, 2].max()), float(a[:, 3].max()))

    def features_in_extent(self, bbox: BBox) -> FeatureArrays:
        """The features inside ``bbox`` (points) or whose box meets it (lines), edits applied."""
        return self.features_for_drawing(bbox, labels=True)

    def features_for_drawing(self, bbox: BBox, labels: bool) -> FeatureArrays:
        """As :meth:`features_in_extent`; the label field is read only when ``labels`` is true."""
        overlay = self._overlay  # one consistent snapshot for this call
        view = self._readers.view()
        if self.geometry_type == POINT:
            return self._points(view, bbox, overlay, labels)
        return self._lines(view, bbox, overlay)

    def _points(self, view, bbox, overlay, labels: bool = True) -> FeatureArrays:
        label_field = self._label_field if labels else None
        fields = tuple(dict.fromkeys(f for f in (self._style_field, label_field) if f))
        arrays = view.point_arrays_in_extent(self.name, bbox, fields)
        fid, x, y = arrays["fid"], arrays["x"], arrays["y"]
        n = fid.shape[0]
        category = arrays[self._style_field] if self._style_field else np.full(n, None, dtype=object)
        label = arrays[label_field] if label_field else None
        if overlay.hidden.size:
            keep = ~np.isin(fid, overlay.hidden)
            fid, x, y, category = fid[keep], x[keep], y[keep], category[keep]
            label = None if label is None else label[keep]
        if overlay.fid.size:
            xmin, ymin, xmax, ymax = bbox
            inside = (overlay.x >= xmin) & (overlay.x <= xmax) & (overlay.y >= ymin) & (overlay.y <= ymax)
            if inside.any():
                fid = np.concatenate([fid, overlay.fid[inside]])
                x = np.concatenate([x, overlay.x[inside]])
                y = np.concatenate([y, overlay.y[inside]])
                category = np.concatenate([category.astype(object), overlay.category[inside]])
                if label is not None:
                    label = np.concatenate([label.astype(object), overlay.label[inside]])
        colouring = self._colouring
        if colouring is not None:
            category = colouring[1](fid)
        return FeatureArrays(fid=fid, x=x, y=y, category=category, label=label)

    def _lines(self, view, bbox, overlay) -> FeatureArrays:
        fids, lines, category, label = [], [], [], []
        hidden = set(overlay.hidden.tolist())

        def add(fid, parts, cat, text):
            for part in parts:  # one entry per part of a multi-line
                fids.append(fid)
                lines.append(part)
                category.append(cat)
                label.append(text)

        for feature in view.features_in_extent(self.name, bbox):
            if feature.fid in hidden or feature.geometry is None:
                continue
            attributes = feature.attributes
            add(feature.fid, _line_parts(feature.geometry),
                attributes.get(self._style_field) if self._style_field else None,
                attributes.get(self._label_field) if self._label_field else None)
        xmin, ymin, xmax, ymax = bbox
        for i, parts in enumerate(overlay.lines):
            boxes = [(p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()) for p in parts if len(p)]
            if any(b[0] <= xmax and b[2] >= xmin and b[1] <= ymax and b[3] >= ymin for b in boxes):
                add(int(overlay.fid[i]), parts, overlay.category[i], overlay.label[i])
        category_array = np.empty(len(category), dtype=object)
        category_array[:] = category
        label_array = None
        if self._label_field:
            label_array = np.empty(len(label), dtype=object)
            label_array[:] = label
        return FeatureArrays(fid=np.array(fids, dtype=np.int64), lines=lines,
                             category=category_array, label=label_array)


def _first_point(geometry):
    if geometry.geom_type == "MultiPoint":
        geometry = geometry.geoms[0]
    return float(geometry.x), float(geometry.y)


def _line_parts(geometry) -> list[np.ndarray]:
    """The coordinate arrays of a line's parts, or of a polygon's rings (exterior and holes)."""
    parts = geometry.geoms if geometry.geom_type.startswith("Multi") else [geometry]
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        parts = [ring for polygon in parts for ring in (polygon.exterior, *polygon.interiors)]
    return [shapely.get_coordinates(part) for part in parts]


def sources_for_session(session, readers: ReaderPool, language: str = "zh_CN") -> list[WorkspaceLayerSource]:
    """One source per workspace layer with geometry (tables like the inspections are not drawn), in layer order."""
    return [WorkspaceLayerSource(session, name, readers, language)
            for name, definition in session.workspace.definitions.items() if definition.has_geometry]
