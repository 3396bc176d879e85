"""Rendering of one layer, or of all labels, into an image, in a worker thread.

Follows the QGIS model: each layer is drawn into its own transparent image
by a job in a thread pool; the canvas composites the images in layer order.
Labels of all layers are placed together by one last job, so labels of
different layers never overlap either.  A job checks its :class:`CancelFlag`
between chunks of work and gives up with :class:`RenderCancelled`.

Nothing here touches a widget: these functions only need a
:class:`~desktop.canvas.source.LayerSource` and a
:class:`~desktop.canvas.transform.MapTransform`, so they also serve the
benchmark and image export.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRunnable, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from .fastdraw import draw_lines, draw_order_key, draw_symbols, shuffled_winners, unique_pixels
from .labels import Rect, place_labels
from .source import LINESTRING, POLYGON, FeatureArrays, LayerSource
from .style import SELECTION_COLOR, LayerStyle, mm_to_pixels, symbol_image
from .transform import MapTransform

__all__ = [
    "LABEL_FEATURE_LIMIT",
    "CancelFlag",
    "RenderCancelled",
    "RenderSettings",
    "LabelCandidates",
    "LayerImage",
    "LabelImage",
    "render_layer",
    "render_labels",
    "RenderJob",
    "JobRelay",
]

LABEL_FEATURE_LIMIT = 1000
"""A layer is labelled only when at most this many features are in view."""

LABEL_GAP_PX = 2.0
"""Space between a symbol and its label, in logical pixels."""


class RenderCancelled(Exception):
    """Raised inside a render job when its view is no longer wanted."""


class CancelFlag:
    """A flag set by the GUI thread and polled by a render job.

    Calling the flag returns whether it is set, so it can be passed where a
    ``cancelled()`` callback is expected.
    """

    __slots__ = ("_set",)

    def __init__(self):
        self._set = False

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._set = True

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._set

    def __call__(self) -> bool:
        return self._set

    def check(self) -> None:
        """Raise :class:`RenderCancelled` when cancelled."""
        if self._set:
            raise RenderCancelled()


@dataclass(frozen=True)
class RenderSettings:
    """Device facts a render needs, read in the GUI thread.

    Attributes
    ----------
    dpi : float
        Physical dots per inch (for symbol sizes in mm).
    dpr : float
        Device pixel ratio of the screen (2 on HiDPI).
    font_family : str
        Label font family ('' for the default font).
    font_px : int
        Label font size in logical pixels.
    label_limit : int
        Label a layer only when at most this many features are in view.
    labels : bool
        Whether labels are shown at all (when not, no label text is read).
    """

    dpi: float = 96.0
    dpr: float = 1.0
    font_family: str = ""
    font_px: int = 12
    label_limit: int = LABEL_FEATURE_LIMIT
    labels: bool = True

    def device_size(self, transform: MapTransform) -> tuple[int, int]:
        """Return the image size in device pixels for a view."""
        return (max(1, round(transform.width * self.dpr)),
                max(1, round(transform.height * self.dpr)))


@dataclass
class LabelCandidates:
    """Features of one layer that want a label (device pixels)."""

    layer: str
    x: np.ndarray
    y: np.ndarray
    text: list[str]
    radius: float


@dataclass
class LayerImage:
    """The rendered image of one layer and what it was rendered for."""

    name: str
    transform: MapTransform
    dpr: float
    revision: int
    selection_key: int
    image: QImage | None
    """None when nothing of the layer is in view: there is nothing to compose."""
    selection_image: QImage | None = None
    labels: LabelCandidates | None = None
    feature_count: int = 0


@dataclass
class LabelImage:
    """The rendered labels of all layers."""

    transform: MapTransform
    dpr: float
    image: QImage
    rects: list[Rect] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def _new_image(settings: RenderSettings, transform: MapTransform) -> QImage:
    w, h = settings.device_size(transform)
    image = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    return image


def _tag(image: QImage | None, dpr: float) -> QImage | None:
    """Mark a finished image with its device pixel ratio.

    Done after painting: a painter on an image with a ratio would scale the
    device coordinates we already computed.
    """
    if image is not None:
        image.setDevicePixelRatio(dpr)
    return image


def _fetch(source: LayerSource, transform: MapTransform, margin_px: float, labels: bool) -> FeatureArrays:
    xmin, ymin, xmax, ymax = transform.extent()
    m = margin_px * transform.mupp
    bbox = (xmin - m, ymin - m, xmax + m, ymax + m)
    drawing = getattr(source, "features_for_drawing", None)
    if drawing is None:
        return source.features_in_extent(bbox)
    return drawing(bbox, labels)


def _fetch_for_view(source: LayerSource, transform: MapTransform,
                    settings: RenderSettings, margin_px: float) -> FeatureArrays:
    """The features to draw; their label text only when labels will be shown.

    Labels show when they are on and the view holds at most
    ``settings.label_limit`` features (the scale shows them).  The label
    column is read then, for those few features only: a view of a dense
    layer never brings its label text into memory.
    """
    features = _fetch(source, transform, margin_px, labels=False)
    if settings.labels and features.label is None and 0 < len(features) <= settings.label_limit:
        features = _fetch(source, transform, margin_px, labels=True)
    elif not settings.labels:
        features.label = None
    return features


def render_layer(
    source: LayerSource,
    transform: MapTransform,
    settings: RenderSettings,
    selection: np.ndarray | None = None,
    selection_key: int = 0,
    cancel: CancelFlag | None = None,
) -> LayerImage:
    """Render one layer into a transparent image.

    Parameters
    ----------
    source : LayerSource
        The layer.
    transform : MapTransform
        The view to render.
    settings : RenderSettings
        Screen resolution and label font.
    selection : numpy.ndarray, optional
        Selected fids, drawn in the highlight colour into a second image.
    selection_key : int
        Opaque version of the selection, stored with the result.
    cancel : CancelFlag, optional
        Checked between chunks; raises :class:`RenderCancelled` when set.

    Returns
    -------
    LayerImage
    """
    cancel = cancel or CancelFlag()
    revision = source.revision
    style = LayerStyle.from_dict(source.style)
    if source.geometry_type in (LINESTRING, POLYGON):
        return _render_lines(source, style, transform, settings, selection,
                             selection_key, revision, cancel, filled=source.geometry_type == POLYGON)
    return _render_points(source, style, transform, settings, selection,
                          selection_key, revision, cancel)


def _render_points(source, style, transform, settings, selection, selection_key,
                   revision, cancel) -> LayerImage:
    dpr = settings.dpr
    diameter = mm_to_pixels(style.size_mm, settings.dpi) * dpr
    margin = int(math.ceil(diameter / 2.0)) + 2
    features = _fetch_for_view(source, transform, settings, margin / dpr)
    cancel.check()
    if len(features) == 0:
        return LayerImage(source.name, transform, dpr, revision, selection_key, None)
    image = _new_image(settings, transform)
    width, height = image.width(), image.height()
    sx, sy = transform.map_to_screen(features.x, features.y)
    sx = np.asarray(sx) * dpr
    sy = np.asarray(sy) * dpr
    classes = style.class_index(features.category)
    if classes.shape[0] != len(features):
        classes = np.full(len(features), style.default_index, dtype=np.int16)
    # All categories in one interleaved pass (see shuffled_winners): the
    # picture keeps the data's proportions and agrees with the legend.
    atlas, cell = _symbol_atlas(style, diameter)
    idx = shuffled_winners(sx, sy, draw_order_key(features.fid), width, height, margin)
    cancel.check()
    painter = QPainter(image)
    try:
        if not draw_symbols(painter, atlas, np.floor(sx[idx]) + 0.5, np.floor(sy[idx]) + 0.5, cancel,
                            source_left=classes[idx].astype(np.float64) * cell, cell=cell):
            raise RenderCancelled()
    finally:
        painter.end()
    selection_image = None
    if selection is not None and selection.size and len(features):
        chosen = np.isin(features.fid, selection)
        if chosen.any():
            cancel.check()
            selection_image = _new_image(settings, transform)
            painter = QPainter(selection_image)
            try:
                symbol = QPixmap.fromImage(
                    symbol_image(style.symbol, SELECTION_COLOR, diameter + 2 * dpr))
                ux, uy = unique_pixels(sx[chosen], sy[chosen], width, height, margin)
                if not draw_symbols(painter, symbol, ux, uy, cancel):
                    raise RenderCancelled()
            finally:
                painter.end()
    labels = None
    if features.label is not None and 0 < len(features) <= settings.label_limit:
        inside = (sx >= 0) & (sx < width) & (sy >= 0) & (sy < height)
        idx = np.flatnonzero(inside)
        texts = ["" if t is None else str(t) for t in features.label[idx]]
        labels = LabelCandidates(source.name, sx[idx], sy[idx], texts, diameter / 2.0)
    return LayerImage(source.name, transform, dpr, revision, selection_key, _tag(image, dpr),
                      _tag(selection_image, dpr), labels, len(features))


def _symbol_atlas(style: LayerStyle, diameter: float) -> tuple[QPixmap, int]:
    """The symbols of every class side by side in one pixmap (class k at k * cell)."""
    symbols = [symbol_image(style.symbol, color, diameter) for color in style.colors()]
    cell = symbols[0].width()
    atlas = QImage(cell * len(symbols), symbols[0].height(), QImage.Format.Format_ARGB32_Premultiplied)
    atlas.fill(Qt.GlobalColor.transparent)
    painter = QPainter(atlas)
    for k, symbol in enumerate(symbols):
        painter.drawImage(k * cell, 0, symbol)
    painter.end()
    return QPixmap.fromImage(atlas), cell


def _render_lines(source, style, transform, settings, selection, selection_key,
                  revision, cancel, filled: bool = False) -> LayerImage:
    """Lines, or polygons (``filled``: their rings, filled at the style's ``fill_opacity``, then outlined)."""
    dpr = settings.dpr
    pen_width = max(1.0, mm_to_pixels(style.width_mm, settings.dpi) * dpr)
    features = _fetch_for_view(source, transform, settings, pen_width / dpr)
    cancel.check()
    if len(features) == 0:
        return LayerImage(source.name, transform, dpr, revision, selection_key, None)
    image = _new_image(settings, transform)
    lines = features.lines or []
    device_lines: list[np.ndarray] = []
    if lines:
        counts = np.fromiter((len(c) for c in lines), dtype=np.int64, count=len(lines))
        xy = np.concatenate(lines) if counts.sum() else np.empty((0, 2))
        sx, sy = transform.map_to_screen(xy[:, 0], xy[:, 1])
        device = np.column_stack((np.asarray(sx) * dpr, np.asarray(sy) * dpr))
        device_lines = np.split(device, np.cumsum(counts)[:-1])
    classes = style.class_index(features.category)
    if classes.shape[0] != len(features):
        classes = np.full(len(features), style.default_index, dtype=np.int16)
    colors = style.colors()
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    try:
        for k in style.draw_order():
            cancel.check()
            idx = np.flatnonzero(classes == k)
            if idx.size == 0:
                continue
            if filled and style.fill_opacity > 0:
                _fill_rings(painter, [device_lines[i] for i in idx], colors[k], style.fill_opacity)
            painter.setPen(_line_pen(colors[k], pen_width))
            if not draw_lines(painter, [device_lines[i] for i in idx], cancel):
                raise RenderCancelled()
    finally:
        painter.end()
    selection_image = None
    if selection is not None and selection.size and len(features):
        idx = np.flatnonzero(np.isin(features.fid, selection))
        if idx.size:
            selection_image = _new_image(settings, transform)
            painter = QPainter(selection_image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(_line_pen(SELECTION_COLOR, pen_width + 2 * dpr))
            try:
                if not draw_lines(painter, [device_lines[i] for i in idx], cancel):
                    raise RenderCancelled()
            finally:
                painter.end()
    labels = None
    if features.label is not None and 0 < len(features) <= settings.label_limit:
        # Anchor a line's label at its middle vertex.
        mids = (np.array([c[:-1].mean(axis=0) if filled and len(c) > 1 else c[len(c) // 2] for c in device_lines])
                if device_lines else np.empty((0, 2)))  # a polygon's label at the middle of its ring
        w, h = image.width(), image.height()
        inside = (mids[:, 0] >= 0) & (mids[:, 0] < w) & (mids[:, 1] >= 0) & (mids[:, 1] < h)
        idx = np.flatnonzero(inside)
        texts = ["" if t is None else str(t) for t in features.label[idx]]
        labels = LabelCandidates(source.name, mids[idx, 0], mids[idx, 1], texts, pen_width / 2.0)
    return LayerImage(source.name, transform, dpr, revision, selection_key, _tag(image, dpr),
                      _tag(selection_image, dpr), labels, len(features))


def _fill_rings(painter: QPainter, rings: list[np.ndarray], color: str, opacity: float) -> None:
    """Fill polygon rings (holes stay open: odd-even rule) in a translucent colour."""
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.OddEvenFill)
    for ring in rings:
        if len(ring) >= 3:
            path.addPolygon(QPolygonF([QPointF(x, y) for x, y in ring.tolist()]))
    fill = QColor(color)
    fill.setAlphaF(opacity)
    painter.fillPath(path, fill)


def _line_pen(color: str, width: float) -> QPen:
    pen = QPen(QColor(color), width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def render_labels(
    candidates: list[LabelCandidates],
    transform: MapTransform,
    settings: RenderSettings,
    cancel: CancelFlag | None = None,
) -> LabelImage:
    """Place and draw the labels of all layers into one image.

    Parameters
    ----------
    candidates : list of LabelCandidates
        One entry per labelled layer, top layer first (it wins space first).
    transform : MapTransform
        The view the candidates were computed for.
    settings : RenderSettings
        Resolution and label font.
    cancel : CancelFlag, optional
        Checked before drawing.
    """
    cancel = cancel or CancelFlag()
    image = _new_image(settings, transform)
    font = QFont(settings.font_family) if settings.font_family else QFont()
    font.setPixelSize(max(1, round(settings.font_px * settings.dpr)))
    metrics = QFontMetricsF(font)
    gap_extra = LABEL_GAP_PX * settings.dpr
    anchors, sizes, gaps, texts, obstacles = [], [], [], [], []
    for c in candidates:
        r = c.radius
        for x, y, text in zip(c.x.tolist(), c.y.tolist(), c.text, strict=True):
            obstacles.append((x - r, y - r, 2 * r, 2 * r))
            if not text:
                continue
            anchors.append((x, y))
            sizes.append((metrics.horizontalAdvance(text), metrics.height()))
            gaps.append(r + gap_extra)
            texts.append(text)
    cancel.check()
    placed = place_labels(anchors, sizes, gaps, (image.width(), image.height()), obstacles)
    cancel.check()
    rects = [rect for _, rect in placed]
    placed_texts = [texts[i] for i, _ in placed]
    if placed:
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        halo = QPen(QColor(255, 255, 255, 220), 3.0 * settings.dpr)
        halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        ascent = metrics.ascent()
        path = QPainterPath()
        for (x, y, _, _), text in zip(rects, placed_texts, strict=True):
            path.addText(x, y + ascent, font, text)
        painter.strokePath(path, halo)
        painter.fillPath(path, QColor(30, 30, 30))
        painter.end()
    return LabelImage(transform, settings.dpr, _tag(image, settings.dpr), rects, placed_texts)


class JobRelay(QObject):
    """Carries job results from worker threads to the GUI thread.

    Lives in the GUI thread; emitting from a worker queues the call.
    """

    done = Signal(int, str, object)
    """(generation, key, result): result is the job's return value, None when
    cancelled, or the exception it raised."""


class RenderJob(QRunnable):
    """Run ``work(cancel)`` in the thread pool and report through a relay.

    Parameters
    ----------
    relay : JobRelay
        Where to report.
    generation : int
        Render generation the job belongs to (stale ones are discarded).
    key : str
        Layer name, or the labels key.
    work : callable
        Called with the :class:`CancelFlag`; returns the result.
    cancel : CancelFlag
        Kept by the canvas to stop the job.
    """

    def __init__(self, relay: JobRelay, generation: int, key: str,
                 work: Callable[[CancelFlag], object], cancel: CancelFlag):
        super().__init__()
        self.setAutoDelete(True)
        self._relay = relay
        self._generation = generation
        self._key = key
        self._work = work
        self._cancel = cancel

    def run(self) -> None:
        """Do the work; never let an exception escape into Qt."""
        try:
            result = None if self._cancel.cancelled else self._work(self._cancel)
        except RenderCancelled:
            result = None
        except Exception as exc:  # a broken source must not kill the map
            exc.add_note(traceback.format_exc())
            result = exc
        try:
            self._relay.done.emit(self._generation, self._key, result)
        except RuntimeError:
            pass  # the canvas was deleted meanwhile
