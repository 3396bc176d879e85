"""The conflict review: base / office / field values side by side, with a choice per field.

Each conflict keeps the office's value, the field's, or (where a value can be
typed: not a geometry, not a feature deleted on one side) a value typed in
the field's own editor and checked by the core (``Value…``). The choices go
to the core as resolutions; the review decides nothing itself.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from layers.errors import ValidationError
from layers.schema.definitions import validate_feature
from layers.sync.resolutions import policy_choice

__all__ = ["ConflictTable", "ValueDialog", "default_choice", "DELETE_KINDS", "COLUMNS", "VALUE"]

DELETE_KINDS = ("update/delete", "delete/update")
"""Conflict kinds where one side deleted the feature: the choice is per feature, not per field."""

COLUMNS = ("layer", "feature", "field", "kind", "base", "office", "field_value", "office_edit",
           "field_edit", "keep")
"""The table's columns, in order."""

(LAYER, FEATURE, FIELD, KIND, BASE, OFFICE, FIELD_VALUE, OFFICE_EDIT, FIELD_EDIT, KEEP) = range(len(COLUMNS))

SIDES = ("office", "field")
VALUE = "value"
"""The choice of a typed value (its drop-down entry's data); ``choice()`` gives ``{"value": stored value}``."""


def _tr(text: str) -> str:
    return QCoreApplication.translate("ConflictTable", text)


def default_choice(conflict, policy: str) -> str:
    """The side a policy keeps for a conflict, 'office' or 'field': the core decides (``policy_choice``)."""
    return policy_choice(conflict, policy).value


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


class ConflictTable(QWidget):
    """One row per conflicting field: layer, feature, field, base / office / field values, editors, the choice.

    Parameters
    ----------
    conflicts : list of Conflict
        ``SyncResult.conflicts`` of a dry run.
    definitions : dict
        Layer definitions by name (for titles, field labels and code labels).
    labels : dict, optional
        ``{(layer, uuid): feature label}``; the uuid is shown where missing.
    language : str
        Language of layer titles, field labels and code labels.
    policy : str
        The policy whose choices the table starts with.

    Signals
    -------
    choicesChanged()
    """

    choicesChanged = Signal()

    def __init__(self, conflicts, definitions, labels=None, language: str = "zh_CN", policy: str = "office",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.conflicts = list(conflicts)
        self.combos: list[QComboBox] = []
        self.definitions = definitions
        self.labels = labels or {}
        self.language = language
        self._linking = False
        self.table = QTableWidget(len(self.conflicts), len(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.all_office = QPushButton()
        self.all_field = QPushButton()
        self.all_office.clicked.connect(lambda: self.set_all("office"))
        self.all_field.clicked.connect(lambda: self.set_all("field"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.all_office)
        buttons.addWidget(self.all_field)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.values: dict[int, object] = {}  # row -> the value typed for it (stored form)
        self._sides: dict[int, int] = {}     # row -> the office/field entry chosen before "Value…"
        self.ask_value = ask_value_with_dialog  # (table, row) -> (True, value) or (False, None); tests replace it
        for row, conflict in enumerate(self.conflicts):
            combo = QComboBox()
            combo.addItem("", "office")
            combo.addItem("", "field")
            if self.value_allowed(conflict):
                combo.addItem("", VALUE)
            combo.currentIndexChanged.connect(lambda _i, row=row: self._choice_changed(row))
            combo.activated.connect(lambda index, row=row: self._activated(row, index))
            self.table.setCellWidget(row, KEEP, combo)
            self.combos.append(combo)
        self.retranslate()
        self.set_policy(policy)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.resizeColumnsToContents()
        self.fit_choice_column()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.fit_choice_column()  # the drop-downs know their size once styled

    def fit_choice_column(self) -> None:
        """Make the choice column as wide as its widest drop-down (cell widgets are not measured by Qt)."""
        header = self.table.horizontalHeader()
        widest = max((combo.sizeHint().width() for combo in self.combos), default=0)
        title = header.fontMetrics().horizontalAdvance(self.table.horizontalHeaderItem(KEEP).text()) + 24
        self.table.setColumnWidth(KEEP, max(widest + 8, title, header.sectionSize(KEEP)))

    # -- the values shown -------------------------------------------------------------------

    def _field_label(self, layer: str, name: str) -> str:
        if name == "geom":
            return _tr("Geometry")
        definition = self.definitions.get(layer)
        try:
            return definition.field(name).label(self.language) if definition else name
        except Exception:  # a field the definitions do not know: show its name
            return name

    def _value_text(self, layer: str, name: str, value) -> str:
        if value is None:
            return _tr("(empty)")
        if name != "geom":
            definition = self.definitions.get(layer)
            try:
                field = definition.field(name) if definition else None
            except Exception:
                field = None
            if field is not None and field.codes:
                label = field.code_label(value, self.language)
                return str(label) if label == value else f"{label} ({value})"
        return _short(str(value))

    def _side_text(self, conflict, side: str) -> str:
        kind = conflict.kind
        if (side == "office" and kind == "delete/update") or (side == "field" and kind == "update/delete"):
            return _tr("(deleted)")
        return self._value_text(conflict.layer, conflict.field, getattr(conflict, f"{side}_value"))

    def kind_text(self, kind: str) -> str:
        return {"update/update": _tr("Both changed"),
                "update/delete": _tr("Office changed, field deleted"),
                "delete/update": _tr("Office deleted, field changed")}.get(kind, kind)

    def retranslate(self) -> None:
        """Set every text in the current language."""
        self.table.setHorizontalHeaderLabels([
            _tr("Layer"), _tr("Feature"), _tr("Field"), _tr("Conflict"), _tr("Base"), _tr("Office"),
            _tr("Field value"), _tr("Office edit"), _tr("Field edit"), _tr("Keep")])
        self.all_office.setText(_tr("Keep all office values"))
        self.all_field.setText(_tr("Keep all field values"))
        for row, c in enumerate(self.conflicts):
            layer = c.layer
            definition = self.definitions.get(layer)
            feature = self.labels.get((layer, c.uuid)) or c.uuid
            texts = {
                LAYER: definition.title(self.language) if definition else layer,
                FEATURE: str(feature),
                FIELD: self._field_label(layer, c.field),
                KIND: self.kind_text(c.kind),
                BASE: self._value_text(layer, c.field, c.base_value),
                OFFICE: self._side_text(c, "office"),
                FIELD_VALUE: self._side_text(c, "field"),
                OFFICE_EDIT: " ".join(str(v) for v in (c.office_editor, c.office_time) if v),
                FIELD_EDIT: " ".join(str(v) for v in (c.field_editor, c.field_time) if v),
            }
            for column, text in texts.items():
                item = QTableWidgetItem(text)
                tip = {BASE: "base_value", OFFICE: "office_value", FIELD_VALUE: "field_value"}.get(column)
                item.setToolTip(str(getattr(c, tip)) if tip else f"{c.uuid}" if column == FEATURE else text)
                self.table.setItem(row, column, item)
            combo = self.combos[row]
            deleting = c.kind in DELETE_KINDS
            office_deleted, field_deleted = c.kind == "delete/update", c.kind == "update/delete"
            combo.setItemText(0, _tr("Office (delete)") if deleting and office_deleted else _tr("Office"))
            combo.setItemText(1, _tr("Field (delete)") if deleting and field_deleted else _tr("Field"))
            self._show_value(row)

    # -- the choices --------------------------------------------------------------------------

    def choice(self, row: int):
        """'office', 'field' or ``{"value": value}`` (a typed value, stored form) for conflict ``row``."""
        combo = self.combos[row]
        data = combo.currentData()
        if data == VALUE:  # (while the value is being asked for: the choice before)
            return {"value": self.values[row]} if row in self.values else combo.itemData(self._sides.get(row, 0))
        return data

    def choices(self) -> list:
        """The choice of every conflict, in the order of ``conflicts``."""
        return [self.choice(row) for row in range(len(self.conflicts))]

    def value_allowed(self, conflict) -> bool:
        """Whether a value may be typed for a conflict: a field the definition knows (not the geometry) of a
        feature both sides kept."""
        definition = self.definitions.get(conflict.layer)
        return (conflict.kind not in DELETE_KINDS and conflict.field != "geom" and definition is not None
                and conflict.field in definition.known_names)

    def set_value(self, row: int, value) -> None:
        """Keep a typed *value* for conflict ``row`` (checked by the core: ValidationError if the field refuses
        it; its stored form is kept)."""
        c = self.conflicts[row]
        if not self.value_allowed(c):
            raise ValueError(f"no value can be typed for the conflict of {c.layer} {c.uuid} {c.field}")
        definition = self.definitions[c.layer]
        self.values[row] = validate_feature(definition, {c.field: value}, partial=True)[c.field]
        combo = self.combos[row]
        self._show_value(row)
        combo.setCurrentIndex(combo.findData(VALUE))
        self.choicesChanged.emit()

    def _show_value(self, row: int) -> None:
        combo = self.combos[row]
        index = combo.findData(VALUE)
        if index < 0:
            return
        if row in self.values:
            c = self.conflicts[row]
            combo.setItemText(index, _tr("Value: %s") % self._value_text(c.layer, c.field, self.values[row]))
        else:
            combo.setItemText(index, _tr("Value…"))

    def _activated(self, row: int, index: int) -> None:
        """The user picked an entry: "Value…" asks for the value (keeping the earlier choice if cancelled)."""
        combo = self.combos[row]
        if combo.itemData(index) != VALUE:
            return
        ok, value = self.ask_value(self, row)
        if ok:
            self.values[row] = value
            self._show_value(row)
            self.choicesChanged.emit()
        else:
            combo.setCurrentIndex(self._sides.get(row, 0) if row not in self.values else index)

    def set_choice(self, row: int, side: str) -> None:
        """Keep the ``side`` ('office' or 'field') value of conflict ``row``.

        Where one side deleted the feature the choice is the whole feature's,
        so every row of that feature follows.
        """
        if side not in SIDES:
            raise ValueError(f"side must be 'office' or 'field', not {side!r}")
        self.combos[row].setCurrentIndex(SIDES.index(side))

    def set_all(self, side: str) -> None:
        for row in range(len(self.conflicts)):
            self.set_choice(row, side)

    def set_policy(self, policy: str) -> None:
        """Reset every choice to what ``policy`` would keep."""
        for row, c in enumerate(self.conflicts):
            self.set_choice(row, default_choice(c, policy))

    def _choice_changed(self, row: int) -> None:
        combo = self.combos[row]
        if combo.currentData() in SIDES:
            self._sides[row] = combo.currentIndex()
        if not self._linking:
            c = self.conflicts[row]
            if c.kind in DELETE_KINDS:
                self._linking = True
                try:
                    for other, d in enumerate(self.conflicts):
                        if other != row and d.layer == c.layer and d.uuid == c.uuid \
                                and d.kind in DELETE_KINDS:
                            self.combos[other].setCurrentIndex(self.combos[row].currentIndex())
                finally:
                    self._linking = False
        self.choicesChanged.emit()

    def row_of(self, layer: str, uuid: str, field: str) -> int:
        """The row of a conflict, by layer, feature uuid and field name."""
        for row, c in enumerate(self.conflicts):
            if (c.layer, c.uuid, c.field) == (layer, uuid, field):
                return row
        raise KeyError((layer, uuid, field))

    def text(self, row: int, column: int) -> str:
        """The text shown in a cell (for tests and accessibility)."""
        if column == KEEP:
            return self.combos[row].currentText()
        return self.table.item(row, column).text()


class ValueDialog(QDialog):
    """The value to keep for one conflict, typed in the field's own editor and checked by the core.

    Parameters
    ----------
    definition : LayerDefinition
    conflict : Conflict
    start : object
        The value the editor starts with.
    texts : (feature, office value, field value)
        How the review shows them.
    """

    def __init__(self, definition, conflict, start, texts, language: str = "zh_CN", parent: QWidget | None = None):
        super().__init__(parent)
        from ..forms.feature_form import validation_message
        from ..forms.widgets import create_editor

        self._message = validation_message
        self.setObjectName("conflict_value")
        self.definition, self.conflict, self.language = definition, conflict, language
        field = definition.field(conflict.field)
        self.setWindowTitle(_tr("Value to keep"))
        layout = QVBoxLayout(self)
        feature, office, field_value = texts
        self.note = QLabel(_tr("%s of %s: the office has %s, the field %s. Type the value to keep:")
                           % (field.label(language), feature, office, field_value))
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.editor = create_editor(field, language=language)
        self.editor.setObjectName(f"field_{field.name}")
        self.editor.set_field_value(start)
        layout.addWidget(self.editor)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.value = None
        self.resize(460, self.sizeHint().height())

    def accept(self) -> None:
        name = self.conflict.field
        try:
            self.value = validate_feature(self.definition, {name: self.editor.field_value()}, partial=True)[name]
        except ValidationError as error:
            self.error.setText(self._message(error, self.definition, self.language))
            return
        super().accept()


def ask_value_with_dialog(table: ConflictTable, row: int):
    """Ask for the value of conflict ``row`` with a :class:`ValueDialog`: (True, stored value) or (False, None)."""
    c = table.conflicts[row]
    start = table.values.get(row, c.field_value)
    texts = (table.text(row, FEATURE), table.text(row, OFFICE), table.text(row, FIELD_VALUE))
    dialog = ValueDialog(table.definitions[c.layer], c, start, texts, table.language, table)
    try:
        return (True, dialog.value) if dialog.exec() else (False, None)
    finally:
        dialog.deleteLater()
