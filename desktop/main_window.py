"""The editor's main window: the map, the layer panel, the attribute table and the edit tools.

Assembled from actions (menus and the toolbar share them). The window never
edits features itself: every edit is a command (``desktop.commands``) pushed
on one ``QUndoStack`` over one ``EditSession``; Save writes the session in one
tracked transaction. Every question to the user goes through ``prompts``
(``desktop.dialogs.Prompts``), which tests replace with scripted answers.
"""

from __future__ import annotations

import logging

import numpy as np
import pyproj
from PySide6.QtCore import QEvent, QItemSelection, QItemSelectionModel, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDockWidget, QFileDialog, QHBoxLayout, QLabel,
                               QLineEdit, QMainWindow, QTableView, QToolBar, QTreeWidget, QTreeWidgetItem,
                               QUndoView, QVBoxLayout, QWidget)
from shapely.geometry import Point

from layers.workspace.editing import EditSession
from layers.errors import TongchengError

from . import basemap_menu, gps_menu, paths, sync_menu
from .canvas import AddPointTool, IdentifyTool, MapCanvas, MovePointTool, PanTool, SelectTool
from .commands import (AddFeatureCommand, ChangeAttributesCommand, DeleteFeaturesCommand, EditTarget,
                       MoveFeatureCommand)
from .dialogs import Prompts, SelectByExpressionDialog, SelectionMode, UnsavedAnswer, compile_expression
from .layer_panel import LayerPanel
from .workspace_source import ReaderPool, sources_for_session

__all__ = ["MainWindow", "AttributeTablePanel", "TOOLS", "LANGUAGES", "SCALES", "saved_language"]

_log = logging.getLogger(__name__)

TOOLS = ("pan", "identify", "select", "add", "move")
"""Names of the map tools, as :meth:`MainWindow.set_tool` takes them."""

LANGUAGES = (("zh_CN", "中文"), ("en", "English"))
"""Interface languages offered in Settings > Language (each named in itself)."""

SCALES = (500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 250000)
"""Scales offered in the status bar."""


def _icon(name: str) -> QIcon:
    return QIcon(str(paths.icon_path(name)))


class MainWindow(QMainWindow):
    """The map editor on one open workspace.

    Parameters
    ----------
    workspace : layers.workspace.store.Workspace
        The open workspace; the window owns it from now on and closes it.
    language : str
        Interface language of data labels: layer titles, legend, field labels
        (``zh_CN`` or ``en``). Qt's own texts follow the installed translators.
    prompts : Prompts, optional
        Who answers the window's questions (real dialogs by default).

    Signals
    -------
    openWorkspaceRequested(str)
        The user chose another workspace file (the application opens it).
    languageRequested(str)
        The user chose another interface language (the application installs it).
    """

    openWorkspaceRequested = Signal(str)
    languageRequested = Signal(str)

    def __init__(self, workspace, *, language: str = "zh_CN", prompts: Prompts | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.language = language
        self.prompts = prompts or Prompts(self)
        self.session = EditSession(workspace)
        self.undo_stack = QUndoStack(self)
        self.edits = EditTarget(self.session, self)
        self.readers = ReaderPool(workspace)
        self.sources = {s.name: s for s in sources_for_session(self.session, self.readers, language)}
        self._to_wgs84 = pyproj.Transformer.from_crs(workspace.crs, "EPSG:4326", always_xy=True)
        self._closed = False
        self.setWindowIcon(_icon("tongcheng"))

        self.canvas = MapCanvas(self)
        self.canvas.set_layers(list(self.sources.values()))
        self.setCentralWidget(self.canvas)
        self.layer_panel = LayerPanel(self.canvas, language)
        self.layer_dock = self._dock("layers", self.layer_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.identify_tree = QTreeWidget()
        self.identify_tree.setColumnCount(2)
        self.identify_tree.setRootIsDecorated(False)
        self.identify_tree.setAlternatingRowColors(True)
        self.identify_dock = self._dock("identify", self.identify_tree, Qt.DockWidgetArea.RightDockWidgetArea)
        self.undo_view = QUndoView(self.undo_stack)
        self.history_dock = self._dock("history", self.undo_view, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.identify_dock, self.history_dock)
        self.identify_dock.raise_()
        self.table = None
        self.table_dock = None
        self._build_table_dock()

        self.pan_tool = PanTool(self.canvas)
        self.identify_tool = IdentifyTool(self.canvas)
        self.select_tool = SelectTool(self.canvas)
        self.add_tool = AddPointTool(self.canvas)
        self.move_tool: MovePointTool | None = None
        self.identify_tool.featureIdentified.connect(self.identify)
        self.identify_tool.nothingIdentified.connect(self.identify_tree.clear)
        self.select_tool.featuresSelected.connect(self._apply_selection)
        self.add_tool.pointAdded.connect(self.add_point_at)

        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self._build_menus()
        self._build_status_bar()

        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self.undo_stack.indexChanged.connect(self._update_edit_state)
        self.edits.layerEdited.connect(self._layer_edited)
        self.layer_panel.lockChanged.connect(self._lock_changed)
        self.layer_panel.currentLayerChanged.connect(self._current_layer_changed)
        self.layer_panel.zoomToLayerRequested.connect(self.zoom_to_layer)
        self.canvas.cursorMoved.connect(self._show_cursor)
        self.canvas.scaleChanged.connect(self._show_scale)
        self.canvas.selectionChanged.connect(self._canvas_selection_changed)
        self.canvas.extentChanged.connect(self._extent_changed)
        self.canvas.renderError.connect(self._render_error)

        self.retranslate_ui()
        self.refresh_counts()
        first_point_layer = next((s.name for s in self.sources.values() if s.geometry_type == "POINT"), None)
        if first_point_layer:
            self.layer_panel.set_current_layer(first_point_layer)
        self.set_tool("pan")
        self._clean_changed(True)
        self.resize(1280, 800)
        QTimer.singleShot(0, self.zoom_full)

    # -- building ---------------------------------------------------------------------

    def _dock(self, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(self)
        dock.setObjectName(f"{name}_dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_table_dock(self) -> None:
        try:
            from .models.attribute_table import AttributeTableModel
        except ImportError:  # the model is not installed in this build
            return
        self.table = AttributeTablePanel(self, AttributeTableModel)
        self.table_dock = self._dock("table", self.table, Qt.DockWidgetArea.BottomDockWidgetArea)

    def _action(self, name: str, icon: str | None = None, slot=None, shortcut=None, checkable=False) -> QAction:
        action = QAction(self)
        action.setObjectName(name)
        if icon:
            action.setIcon(_icon(icon))
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setCheckable(checkable)
        if slot is not None:
            action.triggered.connect(lambda checked=False, slot=slot: slot())
        self.actions[name] = action
        return action

    def _build_actions(self) -> None:
        a = self._action
        a("open", "open", self._choose_workspace, QKeySequence.StandardKey.Open)
        a("save", "save", self.save, QKeySequence.StandardKey.Save)
        a("discard", "discard", self.discard)
        a("quit", None, self.close, QKeySequence.StandardKey.Quit)
        undo = self.undo_stack.createUndoAction(self)
        undo.setIcon(_icon("undo"))
        undo.setShortcuts([QKeySequence.StandardKey.Undo])
        self.actions["undo"] = undo
        redo = self.undo_stack.createRedoAction(self)
        redo.setIcon(_icon("redo"))
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.actions["redo"] = redo
        a("delete", "delete", self.delete_selected, [QKeySequence(QKeySequence.StandardKey.Delete)])
        a("select_expression", "select_expression", self.open_select_by_expression, "Ctrl+E")
        a("clear_selection", "clear_selection", self.clear_selection, "Ctrl+Shift+A")
        a("zoom_full", "zoom_full", self.zoom_full, "Ctrl+Shift+F")
        a("zoom_layer", "zoom_layer", self.zoom_to_layer, "Ctrl+Shift+L")
        a("zoom_selection", "zoom_selection", self.zoom_to_selection, "Ctrl+J")
        a("zoom_in", "zoom_in", lambda: self.canvas.zoom_by_factor(2.0), [QKeySequence.StandardKey.ZoomIn, "Ctrl+="])
        a("zoom_out", "zoom_out", lambda: self.canvas.zoom_by_factor(0.5), QKeySequence.StandardKey.ZoomOut)
        group = QActionGroup(self)
        group.setExclusive(True)
        for name, icon, key in (("pan", "pan", "P"), ("identify", "identify", "I"), ("select", "select", "S"),
                                ("add", "add_point", "A"), ("move", "move_point", "M")):
            action = a(f"tool_{name}", icon, lambda name=name: self.set_tool(name), key, checkable=True)
            group.addAction(action)
        self.tool_group = group
        language_group = QActionGroup(self)
        for code, native in LANGUAGES:
            action = a(f"language_{code}", None, lambda code=code: self.languageRequested.emit(code), checkable=True)
            action.setText(native)
            action.setChecked(code == self.language)
            language_group.addAction(action)
        self.language_group = language_group

    def _build_menus(self) -> None:
        bar = self.menuBar()
        acts = self.actions
        self.file_menu = bar.addMenu("")
        for name in ("open", None, "save", "discard", None, "quit"):
            self.file_menu.addSeparator() if name is None else self.file_menu.addAction(acts[name])
        self.edit_menu = bar.addMenu("")
        for name in ("undo", "redo", None, "tool_add", "tool_move", "delete", None,
                     "tool_select", "select_expression", "clear_selection"):
            self.edit_menu.addSeparator() if name is None else self.edit_menu.addAction(acts[name])
        self.view_menu = bar.addMenu("")
        for name in ("tool_pan", "tool_identify", None, "zoom_in", "zoom_out", "zoom_full", "zoom_layer",
                     "zoom_selection", None):
            self.view_menu.addSeparator() if name is None else self.view_menu.addAction(acts[name])
        self.panels_menu = self.view_menu.addMenu("")
        for dock in (self.layer_dock, self.table_dock, self.identify_dock, self.history_dock):
            if dock is not None:
                action = dock.toggleViewAction()
                self.panels_menu.addAction(action)
        if self.table_dock is not None:
            self.table_dock.toggleViewAction().setShortcut(QKeySequence("F6"))
            self.table_dock.toggleViewAction().setIcon(_icon("table"))
        self.settings_menu = bar.addMenu("")
        self.language_menu = self.settings_menu.addMenu("")
        for code, _native in LANGUAGES:
            self.language_menu.addAction(acts[f"language_{code}"])

        self.toolbar = QToolBar(self)
        self.toolbar.setObjectName("main_toolbar")
        self.addToolBar(self.toolbar)
        for name in ("save", "undo", "redo", None, "tool_pan", "tool_identify", "tool_select", "select_expression",
                     "clear_selection", None, "tool_add", "tool_move", "delete", None, "zoom_in", "zoom_out",
                     "zoom_full", "zoom_layer", "zoom_selection"):
            self.toolbar.addSeparator() if name is None else self.toolbar.addAction(acts[name])
        if self.table_dock is not None:
            self.toolbar.addSeparator()
            self.toolbar.addAction(self.table_dock.toggleViewAction())

        # Extensions add their own menus (GPS import, sync, basemap); each returns an
        # object with retranslate(), called from retranslate_ui, or None.
        installed = (gps_menu.install(self), sync_menu.install(self), basemap_menu.install(self))
        self.extensions = [extension for extension in installed if extension is not None]

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.coordinates_label = QLabel()
        self.wgs84_label = QLabel()
        self.edits_label = QLabel()
        self.scale_label = QLabel()
        self.scale_combo = QComboBox()
        self.scale_combo.setEditable(True)
        self.scale_combo.setMinimumContentsLength(10)
        self.scale_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for n in SCALES:
            self.scale_combo.addItem(f"1:{n:,}", n)
        self.scale_combo.activated.connect(self._scale_chosen)
        self.scale_combo.lineEdit().returnPressed.connect(self._scale_typed)
        metrics = self.fontMetrics()
        self.coordinates_label.setMinimumWidth(metrics.horizontalAdvance("EPSG:4544  000,000,000.00, 0,000,000.00"))
        self.wgs84_label.setMinimumWidth(metrics.horizontalAdvance("WGS84  000.000000°E, 00.000000°N"))
        for widget in (self.edits_label, self.coordinates_label, self.wgs84_label, self.scale_label,
                       self.scale_combo):
            status.addPermanentWidget(widget)

    def retranslate_ui(self) -> None:
        """Set every text of the window in the current language (also on LanguageChange)."""
        for extension in getattr(self, "extensions", ()):
            extension.retranslate()
        acts = self.actions
        texts = {
            "open": (self.tr("&Open workspace…"), None),
            "save": (self.tr("&Save edits"), self.tr("Write all pending edits to the workspace (Ctrl+S)")),
            "discard": (self.tr("&Discard edits"), self.tr("Drop all edits since the last save")),
            "quit": (self.tr("&Quit"), None),
            "delete": (self.tr("&Delete selected"), self.tr("Delete the selected features (Del)")),
            "select_expression": (self.tr("Select by &expression…"),
                                  self.tr("Select features matching a filter expression (Ctrl+E)")),
            "clear_selection": (self.tr("&Clear selection"), self.tr("Unselect all features (Ctrl+Shift+A)")),
            "zoom_full": (self.tr("Zoom to &full extent"), self.tr("Show every feature (Ctrl+Shift+F)")),
            "zoom_layer": (self.tr("Zoom to &layer"), self.tr("Show all of the current layer (Ctrl+Shift+L)")),
            "zoom_selection": (self.tr("Zoom to &selection"), self.tr("Show the selected features (Ctrl+J)")),
            "zoom_in": (self.tr("Zoom &in"), None),
            "zoom_out": (self.tr("Zoom &out"), None),
            "tool_pan": (self.tr("&Pan"), self.tr("Pan the map by dragging (P)")),
            "tool_identify": (self.tr("&Identify"), self.tr("Click a feature to see its attributes (I)")),
            "tool_select": (self.tr("&Select"), self.tr("Select by click or rectangle; Shift adds, Ctrl removes (S)")),
            "tool_add": (self.tr("&Add point"), self.tr("Click to add a feature to the current layer (A)")),
            "tool_move": (self.tr("&Move point"),
                          self.tr("Drag a point of the current layer; snaps to other features (M)")),
        }
        for name, (text, tip) in texts.items():
            acts[name].setText(text)
            acts[name].setToolTip(tip or text.replace("&", "").rstrip("…"))
        acts["undo"].setToolTip(self.tr("Undo (Ctrl+Z)"))
        acts["redo"].setToolTip(self.tr("Redo (Ctrl+Shift+Z)"))
        self.file_menu.setTitle(self.tr("&File"))
        self.edit_menu.setTitle(self.tr("&Edit"))
        self.view_menu.setTitle(self.tr("&View"))
        self.panels_menu.setTitle(self.tr("&Panels"))
        self.settings_menu.setTitle(self.tr("&Settings"))
        self.language_menu.setTitle(self.tr("&Language"))
        self.toolbar.setWindowTitle(self.tr("Tools"))
        self.layer_dock.setWindowTitle(self.tr("Layers"))
        self.identify_dock.setWindowTitle(self.tr("Identify"))
        self.history_dock.setWindowTitle(self.tr("History"))
        self.undo_view.setEmptyLabel(self.tr("<last save>"))
        self.identify_tree.setHeaderLabels([self.tr("Field"), self.tr("Value")])
        if self.table_dock is not None:
            self.table_dock.setWindowTitle(self.tr("Attribute table"))
            self.table.retranslate()
        self.scale_label.setText(self.tr("Scale"))
        self.layer_panel.retranslate()
        self._update_title()
        self._update_edit_state()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def set_language(self, language: str) -> None:
        """Show layer titles, legends and field labels in another language."""
        self.language = language
        for source in self.sources.values():
            source.set_language(language)
        self.layer_panel.set_language(language)
        if self.table is not None:
            self.table.set_language(language)
        for code, _native in LANGUAGES:
            self.actions[f"language_{code}"].setChecked(code == language)
        self.canvas.set_layers(list(self.sources.values()))
        self.retranslate_ui()

    # -- state shown ------------------------------------------------------------------

    def _update_title(self) -> None:
        self.setWindowTitle(self.tr("%s[*] — Tongcheng") % self.workspace.path.name)

    def _clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)
        self.actions["save"].setEnabled(not clean)
        self.actions["discard"].setEnabled(not clean)
        self._update_edit_state()

    def _update_edit_state(self, *_args) -> None:
        if not hasattr(self, "edits_label"):
            return
        counts = self.session.pending_counts()
        added = sum(c["added"] for c in counts.values())
        changed = sum(c["changed"] for c in counts.values())
        deleted = sum(c["deleted"] for c in counts.values())
        if added or changed or deleted:
            self.edits_label.setText(self.tr("Unsaved: %d added, %d changed, %d deleted") % (added, changed, deleted))
            self.edits_label.setStyleSheet("color: #b71c1c; font-weight: bold")
        else:
            self.edits_label.setText(self.tr("No unsaved edits"))
            self.edits_label.setStyleSheet("")

    def is_modified(self) -> bool:
        """True when there are edits since the last save (``not undo_stack.isClean()``)."""
        return not self.undo_stack.isClean()

    def refresh_counts(self, layers=None) -> None:
        """Show the feature counts (edits applied) in the layer panel."""
        names = layers or list(self.sources)
        self.layer_panel.set_counts({name: self.session.count(name) for name in names})

    def _show_cursor(self, x: float, y: float) -> None:
        lon, lat = self._to_wgs84.transform(x, y)
        self.coordinates_label.setText(f"{self.workspace.crs}  {x:,.2f}, {y:,.2f}")
        self.wgs84_label.setText(f"WGS84  {lon:.6f}°{'E' if lon >= 0 else 'W'}, {lat:.6f}°{'N' if lat >= 0 else 'S'}")

    def _show_scale(self, denominator: float) -> None:
        self.scale_combo.setEditText(f"1:{round(denominator):,}")

    def _scale_chosen(self, index: int) -> None:
        self.canvas.set_scale(float(self.scale_combo.itemData(index)))

    def _scale_typed(self) -> None:
        text = self.scale_combo.currentText().replace(",", "").replace(" ", "")
        text = text.split(":")[-1]
        try:
            value = float(text)
        except ValueError:
            self._show_scale(self.canvas.scale())
            return
        if value > 0:
            self.canvas.set_scale(value)

    def _render_error(self, layer: str, message: str) -> None:
        self.statusBar().showMessage(self.tr("Layer %s could not be drawn: %s") % (layer, message), 10000)

    # -- layers and tools ----------------------------------------------------------------

    def current_layer(self) -> str | None:
        """The layer that add, move and zoom-to-layer work on (chosen in the layer panel)."""
        return self.layer_panel.current_layer()

    def set_current_layer(self, name: str) -> None:
        self.layer_panel.set_current_layer(name)

    def is_editable(self, layer: str, tell: bool = True) -> bool:
        """Whether a layer may be edited now (not locked); tells the user why not."""
        if self.layer_panel.is_locked(layer):
            if tell:
                self.statusBar().showMessage(
                    self.tr("%s is locked: unlock it in the layer panel to edit it") % self.sources[layer].title, 6000)
            return False
        return True

    def set_tool(self, name: str) -> None:
        """Make a map tool active: one of :data:`TOOLS`."""
        if name not in TOOLS:
            raise ValueError(f"unknown tool {name!r}")
        if name == "move":
            tool = self._move_tool()
        else:
            tool = {"pan": self.pan_tool, "identify": self.identify_tool, "select": self.select_tool,
                    "add": self.add_tool}[name]
        self.canvas.set_map_tool(tool)
        self.actions[f"tool_{name}"].setChecked(True)
        self._tool_name = name

    def tool(self) -> str:
        """The name of the active map tool."""
        return self._tool_name

    def _move_tool(self) -> MovePointTool | None:
        layer = self.current_layer()
        if self.move_tool is not None and self.move_tool.layer_name == layer:
            return self.move_tool
        if self.move_tool is not None:
            self.canvas.unset_map_tool(self.move_tool)
            self.move_tool.deleteLater()
        self.move_tool = MovePointTool(self.canvas, layer or "")
        self.move_tool.pointMoved.connect(self._point_moved)
        return self.move_tool

    def _current_layer_changed(self, name: str) -> None:
        if getattr(self, "_tool_name", None) == "move":
            self.set_tool("move")
        if self.table is not None and name:
            self.table.set_layer(name)

    def _lock_changed(self, layer: str, locked: bool) -> None:
        if self.table is not None:
            self.table.lock_changed(layer, locked)

    # -- view -------------------------------------------------------------------------

    def zoom_full(self) -> None:
        """Show every feature of the visible layers."""
        self.canvas.zoom_to_full_extent()

    def zoom_to_layer(self, name: str | None = None) -> None:
        """Show all features of a layer (the current one by default)."""
        name = name or self.current_layer()
        if name:
            self.canvas.zoom_to_layer(name)

    def zoom_to_selection(self) -> None:
        """Show the selected features of every layer (a little margin around a single point)."""
        boxes = []
        for name, source in self.sources.items():
            fids = self.canvas.selection(name)
            if not fids:
                continue
            for feature in self.session.features_by_fid(name, sorted(fids)):
                if feature.geometry is not None:
                    boxes.append(feature.geometry.bounds)
        if not boxes:
            return
        a = np.array(boxes)
        # plain floats: the canvas's transform must not hold numpy scalars
        xmin, ymin = float(a[:, 0].min()), float(a[:, 1].min())
        xmax, ymax = float(a[:, 2].max()), float(a[:, 3].max())
        pad = max(xmax - xmin, ymax - ymin) * 0.1 or 50.0
        self.canvas.set_extent((xmin - pad, ymin - pad, xmax + pad, ymax + pad))

    # -- selection ----------------------------------------------------------------------

    def selection(self, layer: str) -> frozenset[int]:
        """The selected fids of a layer."""
        return self.canvas.selection(layer)

    def set_selection(self, layer: str, fids) -> None:
        """Select these features of a layer (map and table follow)."""
        self.canvas.set_selection(layer, fids)

    def clear_selection(self) -> None:
        self.canvas.clear_selection()

    def _apply_selection(self, result: dict) -> None:
        for name, fids in result.items():
            self.canvas.set_selection(name, fids)

    def _canvas_selection_changed(self, layer: str) -> None:
        count = sum(len(self.canvas.selection(name)) for name in self.sources)
        self.statusBar().showMessage(self.tr("%n feature(s) selected", "", count), 4000)
        if self.table is not None:
            self.table.map_selection_changed(layer)

    def _extent_changed(self) -> None:
        if self.table is not None:
            self.table.map_extent_changed()

    def matching_fids(self, layer: str, expression: str) -> np.ndarray:
        """The fids of a layer matching a filter expression, edits applied (ValueError if unreadable)."""
        sql, parameters = compile_expression(self.workspace.layer(layer), expression)
        return np.asarray(self.session.fids(layer, sql, parameters), dtype=np.int64)

    def select_by_expression(self, layer: str, expression: str, mode: SelectionMode = SelectionMode.REPLACE) -> int:
        """Select the features of a layer matching an expression; returns how many are selected."""
        found = {int(f) for f in self.matching_fids(layer, expression)}
        selected = mode.combine(set(self.canvas.selection(layer)), found)
        self.canvas.set_selection(layer, selected)
        return len(selected)

    def open_select_by_expression(self) -> None:
        """Ask for an expression and select what matches."""
        definitions = list(self.workspace.definitions.values())
        dialog = SelectByExpressionDialog(definitions, lambda layer, text: len(self.matching_fids(layer, text)),
                                          self.current_layer(), self.language, self)
        if self.prompts.select_by_expression(dialog):
            try:
                n = self.select_by_expression(dialog.layer(), dialog.expression(), dialog.mode())
            except ValueError as e:
                self.prompts.error(self.tr("Select by expression"), str(e))
                return
            self.statusBar().showMessage(self.tr("%n feature(s) selected", "", n), 6000)
        dialog.deleteLater()

    # -- identify -------------------------------------------------------------------------

    def identify(self, layer: str, fid: int) -> None:
        """Show every attribute of a feature in the Identify panel."""
        definition = self.workspace.layer(layer)
        feature = self.session.feature(layer, fid)
        tree = self.identify_tree
        tree.clear()
        title = QTreeWidgetItem([definition.title(self.language), str(fid) if fid >= 0 else self.tr("new (unsaved)")])
        font = title.font(0)
        font.setBold(True)
        title.setFont(0, font)
        title.setFont(1, font)
        tree.addTopLevelItem(title)
        for f in definition.fields:
            value = feature.attributes.get(f.name)
            tree.addTopLevelItem(QTreeWidgetItem([f.label(self.language), self._display(f, value)]))
        audit_labels = {
            "created_by": self.tr("Created by"),
            "created_at": self.tr("Created at (UTC)"),
            "modified_by": self.tr("Modified by"),
            "modified_at": self.tr("Modified at (UTC)"),
        }
        if feature.uuid:
            tree.addTopLevelItem(QTreeWidgetItem([self.tr("Identifier (uuid)"), feature.uuid]))
        for key, value in feature.audit.items():
            tree.addTopLevelItem(QTreeWidgetItem([audit_labels.get(key, key), "" if value is None else str(value)]))
        tree.resizeColumnToContents(0)
        self.identify_dock.show()
        self.identify_dock.raise_()
        self.identified = (layer, fid)

    def _display(self, field, value) -> str:
        if value is None:
            return ""
        if field.type == "boolean":
            return self.tr("yes") if value else self.tr("no")
        if field.codes:
            return str(field.code_label(value, self.language))
        return str(value)

    # -- editing (every edit is a command) -------------------------------------------------

    def _push(self, make) -> object | None:
        """Build a command (which validates) and push it; show a refused edit as an error."""
        try:
            command = make()
        except TongchengError as e:
            self.prompts.error(self.tr("Edit refused"), str(e))
            return None
        self.undo_stack.push(command)
        return command

    def add_feature(self, layer: str, attributes: dict, geometry) -> int | None:
        """Add a feature (undoable); returns its temporary fid, or None if refused."""
        if not self.is_editable(layer):
            return None
        command = self._push(lambda: AddFeatureCommand(self.edits, layer, attributes, geometry))
        return None if command is None else command.fid

    def add_point_at(self, x: float, y: float) -> int | None:
        """Add a point to the current layer at (x, y) after the user fills its form."""
        layer = self.current_layer()
        if not layer or self.sources[layer].geometry_type != "POINT":
            self.statusBar().showMessage(self.tr("Choose a point layer in the layer panel first"), 6000)
            return None
        if not self.is_editable(layer):
            return None
        definition = self.workspace.layer(layer)
        values = self.prompts.new_feature(definition, attachments_folder=paths.attachments_folder(self.workspace.path),
                                          language=self.language)
        if values is None:
            return None
        return self.add_feature(layer, values, Point(x, y))

    def move_feature(self, layer: str, fid: int, geometry) -> bool:
        """Give a feature a new geometry (undoable)."""
        if not self.is_editable(layer):
            return False
        return self._push(lambda: MoveFeatureCommand(self.edits, layer, fid, geometry)) is not None

    def _point_moved(self, layer: str, fid: int, _ox: float, _oy: float, x: float, y: float) -> None:
        self.move_feature(layer, fid, Point(x, y))

    def change_attributes(self, layer: str, fid: int, attributes: dict) -> bool:
        """Change attribute values of a feature (undoable)."""
        if not self.is_editable(layer):
            return False
        return self._push(lambda: ChangeAttributesCommand(self.edits, layer, fid, attributes)) is not None

    def delete_features(self, layer: str, fids) -> bool:
        """Delete features of one layer without asking (undoable)."""
        if not self.is_editable(layer):
            return False
        return self._push(lambda: DeleteFeaturesCommand(self.edits, layer, fids)) is not None

    def delete_selected(self) -> int:
        """Delete the selected features of the unlocked layers after confirmation; returns how many."""
        chosen = {name: sorted(self.canvas.selection(name)) for name in self.sources
                  if self.canvas.selection(name)}
        locked = [name for name in chosen if self.layer_panel.is_locked(name)]
        for name in locked:
            del chosen[name]
        if not chosen:
            message = (self.tr("The selected features are in locked layers") if locked
                       else self.tr("Select the features to delete first"))
            self.statusBar().showMessage(message, 6000)
            return 0
        counts = {self.sources[name].title: len(fids) for name, fids in chosen.items()}
        if not self.prompts.confirm_delete(counts):
            return 0
        total = sum(len(f) for f in chosen.values())
        self.undo_stack.beginMacro(self.tr("Delete %d features") % total)
        try:
            for name, fids in chosen.items():
                command = self._push(lambda name=name, fids=fids: DeleteFeaturesCommand(self.edits, name, fids))
                if command is None:
                    total -= len(fids)
        finally:
            self.undo_stack.endMacro()
        for name in chosen:
            self.canvas.set_selection(name, ())
        return total

    def _layer_edited(self, layer: str, fids: list) -> None:
        self.sources[layer].invalidate()
        self.canvas.refresh()
        self.refresh_counts([layer])
        self._update_edit_state()
        if self.table is not None:
            self.table.layer_edited(layer, fids)

    # -- save, discard, close ----------------------------------------------------------------

    def save(self) -> bool:
        """Write every pending edit in one transaction; False (edits kept) on failure."""
        if not self.session.is_dirty:
            self.undo_stack.setClean()
            return True
        try:
            mapping = self.session.save()
        except Exception as e:  # the edits stay pending; nothing was written
            _log.exception("saving failed")
            import traceback

            self.prompts.error(self.tr("Save failed"),
                               self.tr("The edits could not be saved; they are still pending.\n\n%s") % e,
                               traceback.format_exc())
            return False
        for layer, new in mapping.items():
            selected = self.canvas.selection(layer)
            if new and selected & set(new):
                self.canvas.set_selection(layer, {new.get(fid, fid) for fid in selected})
        self.undo_stack.clear()
        self._after_reset()
        self.statusBar().showMessage(self.tr("Edits saved"), 4000)
        return True

    def discard(self, ask: bool = True) -> bool:
        """Drop every pending edit and return to the last save (asks first)."""
        if not self.session.is_dirty and self.undo_stack.isClean():
            return True
        if ask and not self.prompts.confirm_discard(self.undo_stack.index() or 1):
            return False
        self.session.discard()
        for layer in self.sources:
            selected = self.canvas.selection(layer)
            if any(fid < 0 for fid in selected):
                self.canvas.set_selection(layer, {fid for fid in selected if fid >= 0})
        self.undo_stack.clear()
        self._after_reset()
        return True

    def _after_reset(self) -> None:
        for source in self.sources.values():
            source.invalidate()
        self.canvas.refresh()
        self.refresh_counts()
        self._update_edit_state()
        if self.table is not None:
            self.table.reset()
        if getattr(self, "identified", None):
            self.identify_tree.clear()
            self.identified = None

    def closeEvent(self, event) -> None:
        if self._closed:
            event.accept()
            return
        if self.is_modified():
            answer = self.prompts.unsaved_changes(self.undo_stack.index() or 1)
            if answer is UnsavedAnswer.CANCEL or (answer is UnsavedAnswer.SAVE and not self.save()):
                event.ignore()
                return
            if answer is UnsavedAnswer.DISCARD:
                self.discard(ask=False)
        self.shutdown()
        event.accept()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop rendering and close the workspace (pending edits are dropped)."""
        if self._closed:
            return
        self._closed = True
        self.canvas.shutdown()
        self.readers.close()
        self.workspace.close()

    def _choose_workspace(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open workspace"), str(self.workspace.path.parent),
                                              self.tr("Tongcheng workspaces (*.sqlite *.db);;All files (*)"))
        if path:
            self.openWorkspaceRequested.emit(path)


class AttributeTablePanel(QWidget):
    """The attribute table dock: one layer's features, filtered, selection synced with the map."""

    ALL, VISIBLE, SELECTED = range(3)

    def __init__(self, window: MainWindow, model_class):
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
        for i in range(self.layer_combo.count()):
            self.layer_combo.setItemText(i, self.window_.sources[self.layer_combo.itemData(i)].title)
        for model in self._models.values():
            model.set_language(language)

    def model(self, layer: str | None = None):
        """The table model of a layer (made on first use)."""
        layer = layer or self.layer
        model = self._models.get(layer)
        if model is None:
            model = self._model_class(self.window_.session, layer, language=self.window_.language, parent=self)
            model.editRequested.connect(self._edit_requested)
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
        self.apply_filter()

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
        self.window_.change_attributes(layer, fid, {field: value})

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
            for a, b in zip(starts.tolist(), ends.tolist()):
                selection.select(model.index(a, 0), model.index(b, last))
        self._syncing = True
        try:
            self.view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            if rows.size:
                self.view.scrollTo(model.index(int(rows[0]), 0))
        finally:
            self._syncing = False

    def _view_selection_changed(self, *_args) -> None:
        """Rows selected in the table become the map selection of the features the table shows.

        Selected features the table does not show (filtered out) stay selected.
        """
        if self._syncing:
            return
        model = self.model()
        rows = {index.row() for index in self.view.selectionModel().selectedRows()}
        chosen = {model.fid_at(row) for row in rows}
        current = np.fromiter(self.window_.canvas.selection(self.layer), dtype=np.int64)
        hidden = {int(f) for f in current[model.rows_of(current) < 0]} if current.size else set()
        self._syncing = True
        try:
            self.window_.canvas.set_selection(self.layer, hidden | chosen)
        finally:
            self._syncing = False


def saved_language(default: str | None = None) -> str | None:
    """The language chosen in Settings > Language last time (None if never chosen)."""
    value = QSettings().value("language", default)
    return value if value in dict(LANGUAGES) else default
