"""The Inspections tab of a facility's form: its inspections (list), a new one (add), one opened and edited (open).

Nothing is written while the form is open: the new inspections and the
changes to existing ones wait in the page until the facility's form is
accepted, then the window pushes them with the facility's own changes as one
undoable command (:meth:`InspectionsPage.commands`). The core plans each new
inspection (``layers.inspections.plan_inspection``): when it is the
facility's latest, the facility's fields that follow it are set in the form,
and the page says so.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from layers.errors import TongchengError
from layers.inspections import INSPECTIONS, case_changes, for_facility, plan_inspection, session_inspections

from ..commands import AddFeatureCommand, ChangeAttributesCommand

__all__ = ["InspectionsPage", "COLUMNS"]

COLUMNS = ("inspected_at", "condition", "defect", "case_status", "inspector", "photos")


class InspectionsPage(QWidget):
    """The inspections of one facility, and the ones added or changed in its open form.

    Parameters
    ----------
    session : layers.workspace.editing.EditSession
    layer : str
        The facility's layer.
    fid : int
        The facility's fid (saved: it has a uuid).
    prompts : desktop.dialogs.Prompts
        Shows the form of an inspection (``inspection_form``) and errors.
    language : str
    read_only : bool
        Only list and open (a locked layer's form).
    attachments_folder : path-like
        For the inspection's form (its fields have no photo; kept for the form's sake).
    photo_strip : callable(fid) -> PhotoStrip, optional
        The photos of an inspection the session holds, for its form (added,
        viewed and deleted as the facility's are: undoable commands at once).

    Signals
    -------
    followed(dict)
        The facility values a new inspection implies (it is the latest): the
        facility's form shows them.
    """

    followed = Signal(dict)

    def __init__(self, session, layer: str, fid: int, prompts, *, language: str = "zh_CN", read_only: bool = False,
                 attachments_folder=None, photo_strip=None, parent=None):
        super().__init__(parent)
        self.setObjectName("inspections_page")
        self.session = session
        self.layer = layer
        self.fid = fid
        self.prompts = prompts
        self.language = language
        self.read_only = read_only
        self.attachments_folder = attachments_folder
        self.photo_strip = photo_strip
        self.uuid = session.feature(layer, fid).uuid
        self.definition = for_facility(session.workspace.layer(INSPECTIONS), layer)
        self.added: list = []  # InspectionPlan of each new inspection, in the order added
        self.changed: dict[int, dict] = {}  # stored inspection fid -> its changed values
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("inspections_list")
        self.tree.setRootIsDecorated(False)
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.itemDoubleClicked.connect(lambda item, _column: self.open_item(item))
        self.add_button = QPushButton(self)
        self.add_button.setObjectName("add_inspection")
        self.add_button.clicked.connect(self.add)
        self.add_button.setEnabled(not read_only)
        self.open_button = QPushButton(self)
        self.open_button.setObjectName("open_inspection")
        self.open_button.clicked.connect(lambda: self.open_item(self.tree.currentItem()))
        self.note = QLabel(self)
        self.note.setObjectName("inspections_note")
        self.note.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.note)
        self.retranslate()
        self.refresh()

    def retranslate(self) -> None:
        self.tree.setHeaderLabels([self.tr("Inspected (UTC)"), self.tr("Condition"), self.tr("Defect"),
                                   self.tr("Case"), self.tr("Inspector"), self.tr("Photos")])
        self.add_button.setText(self.tr("Add inspection…"))
        self.open_button.setText(self.tr("Open…"))

    # -- the list -----------------------------------------------------------------------

    def rows(self) -> list[tuple[object, dict, int]]:
        """(key, values, photos) of each inspection shown, newest first: the key is a stored fid or ``("new", i)``."""
        stored = session_inspections(self.session, layer=self.layer, uuid=self.uuid)
        rows = [(r.fid, {**r.values, **self.changed.get(r.fid, {})}, r.photos) for r in stored]
        rows += [(("new", i), plan.values, 0) for i, plan in enumerate(self.added)]
        rows.sort(key=lambda r: str(r[1]["inspected_at"]), reverse=True)
        return rows

    def refresh(self) -> None:
        self.tree.clear()
        italic = QFont(self.tree.font())
        italic.setItalic(True)
        for key, values, photos in self.rows():
            texts = [str(values["inspected_at"])[:16].replace("T", " ")]
            for name in COLUMNS[1:-1]:
                value = values.get(name)
                texts.append("" if value is None else str(self.definition.field(name).code_label(value, self.language)))
            texts.append(str(photos))
            item = QTreeWidgetItem(texts)
            item.setData(0, Qt.ItemDataRole.UserRole, key)
            if key not in self.changed and not isinstance(key, tuple):
                self.tree.addTopLevelItem(item)
                continue
            for column in range(len(COLUMNS)):  # not saved yet
                item.setFont(column, italic)
            self.tree.addTopLevelItem(item)
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        self.open_button.setEnabled(self.tree.topLevelItemCount() > 0)

    def has_edits(self) -> bool:
        """True when inspections were added or changed in this form."""
        return bool(self.added or self.changed)

    # -- add and open -------------------------------------------------------------------

    def _form(self, values: dict, new: bool, fid: int | None = None):
        from .feature_form import FeatureForm

        strip = self.photo_strip(fid) if self.photo_strip is not None and fid is not None else None
        form = FeatureForm(self.definition, None if new else values, attachments_folder=self.attachments_folder,
                           language=self.language, read_only=self.read_only and not new, photos=strip, parent=self)
        for name, value in values.items():
            if new and name in form.editors:
                form.editors[name].set_field_value(value)
        for name in (self.definition.child_of.layer_field, self.definition.child_of.uuid_field):
            form.editor(name).setEnabled(False)  # the facility is this one
        return form

    def add(self, values: dict | None = None) -> bool:
        """Ask for a new inspection of the facility (its form); True if one was added to the page."""
        start = {"facility_layer": self.layer, "facility_uuid": self.uuid, "inspected_at": dt.datetime.now(dt.UTC),
                 "inspector": self.session.workspace.user, **(values or {})}
        form = self._form(start, new=True)
        try:
            if not self.prompts.inspection_form(form):
                return False
            chosen = form.values()
        finally:
            form.deleteLater()
        try:
            plan = plan_inspection(
                self.session, self.layer, self.fid, condition=chosen["condition"], defect=chosen.get("defect"),
                description=chosen.get("description"), inspected_at=chosen["inspected_at"],
                inspector=chosen.get("inspector"), case_status=chosen.get("case_status"),
                others=[(p.values["inspected_at"], None) for p in self.added])
        except TongchengError as e:
            self.prompts.error(self.tr("Inspection refused"), str(e))
            return False
        typed = {k: v for k, v in chosen.items() if k.endswith("_at") and k != "inspected_at" and v is not None}
        if typed:  # step times typed into the new inspection's form stay as typed
            plan.values = _validated(self.definition, {**plan.values, **typed})
        self.added.append(plan)
        self._tell(plan)
        if plan.implied:
            self.followed.emit(dict(plan.implied))
        self.refresh()
        return True

    def _tell(self, plan) -> None:
        parts = []
        if plan.case_opened:
            parts.append(self.tr("A case is opened: %s.") % self.definition.field("case_status").code_label(
                plan.case_opened, self.language))
        if plan.implied:
            facility = self.session.workspace.layer(self.layer)
            shown = ", ".join(f"{facility.field(k).label(self.language)} {v}" for k, v in plan.implied.items())
            parts.append(self.tr("The facility follows its latest inspection: %s.") % shown)
        elif not plan.latest:
            parts.append(self.tr("The facility has a later inspection: its fields stay as they are."))
        self.note.setText(" ".join(parts))

    def open_item(self, item) -> bool:
        """Show an inspection's form; its changes (a later case step is stamped with its time) wait in the page."""
        if item is None:
            return False
        key = item.data(0, Qt.ItemDataRole.UserRole)
        values = next(v for k, v, _ in self.rows() if k == key)
        form = self._form(dict(values), new=False, fid=None if isinstance(key, tuple) else key)
        try:
            if not self.prompts.inspection_form(form) or self.read_only:
                return False
            changes = form.changes()
        finally:
            form.deleteLater()
        if not changes:
            return False
        try:
            changes = case_changes(self.definition, values, changes)
            if isinstance(key, tuple):
                plan = self.added[key[1]]
                plan.values = _validated(self.definition, {**plan.values, **changes})
            else:
                _validated(self.definition, {**values, **changes})
                self.changed[key] = {**self.changed.get(key, {}), **changes}
        except TongchengError as e:
            self.prompts.error(self.tr("Inspection refused"), str(e))
            return False
        self.refresh()
        return True

    # -- the commands ---------------------------------------------------------------------

    def commands(self, target) -> list:
        """The undoable commands of the page's edits (each makes its edit at once, as every command does)."""
        made = []
        try:
            for plan in self.added:
                made.append(AddFeatureCommand(target, INSPECTIONS, self.definition.editable_values(plan.values),
                                              None))
            for fid, changes in self.changed.items():
                made.append(ChangeAttributesCommand(target, INSPECTIONS, fid, changes))
        except BaseException:
            for command in reversed(made):
                command.revert()
            raise
        return made


def _validated(definition, values: dict) -> dict:
    from layers.schema.definitions import validate_feature

    return validate_feature(definition, definition.editable_values(values))
