"""The editor's main window: the map, the layer panel, the attribute table and the edit tools.

Assembled from actions (menus and the toolbar share them). The window never
edits features itself: every edit is a command (``desktop.commands``) pushed
on one ``QUndoStack`` over one ``EditSession``; Save writes the session in one
tracked transaction. Every question to the user goes through ``prompts``
(``desktop.dialogs.Prompts``), which tests replace with scripted answers.
Identify, the feature form, the map's context menu and the edits are the
``WindowEditing`` mixin (``desktop.window_editing``).
"""

from __future__ import annotations

import numpy as np
import pyproj
from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QUndoStack
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMenu, QUndoView, QWidget

from layers.log import logger
from layers.workspace.editing import EditSession
from layers.workspace.numbering import pending_codes

from .attribute_table_panel import AttributeTablePanel
from .canvas import AddPointTool, IdentifyTool, MapCanvas, MovePointTool, PanTool, SelectTool
from .commands import EditTarget
from .dialogs import Prompts, SelectByExpressionDialog, SelectionMode, UnsavedAnswer, compile_expression
from .identify_panel import IdentifyPanel
from .layer_panel import LayerPanel
from .session_memory import SessionMemory
from .window_actions import (
    LANGUAGES,
    SCALES,
    build_actions,
    build_menus,
    build_status_bar,
    load_icon,
    retranslate_actions,
)
from .window_editing import WindowEditing
from .window_photos import WindowPhotos
from .workspace_source import ReaderPool, sources_for_session

__all__ = ["MainWindow", "AttributeTablePanel", "TOOLS", "LANGUAGES", "SCALES", "saved_language"]

_log = logger(__name__)

TOOLS = ("pan", "identify", "select", "add", "move")
"""Names of the map tools, as :meth:`MainWindow.set_tool` takes them."""


class MainWindow(WindowEditing, QMainWindow):
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
        _log.info("opened workspace %s (%s)", workspace.path, workspace.crs)
        self.undo_stack = QUndoStack(self)
        self.edits = EditTarget(self.session, self)
        self.photos = WindowPhotos(self)
        self.readers = ReaderPool(workspace)
        self.sources = {s.name: s for s in sources_for_session(self.session, self.readers, language)}
        self.shown_definitions = dict(workspace.definitions)  # what the views show (desktop.window_definitions)
        self._to_wgs84 = pyproj.Transformer.from_crs(workspace.crs, "EPSG:4326", always_xy=True)
        self._closed = False
        self.setWindowIcon(load_icon("tongcheng"))

        self.canvas = MapCanvas(self)
        self.canvas.set_layers(list(self.sources.values()))
        self.setCentralWidget(self.canvas)
        self.layer_panel = LayerPanel(self.canvas, language)
        self.layer_dock = self._dock("layers", self.layer_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.identify_tree = IdentifyPanel()
        self.identify_tree.photoActivated.connect(self.view_identified_photo)
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
        self.identify_tool.featureActivated.connect(lambda layer, fid: self.edit_attributes(layer, [fid]))
        self.select_tool.featureActivated.connect(lambda layer, fid: self.edit_attributes(layer, [fid]))
        self.canvas.activateRequested.connect(self.edit_selected)
        self.canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.canvas.customContextMenuRequested.connect(self.show_map_context_menu)
        self.context_menu: QMenu | None = None
        self.add_tool.pointAdded.connect(self.add_point_at)

        self.actions: dict[str, QAction] = {}
        build_actions(self)
        build_menus(self)
        build_status_bar(self)

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
        self._show_selection_count()
        first_point_layer = next((s.name for s in self.sources.values() if s.geometry_type == "POINT"), None)
        if first_point_layer:
            self.layer_panel.set_current_layer(first_point_layer)
        self.set_tool("pan")
        self._clean_changed(True)
        self.fit_to_screen()
        self.memory = SessionMemory(self)
        self.memory.restore_layout()
        QTimer.singleShot(0, self.show_first_view)

    # -- building ---------------------------------------------------------------------

    def fit_to_screen(self, width: int = 1280, height: int = 800) -> None:
        """Take ``width`` x ``height`` or, on a smaller screen (1366x768, or at 200% scaling), what it has."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(width, height)
            return
        available = screen.availableGeometry()
        # the window manager's frame is not known before the window is shown: leave room for a usual one
        border, title_bar = 8, 32
        self.resize(min(width, available.width() - 2 * border),
                    min(height, available.height() - title_bar - border))
        self.move(available.left() + max(0, (available.width() - self.width()) // 2 - border),
                  available.top() + max(0, (available.height() - self.height() - title_bar - border) // 2))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_status_bar()

    def _fit_status_bar(self) -> None:
        """On a narrow window leave out the WGS84, then the workspace CRS coordinates, rather than cut texts."""
        labels = getattr(self, "wgs84_label", None), getattr(self, "coordinates_label", None)
        if None in labels:
            return
        status = self.statusBar()
        widgets = [w for w in status.findChildren(QWidget) if w.parent() is status and not w.isWindow()]
        spacing = 12
        needed = sum(max(w.minimumWidth(), w.minimumSizeHint().width()) + spacing for w in widgets
                     if w not in labels and w.isVisibleTo(self))
        room = self.width() - needed - 80  # the size grip and a little space for passing messages
        for label in reversed(labels):  # the coordinates in the workspace CRS are the last to go
            width = max(label.minimumWidth(), label.minimumSizeHint().width()) + spacing
            label.setVisible(room >= width)
            if room >= width:
                room -= width

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

    def retranslate_ui(self) -> None:
        """Set every text of the window in the current language (also on LanguageChange)."""
        for extension in getattr(self, "extensions", ()):
            extension.retranslate()
        retranslate_actions(self)
        self.toolbar.setWindowTitle(self.tr("Tools"))
        self.layer_dock.setWindowTitle(self.tr("Layers"))
        self.identify_dock.setWindowTitle(self.tr("Identify"))
        self.history_dock.setWindowTitle(self.tr("History"))
        self.undo_view.setEmptyLabel(self.tr("<last save>"))
        self.identify_tree.retranslate()
        if self.table_dock is not None:
            self.table_dock.setWindowTitle(self.tr("Attribute table"))
            self.table.retranslate()
        self.scale_label.setText(self.tr("Scale"))
        if hasattr(self, "selection_label"):
            self._show_selection_count()
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
        photos_added, photos_deleted = self.photos.edits.pending_count()
        if added or changed or deleted or photos_added or photos_deleted:
            text = self.tr("Unsaved: %d added, %d changed, %d deleted") % (added, changed, deleted)
            if photos_added or photos_deleted:
                text += self.tr("; photos: %d added, %d deleted") % (photos_added, photos_deleted)
            self.edits_label.setText(text)
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
        """Whether a layer may be edited now (not locked, not a reference layer); tells the user why not."""
        if self.workspace.layer(layer).reference:
            if tell:
                self.statusBar().showMessage(
                    self.tr("%s is a reference layer: read-only in the editor") % self.sources[layer].title, 6000)
            return False
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

    def show_first_view(self) -> None:
        """The view of the last session on this workspace (its centre and scale), or every feature."""
        view = self.memory.view()
        if view is None:
            self.zoom_full()
        else:
            self.canvas.set_map_units_per_pixel(view[2])
            self.canvas.set_center(view[0], view[1])

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
        self.zoom_to_features({name: self.canvas.selection(name) for name in self.sources})

    def zoom_to_features(self, chosen: dict) -> None:
        """Show these features ({layer: fids}), a little margin around a single point."""
        boxes = []
        for name, fids in chosen.items():
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
        self._show_selection_count()  # the permanent count; no passing message repeating it
        if self.table is not None:
            self.table.map_selection_changed(layer)

    def selected_count(self) -> int:
        """How many features are selected, all layers together (the one selection of map and table)."""
        return sum(len(self.canvas.selection(name)) for name in self.sources)

    def _show_selection_count(self) -> int:
        count = self.selected_count()
        self.selection_label.setText(self.tr("%n feature(s) selected", "", count))
        return count

    def _forget_missing(self, layer: str, fids) -> None:
        """Unselect features that no longer exist (deleted, or an add undone): the selection stays the truth."""
        selected = self.canvas.selection(layer)
        concerned = [int(f) for f in fids if int(f) in selected]
        if not concerned:
            return
        existing = {f.fid for f in self.session.features_by_fid(layer, concerned)}
        missing = set(concerned) - existing
        if missing:
            self.canvas.set_selection(layer, selected - missing)

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

    # -- save, discard, close ----------------------------------------------------------------

    def save(self) -> bool:
        """Write every pending edit in one transaction; False (edits kept) on failure."""
        if not self.session.is_dirty:
            self.undo_stack.setClean()
            return True
        summary = self._pending_summary()
        waiting = sum(pending_codes(self.workspace).values())
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
        _log.info("saved edits to %s: %s", self.workspace.path, summary)
        waiting = sum(pending_codes(self.workspace).values()) - waiting
        if waiting > 0:  # the laptop's block of component codes is used up
            self.statusBar().showMessage(self.tr(
                "Edits saved; %n new feature(s) wait for a component code: this workspace's block of codes is "
                "used up, the office gives them codes when it applies the changes", "", waiting), 15000)
        else:
            self.statusBar().showMessage(self.tr("Edits saved"), 4000)
        return True

    def discard(self, ask: bool = True) -> bool:
        """Drop every pending edit and return to the last save (asks first)."""
        if not self.session.is_dirty and self.undo_stack.isClean():
            return True
        if ask and not self.prompts.confirm_discard(self.undo_stack.index() or 1):
            return False
        _log.info("discarded edits in %s: %s", self.workspace.path, self._pending_summary())
        self.session.discard()
        for layer in self.sources:
            selected = self.canvas.selection(layer)
            if any(fid < 0 for fid in selected):
                self.canvas.set_selection(layer, {fid for fid in selected if fid >= 0})
        self.undo_stack.clear()
        self._after_reset()
        return True

    def _pending_summary(self) -> str:
        """The pending edits per layer, for the log (``toilets +1 ~2 -0``)."""
        counts = self.session.pending_counts()
        return ", ".join(f"{name} +{c['added']} ~{c['changed']} -{c['deleted']}" for name, c in counts.items()
                         if any(c.values())) or "none"

    def _after_reset(self) -> None:
        for source in self.sources.values():
            source.invalidate()
        self.canvas.refresh()
        self.refresh_counts()
        self._update_edit_state()
        if self.table is not None:
            self.table.reset()
        if getattr(self, "identified", None):
            self.identify_tree.forget()
            self.identified = None
        for extension in getattr(self, "extensions", ()):  # e.g. the Cases panel reads its cases again
            if hasattr(extension, "after_reset"):
                extension.after_reset()

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
        try:
            self.memory.save()
        except Exception:  # remembering the session must never keep the window open
            _log.exception("could not remember the session of %s", self.workspace.path)
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


def saved_language(default: str | None = None) -> str | None:
    """The language chosen in Settings > Language last time (None if never chosen)."""
    value = QSettings().value("language", default)
    return value if value in dict(LANGUAGES) else default
