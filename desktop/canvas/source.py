"""Data sources the map canvas draws: the protocol and an in-memory implementation.

The canvas never talks to the SpatiaLite store directly.  It reads features
through the small :class:`LayerSource` protocol, so the store, a GeoPackage
reader or the in-memory :class:`ArrayLayerSource` can all be drawn.  Sources
are called from render worker threads and must be safe to call from any
thread.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "BBox",
    "FeatureArrays",
    "LayerSource",
    "ArrayLayerSource",
    "POINT",
    "LINESTRING",
    "POLYGON",
]

BBox = tuple[float, float, float, float]
"""(xmin, ymin, xmax, ymax) in map units."""

POINT = "POINT"
LINESTRING = "LINESTRING"
POLYGON = "POLYGON"
"""Polygons travel as their rings in ``FeatureArrays.lines`` (one entry per ring, holes too)."""


@dataclass
class FeatureArrays:
    """Features of one layer as column arrays.

    Attributes
    ----------
    fid : numpy.ndarray
        int64 feature ids, shape (n,).
    x, y : numpy.ndarray or None
        float64 coordinates, shape (n,), for point layers.
    lines : list of numpy.ndarray or None
        One (k, 2) float64 coordinate array per feature, for line layers.
    category : numpy.ndarray or None
        Value of the style field per feature (str or object array; items
        may be None).
    label : numpy.ndarray or None
        Label text per feature (str or object array), or None when the layer
        has no label field.
    """

    fid: np.ndarray
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    lines: list[np.ndarray] | None = None
    category: np.ndarray | None = None
    label: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.fid.shape[0])

    @classmethod
    def empty(cls, geometry_type: str = POINT) -> FeatureArrays:
        """Return an empty set of features of the given geometry type."""
        fid = np.empty(0, np.int64)
        if geometry_type in (LINESTRING, POLYGON):
            return cls(fid=fid, lines=[], category=np.empty(0, object))
        return cls(fid=fid, x=np.empty(0), y=np.empty(0), category=np.empty(0, object))


@runtime_checkable
class LayerSource(Protocol):
    """What the canvas needs from a layer.

    Attributes
    ----------
    name : str
        Unique layer name (table name), used as key everywhere.
    title : str
        Display title.
    geometry_type : str
        ``'POINT'`` or ``'LINESTRING'``.
    style : dict
        Style definition from the layer definition file (see
        :mod:`desktop.canvas.style`).
    revision : int
        Changes whenever the data changes, so cached images can be dropped.
    """

    name: str
    title: str
    geometry_type: str
    style: dict

    @property
    def revision(self) -> int: ...

    def extent(self) -> BBox | None:
        """Return the bounding box of all features, or None when empty."""
        ...

    def features_in_extent(self, bbox: BBox) -> FeatureArrays:
        """Return the features whose geometry intersects ``bbox``'s box."""
        ...

    # A source may also offer ``features_for_drawing(bbox, labels)``: the same
    # features, with the label column read only when ``labels`` is true.  The
    # renderer uses it when present (see ``desktop.canvas.render``).


_revisions = itertools.count(1)


class ArrayLayerSource:
    """A complete in-memory layer held in numpy arrays.

    Used for tests, benchmarks, scratch layers and GPS previews.  Reads and
    writes are guarded by a lock, so it can be read from render workers
    while the GUI thread edits it.

    Parameters
    ----------
    name, title : str
        Layer name and display title.
    geometry_type : str
        ``'POINT'`` or ``'LINESTRING'``.
    style : dict
        Style definition.
    fid : array_like of int
        Feature ids.
    x, y : array_like of float, optional
        Point coordinates (point layers).
    lines : list of array_like, optional
        One (k, 2) coordinate array per feature (line layers).
    category : array_like, optional
        Value of the style field per feature.
    label : array_like, optional
        Label text per feature.
    """

    def __init__(
        self,
        name: str,
        title: str,
        geometry_type: str,
        style: dict,
        fid,
        x=None,
        y=None,
        lines=None,
        category=None,
        label=None,
    ):
        if geometry_type not in (POINT, LINESTRING):
            raise ValueError(f"unsupported geometry type {geometry_type!r}")
        self.name = name
        self.title = title
        self.geometry_type = geometry_type
        self.style = dict(style)
        self._lock = threading.Lock()
        self._fid = np.asarray(fid, dtype=np.int64).copy()
        n = self._fid.shape[0]
        if geometry_type == POINT:
            self._x = np.asarray(x, dtype=np.float64).copy()
            self._y = np.asarray(y, dtype=np.float64).copy()
            if self._x.shape != (n,) or self._y.shape != (n,):
                raise ValueError("x and y must have one value per fid")
            self._lines = None
        else:
            self._lines = [np.asarray(c, dtype=np.float64).reshape(-1, 2) for c in lines]
            if len(self._lines) != n:
                raise ValueError("lines must have one coordinate array per fid")
            self._update_line_boxes()
        self._category = _as_column(category, n)
        self._label = None if label is None else _as_column(label, n)
        self._revision = next(_revisions)

    # -- protocol -----------------------------------------------------------

    @property
    def revision(self) -> int:
        """Return a number that changes on every edit."""
        return self._revision

    def extent(self) -> BBox | None:
        """Return the bounding box of all features, or None when empty."""
        with self._lock:
            if self._fid.shape[0] == 0:
                return None
            if self.geometry_type == POINT:
                return (float(self._x.min()), float(self._y.min()),
                        float(self._x.max()), float(self._y.max()))
            b = self._boxes
            return (float(b[:, 0].min()), float(b[:, 1].min()),
                    float(b[:, 2].max()), float(b[:, 3].max()))

    def features_in_extent(self, bbox: BBox) -> FeatureArrays:
        """Return the features whose bounding box intersects ``bbox``."""
        xmin, ymin, xmax, ymax = bbox
        with self._lock:
            if self.geometry_type == POINT:
                x, y = self._x, self._y
                mask = (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
                idx = np.flatnonzero(mask)
                return FeatureArrays(
                    fid=self._fid[idx], x=x[idx], y=y[idx],
                    category=self._category[idx],
                    label=None if self._label is None else self._label[idx],
                )
            b = self._boxes
            mask = (b[:, 0] <= xmax) & (b[:, 2] >= xmin) & (b[:, 1] <= ymax) & (b[:, 3] >= ymin)
            idx = np.flatnonzero(mask)
            return FeatureArrays(
                fid=self._fid[idx], lines=[self._lines[i] for i in idx],
                category=self._category[idx],
                label=None if self._label is None else self._label[idx],
            )

    def features_for_drawing(self, bbox: BBox, labels: bool) -> FeatureArrays:
        """As :meth:`features_in_extent`, without the label column unless ``labels``."""
        features = self.features_in_extent(bbox)
        if not labels:
            features.label = None
        return features

    # -- editing ------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._fid.shape[0])

    def add_point(self, x: float, y: float, category=None, label=None) -> int:
        """Append a point feature and return its new fid."""
        self._require(POINT)
        with self._lock:
            new = int(self._fid.max()) + 1 if self._fid.size else 1
            self._fid = np.append(self._fid, new)
            self._x = np.append(self._x, float(x))
            self._y = np.append(self._y, float(y))
            self._category = _append_obj(self._category, category)
            if self._label is not None:
                self._label = _append_obj(self._label, label)
            self._revision = next(_revisions)
        return new

    def move_point(self, fid: int, x: float, y: float) -> None:
        """Move point ``fid`` to (x, y)."""
        self._require(POINT)
        with self._lock:
            i = self._index(fid)
            # Copy on write: readers may still hold views of the old arrays.
            self._x = self._x.copy()
            self._y = self._y.copy()
            self._x[i] = x
            self._y[i] = y
            self._revision = next(_revisions)

    def point(self, fid: int) -> tuple[float, float]:
        """Return the coordinates of point ``fid``."""
        self._require(POINT)
        with self._lock:
            i = self._index(fid)
            return float(self._x[i]), float(self._y[i])

    def delete(self, fids) -> None:
        """Delete the features with the given fids."""
        with self._lock:
            keep = ~np.isin(self._fid, np.asarray(list(fids), dtype=np.int64))
            self._fid = self._fid[keep]
            if self.geometry_type == POINT:
                self._x = self._x[keep]
                self._y = self._y[keep]
            else:
                self._lines = [c for c, k in zip(self._lines, keep, strict=True) if k]
                self._update_line_boxes()
            self._category = self._category[keep]
            if self._label is not None:
                self._label = self._label[keep]
            self._revision = next(_revisions)

    # -- helpers ------------------------------------------------------------

    def _require(self, geometry_type: str) -> None:
        if self.geometry_type != geometry_type:
            raise TypeError(f"layer {self.name!r} is not a {geometry_type} layer")

    def _index(self, fid: int) -> int:
        hits = np.flatnonzero(self._fid == fid)
        if hits.size == 0:
            raise KeyError(fid)
        return int(hits[0])

    def _update_line_boxes(self) -> None:
        boxes = np.empty((len(self._lines), 4))
        for i, c in enumerate(self._lines):
            boxes[i] = (c[:, 0].min(), c[:, 1].min(), c[:, 0].max(), c[:, 1].max())
        self._boxes = boxes


def _as_column(values, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, None, dtype=object)
    arr = np.asarray(values)
    if arr.dtype.kind not in "OU":
        arr = arr.astype(object)
    if arr.shape != (n,):
        raise ValueError("attribute columns must have one value per fid")
    return arr.copy()


def _append_obj(arr: np.ndarray, value) -> np.ndarray:
    out = np.empty(arr.shape[0] + 1, dtype=object)
    out[:-1] = arr
    out[-1] = value
    return out
