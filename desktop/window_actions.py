"""The main window's actions, menus, toolbar and status bar: how the window is assembled and labelled.

``build_actions`` makes every action once (named, with icon and shortcut);
``build_menus`` places them in the menus and the toolbar and installs the
extensions' menus (GPS, sync, basemap, help); ``retranslate_actions`` sets
their texts. The strings keep the ``MainWindow`` translation context.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QToolBar

from . import (
    basemap_menu,
    gps_menu,
    help_menu,
    import_menu,
    inspections_menu,
    paths,
    restore_menu,
    server_menu,
    sync_menu,
)

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["LANGUAGES", "SCALES", "build_actions", "build_menus", "build_status_bar", "retranslate_actions",
           "load_icon"]

LANGUAGES = (("zh_CN", "中文"), ("en", "English"))
"""Interface languages offered in Settings > Language (each named in itself)."""

SCALES = (500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 250000)
"""Scales offered in the status bar."""


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


def load_icon(name: str) -> QIcon:
    """The editor's icon ``name`` (an SVG in resources/icons)."""
    return QIcon(str(paths.icon_path(name)))


def _action(window: MainWindow, name: str, icon: str | None = None, slot=None, shortcut=None,
            checkable: bool = False) -> QAction:
    action = QAction(window)
    action.setObjectName(name)
    if icon:
        action.setIcon(load_icon(icon))
    if shortcut is not None:
        shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    action.setCheckable(checkable)
    if slot is not None:
        action.triggered.connect(lambda checked=False, slot=slot: slot())
    window.actions[name] = action
    return action


def build_actions(window: MainWindow) -> None:
    """Make the window's actions (``window.actions``): menus and the toolbar share them."""
    def a(*args, **kwargs) -> QAction:
        return _action(window, *args, **kwargs)

    a("open", "open", window._choose_workspace, QKeySequence.StandardKey.Open)
    a("save", "save", window.save, QKeySequence.StandardKey.Save)
    a("discard", "discard", window.discard)
    a("quit", None, window.close, QKeySequence.StandardKey.Quit)
    undo = window.undo_stack.createUndoAction(window)
    undo.setIcon(load_icon("undo"))
    undo.setShortcuts([QKeySequence.StandardKey.Undo])
    window.actions["undo"] = undo
    redo = window.undo_stack.createRedoAction(window)
    redo.setIcon(load_icon("redo"))
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    window.actions["redo"] = redo
    a("edit_attributes", None, window.edit_selected)
    a("delete", "delete", window.delete_selected, [QKeySequence(QKeySequence.StandardKey.Delete)])
    a("select_expression", "select_expression", window.open_select_by_expression, "Ctrl+E")
    a("clear_selection", "clear_selection", window.clear_selection, "Ctrl+Shift+A")
    a("zoom_full", "zoom_full", window.zoom_full, "Ctrl+Shift+F")
    a("zoom_layer", "zoom_layer", window.zoom_to_layer, "Ctrl+Shift+L")
    a("zoom_selection", "zoom_selection", window.zoom_to_selection, "Ctrl+J")
    labels = a("show_labels", None, None, "Ctrl+Shift+B", checkable=True)
    labels.setChecked(window.canvas.labels_visible())
    labels.toggled.connect(window.canvas.set_labels_visible)
    a("zoom_in", "zoom_in", lambda: window.canvas.zoom_by_factor(2.0), [QKeySequence.StandardKey.ZoomIn, "Ctrl+="])
    a("zoom_out", "zoom_out", lambda: window.canvas.zoom_by_factor(0.5), QKeySequence.StandardKey.ZoomOut)
    group = QActionGroup(window)
    group.setExclusive(True)
    for name, icon, key in (("pan", "pan", "P"), ("identify", "identify", "I"), ("select", "select", "S"),
                            ("add", "add_point", "A"), ("move", "move_point", "M")):
        action = a(f"tool_{name}", icon, lambda name=name: window.set_tool(name), key, checkable=True)
        group.addAction(action)
    window.tool_group = group
    a("photo_settings", None, window.photos.choose_settings)
    language_group = QActionGroup(window)
    for code, native in LANGUAGES:
        action = a(f"language_{code}", None, lambda code=code: window.languageRequested.emit(code), checkable=True)
        action.setText(native)
        action.setChecked(code == window.language)
        language_group.addAction(action)
    window.language_group = language_group


def build_menus(window: MainWindow) -> None:
    """Assemble the menus and the toolbar from the actions, then install the extensions' menus."""
    bar = window.menuBar()
    acts = window.actions
    window.file_menu = bar.addMenu("")
    for name in ("open", None, "save", "discard", None, "quit"):
        window.file_menu.addSeparator() if name is None else window.file_menu.addAction(acts[name])
    window.edit_menu = bar.addMenu("")
    for name in ("undo", "redo", None, "tool_add", "tool_move", "edit_attributes", "delete", None,
                 "tool_select", "select_expression", "clear_selection"):
        window.edit_menu.addSeparator() if name is None else window.edit_menu.addAction(acts[name])
    window.view_menu = bar.addMenu("")
    for name in ("tool_pan", "tool_identify", None, "zoom_in", "zoom_out", "zoom_full", "zoom_layer",
                 "zoom_selection", None, "show_labels", None):
        window.view_menu.addSeparator() if name is None else window.view_menu.addAction(acts[name])
    window.panels_menu = window.view_menu.addMenu("")
    for dock in (window.layer_dock, window.table_dock, window.identify_dock, window.history_dock):
        if dock is not None:
            action = dock.toggleViewAction()
            window.panels_menu.addAction(action)
    if window.table_dock is not None:
        window.table_dock.toggleViewAction().setShortcut(QKeySequence("F6"))
        window.table_dock.toggleViewAction().setIcon(load_icon("table"))
    window.settings_menu = bar.addMenu("")
    window.language_menu = window.settings_menu.addMenu("")
    window.settings_menu.addAction(acts["photo_settings"])
    for code, _native in LANGUAGES:
        window.language_menu.addAction(acts[f"language_{code}"])

    window.toolbar = QToolBar(window)
    window.toolbar.setObjectName("main_toolbar")
    window.addToolBar(window.toolbar)
    for name in ("save", "undo", "redo", None, "tool_pan", "tool_identify", "tool_select", "select_expression",
                 "clear_selection", None, "tool_add", "tool_move", "delete", None, "zoom_in", "zoom_out",
                 "zoom_full", "zoom_layer", "zoom_selection"):
        window.toolbar.addSeparator() if name is None else window.toolbar.addAction(acts[name])
    if window.table_dock is not None:
        window.toolbar.addSeparator()
        window.toolbar.addAction(window.table_dock.toggleViewAction())

    # Extensions add their own menus (GPS import, sync, basemap, help); each returns an
    # object with retranslate(), called from retranslate_ui, or None.
    installed = (gps_menu.install(window), restore_menu.install(window), sync_menu.install(window),
                 basemap_menu.install(window), help_menu.install(window), import_menu.install(window),
                 inspections_menu.install(window), server_menu.install(window))
    window.extensions = [extension for extension in installed if extension is not None]


def build_status_bar(window: MainWindow) -> None:
    """The status bar: unsaved edits, coordinates (workspace CRS and WGS84) and the scale."""
    status = window.statusBar()
    window.coordinates_label = QLabel()
    window.wgs84_label = QLabel()
    window.edits_label = QLabel()
    window.selection_label = QLabel()
    window.selection_label.setObjectName("selection_count")
    window.scale_label = QLabel()
    window.scale_combo = QComboBox()
    window.scale_combo.setEditable(True)
    window.scale_combo.setMinimumContentsLength(10)
    window.scale_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    for n in SCALES:
        window.scale_combo.addItem(f"1:{n:,}", n)
    window.scale_combo.activated.connect(window._scale_chosen)
    window.scale_combo.lineEdit().returnPressed.connect(window._scale_typed)
    metrics = window.fontMetrics()
    window.coordinates_label.setMinimumWidth(metrics.horizontalAdvance("EPSG:4544  000,000,000.00, 0,000,000.00"))
    window.wgs84_label.setMinimumWidth(metrics.horizontalAdvance("WGS84  000.000000°E, 00.000000°N"))
    for widget in (window.selection_label, window.edits_label, window.coordinates_label, window.wgs84_label,
                   window.scale_label, window.scale_combo):
        status.addPermanentWidget(widget)


def retranslate_actions(window: MainWindow) -> None:
    """Set the texts and tooltips of the actions and the titles of the menus."""
    acts = window.actions
    texts = {
        "open": (_tr("&Open workspace…"), None),
        "save": (_tr("&Save edits"), _tr("Write all pending edits to the workspace (Ctrl+S)")),
        "discard": (_tr("&Discard edits"), _tr("Drop all edits since the last save")),
        "quit": (_tr("&Quit"), None),
        "edit_attributes": (_tr("Edit a&ttributes…"),
                            _tr("Open the form of the selected features (Enter on the map, or double-click one)")),
        "delete": (_tr("&Delete selected"), _tr("Delete the selected features (Del)")),
        "select_expression": (_tr("Select by &expression…"),
                              _tr("Select features matching a filter expression (Ctrl+E)")),
        "clear_selection": (_tr("&Clear selection"), _tr("Unselect all features (Ctrl+Shift+A)")),
        "zoom_full": (_tr("Zoom to &full extent"), _tr("Show every feature (Ctrl+Shift+F)")),
        "zoom_layer": (_tr("Zoom to &layer"), _tr("Show all of the current layer (Ctrl+Shift+L)")),
        "zoom_selection": (_tr("Zoom to &selection"), _tr("Show the selected features (Ctrl+J)")),
        "zoom_in": (_tr("Zoom &in"), None),
        "show_labels": (_tr("Show &labels"),
                        _tr("Label the features with their names where the scale leaves room (Ctrl+Shift+B)")),
        "zoom_out": (_tr("Zoom &out"), None),
        "tool_pan": (_tr("&Pan"), _tr("Pan the map by dragging (P)")),
        "tool_identify": (_tr("&Identify"), _tr("Click a feature to see its attributes (I)")),
        "tool_select": (_tr("&Select"), _tr("Select by click or rectangle; Shift adds, Ctrl removes (S)")),
        "tool_add": (_tr("&Add point"), _tr("Click to add a feature to the current layer (A)")),
        "photo_settings": (_tr("&Photo import…"),
                           _tr("Scale large photos down as they are added (longest edge, JPEG quality)")),
        "tool_move": (_tr("&Move point"),
                      _tr("Drag a point of the current layer; snaps to other features (M)")),
    }
    for name, (text, tip) in texts.items():
        acts[name].setText(text)
        acts[name].setToolTip(tip or text.replace("&", "").rstrip("…"))
    acts["undo"].setToolTip(_tr("Undo (Ctrl+Z)"))
    acts["redo"].setToolTip(_tr("Redo (Ctrl+Shift+Z)"))
    window.file_menu.setTitle(_tr("&File"))
    window.edit_menu.setTitle(_tr("&Edit"))
    window.view_menu.setTitle(_tr("&View"))
    window.panels_menu.setTitle(_tr("&Panels"))
    window.settings_menu.setTitle(_tr("&Settings"))
    window.language_menu.setTitle(_tr("&Language"))
