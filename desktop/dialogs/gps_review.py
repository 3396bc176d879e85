"""Tools > GPS > Match waypoints: choose the facility layer and distance, review the pairs, apply.

The matching and the apply are the core's (:mod:`layers.gps.matching`); this
module only shows the pairs (a check box per row), and the window puts the
matched waypoints and facilities on the map (selected, zoomed to).
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

__all__ = ["MatchOptionsDialog", "MatchReviewModel", "MatchReviewDialog", "facility_layers"]

#: The invisible root: the parent of every row (a table has no tree).
_ROOT = QModelIndex()


def _tr(text: str) -> str:
    return QCoreApplication.translate("MatchReviewDialog", text)


def facility_layers(workspace) -> list[str]:
    """The layers waypoints can be matched to: facility (not survey) point layers."""
    return [name for name, d in workspace.definitions.items() if not d.survey and d.geometry_type == "POINT"]


class MatchOptionsDialog(QDialog):
    """Choose the facility layer and the largest waypoint-facility distance."""

    def __init__(self, workspace, language: str = "zh_CN", current_layer: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("gps_match_options")
        self.layer_combo = QComboBox()
        for name in facility_layers(workspace):
            self.layer_combo.addItem(workspace.layer(name).title(language), name)
        if current_layer is not None and self.layer_combo.findData(current_layer) >= 0:
            self.layer_combo.setCurrentIndex(self.layer_combo.findData(current_layer))
        self.distance_spin = QDoubleSpinBox()
        self.distance_spin.setRange(0.5, 1000.0)
        self.distance_spin.setDecimals(1)
        self.distance_spin.setSuffix(" m")
        self.distance_spin.setValue(15.0)
        self.layer_label, self.distance_label = QLabel(), QLabel()
        form = QFormLayout()
        form.addRow(self.layer_label, self.layer_combo)
        form.addRow(self.distance_label, self.distance_spin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self.layer_combo.count() > 0)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setWindowTitle(_tr("Match waypoints to facilities"))
        self.layer_label.setText(_tr("Facility layer:"))
        self.distance_label.setText(_tr("Largest distance:"))

    def set_layer(self, layer: str) -> None:
        self.layer_combo.setCurrentIndex(self.layer_combo.findData(layer))

    def layer(self) -> str:
        return self.layer_combo.currentData()

    def max_distance(self) -> float:
        return self.distance_spin.value()


class MatchReviewModel(QAbstractTableModel):
    """The pairs of a matching, one row per waypoint, each with a check box (column 0).

    Matched rows start checked; unmatched rows start unchecked and are only
    applied (as new facilities) when the user asks for that.
    """

    WAYPOINT, FACILITY, DISTANCE = range(3)
    MatchRole = Qt.ItemDataRole.UserRole + 1

    checkedChanged = Signal()

    def __init__(self, matches, parent: QObject | None = None):
        super().__init__(parent)
        self.matches = list(matches)
        self.checked = [m.facility_uuid is not None for m in self.matches]

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self.matches)

    def columnCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else 3

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        return (_tr("Waypoint"), _tr("Facility"), _tr("Distance (m)"))[section]

    def flags(self, index):
        flags = super().flags(index)
        if index.isValid() and index.column() == self.WAYPOINT:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        m = self.matches[index.row()]
        column = index.column()
        if role == self.MatchRole:
            return m
        if role == Qt.ItemDataRole.CheckStateRole and column == self.WAYPOINT:
            return Qt.CheckState.Checked if self.checked[index.row()] else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.DISTANCE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and m.facility_uuid is None and column != self.WAYPOINT:
            from PySide6.QtGui import QColor

            return QColor("#888888")
        if role == Qt.ItemDataRole.ToolTipRole:
            return m.facility_uuid or _tr("no facility within the distance")
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == self.WAYPOINT:
            return m.waypoint_name or m.waypoint_uuid[:8]
        if column == self.FACILITY:
            if m.facility_uuid is None:
                return _tr("(none: new facility)")
            return m.facility_label or m.facility_uuid[:8]
        return "" if m.distance_m is None else f"{m.distance_m:.1f}"

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):
        if not index.isValid() or role != Qt.ItemDataRole.CheckStateRole or index.column() != self.WAYPOINT:
            return False
        self.set_checked(index.row(), Qt.CheckState(value) == Qt.CheckState.Checked)
        return True

    def set_checked(self, row: int, checked: bool) -> None:
        if self.checked[row] == checked:
            return
        self.checked[row] = checked
        index = self.index(row, self.WAYPOINT)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.checkedChanged.emit()

    def set_all_checked(self, checked: bool, matched_only: bool = False) -> None:
        for row, m in enumerate(self.matches):
            if not matched_only or m.facility_uuid is not None:
                self.set_checked(row, checked)

    def matched(self) -> list:
        return [m for m in self.matches if m.facility_uuid is not None]

    def unmatched(self) -> list:
        return [m for m in self.matches if m.facility_uuid is None]

    def checked_matches(self, include_unmatched: bool) -> list:
        """The rows to apply: the checked matched ones, and the checked unmatched ones if asked."""
        return [m for m, c in zip(self.matches, self.checked, strict=True)
                if c and (m.facility_uuid is not None or include_unmatched)]


class MatchReviewDialog(QDialog):
    """The pairs of waypoints and facilities, each with a check box; Apply applies the checked ones.

    Signals
    -------
    rowActivated(object)
        The Match of the row the user clicked (the window shows that pair).
    """

    rowActivated = Signal(object)

    def __init__(self, matches, layer_title: str, max_distance: float, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("gps_match_review")
        self.setModal(False)
        self.model = MatchReviewModel(matches, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.clicked.connect(lambda index: self.rowActivated.emit(self.model.matches[index.row()]))
        matched = len(self.model.matched())
        self.headline = QLabel(_tr("%d waypoints: %d matched to %s within %s m, %d unmatched") % (
            len(self.model.matches), matched, layer_title, f"{max_distance:g}", len(self.model.matches) - matched))
        self.headline.setWordWrap(True)
        self.create_unmatched = QCheckBox(_tr("Create facilities from the checked unmatched waypoints"))
        self.create_unmatched.setEnabled(bool(self.model.unmatched()))
        self.create_unmatched.toggled.connect(self._create_toggled)
        self.check_all = QPushButton(_tr("Check all"))
        self.check_none = QPushButton(_tr("Check none"))
        self.check_all.clicked.connect(lambda: self.model.set_all_checked(
            True, matched_only=not self.create_unmatched.isChecked()))
        self.check_none.clicked.connect(lambda: self.model.set_all_checked(False))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.clicked.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.model.checkedChanged.connect(self._update_apply)
        row = QHBoxLayout()
        row.addWidget(self.check_all)
        row.addWidget(self.check_none)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.create_unmatched)
        layout.addWidget(self.buttons)
        self.setWindowTitle(_tr("Review waypoint matches"))
        self._update_apply()
        self.resize(560, 520)

    def _create_toggled(self, checked: bool) -> None:
        if checked:
            for row, m in enumerate(self.model.matches):
                if m.facility_uuid is None:
                    self.model.set_checked(row, True)
        self._update_apply()

    def _update_apply(self) -> None:
        self.apply_button.setEnabled(bool(self.selected_matches()))

    def selected_matches(self) -> list:
        """The Match rows Apply will apply."""
        return self.model.checked_matches(self.create_unmatched.isChecked())
