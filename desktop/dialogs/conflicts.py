"""The conflict review: base / office / field values side by side, with a choice per field."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from layers.sync.resolutions import policy_choice

__all__ = ["ConflictTable", "default_choice", "DELETE_KINDS", "COLUMNS"]

DELETE_KINDS = ("update/delete", "delete/update")
"""Conflict kinds where one side deleted the feature: the choice is per feature, not per field."""

COLUMNS = ("layer", "feature", "field", "kind", "base", "office", "field_value", "office_edit",
           "field_edit", "keep")
"""The table's columns, in order."""

(LAYER, FEATURE, FIELD, KIND, BASE, OFFICE, FIELD_VALUE, OFFICE_EDIT, FIELD_EDIT, KEEP) = range(len(COLUMNS))

SIDES = ("office", "field")


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
        self.combos: list[QComboBox] = []
        for row in range(len(self.conflicts)):
            combo = QComboBox()
            combo.addItem("", "office")
            combo.addItem("", "field")
            combo.currentIndexChanged.connect(lambda _i, row=row: self._choice_changed(row))
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

    # -- the choices --------------------------------------------------------------------------

    def choice(self, row: int) -> str:
        """'office' or 'field' for conflict ``row``."""
        return self.combos[row].currentData()

    def choices(self) -> list[str]:
        """The choice of every conflict, in the order of ``conflicts``."""
        return [self.choice(row) for row in range(len(self.conflicts))]

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
