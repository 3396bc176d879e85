"""Bulk drawing from numpy arrays: one Qt call per chunk, never one per feature.

Three tricks, all measured on PySide6 6.11 (see ``bench/canvas.py``):

* point symbols: a pre-rendered symbol image is stamped with
  ``QPainter.drawPixmapFragments`` from a numpy array laid out like
  ``QPainter::PixmapFragment`` (ten doubles), ~0.3 s for 1M antialiased
  symbols with an outline, against ~6 s for ``drawPoints`` with a wide round
  antialiased pen and ~7 s for a Python ``drawEllipse`` loop;
* ``QPolygonF`` filled in place through its data pointer (``drawPoints``);
* ``QPainterPath`` for many polylines decoded from a ``QDataStream`` buffer
  built by numpy (one ``drawPath`` per chunk of lines).

The PySide6 calls hold the GIL, so work is cut into chunks of a few
milliseconds: the GUI thread stays responsive and a cancelled render stops
between chunks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shiboken6
from PySide6.QtCore import QByteArray, QDataStream
from PySide6.QtGui import QPainter, QPainterPath, QPixmap, QPolygonF

__all__ = [
    "CHUNK_POINTS",
    "draw_order_key",
    "shuffled_winners",
    "CHUNK_VERTICES",
    "polygon_from_xy",
    "path_from_lines",
    "draw_symbols",
    "draw_lines",
    "unique_pixels",
]

CHUNK_POINTS = 20_000
"""Symbols stamped per Qt call (~6 ms)."""

CHUNK_VERTICES = 50_000
"""Polyline vertices per QPainterPath drawn."""

# QPainter::PixmapFragment: x, y, sourceLeft, sourceTop, width, height,
# scaleX, scaleY, rotation, opacity (all qreal).
_FRAGMENT_FIELDS = 10


def polygon_from_xy(x: np.ndarray, y: np.ndarray) -> QPolygonF:
    """Return a QPolygonF of the points (x[i], y[i]), filled without a loop."""
    n = int(np.shape(x)[0])
    polygon = QPolygonF()
    if n == 0:
        return polygon
    polygon.resize(n)
    # data() wraps the QPointF array the polygon owns (not owned by Python).
    buffer = shiboken6.VoidPtr(polygon.data(), n * 16, True)
    view = np.frombuffer(buffer, dtype=np.float64).reshape(n, 2)
    view[:, 0] = x
    view[:, 1] = y
    return polygon


def path_from_lines(xy: np.ndarray, counts: np.ndarray) -> QPainterPath:
    """Return one QPainterPath holding many polylines.

    Parameters
    ----------
    xy : numpy.ndarray
        (n, 2) vertices of all lines, one after another.
    counts : numpy.ndarray
        Number of vertices of each line (sums to n).

    Notes
    -----
    The path is decoded from the documented QDataStream format of
    QPainterPath (element count, type/x/y per element, start of the last
    subpath, fill rule), so no Python call is made per vertex.  Vertices must be finite.
    """
    n = int(xy.shape[0])
    path = QPainterPath()
    if n == 0:
        return path
    record = np.empty(n, dtype=[("type", ">i4"), ("x", ">f8"), ("y", ">f8")])
    record["type"] = 1  # LineToElement
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    record["type"][starts] = 0  # MoveToElement
    record["x"] = xy[:, 0]
    record["y"] = xy[:, 1]
    # Trailer: index of the last subpath start, then the fill rule (odd-even).
    data = (np.array([n], dtype=">i4").tobytes() + record.tobytes()
            + np.array([starts[-1], 0], dtype=">i4").tobytes())
    buffer = QByteArray(data)  # must outlive the stream reading it
    stream = QDataStream(buffer)
    stream >> path
    if stream.status() != QDataStream.Status.Ok or path.elementCount() != n:
        raise ValueError("could not decode polylines into a QPainterPath")
    return path


def unique_pixels(x: np.ndarray, y: np.ndarray, width: int, height: int, margin: int):
    """Snap points to pixel centres and drop duplicates.

    Symbols drawn at the same pixel centre look identical, so at small
    scales (dense data) many can be skipped.  Points more than ``margin``
    pixels outside the image are dropped as well.

    Returns
    -------
    tuple of numpy.ndarray
        The x and y pixel centres (floats ending in .5) still to draw.
    """
    ix = np.floor(x).astype(np.int64) + margin
    iy = np.floor(y).astype(np.int64) + margin
    w = width + 2 * margin
    h = height + 2 * margin
    inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
    ix = ix[inside]
    iy = iy[inside]
    occupied = np.zeros(w * h, dtype=bool)
    occupied[iy * w + ix] = True
    keys = np.flatnonzero(occupied)
    return (keys % w - margin) + 0.5, (keys // w - margin) + 0.5


def draw_order_key(fid: np.ndarray) -> np.ndarray:
    """A pseudo-random but stable 16-bit key per feature id (a multiplicative hash).

    Drawing features by this key mixes categories evenly, whatever order the
    data is stored in, and the same feature keeps its place from one render
    to the next.
    """
    h = np.asarray(fid, dtype=np.int64).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return (h >> np.uint64(48)).astype(np.uint16)


def shuffled_winners(x: np.ndarray, y: np.ndarray, key: np.ndarray, width: int, height: int,
                     margin: int) -> np.ndarray:
    """Indices of the points to draw, one per device pixel, in a mixed drawing order.

    Of the points falling on one pixel, the one with the highest ``key``
    wins; the winners are returned in increasing ``key`` order, so symbols of
    all categories are interleaved: at a dense full extent, what shows on top
    of a crowded spot is a fair draw of the features there, and the colours
    of the picture keep the proportions of the data (the last category no
    longer paints over all the others).  Points more than ``margin`` pixels
    outside the image are dropped.
    """
    n = int(np.shape(x)[0])
    if n == 0:
        return np.empty(0, np.int64)
    order = np.argsort(key, kind="stable")  # radix sort of 16-bit keys: linear time
    ix = np.floor(x[order]).astype(np.int64) + margin
    iy = np.floor(y[order]).astype(np.int64) + margin
    w = width + 2 * margin
    h = height + 2 * margin
    inside = np.flatnonzero((ix >= 0) & (ix < w) & (iy >= 0) & (iy < h))
    winner = np.full(w * h, -1, dtype=np.int64)
    # With repeated pixels the last assignment stands: the highest key.
    winner[iy[inside] * w + ix[inside]] = inside
    kept = np.zeros(n, dtype=bool)
    kept[winner[winner >= 0]] = True
    return order[np.flatnonzero(kept)]


def draw_symbols(
    painter: QPainter,
    symbol: QPixmap,
    x: np.ndarray,
    y: np.ndarray,
    cancelled: Callable[[], bool] = lambda: False,
    chunk: int = CHUNK_POINTS,
    source_left: np.ndarray | None = None,
    cell: float | None = None,
) -> bool:
    """Stamp ``symbol`` centred on every (x[i], y[i]) device pixel position.

    ``symbol`` may be an atlas of same-sized symbols side by side: then
    ``source_left`` gives, per point, the left edge of its symbol in the
    atlas and ``cell`` the width of one symbol, so points of different
    symbols are stamped in one call, in the order given.

    Returns
    -------
    bool
        False when ``cancelled()`` became true before all were drawn.
    """
    n = int(np.shape(x)[0])
    if n == 0:
        return True
    w = float(symbol.width()) if cell is None else float(cell)
    h = float(symbol.height())
    # One chunk of fragments at a time: ten doubles per symbol for a whole
    # full extent would be tens of megabytes.
    fragments = np.zeros((min(n, chunk), _FRAGMENT_FIELDS), dtype=np.float64)
    fragments[:, 4] = w
    fragments[:, 5] = h
    fragments[:, 6] = 1.0
    fragments[:, 7] = 1.0
    fragments[:, 9] = 1.0
    for start in range(0, n, chunk):
        if cancelled():
            return False
        stop = min(n, start + chunk)
        block = fragments[:stop - start]
        block[:, 0] = x[start:stop]
        block[:, 1] = y[start:stop]
        if source_left is not None:
            block[:, 2] = source_left[start:stop]
        # A wrapper around our own memory; Python does not own it, and
        # ``fragments`` stays alive for the duration of the call.
        first = shiboken6.wrapInstance(block.ctypes.data, QPainter.PixmapFragment)
        painter.drawPixmapFragments(first, block.shape[0], symbol)
    return True


def draw_lines(
    painter: QPainter,
    lines: list[np.ndarray],
    cancelled: Callable[[], bool] = lambda: False,
    chunk: int = CHUNK_VERTICES,
) -> bool:
    """Draw polylines (device coordinates) with the painter's pen, in chunks.

    Returns
    -------
    bool
        False when ``cancelled()`` became true before all were drawn.
    """
    batch: list[np.ndarray] = []
    size = 0
    for line in lines:
        if line.shape[0] < 2:
            continue
        batch.append(line)
        size += line.shape[0]
        if size >= chunk:
            if cancelled():
                return False
            _draw_batch(painter, batch)
            batch, size = [], 0
    if batch:
        if cancelled():
            return False
        _draw_batch(painter, batch)
    return True


def _draw_batch(painter: QPainter, batch: list[np.ndarray]) -> None:
    counts = np.fromiter((b.shape[0] for b in batch), dtype=np.int64, count=len(batch))
    painter.drawPath(path_from_lines(np.concatenate(batch), counts))
