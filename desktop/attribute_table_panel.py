"""The attribute table dock: one layer's features, filtered, its selection synced with the map.

The panel shows the window's edit session through an ``AttributeTableModel``
per layer; an edit typed in a cell goes back to the window as an undoable
command (``MainWindow.change_attributes``), never to the session directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .forms.widgets import FieldDelegate

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["AttributeTablePanel"]


class AttributeTablePanel(QWidget):
    """The attribute table dock: one layer's features, filtered, selection synced with the map."""

    ALL, VISIBLE, SELECTED = range(3)

    def __init__(self, window: MainWindow, model_class: type) -> None:
        super().__init__(window)
        self.window_ = window
        self._model_class = model_class
        self._models: dict = {}
        self._syncing = False
        self.layer_combo = QComboBox()
        self.filter_combo = QComboBox()
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.count_label = QLabel()
        self.view = QTableView()
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 6)
        self.view.verticalHeader().hide()
        # code lists as drop-downs of their labels, dates with a calendar, booleans as check boxes
        self.delegate = FieldDelegate(window.language, self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        # a click on a row that was already selected still makes the selection just what the table shows
        self.view.clicked.connect(lambda _index: self._view_selection_changed())
        top = QHBoxLayout()
        top.addWidget(self.layer_combo)
        top.addWidget(self.filter_combo)
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.view)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(300)
        self._timer.timeout.connect(self.apply_filter)
        for name, source in window.sources.items():
            self.layer_combo.addItem(source.title, name)
        self.layer_combo.currentIndexChanged.connect(lambda _i: self.set_layer(self.layer_combo.currentData()))
        self.filter_combo.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.layer = None
        self.retranslate()
        self.set_layer(self.layer_combo.currentData())

    def retranslate(self) -> None:
        index = max(0, self.filter_combo.currentIndex())
        self.filter_combo.blockSignals(True)
        self.filter_combo.clear()
        self.filter_combo.addItems([self.tr("All features"), self.tr("Visible on the map"),
                                    self.tr("Selected features")])
        self.filter_combo.setCurrentIndex(index)
        self.filter_combo.blockSignals(False)
        self.search.setPlaceholderText(self.tr("Search…"))
        self._show_count()

    def set_language(self, language: str) -> None:
        self.delegate.language = language
        for i in range(self.layer_combo.count()):
            self.layer_combo.setItemText(i, self.window_.sources[self.layer_combo.itemData(i)].title)
        for model in self._models.values():
            model.set_language(language)
        self.fit_headers()

    def follow_layers(self, rebuilt) -> None:
        """The window's layers changed (an update brought new definitions): list them anew, and make the models of
        the layers in ``rebuilt`` (their columns, labels and codes) and of the layers gone afresh."""
        sources = self.window_.sources
        shown = self.layer if self.layer in sources else next(iter(sources), None)
        self.layer = None
        self.view.setModel(None)
        for name in [n for n in self._models if n in rebuilt or n not in sources]:
            self._models.pop(name).deleteLater()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for name, source in sources.items():
            self.layer_combo.addItem(source.title, name)
        self.layer_combo.blockSignals(False)
        self.set_layer(shown)

    def model(self, layer: str | None = None):
        """The table model of a layer (made on first use)."""
        layer = layer or self.layer
        model = self._models.get(layer)
        if model is None:
            model = self._model_class(self.window_.session, layer, language=self.window_.language, parent=self)
            model.editRequested.connect(self._edit_requested)
            model.rowsSorted.connect(lambda layer=layer: self._model_sorted(layer))
            model.set_read_only(self.window_.layer_panel.is_locked(layer))
            self._models[layer] = model
        return model

    def set_layer(self, layer: str) -> None:
        """Show a layer's features."""
        if layer is None or layer == self.layer:
            return
        self.layer = layer
        index = self.layer_combo.findData(layer)
        if index != self.layer_combo.currentIndex():
            self.layer_combo.blockSignals(True)
            self.layer_combo.setCurrentIndex(index)
            self.layer_combo.blockSignals(False)
        model = self.model(layer)
        self.view.setModel(model)
        self.view.selectionModel().selectionChanged.connect(self._view_selection_changed)
        self.fit_headers()
        self.apply_filter()

    def fit_headers(self) -> None:
        """Widen each column so that its whole title shows (with room for the sort arrow)."""
        header = self.view.horizontalHeader()
        model = self.view.model()
        if model is None:
            return
        metrics = header.fontMetrics()
        room = 2 * header.style().pixelMetric(header.style().PixelMetric.PM_HeaderMargin) + \
            header.style().pixelMetric(header.style().PixelMetric.PM_HeaderMarkSize) + 12
        for column in range(model.columnCount()):
            title = str(model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) or "")
            wanted = metrics.horizontalAdvance(title) + room
            if header.sectionSize(column) < wanted:
                header.resizeSection(column, wanted)

    def _model_sorted(self, layer: str) -> None:
        """A re-sorted table keeps showing the map's selection."""
        if layer == self.layer and not self._syncing:
            self._select_rows()

    def mode(self) -> int:
        return self.filter_combo.currentIndex()

    def set_mode(self, mode: int) -> None:
        self.filter_combo.setCurrentIndex(mode)

    def apply_filter(self) -> None:
        """Filter the rows: all / visible on the map / selected, and the search text."""
        if self.layer is None:
            return
        window = self.window_
        fids = None
        if self.mode() == self.VISIBLE:
            fids = window.sources[self.layer].features_in_extent(window.canvas.extent()).fid
        elif self.mode() == self.SELECTED:
            fids = np.fromiter(window.canvas.selection(self.layer), dtype=np.int64)
        self._syncing = True  # rows leaving the view must not unselect their features on the map
        try:
            self.model().set_filter(self.search.text() or None, fids)
        finally:
            self._syncing = False
        self._select_rows()
        self._show_count()

    def _show_count(self) -> None:
        if self.layer is None:
            return
        model = self.model()
        self.count_label.setText(self.tr("%d of %d") % (model.rowCount(), self.window_.session.count(self.layer)))

    def _edit_requested(self, layer: str, fid: int, field: str, value) -> None:
        if self.window_.change_attributes(layer, fid, {field: value}):
            return
        # Refused (the reason was shown): the cell opens again with the value as typed, to be corrected.
        model = self._models.get(layer)
        if model is None or layer != self.layer:
            return
        row, column = model.row_of(fid), model.column_of(field)
        if row < 0:
            return
        self.delegate.keep_typed(row, column, value)
        index = model.index(row, column)
        QTimer.singleShot(0, lambda: (self.view.setCurrentIndex(index), self.view.edit(index)))

    def lock_changed(self, layer: str, locked: bool) -> None:
        if layer in self._models:
            self._models[layer].set_read_only(locked)

    def layer_edited(self, layer: str, fids) -> None:
        model = self._models.get(layer)
        if model is None:
            return
        self._syncing = True
        try:
            model.refresh()
            model.refresh_fids([f for f in fids if model.row_of(f) >= 0])
        finally:
            self._syncing = False
        self._show_count()

    def reset(self) -> None:
        self._syncing = True
        try:
            for model in self._models.values():
                model.refresh()
        finally:
            self._syncing = False
        self.apply_filter()

    def map_extent_changed(self) -> None:
        if self.mode() == self.VISIBLE:
            self._timer.start()

    def map_selection_changed(self, layer: str) -> None:
        if layer != self.layer or self._syncing:
            return
        if self.mode() == self.SELECTED:
            self.apply_filter()
        else:
            self._select_rows()

    def _select_rows(self) -> None:
        """Select the rows of the map's selected features."""
        model = self.model()
        selected = self.window_.canvas.selection(self.layer)
        rows = np.sort(model.rows_of(np.fromiter(selected, dtype=np.int64))) if selected else np.empty(0, np.int64)
        rows = rows[rows >= 0]
        selection = QItemSelection()
        last = model.columnCount() - 1
        if rows.size:
            breaks = np.flatnonzero(np.diff(rows) != 1)
            starts = np.concatenate(([rows[0]], rows[breaks + 1]))
            ends = np.concatenate((rows[breaks], [rows[-1]]))
            for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
                selection.select(model.index(a, 0), model.index(b, last))
        self._syncing = True
        try:
            self.view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            if rows.size:
                self.view.scrollTo(model.index(int(rows[0]), 0))
        finally:
            self._syncing = False

    def _view_selection_changed(self, *_args) -> None:
        """Rows selected in the table become the map's selection of the layer: one selection for both.

        Features the filter hides are unselected too (what is selected is what the user picked here).
        """
        if self._syncing:
            return
        model = self.model()
        rows = {index.row() for index in self.view.selectionModel().selectedRows()}
        chosen = {model.fid_at(row) for row in rows}
        self._syncing = True
        try:
            self.window_.canvas.set_selection(self.layer, chosen)
        finally:
            self._syncing = False
