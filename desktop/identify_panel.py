"""The Identify panel: every attribute of one feature, with its identifier and audit fields."""

from __future__ import annotations

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

__all__ = ["IdentifyPanel"]


class IdentifyPanel(QTreeWidget):
    """A two-column list (field, value) of the feature last identified.

    Attributes
    ----------
    identified : tuple of (str, int) or None
        The layer and fid shown, or None.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.identified: tuple[str, int] | None = None

    def retranslate(self) -> None:
        self.setHeaderLabels([self.tr("Field"), self.tr("Value")])

    def show_feature(self, definition, feature, fid: int, language: str) -> None:
        """List the attributes of ``feature`` (fid ``fid``, negative if unsaved) of a layer."""
        self.clear()
        title = QTreeWidgetItem([definition.title(language), str(fid) if fid >= 0 else self.tr("new (unsaved)")])
        font = title.font(0)
        font.setBold(True)
        title.setFont(0, font)
        title.setFont(1, font)
        self.addTopLevelItem(title)
        for f in definition.fields:
            value = feature.attributes.get(f.name)
            self.addTopLevelItem(QTreeWidgetItem([f.label(language), self._display(f, value, language)]))
        audit_labels = {
            "created_by": self.tr("Created by"),
            "created_at": self.tr("Created at (UTC)"),
            "modified_by": self.tr("Modified by"),
            "modified_at": self.tr("Modified at (UTC)"),
        }
        if feature.uuid:
            self.addTopLevelItem(QTreeWidgetItem([self.tr("Identifier (uuid)"), feature.uuid]))
        for key, value in feature.audit.items():
            self.addTopLevelItem(QTreeWidgetItem([audit_labels.get(key, key), "" if value is None else str(value)]))
        self.resizeColumnToContents(0)
        self.identified = (definition.name, fid)

    def forget(self) -> None:
        """Show nothing."""
        self.clear()
        self.identified = None

    def _display(self, field, value, language: str) -> str:
        if value is None:
            return ""
        if field.type == "boolean":
            return self.tr("yes") if value else self.tr("no")
        if field.codes:
            return str(field.code_label(value, language))
        return str(value)
