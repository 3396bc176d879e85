"""The case list panel: open cases filtered by status and age, oldest first; double-click zooms to the facility."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from layers.inspections import CLOSED, INSPECTIONS, STEPS

from .models.case_list import CaseListModel, RowRole

__all__ = ["CaseListPanel", "OPEN", "EVERY"]

#: Status filter entries besides the steps: every open case, every case.
OPEN = "open"
EVERY = "every"


class CaseListPanel(QWidget):
    """A dock's content: the status and age filters, the table of cases, a count.

    Signals
    -------
    caseActivated(str, int, str)
        A case was double-clicked (or Enter pressed): the facility's layer and
        fid (-1 when the facility is gone) and the inspection's uuid.
    """

    caseActivated = Signal(str, int, str)

    def __init__(self, session, language: str = "zh_CN", parent=None):
        super().__init__(parent)
        self.language = language
        self.model = CaseListModel(session, language, self)
        self.status_combo = QComboBox(self)
        self.status_combo.setObjectName("case_status_filter")
        self.age_spin = QSpinBox(self)
        self.age_spin.setObjectName("case_age_filter")
        self.age_spin.setRange(0, 3650)
        self.refresh_button = QPushButton(self)
        self.refresh_button.setObjectName("case_refresh")
        self.status_label = QLabel(self)
        self.age_label = QLabel(self)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("case_count")
        self.view = QTableView(self)
        self.view.setObjectName("case_table")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.doubleClicked.connect(self._activated)
        self.view.activated.connect(self._activated)
        # Two short rows, so the panel stays narrow beside the map.
        self.status_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.status_combo.setMinimumContentsLength(8)
        self.view.setMinimumSize(120, 48)  # a small screen keeps room for the map
        first, second = QHBoxLayout(), QHBoxLayout()
        first.addWidget(self.status_label)
        first.addWidget(self.status_combo, 1)
        first.addWidget(self.count_label)
        second.addWidget(self.age_label)
        second.addWidget(self.age_spin, 1)
        second.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(first)
        layout.addLayout(second)
        layout.addWidget(self.view, 1)
        self._fill_statuses()
        self.status_combo.currentIndexChanged.connect(self._filter_changed)
        self.age_spin.valueChanged.connect(self._filter_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.retranslate()

    def _fill_statuses(self) -> None:
        current = self.status_combo.currentData() or OPEN
        definition = self.model.session.workspace.definitions.get(INSPECTIONS)
        self.status_combo.blockSignals(True)
        self.status_combo.clear()
        self.status_combo.addItem(self.tr("All open cases"), OPEN)
        for step in STEPS:
            label = definition.field("case_status").code_label(step.value, self.language) if definition else step.value
            self.status_combo.addItem(label, step.value)
        self.status_combo.addItem(self.tr("All cases"), EVERY)
        self.status_combo.setCurrentIndex(max(0, self.status_combo.findData(current)))
        self.status_combo.blockSignals(False)

    def retranslate(self) -> None:
        self.status_label.setText(self.tr("Status"))
        self.age_label.setText(self.tr("Older than"))
        self.age_spin.setSuffix(self.tr(" days"))
        self.age_spin.setSpecialValueText(self.tr("any age"))
        self.refresh_button.setText(self.tr("Refresh"))
        self._fill_statuses()
        self._show_count()

    def set_language(self, language: str) -> None:
        self.language = language
        self.model.set_language(language)
        self._fill_statuses()

    def set_filter(self, status: str = OPEN, older_than_days: int = 0) -> None:
        """Choose the cases shown: ``OPEN``, ``EVERY`` or one step's stored value; at least this many days old."""
        self.status_combo.blockSignals(True)
        self.status_combo.setCurrentIndex(self.status_combo.findData(status))
        self.status_combo.blockSignals(False)
        self.age_spin.blockSignals(True)
        self.age_spin.setValue(older_than_days)
        self.age_spin.blockSignals(False)
        self._filter_changed()

    def _filter_changed(self, *_args) -> None:
        chosen = self.status_combo.currentData() or OPEN
        if chosen == OPEN:
            statuses = [s.value for s in STEPS if s.value != CLOSED]
        elif chosen == EVERY:
            statuses = [s.value for s in STEPS]
        else:
            statuses = [chosen]
        days = self.age_spin.value()
        self.model.set_filter(statuses, dt.timedelta(days=days) if days else None)
        self._show_count()

    def refresh(self) -> None:
        """Read the cases again (the ages move on, edits and saves change them)."""
        self.model.refresh()
        self._show_count()

    def _show_count(self) -> None:
        self.count_label.setText(self.tr("%n case(s)", "", self.model.rowCount()))

    def _activated(self, index) -> None:
        row = self.model.data(index, RowRole)
        if row is not None:
            self.caseActivated.emit(row.layer, -1 if row.facility_fid is None else int(row.facility_fid), row.uuid)

    def activate_row(self, number: int) -> None:
        """Act as if row ``number`` were double-clicked (keyboard users: Enter does the same)."""
        self._activated(self.model.index(number, 0))

