"""The layer panel: visibility, order, editing lock, feature counts and legend of each layer.

The panel is a view of the canvas's layer list: ticking a layer shows it on
the canvas, the arrow buttons (or Ctrl+Up / Ctrl+Down) change the drawing
order, and the lock column stops a layer from being edited. Under each layer
the legend lists its style classes with coloured swatches, labelled in the
interface language.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeySequence, QPainter, QPen, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from . import paths
from .canvas.source import LINESTRING, POLYGON
from .canvas.style import LayerStyle, symbol_image

__all__ = ["LayerPanel", "legend_swatch"]

NameRole = Qt.ItemDataRole.UserRole + 1
"""Item data role holding the layer name (top-level items)."""

SWATCH_PX = 16


def legend_swatch(style: LayerStyle, color: str, geometry_type: str, size: int = SWATCH_PX) -> QPixmap:
    """A small picture of a layer's symbol in one class colour."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if geometry_type == LINESTRING:
        pen = QPen(QColor(color), 3.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawPolyline([QPointF(2, size - 4), QPointF(size / 2, 5), QPointF(size - 2, size - 6)])
    elif geometry_type == POLYGON:
        fill = QColor(color)
        fill.setAlphaF(max(0.25, style.fill_opacity))
        painter.setPen(QPen(QColor(color), 1.5))
        painter.setBrush(fill)
        painter.drawRect(QRectF(2.5, 2.5, size - 5, size - 5))
    else:
        image = symbol_image(style.symbol, color, size * 0.7)
        painter.drawImage(QPointF((size - image.width()) / 2, (size - image.height()) / 2), image)
    painter.end()
    return pixmap


class LayerPanel(QWidget):
    """The layers of a canvas, with visibility, order, lock, counts and legend.

    Parameters
    ----------
    canvas : MapCanvas
        The canvas whose layers are listed (its sources need ``title``,
        ``style`` and ``geometry_type``).
    language : str
        Language of the legend labels (``zh_CN`` or ``en``).

    Signals
    -------
    lockChanged(str, bool)
        A layer was locked (True) or unlocked.
    currentLayerChanged(str)
        The layer chosen for editing changed ('' for none).
    zoomToLayerRequested(str)
        The user asked to see all of a layer (double-click).
    """

    lockChanged = Signal(str, bool)
    currentLayerChanged = Signal(str)
    zoomToLayerRequested = Signal(str)

    def __init__(self, canvas, language: str = "zh_CN", parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self._language = language
        self._locked: set[str] = set()
        self._counts: dict[str, int] = {}
        self._updating = False
        self._lock_icon = QIcon(str(paths.icon_path("lock")))
        self._unlock_icon = QIcon(str(paths.icon_path("unlock")))

        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setIconSize(QSize(SWATCH_PX, SWATCH_PX))
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(1, 28)
        self.up_button = self._button("layer_up", self._move_up)
        self.down_button = self._button("layer_down", self._move_down)
        self.zoom_button = self._button("zoom_layer", self._zoom_current)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for b in (self.up_button, self.down_button, self.zoom_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(buttons)
        layout.addWidget(self.tree)
        QShortcut(QKeySequence("Ctrl+Up"), self.tree, self._move_up)
        QShortcut(QKeySequence("Ctrl+Down"), self.tree, self._move_down)

        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemClicked.connect(self._item_clicked)
        self.tree.itemDoubleClicked.connect(self._item_double_clicked)
        self.tree.currentItemChanged.connect(self._current_changed)
        canvas.layersChanged.connect(self.sync)
        self.retranslate()
        self.sync()

    def _button(self, icon: str, slot) -> QToolButton:
        button = QToolButton()
        button.setIcon(QIcon(str(paths.icon_path(icon))))
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    def retranslate(self) -> None:
        """Set the panel's texts in the current language."""
        self.up_button.setToolTip(self.tr("Move the layer up (Ctrl+Up)"))
        self.down_button.setToolTip(self.tr("Move the layer down (Ctrl+Down)"))
        self.zoom_button.setToolTip(self.tr("Zoom to the layer"))
        self.sync(rebuild=True)

    def set_language(self, language: str) -> None:
        """Show legend labels in another language (the sources' titles are set by their owner)."""
        self._language = language
        self.sync(rebuild=True)

    # -- state ----------------------------------------------------------------------

    def is_locked(self, name: str) -> bool:
        """Whether editing of a layer is locked."""
        return name in self._locked

    def locked_layers(self) -> frozenset[str]:
        return frozenset(self._locked)

    def set_locked(self, name: str, locked: bool) -> None:
        """Lock or unlock a layer (emits lockChanged when it changes)."""
        if locked == (name in self._locked):
            return
        if locked:
            self._locked.add(name)
        else:
            self._locked.discard(name)
        item = self._item(name)
        if item is not None:
            self._show_lock(item, name)
        self.lockChanged.emit(name, locked)

    def set_counts(self, counts: dict[str, int]) -> None:
        """Show feature counts (layer name -> count)."""
        self._counts.update(counts)
        for name in counts:
            item = self._item(name)
            if item is not None:
                self._show_text(item, name)

    def count(self, name: str) -> int | None:
        return self._counts.get(name)

    def current_layer(self) -> str | None:
        """The layer chosen for editing (the current top-level item)."""
        item = self.tree.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        return None if item is None else item.data(0, NameRole)

    def set_current_layer(self, name: str) -> None:
        item = self._item(name)
        if item is not None:
            self.tree.setCurrentItem(item)

    def layer_names(self) -> list[str]:
        """The layer names as listed, top first."""
        return [self.tree.topLevelItem(i).data(0, NameRole) for i in range(self.tree.topLevelItemCount())]

    def legend(self, name: str) -> list[str]:
        """The legend labels listed under a layer."""
        item = self._item(name)
        return [] if item is None else [item.child(i).text(0) for i in range(item.childCount())]

    def move_layer(self, name: str, delta: int) -> None:
        """Move a layer ``delta`` places down (negative: up) in the drawing order."""
        names = [layer.name for layer in self.canvas.layers()]
        i = names.index(name)
        j = max(0, min(len(names) - 1, i + delta))
        if i == j:
            return
        names.insert(j, names.pop(i))
        self.canvas.set_layer_order(names)
        self.set_current_layer(name)

    # -- building -------------------------------------------------------------------

    def sync(self, rebuild: bool = False) -> None:
        """Follow the canvas: layers, order, visibility."""
        if self._updating:
            return
        layers = self.canvas.layers()
        if not rebuild and [layer.name for layer in layers] == self.layer_names():
            self._updating = True
            try:
                for layer in layers:
                    item = self._item(layer.name)
                    visible = self.canvas.is_layer_visible(layer.name)
                    state = Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked
                    if item.checkState(0) != state:
                        item.setCheckState(0, state)
                    self._show_text(item, layer.name)
            finally:
                self._updating = False
            return
        current = self.current_layer()
        expanded = {n for n in self.layer_names() if self._item(n).isExpanded()}
        first = self.tree.topLevelItemCount() == 0
        self._updating = True
        try:
            self.tree.clear()
            for layer in layers:
                self.tree.addTopLevelItem(self._layer_item(layer))
            for layer in layers:
                item = self._item(layer.name)
                item.setExpanded(first or layer.name in expanded)
        finally:
            self._updating = False
        if current:
            self.set_current_layer(current)

    def _layer_item(self, layer) -> QTreeWidgetItem:
        item = QTreeWidgetItem()
        item.setData(0, NameRole, layer.name)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(0, Qt.CheckState.Checked if self.canvas.is_layer_visible(layer.name)
                           else Qt.CheckState.Unchecked)
        self._show_text(item, layer.name, layer)
        self._show_lock(item, layer.name)
        style = LayerStyle.from_dict(layer.style)
        entries = [(c.label.get(self._language) or c.label.get("en") or str(c.value), c.color)
                   for c in style.classes]
        if style.classes:
            entries.append((self.tr("other"), style.default_color))
        else:
            item.setIcon(0, QIcon(legend_swatch(style, style.default_color, layer.geometry_type)))
        for text, color in entries:
            child = QTreeWidgetItem([text])
            child.setFlags(Qt.ItemFlag.ItemIsEnabled)
            child.setIcon(0, QIcon(legend_swatch(style, color, layer.geometry_type)))
            item.addChild(child)
        return item

    def _show_text(self, item: QTreeWidgetItem, name: str, layer=None) -> None:
        layer = layer or self.canvas.layer(name)
        count = self._counts.get(name)
        text = layer.title if count is None else f"{layer.title} ({count:,})"
        if item.text(0) != text:
            item.setText(0, text)

    def _show_lock(self, item: QTreeWidgetItem, name: str) -> None:
        locked = name in self._locked
        item.setIcon(1, self._lock_icon if locked else self._unlock_icon)
        item.setToolTip(1, self.tr("Locked: editing is off (click to unlock)") if locked
                        else self.tr("Editable (click to lock)"))

    def _item(self, name: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, NameRole) == name:
                return item
        return None

    # -- user actions ---------------------------------------------------------------

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._updating or item.parent() is not None or column != 0:
            return
        name = item.data(0, NameRole)
        visible = item.checkState(0) == Qt.CheckState.Checked
        self._updating = True
        try:
            self.canvas.set_layer_visible(name, visible)
        finally:
            self._updating = False

    def _item_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        if column == 1 and item.parent() is None:
            name = item.data(0, NameRole)
            self.set_locked(name, name not in self._locked)

    def _item_double_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        if item.parent() is None and column == 0:
            self.zoomToLayerRequested.emit(item.data(0, NameRole))

    def _current_changed(self, *_args) -> None:
        if not self._updating:
            self.currentLayerChanged.emit(self.current_layer() or "")

    def _move_up(self) -> None:
        name = self.current_layer()
        if name:
            self.move_layer(name, -1)

    def _move_down(self) -> None:
        name = self.current_layer()
        if name:
            self.move_layer(name, 1)

    def _zoom_current(self) -> None:
        name = self.current_layer()
        if name:
            self.zoomToLayerRequested.emit(name)
