"""The map canvas widget: view transform, background rendering, compositing.

Rendering follows QGIS: every visible layer is drawn by a job in a thread
pool into its own image (``scheduler.RenderScheduler``); the widget only
composites finished images, so the GUI thread never renders features.  While
the view moves (a drag, a wheel zoom) the last images are drawn shifted or
scaled, and new ones are rendered when the move ends.

The canvas shows data; it never changes it.  Map tools (see
:mod:`desktop.canvas.tools`) turn mouse input into signals.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontInfo, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QWidget

from .render import LabelImage, RenderSettings
from .scalebar import ScaleBar
from .scheduler import RenderScheduler
from .source import BBox, LayerSource
from .style import mm_to_pixels
from .transform import METRES_PER_INCH, MapTransform, scale_denominator

__all__ = ["MapCanvas"]


class MapCanvas(QWidget):
    """A map view of layer sources, rendered in the background.

    Layers are kept top first, like a layer panel: index 0 is drawn last,
    on top of the others.  Selected features are drawn above all layers,
    labels above those.

    Input: the wheel zooms about the cursor, the middle button drags the
    map whatever the tool, arrow keys pan, +/- and PgUp/PgDn zoom; the
    rest goes to the active map tool.

    Signals
    -------
    extentChanged()
        The visible extent changed (pan, zoom, resize).
    scaleChanged(float)
        The scale denominator N of 1:N changed.
    cursorMoved(float, float)
        Map coordinates under the mouse.
    renderStarted()
        A render pass started.
    renderFinished()
        All layers and labels of the current view are rendered.
    layerRendered(str)
        A layer's new image was accepted (the layer name).
    renderError(str, str)
        A layer failed to render: layer name, message.
    layersChanged()
        Layers, their order or their visibility changed.
    selectionChanged(str)
        The selection of a layer (its name) changed.
    mapToolChanged(object)
        The active map tool changed (the tool, or None).
    activateRequested()
        Enter was pressed on the map (the editor opens the selected features' form).
    """

    extentChanged = Signal()
    scaleChanged = Signal(float)
    cursorMoved = Signal(float, float)
    renderStarted = Signal()
    renderFinished = Signal()
    layerRendered = Signal(str)
    renderError = Signal(str, str)
    layersChanged = Signal()
    selectionChanged = Signal(str)
    mapToolChanged = Signal(object)
    activateRequested = Signal()

    ZOOM_STEP = math.sqrt(2.0)
    """Zoom factor of one wheel notch."""
    WHEEL_RENDER_DELAY_MS = 150
    """Wait this long after the last wheel notch before rendering."""
    RESIZE_RENDER_DELAY_MS = 100
    """Wait this long after the last resize step before rendering."""
    KEY_PAN_FRACTION = 0.25
    """Arrow keys move the map by this fraction of the view."""
    MIN_MUPP = 1e-4
    MAX_MUPP = 1e6
    BACKGROUND = QColor(255, 255, 255)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setMinimumSize(50, 50)
        self._transform = MapTransform(width=max(1, self.width()), height=max(1, self.height()))
        self._pan_offset = QPointF(0.0, 0.0)
        self._middle_pan_start: QPointF | None = None
        self._layers: list[LayerSource] = []
        self._hidden: set[str] = set()
        self._selection: dict[str, frozenset[int]] = {}
        self._selection_version: dict[str, int] = {}
        self._basemap = None  # a desktop.canvas.basemap.Basemap, drawn beneath the layers
        self._dpi: float | None = None
        self._labels_visible = True
        self._tool = None
        self._scale_bar = ScaleBar(self)
        self._composite: QPixmap | None = None  # the rendered images of one view, flattened
        self._composite_key: tuple | None = None
        self._composite_transform: MapTransform | None = None
        self._composed: list[str] = []
        self._renderer = RenderScheduler(self)

    # -- layers ---------------------------------------------------------------

    def set_layers(self, layers: list[LayerSource]) -> None:
        """Show these layers, top first; keeps visibility of known names."""
        names = [layer.name for layer in layers]
        if len(set(names)) != len(names):
            raise ValueError("layer names must be unique")
        current = {layer.name: layer for layer in layers}
        previous = {layer.name: layer for layer in self._layers}
        self._layers = list(layers)
        cache = self._renderer.cache
        for name in list(cache):
            if previous.get(name) is not current.get(name):  # gone or replaced
                del cache[name]
        for name in list(self._selection):
            if name not in current:
                del self._selection[name]
        self._hidden &= set(names)
        self.layersChanged.emit()
        self.refresh()

    def layers(self) -> list[LayerSource]:
        """Return the layers, top first."""
        return list(self._layers)

    def layer(self, name: str) -> LayerSource:
        """Return the layer called ``name`` (KeyError when absent)."""
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def visible_layers(self) -> list[LayerSource]:
        """Return the visible layers, top first."""
        return [layer for layer in self._layers if layer.name not in self._hidden]

    def set_layer_visible(self, name: str, visible: bool) -> None:
        """Show or hide a layer."""
        self.layer(name)
        if visible == (name not in self._hidden):
            return
        if visible:
            self._hidden.discard(name)
        else:
            self._hidden.add(name)
        self.layersChanged.emit()
        self.update()
        self.refresh()

    def is_layer_visible(self, name: str) -> bool:
        """Return whether a layer is shown."""
        self.layer(name)
        return name not in self._hidden

    def set_layer_order(self, names: list[str]) -> None:
        """Reorder the layers, top first; ``names`` must name all of them."""
        if sorted(names) != sorted(layer.name for layer in self._layers):
            raise ValueError("the new order must name every layer once")
        by_name = {layer.name: layer for layer in self._layers}
        self._layers = [by_name[n] for n in names]
        self.layersChanged.emit()
        self.update()
        self.refresh()  # labels give way in layer order

    def set_basemap(self, basemap) -> None:
        """Show a raster basemap beneath the layers (a :class:`~desktop.canvas.basemap.Basemap`), or None."""
        if basemap is self._basemap:
            return
        self._basemap = basemap
        self._renderer.basemap_image = None
        self.layersChanged.emit()
        self.update()
        self.refresh()

    def basemap(self):
        """Return the basemap shown beneath the layers, or None."""
        return self._basemap

    def basemap_image(self):
        """Return the basemap's last rendered image (a BasemapImage), or None."""
        return self._renderer.basemap_image

    # -- selection ------------------------------------------------------------

    def set_selection(self, name: str, fids) -> None:
        """Highlight these features of a layer (replaces its selection)."""
        self.layer(name)
        new = frozenset(int(f) for f in fids)
        if new == self._selection.get(name, frozenset()):
            return
        self._selection[name] = new
        self._selection_version[name] = self._selection_version.get(name, 0) + 1
        self.selectionChanged.emit(name)
        self.refresh()

    def selection(self, name: str) -> frozenset[int]:
        """Return the selected fids of a layer."""
        return self._selection.get(name, frozenset())

    def selection_version(self, name: str) -> int:
        """Return a number that changes whenever a layer's selection changes."""
        return self._selection_version.get(name, 0)

    def clear_selection(self) -> None:
        """Unselect everything in every layer."""
        for name in [n for n, fids in self._selection.items() if fids]:
            self.set_selection(name, ())

    # -- view -----------------------------------------------------------------

    def transform(self) -> MapTransform:
        """Return the committed view (without a drag in progress)."""
        return self._transform

    def display_transform(self) -> MapTransform:
        """Return the view as shown now, including a drag in progress."""
        if self._pan_offset.isNull():
            return self._transform
        return self._transform.panned(self._pan_offset.x(), self._pan_offset.y())

    def center(self) -> tuple[float, float]:
        """Return the map coordinates of the view centre."""
        return self._transform.cx, self._transform.cy

    def set_center(self, x: float, y: float) -> None:
        """Centre the view on a map point."""
        self._set_transform(self._transform.with_center(x, y))

    def map_units_per_pixel(self) -> float:
        """Return the resolution of the view."""
        return self._transform.mupp

    def set_map_units_per_pixel(self, mupp: float) -> None:
        """Set the resolution, keeping the centre."""
        t = self._transform
        mupp = min(max(float(mupp), self.MIN_MUPP), self.MAX_MUPP)
        self._set_transform(MapTransform(t.cx, t.cy, mupp, t.width, t.height))

    def extent(self) -> BBox:
        """Return the visible map box (xmin, ymin, xmax, ymax)."""
        return self.display_transform().extent()

    def set_extent(self, bbox: BBox) -> None:
        """Show all of ``bbox``."""
        self._set_transform(self._transform.fitted(bbox))

    def zoom_to_layer(self, name: str) -> None:
        """Show all features of a layer."""
        bbox = self.layer(name).extent()
        if bbox is not None:
            self.set_extent(bbox)

    def full_extent(self) -> BBox | None:
        """Return the union of the visible layers' extents (or all layers')."""
        boxes = [b for b in (layer.extent() for layer in self.visible_layers() or self._layers)
                 if b is not None]
        if not boxes:
            return None
        a = np.array(boxes)
        return (float(a[:, 0].min()), float(a[:, 1].min()),
                float(a[:, 2].max()), float(a[:, 3].max()))

    def zoom_to_full_extent(self) -> None:
        """Show every feature of the visible layers."""
        bbox = self.full_extent()
        if bbox is not None:
            self.set_extent(bbox)

    def zoom_by_factor(self, factor: float, anchor: QPointF | None = None,
                       render_delay_ms: int = 0) -> None:
        """Zoom in by ``factor`` (> 1 in, < 1 out) keeping ``anchor`` fixed.

        Parameters
        ----------
        factor : float
            Ratio of old to new map units per pixel.
        anchor : QPointF, optional
            Widget position whose map point stays under it (the centre by
            default).
        render_delay_ms : int
            Wait this long before rendering (lets wheel notches gather).
        """
        self.finish_pan()
        t = self._transform
        mupp = min(max(t.mupp / factor, self.MIN_MUPP), self.MAX_MUPP)
        factor = t.mupp / mupp
        if anchor is None:
            new = t.zoomed(factor)
        else:
            new = t.zoomed(factor, anchor.x(), anchor.y())
        self._set_transform(new, render_delay_ms)

    def pan_by_pixels(self, dx: float, dy: float) -> None:
        """Move the map content by (dx, dy) pixels and render."""
        self.finish_pan()
        self._set_transform(self._transform.panned(dx, dy))

    def preview_pan(self, dx: float, dy: float) -> None:
        """Show the map dragged by (dx, dy) pixels, without rendering.

        The last rendered images are drawn shifted; :meth:`finish_pan`
        commits the move and renders, :meth:`cancel_pan` drops it.
        """
        self._pan_offset = QPointF(dx, dy)
        self.update()

    def finish_pan(self) -> None:
        """Commit a previewed drag and render the new view."""
        if self._pan_offset.isNull():
            return
        offset = self._pan_offset
        self._pan_offset = QPointF(0.0, 0.0)
        self._set_transform(self._transform.panned(offset.x(), offset.y()))

    def cancel_pan(self) -> None:
        """Drop a previewed drag."""
        self._pan_offset = QPointF(0.0, 0.0)
        self.update()

    def is_panning(self) -> bool:
        """Return whether a drag preview is in progress."""
        return not self._pan_offset.isNull()

    def dpi(self) -> float:
        """Return the physical dots per inch used for scale and symbol sizes."""
        if self._dpi is not None:
            return self._dpi
        dpi = float(self.physicalDpiX())
        if not 50.0 <= dpi <= 600.0:  # unknown or absurd monitor size
            dpi = float(self.logicalDpiX())
        return dpi

    def set_dpi(self, dpi: float | None) -> None:
        """Override the screen's dots per inch (None: ask the screen)."""
        self._dpi = None if dpi is None else float(dpi)
        self.scaleChanged.emit(self.scale())
        self.refresh()

    def scale(self) -> float:
        """Return N of the displayed scale 1:N (map units are metres)."""
        return scale_denominator(self._transform.mupp, self.dpi())

    def set_scale(self, denominator: float) -> None:
        """Show the map at 1:``denominator``, keeping the centre."""
        self.set_map_units_per_pixel(denominator * METRES_PER_INCH / self.dpi())

    def mm_to_pixels(self, mm: float) -> float:
        """Return how many logical pixels ``mm`` millimetres cover on screen."""
        return mm_to_pixels(mm, self.dpi())

    def to_map(self, pos: QPointF) -> tuple[float, float]:
        """Return the map coordinates of a widget position (as displayed)."""
        return self.display_transform().screen_to_map(pos.x(), pos.y())

    def to_screen(self, x: float, y: float) -> QPointF:
        """Return the widget position of map coordinates (as displayed)."""
        sx, sy = self.display_transform().map_to_screen(x, y)
        return QPointF(sx, sy)

    def _set_transform(self, new: MapTransform, render_delay_ms: int = 0) -> None:
        old = self._transform
        self._transform = new
        self._renderer.cancel()
        self.update()
        self.refresh(render_delay_ms)
        if (new.cx, new.cy, new.mupp, new.width, new.height) != (
                old.cx, old.cy, old.mupp, old.width, old.height):
            self.extentChanged.emit()
        if new.mupp != old.mupp:
            self.scaleChanged.emit(self.scale())

    # -- rendering ------------------------------------------------------------

    def refresh(self, delay_ms: int = 0) -> None:
        """Render what changed (view, data revision, selection) soon.

        Layers whose cached image still matches are not rendered again.
        """
        self._renderer.schedule(delay_ms)

    def is_rendering(self) -> bool:
        """Return whether a render pass is running or scheduled."""
        return self._renderer.is_busy()

    def layer_image(self, name: str) -> QImage | None:
        """Return the last accepted image of a layer (None before the first)."""
        cached = self._renderer.cache.get(name)
        return None if cached is None else cached.image

    def layer_image_transform(self, name: str) -> MapTransform | None:
        """Return the view the layer's current image was rendered for."""
        cached = self._renderer.cache.get(name)
        return None if cached is None else cached.transform

    def label_image(self) -> LabelImage | None:
        """Return the last label pass (image, rectangles and texts)."""
        return self._renderer.labels

    def discarded_results(self) -> int:
        """Return how many stale job results were thrown away so far."""
        return self._renderer.discarded

    def render_settings(self) -> RenderSettings:
        """Return the device facts render jobs use now."""
        info = QFontInfo(self.font())
        return RenderSettings(dpi=self.dpi(), dpr=self.devicePixelRatioF(),
                              font_family=info.family(), font_px=info.pixelSize(),
                              labels=self._labels_visible)

    def labels_visible(self) -> bool:
        """Return whether labels are shown (when not, no label text is read)."""
        return self._labels_visible

    def set_labels_visible(self, visible: bool) -> None:
        """Show or hide the labels of all layers."""
        visible = bool(visible)
        if visible == self._labels_visible:
            return
        self._labels_visible = visible
        self._renderer.cache.clear()  # the images carry their label candidates
        self.update()
        self.refresh()

    def shutdown(self) -> None:
        """Cancel all jobs and wait for the workers (called on close)."""
        self._renderer.shutdown()

    # -- map tools ------------------------------------------------------------

    def set_map_tool(self, tool) -> None:
        """Make ``tool`` (a :class:`~desktop.canvas.tools.MapTool`) active."""
        if tool is self._tool:
            return
        if self._tool is not None:
            self._tool.deactivate()
        self._tool = tool
        if tool is not None:
            tool.activate()
            self.setCursor(tool.cursor())
        else:
            self.unsetCursor()
        self.update()
        self.mapToolChanged.emit(tool)

    def map_tool(self):
        """Return the active map tool, or None."""
        return self._tool

    def unset_map_tool(self, tool) -> None:
        """Deactivate ``tool`` if it is the active one."""
        if tool is self._tool:
            self.set_map_tool(None)

    # -- Qt events ------------------------------------------------------------

    def composed_layers(self) -> list[str]:
        """Return the layers drawn in the last frame, bottom first: those with something in view."""
        return list(self._composed)

    def _images(self) -> list[tuple[str, QImage, MapTransform]]:
        """The images to show, bottom first: basemap, layers, selections, labels.

        Layers with nothing in view have no image and are left out.
        """
        renderer = self._renderer
        images: list[tuple[str, QImage, MapTransform]] = []
        if self._basemap is not None and renderer.basemap_image is not None:
            images.append(("", renderer.basemap_image.image, renderer.basemap_image.transform))
        cached = [renderer.cache.get(layer.name) for layer in reversed(self.visible_layers())]
        layers = [c for c in cached if c is not None]
        images += [(c.name, c.image, c.transform) for c in layers if c.image is not None]
        images += [("", c.selection_image, c.transform) for c in layers if c.selection_image is not None]
        if renderer.labels is not None:
            images.append(("", renderer.labels.image, renderer.labels.transform))
        return images

    def _composite_for(self, images) -> QPixmap | None:
        """One opaque pixmap of ``images`` when they were all rendered for one view (else None).

        Built once per set of images, so a drag frame is a single pixmap shift.
        """
        if not images:
            return None
        transform = images[0][2]
        dpr = images[0][1].devicePixelRatio()
        if any(t != transform or image.devicePixelRatio() != dpr for _, image, t in images):
            return None
        key = tuple(image.cacheKey() for _, image, _ in images)
        if key != self._composite_key:
            first = images[0][1]
            pixmap = QPixmap(first.width(), first.height())
            pixmap.fill(self.BACKGROUND)
            painter = QPainter(pixmap)
            for _, image, _ in images:
                painter.drawImage(0, 0, image)
            painter.end()
            pixmap.setDevicePixelRatio(dpr)
            self._composite, self._composite_key, self._composite_transform = pixmap, key, transform
        return self._composite

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        view = self.display_transform()
        images = self._images()
        self._composed = [name for name, _, _ in images if name]
        composite = self._composite_for(images)
        if composite is not None and self._composite_transform is not None:
            rendered = self._composite_transform
            mx, my = rendered.screen_to_map(0.0, 0.0)
            x0, y0 = view.map_to_screen(mx, my)
            covers = (x0, y0) == (0.0, 0.0) and rendered.mupp == view.mupp and (
                rendered.width, rendered.height) == (view.width, view.height)
            if not covers:  # shifted or scaled: uncover the background around it
                painter.fillRect(self.rect(), self.BACKGROUND)
            self._draw_image(painter, composite, rendered, view)
        else:
            painter.fillRect(self.rect(), self.BACKGROUND)
            for _, image, transform in images:
                self._draw_image(painter, image, transform, view)
        self._scale_bar.paint(painter, QRectF(self.rect()), view.mupp)
        if self._tool is not None:
            self._tool.paint(painter)
        painter.end()

    @staticmethod
    def _draw_image(painter: QPainter, image: QImage | QPixmap, rendered: MapTransform,
                    view: MapTransform) -> None:
        """Draw an image rendered for one view where it belongs in another."""
        mx, my = rendered.screen_to_map(0.0, 0.0)
        x0, y0 = view.map_to_screen(mx, my)
        s = rendered.mupp / view.mupp
        target = QRectF(x0, y0, rendered.width * s, rendered.height * s)
        source = QRectF(0.0, 0.0, image.width(), image.height())
        scaled = abs(s - 1.0) > 1e-9
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scaled)
        if isinstance(image, QPixmap):
            if not scaled:  # a plain shift: a blit, no resampling
                painter.drawPixmap(QPointF(x0, y0), image)
            else:
                painter.drawPixmap(target, image, source)
        else:
            painter.drawImage(target, image, source)

    def resizeEvent(self, event) -> None:
        size = event.size()
        self._set_transform(self._transform.with_size(size.width(), size.height()),
                            self.RESIZE_RENDER_DELAY_MS)
        super().resizeEvent(event)

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            event.ignore()
            return
        self.zoom_by_factor(self.ZOOM_STEP ** steps, event.position(),
                            self.WHEEL_RENDER_DELAY_MS)
        event.accept()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._middle_pan_start = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self._tool is not None:
            self._tool.canvas_press_event(event)

    def mouseDoubleClickEvent(self, event) -> None:
        self.mousePressEvent(event)  # the second click is a click too
        if self._tool is not None and event.button() != Qt.MouseButton.MiddleButton:
            self._tool.canvas_double_click_event(event)

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        if self._middle_pan_start is not None:
            delta = pos - self._middle_pan_start
            self.preview_pan(delta.x(), delta.y())
        elif self._tool is not None:
            self._tool.canvas_move_event(event)
        x, y = self.to_map(pos)
        self.cursorMoved.emit(x, y)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton and self._middle_pan_start is not None:
            self._middle_pan_start = None
            self.finish_pan()
            if self._tool is not None:
                self.setCursor(self._tool.cursor())
            else:
                self.unsetCursor()
        elif self._tool is not None:
            self._tool.canvas_release_event(event)

    def keyPressEvent(self, event) -> None:
        if self._tool is not None and self._tool.key_press_event(event):
            event.accept()
            return
        key = event.key()
        step_x = self.width() * self.KEY_PAN_FRACTION
        step_y = self.height() * self.KEY_PAN_FRACTION
        pans = {Qt.Key.Key_Left: (step_x, 0.0), Qt.Key.Key_Right: (-step_x, 0.0),
                Qt.Key.Key_Up: (0.0, step_y), Qt.Key.Key_Down: (0.0, -step_y)}
        if key in pans:
            self.pan_by_pixels(*pans[key])
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal, Qt.Key.Key_PageUp):
            self.zoom_by_factor(self.ZOOM_STEP, render_delay_ms=self.WHEEL_RENDER_DELAY_MS)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_PageDown):
            self.zoom_by_factor(1.0 / self.ZOOM_STEP, render_delay_ms=self.WHEEL_RENDER_DELAY_MS)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activateRequested.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

