"""Map tools: turn mouse and key input on the canvas into signals.

A tool never changes data and never changes the selection itself: it emits
a signal, and the editor (or main window) decides what to do, for example
push an undo command.  Only :class:`PanTool` changes the view.

The canvas forwards its mouse and key events to the active tool
(:meth:`MapCanvas.set_map_tool`) and calls :meth:`MapTool.paint` last when
it paints, for rubber bands and snapping cues.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QPainter, QPen

from . import hittest
from .source import POINT

__all__ = [
    "MapTool",
    "Hit",
    "PanTool",
    "IdentifyTool",
    "SelectTool",
    "AddPointTool",
    "MovePointTool",
    "IDENTIFY_TOLERANCE_MM",
    "SNAP_TOLERANCE_PX",
    "CLICK_TOLERANCE_PX",
]

IDENTIFY_TOLERANCE_MM = 2.0
"""A click finds features this close on screen."""

SNAP_TOLERANCE_PX = 12.0
"""A moved point snaps to vertices this close on screen."""

CLICK_TOLERANCE_PX = 4.0
"""A press and release closer than this is a click, not a drag."""

SNAP_COLOR = QColor("#e000e0")
RUBBER_BAND_COLOR = QColor(255, 200, 0)


@dataclass(frozen=True)
class Hit:
    """A feature found under the cursor.

    Attributes
    ----------
    layer : str
        Layer name.
    fid : int
        Feature id.
    x, y : float
        Map coordinates of the feature (points) or of the click (lines).
    distance : float
        Distance from the click, in map units.
    """

    layer: str
    fid: int
    x: float
    y: float
    distance: float


class MapTool(QObject):
    """Base class of map tools: event handlers that do nothing.

    Parameters
    ----------
    canvas : MapCanvas
        The canvas the tool works on (also its QObject parent).
    """

    def __init__(self, canvas):
        super().__init__(canvas)
        self.canvas = canvas

    def cursor(self) -> QCursor:
        """Return the cursor shown while the tool is active."""
        return QCursor(Qt.CursorShape.ArrowCursor)

    def activate(self) -> None:
        """Called when the tool becomes active."""

    def deactivate(self) -> None:
        """Called when another tool replaces this one."""

    def canvas_press_event(self, event) -> None:
        """Handle a mouse press on the canvas."""

    def canvas_move_event(self, event) -> None:
        """Handle a mouse move on the canvas (buttons pressed or not)."""

    def canvas_release_event(self, event) -> None:
        """Handle a mouse release on the canvas."""

    def canvas_double_click_event(self, event) -> None:
        """Handle a double click on the canvas (after the press of its second click)."""

    def key_press_event(self, event) -> bool:
        """Handle a key press; return True when the key was used."""
        return False

    def paint(self, painter: QPainter) -> None:
        """Paint the tool's feedback over the map (widget coordinates)."""

    # -- helpers for subclasses ----------------------------------------------

    def tolerance(self, mm: float = IDENTIFY_TOLERANCE_MM) -> float:
        """Return ``mm`` on screen as map units at the current scale."""
        return self.canvas.mm_to_pixels(mm) * self.canvas.map_units_per_pixel()

    def layers(self, names=None) -> list:
        """Return the visible layers the tools pick from, top first, optionally only ``names``.

        A layer whose source says ``pickable = False`` (a reference layer: zones,
        grid cells) is drawn but never identified, selected or snapped to.
        """
        layers = [layer for layer in self.canvas.visible_layers() if getattr(layer, "pickable", True)]
        if names is not None:
            layers = [layer for layer in layers if layer.name in names]
        return layers

    def feature_at(self, pos: QPointF, layer_names=None,
                   tolerance_mm: float = IDENTIFY_TOLERANCE_MM) -> Hit | None:
        """Return the feature nearest a widget position within tolerance.

        Every visible layer (or only ``layer_names``) is asked for the
        features in a small box around the position; the nearest wins, the
        upper layer on a tie.
        """
        x, y = self.canvas.to_map(pos)
        tol = self.tolerance(tolerance_mm)
        best: Hit | None = None
        for layer in self.layers(layer_names):
            features = layer.features_in_extent((x - tol, y - tol, x + tol, y + tol))
            found = hittest.nearest(features, x, y, tol)
            if found is None:
                continue
            i, d = found
            if best is None or d < best.distance:
                if features.lines is None:
                    fx, fy = float(features.x[i]), float(features.y[i])
                else:
                    fx, fy = x, y
                best = Hit(layer.name, int(features.fid[i]), fx, fy, d)
        return best


def _is_click(press: QPointF | None, release: QPointF) -> bool:
    if press is None:
        return False
    d = release - press
    return abs(d.x()) <= CLICK_TOLERANCE_PX and abs(d.y()) <= CLICK_TOLERANCE_PX


def _activate(tool, event) -> None:
    """Emit ``tool.featureActivated`` for the feature under a left double click."""
    if event.button() != Qt.MouseButton.LeftButton:
        return
    hit = tool.feature_at(event.position(), tool.layer_names)
    if hit is not None:
        tool.featureActivated.emit(hit.layer, hit.fid)


class PanTool(MapTool):
    """Drag the map with the left button.

    The canvas shows its last images shifted during the drag and renders
    once, on release.  Escape cancels the drag.
    """

    def __init__(self, canvas):
        super().__init__(canvas)
        self._start: QPointF | None = None

    def cursor(self) -> QCursor:
        shape = Qt.CursorShape.ClosedHandCursor if self._start else Qt.CursorShape.OpenHandCursor
        return QCursor(shape)

    def canvas_press_event(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._start = event.position()
            self.canvas.setCursor(self.cursor())

    def canvas_move_event(self, event) -> None:
        if self._start is not None:
            d = event.position() - self._start
            self.canvas.preview_pan(d.x(), d.y())

    def canvas_release_event(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._start is not None:
            self._start = None
            self.canvas.finish_pan()
            self.canvas.setCursor(self.cursor())

    def key_press_event(self, event) -> bool:
        if event.key() == Qt.Key.Key_Escape and self._start is not None:
            self._start = None
            self.canvas.cancel_pan()
            self.canvas.setCursor(self.cursor())
            return True
        return False

    def deactivate(self) -> None:
        if self._start is not None:
            self._start = None
            self.canvas.cancel_pan()


class ClickTool(MapTool):
    """A tool that acts on a left click (press and release within a few pixels): override ``clicked``."""

    def __init__(self, canvas):
        super().__init__(canvas)
        self._press: QPointF | None = None

    def canvas_press_event(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position()

    def canvas_release_event(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        press, self._press = self._press, None
        if _is_click(press, event.position()):
            self.clicked(event.position())

    def clicked(self, position: QPointF) -> None:
        """A left click at a widget position."""


class IdentifyTool(ClickTool):
    """Click a feature to identify it.

    Signals
    -------
    featureIdentified(str, int)
        Layer name and fid of the feature nearest the click within
        :data:`IDENTIFY_TOLERANCE_MM` millimetres on screen.
    nothingIdentified()
        The click was on empty map.
    featureActivated(str, int)
        A feature was double-clicked (the editor opens its form).
    """

    featureIdentified = Signal(str, int)
    nothingIdentified = Signal()
    featureActivated = Signal(str, int)

    def __init__(self, canvas, layer_names=None):
        super().__init__(canvas)
        self.layer_names = layer_names

    def cursor(self) -> QCursor:
        return QCursor(Qt.CursorShape.WhatsThisCursor)

    def clicked(self, position: QPointF) -> None:
        hit = self.feature_at(position, self.layer_names)
        if hit is None:
            self.nothingIdentified.emit()
        else:
            self.featureIdentified.emit(hit.layer, hit.fid)

    def canvas_double_click_event(self, event) -> None:
        _activate(self, event)


class SelectTool(MapTool):
    """Select features by clicking or by dragging a rectangle.

    A click selects the nearest feature within tolerance (or nothing); a
    drag selects every feature inside (points) or crossing (lines) the
    rectangle.  Shift adds to the current selection, Ctrl removes from it.

    Signals
    -------
    featuresSelected(dict)
        The resulting selection: layer name -> frozenset of fids, for every
        layer the tool works on.  The owner applies it (for example with
        :meth:`MapCanvas.set_selection`).
    featureActivated(str, int)
        A feature was double-clicked (the editor opens its form).
    """

    featuresSelected = Signal(dict)
    featureActivated = Signal(str, int)

    def __init__(self, canvas, layer_names=None):
        super().__init__(canvas)
        self.layer_names = layer_names
        self._press: QPointF | None = None
        self._current: QPointF | None = None

    def cursor(self) -> QCursor:
        return QCursor(Qt.CursorShape.CrossCursor)

    def canvas_press_event(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position()
            self._current = None

    def canvas_move_event(self, event) -> None:
        if self._press is not None and not _is_click(self._press, event.position()):
            self._current = event.position()
            self.canvas.update()

    def canvas_release_event(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return
        press, self._press, self._current = self._press, None, None
        self.canvas.update()
        layers = self.layers(self.layer_names)
        found: dict[str, set[int]] = {layer.name: set() for layer in layers}
        if _is_click(press, event.position()):
            hit = self.feature_at(event.position(), self.layer_names)
            if hit is not None:
                found[hit.layer].add(hit.fid)
        else:
            x0, y0 = self.canvas.to_map(press)
            x1, y1 = self.canvas.to_map(event.position())
            bbox = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            for layer in layers:
                features = layer.features_in_extent(bbox)
                inside = hittest.in_rect(features, bbox)
                found[layer.name] = {int(f) for f in features.fid[inside]}
        modifiers = event.modifiers()
        result = {}
        for name, fids in found.items():
            current = set(self.canvas.selection(name))
            if modifiers & Qt.KeyboardModifier.ShiftModifier:
                fids = current | fids
            elif modifiers & Qt.KeyboardModifier.ControlModifier:
                fids = current - fids
            result[name] = frozenset(fids)
        self.featuresSelected.emit(result)

    def canvas_double_click_event(self, event) -> None:
        _activate(self, event)

    def key_press_event(self, event) -> bool:
        if event.key() == Qt.Key.Key_Escape and self._press is not None:
            self._press = self._current = None
            self.canvas.update()
            return True
        return False

    def paint(self, painter: QPainter) -> None:
        if self._press is None or self._current is None:
            return
        rect = QRectF(self._press, self._current).normalized()
        painter.save()
        painter.setPen(QPen(RUBBER_BAND_COLOR.darker(130), 1.0, Qt.PenStyle.DashLine))
        fill = QColor(RUBBER_BAND_COLOR)
        fill.setAlpha(50)
        painter.setBrush(fill)
        painter.drawRect(rect)
        painter.restore()


class AddPointTool(ClickTool):
    """Click to place a new point.

    Signals
    -------
    pointAdded(float, float)
        Map coordinates of the click.
    """

    pointAdded = Signal(float, float)

    def cursor(self) -> QCursor:
        return QCursor(Qt.CursorShape.CrossCursor)

    def clicked(self, position: QPointF) -> None:
        x, y = self.canvas.to_map(position)
        self.pointAdded.emit(x, y)


class MovePointTool(MapTool):
    """Drag a point of one layer to a new place, snapping to vertices.

    While dragging, the target snaps to the nearest vertex of any visible
    feature (other than the moved one) within :data:`SNAP_TOLERANCE_PX`
    pixels, shown by a magenta marker.  Escape cancels the drag.

    Signals
    -------
    pointMoved(str, int, float, float, float, float)
        Layer name, fid, old x, old y, new x, new y, emitted on release.
        The tool does not move anything itself.
    """

    pointMoved = Signal(str, int, float, float, float, float)

    def __init__(self, canvas, layer_name: str, snapping: bool = True):
        super().__init__(canvas)
        self.layer_name = layer_name
        self.snapping = snapping
        self._hit: Hit | None = None
        self._target: tuple[float, float] | None = None
        self._snap: tuple[float, float] | None = None

    def cursor(self) -> QCursor:
        return QCursor(Qt.CursorShape.CrossCursor)

    def snap_target(self) -> tuple[float, float] | None:
        """Return the vertex the drag currently snaps to, or None."""
        return self._snap

    def canvas_press_event(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        layer = self.canvas.layer(self.layer_name)
        if layer.geometry_type != POINT:
            return
        self._hit = self.feature_at(event.position(), [self.layer_name])
        self._target = None if self._hit is None else (self._hit.x, self._hit.y)
        self._snap = None

    def canvas_move_event(self, event) -> None:
        if self._hit is None:
            return
        x, y = self.canvas.to_map(event.position())
        self._snap = self._find_snap(x, y) if self.snapping else None
        self._target = self._snap or (x, y)
        self.canvas.update()

    def _find_snap(self, x: float, y: float):
        tol = SNAP_TOLERANCE_PX * self.canvas.map_units_per_pixel()
        best, best_d = None, None
        for layer in self.layers():
            features = layer.features_in_extent((x - tol, y - tol, x + tol, y + tol))
            exclude = self._hit.fid if layer.name == self.layer_name else None
            found = hittest.nearest_vertex(features, x, y, tol, exclude)
            if found is None:
                continue
            d = ((found[0] - x) ** 2 + (found[1] - y) ** 2) ** 0.5
            if best_d is None or d < best_d:
                best, best_d = (found[0], found[1]), d
        return best

    def canvas_release_event(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._hit is None:
            return
        hit, target = self._hit, self._target
        self._hit = self._target = self._snap = None
        self.canvas.update()
        if target is None or (target[0], target[1]) == (hit.x, hit.y):
            return
        self.pointMoved.emit(hit.layer, hit.fid, hit.x, hit.y, target[0], target[1])

    def key_press_event(self, event) -> bool:
        if event.key() == Qt.Key.Key_Escape and self._hit is not None:
            self._hit = self._target = self._snap = None
            self.canvas.update()
            return True
        return False

    def deactivate(self) -> None:
        self._hit = self._target = self._snap = None

    def paint(self, painter: QPainter) -> None:
        if self._hit is None or self._target is None:
            return
        start = self.canvas.to_screen(self._hit.x, self._hit.y)
        end = self.canvas.to_screen(*self._target)
        r = self.canvas.mm_to_pixels(1.5)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(60, 60, 60), 1.0, Qt.PenStyle.DashLine))
        painter.drawLine(start, end)
        painter.setPen(QPen(QColor(220, 30, 30), 2.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(end, r, r)
        if self._snap is not None:
            s = r + 4.0
            painter.setPen(QPen(SNAP_COLOR, 2.0))
            painter.drawRect(QRectF(end.x() - s, end.y() - s, 2 * s, 2 * s))
        painter.restore()
