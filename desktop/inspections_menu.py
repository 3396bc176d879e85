"""Editor extension: inspections and cases.

* The facility's form gets an Inspections tab (``desktop.forms.inspections_page``):
  its inspections listed, a new one added, one opened; accepting the form
  pushes the facility's changes and the inspections' as one undoable command.
* The Cases panel (``desktop.case_list_panel``): open cases filtered by status
  and age, oldest first; double-click zooms to the facility and selects it.
* View > Colour facilities by open cases: the facility layers drawn by their
  number of open cases (none, 1, 2 or more), with the legend to match.

Everything is read through the core (``layers.inspections``) on the window's
edit session, so unsaved edits show too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget

from layers.inspections import CLOSED, INSPECTIONS, STEPS, facility_layers, session_inspections

from . import paths
from .case_list_panel import CaseListPanel
from .commands import ChangeAttributesCommand, GroupCommand

if TYPE_CHECKING:
    from .forms.inspections_page import InspectionsPage
    from .main_window import MainWindow

__all__ = ["install", "InspectionsMenu", "attach_page", "push_form", "CASE_COLOURS"]

CASE_COLOURS = {"0": "#bdbdbd", "1": "#fb8c00", "2+": "#d32f2f"}
"""Colours of facilities by open cases: none, one, two or more."""


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("InspectionsMenu", text, disambiguation, n)


def attach_page(window: MainWindow, form, layer: str, features, read_only: bool) -> InspectionsPage | None:
    """Give a facility's form its Inspections tab (one saved facility of an inspected layer), or None."""
    if len(features) != 1 or features[0].uuid is None or layer not in facility_layers(window.workspace.definitions):
        return None
    from .forms.inspections_page import InspectionsPage

    page = InspectionsPage(window.session, layer, features[0].fid, window.prompts, language=window.language,
                           read_only=read_only, attachments_folder=paths.attachments_folder(window.workspace.path),
                           photo_strip=lambda fid: window.photos.strip(INSPECTIONS, fid, read_only=read_only),
                           parent=form)
    form.add_page(page, _tr("Inspections (%n)", "", page.tree.topLevelItemCount()))

    def show_followed(values: dict) -> None:  # the facility's fields that follow the new inspection
        for name, value in values.items():
            if name in form.editors:
                form.editor(name).set_field_value(value)

    page.followed.connect(show_followed)
    return page


def push_form(window: MainWindow, page: InspectionsPage, layer: str, fid: int, changes: dict) -> bool:
    """Push the facility's changes and its inspections' as one undoable command; True when pushed."""
    title = window.edits.title(layer)
    text = (_tr("Record inspection of %s %d") if page.added else _tr("Edit inspections of %s %d")) % (title, fid)
    group = GroupCommand(text)
    try:
        if changes:
            group.add(ChangeAttributesCommand(window.edits, layer, fid, changes))
        for command in page.commands(window.edits):
            group.add(command)
    except Exception as e:  # refused by the core: nothing stays made
        group.revert()
        window.prompts.error(_tr("Inspection edit refused"), str(e))
        return False
    window.undo_stack.push(group)
    return True


class InspectionsMenu:
    """The Cases panel and the open-cases colouring of one window."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.panel = CaseListPanel(window.session, window.language)
        self.panel.caseActivated.connect(self.zoom_to_case)
        self.dock = QDockWidget(window)
        self.dock.setObjectName("cases_dock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        window.tabifyDockWidget(window.identify_dock, self.dock)
        window.identify_dock.raise_()
        window.panels_menu.addAction(self.dock.toggleViewAction())
        self.colour_action = QAction(window)
        self.colour_action.setObjectName("colour_by_cases")
        self.colour_action.setCheckable(True)
        self.colour_action.toggled.connect(self.set_colouring)
        window.actions["colour_by_cases"] = self.colour_action
        window.view_menu.insertAction(window.panels_menu.menuAction(), self.colour_action)
        self._stale = False
        window.undo_stack.indexChanged.connect(self.refresh)
        window.undo_stack.cleanChanged.connect(self.refresh)
        self.dock.visibilityChanged.connect(lambda visible: visible and self._stale and self.refresh())
        self.retranslate()

    def retranslate(self) -> None:
        self.dock.setWindowTitle(_tr("Cases"))
        self.panel.retranslate()
        self.colour_action.setText(_tr("Colour facilities by open &cases"))
        self.colour_action.setToolTip(_tr("Draw the facilities by their open cases: none, one, two or more"))
        if self.colour_action.isChecked():
            self.set_colouring(True)

    def refresh(self, *_args) -> None:
        """Read the cases again after an edit, undo, save or update (the panel only while it is shown)."""
        if self.colour_action.isChecked():
            self.set_colouring(True)
        if self.dock.isVisible():
            self.panel.refresh()
            self._stale = False
        else:
            self._stale = True

    def after_reset(self) -> None:
        """The workspace changed under the window (save, discard, Receive update, a restore point)."""
        self.refresh()

    def zoom_to_case(self, layer: str, fid: int, inspection: str) -> None:
        """Show and select the facility of a case (its inspection's uuid in the status bar)."""
        window = self.window
        if fid < 0 or layer not in window.sources:
            window.statusBar().showMessage(_tr("The facility of inspection %s is not in this workspace") % inspection,
                                           8000)
            return
        window.zoom_to_features({layer: [fid]})
        window.set_selection(layer, {fid})

    def open_cases(self) -> dict[str, dict[int, int]]:
        """Per facility layer: fid -> number of open cases (as the session shows them)."""
        counts: dict[str, dict[int, int]] = {}
        if INSPECTIONS not in self.window.workspace.definitions:
            return counts
        for row in session_inspections(self.window.session, statuses=[s.value for s in STEPS if s.value != CLOSED]):
            if row.facility_fid is not None:
                by_fid = counts.setdefault(row.layer, {})
                by_fid[int(row.facility_fid)] = by_fid.get(int(row.facility_fid), 0) + 1
        return counts

    def set_colouring(self, on: bool) -> None:
        """Draw the inspected facility layers by their open cases (on), or by their own style (off)."""
        window = self.window
        counts = self.open_cases() if on else {}
        for layer in facility_layers(window.workspace.definitions):
            source = window.sources.get(layer)
            if source is None:
                continue
            if not on:
                source.set_colouring(None)
                continue
            style = dict(source.definition.style)
            style.update(field="open_cases", default_color=CASE_COLOURS["0"], classes=[
                {"value": "1", "color": CASE_COLOURS["1"],
                 "label": {"zh_CN": _tr("1 open case"), "en": _tr("1 open case")}},
                {"value": "2+", "color": CASE_COLOURS["2+"],
                 "label": {"zh_CN": _tr("2 or more open cases"), "en": _tr("2 or more open cases")}}])
            source.set_colouring(style, _categories(counts.get(layer, {})))
        window.layer_panel.sync(rebuild=True)
        window.canvas.refresh()


def _categories(counts: dict[int, int]):
    """The class of each fid by its open cases ("1", "2+", or None for none), vectorised over a snapshot."""
    fids = np.array(sorted(counts), dtype=np.int64)
    classes = np.array(["1" if counts[int(f)] == 1 else "2+" for f in fids], dtype=object)

    def categories(asked: np.ndarray) -> np.ndarray:
        out = np.full(asked.shape[0], None, dtype=object)
        if fids.size and asked.size:
            where = np.searchsorted(fids, asked)
            where = np.clip(where, 0, fids.size - 1)
            hit = fids[where] == asked
            out[hit] = classes[where[hit]]
        return out

    return categories


def install(window: MainWindow) -> InspectionsMenu | None:
    """Add the Cases panel and the open-cases colouring to a window (none for a workspace without inspections)."""
    if INSPECTIONS not in window.workspace.definitions:
        return None
    return InspectionsMenu(window)
