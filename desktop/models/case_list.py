"""The case list model: the open cases of the edit session (``session_inspections``), oldest first."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, Qt

from layers.inspections import CLOSED, INSPECTIONS, STEPS, session_inspections

__all__ = ["CaseListModel", "RowRole", "AGE_COLUMN", "COLUMNS", "age_text"]

#: The InspectionRow of a row, in every column.
RowRole = Qt.ItemDataRole.UserRole + 1
AGE_COLUMN = 0
COLUMNS = ("age", "case_status", "facility", "condition", "defect", "inspector", "inspected_at")
_ROOT = QModelIndex()


def _tr(text: str) -> str:
    return QCoreApplication.translate("CaseListModel", text)


def age_text(age) -> str:
    """An age as "3 d 4 h", "5 h" or "12 min" (the interface's words)."""
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return _tr("%1 d %2 h").replace("%1", str(days)).replace("%2", str(hours))
    if hours:
        return _tr("%1 h").replace("%1", str(hours))
    return _tr("%1 min").replace("%1", str(minutes))


class CaseListModel(QAbstractTableModel):
    """The cases of a workspace's inspections, filtered by status and age, sorted by age (oldest first).

    Parameters
    ----------
    session : layers.workspace.editing.EditSession
        Read with its pending edits applied.
    language : str
        Language of layer titles and code labels.

    Notes
    -----
    ``set_filter(statuses, older_than)`` chooses the cases (stored case
    statuses; ``older_than`` a timedelta or None); ``refresh()`` reads them
    again (after an edit, a save, an update).
    """

    def __init__(self, session, language: str = "zh_CN", parent=None):
        super().__init__(parent)
        self.session = session
        self.language = language
        self.statuses: tuple[str, ...] = tuple(s.value for s in STEPS if s.value != CLOSED)
        self.older_than = None
        self.rows: list = []
        self.refresh()

    def set_filter(self, statuses, older_than=None) -> None:
        """Show the cases at these steps (stored values), inspected at least ``older_than`` ago."""
        self.statuses = tuple(statuses)
        self.older_than = older_than
        self.refresh()

    def set_language(self, language: str) -> None:
        self.language = language
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(COLUMNS) - 1)
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1))

    def refresh(self) -> None:
        """Read the cases again through the session."""
        self.beginResetModel()
        rows = session_inspections(self.session, statuses=self.statuses, older_than=self.older_than)
        self.rows = sorted(rows, key=lambda r: r.age, reverse=True)
        self.endResetModel()

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        titles = {"age": self.tr("Age"), "case_status": self.tr("Case"), "facility": self.tr("Facility"),
                  "condition": self.tr("Condition"), "defect": self.tr("Defect"), "inspector": self.tr("Inspector"),
                  "inspected_at": self.tr("Inspected (UTC)")}
        return titles[COLUMNS[section]]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == RowRole:
            return row
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and column == "facility":
            return f"{row.layer} {row.facility_uuid}"
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        workspace = self.session.workspace
        definition = workspace.layer(INSPECTIONS)
        if column == "age":
            return age_text(row.age)
        if column == "facility":
            title = workspace.layer(row.layer).title(self.language) if row.layer in workspace.definitions else row.layer
            name = row.facility_label if row.facility_fid is not None else self.tr("(deleted)")
            return f"{title} {name if name is not None else ''}".strip()
        if column == "inspected_at":
            return str(row.values["inspected_at"])[:16].replace("T", " ")
        value = row.values.get(column)
        return None if value is None else str(definition.field(column).code_label(value, self.language))
