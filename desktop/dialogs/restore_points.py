"""File > Restore point…: the list of a workspace's restore points (newest first) and a Restore button."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLocale, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from layers.workspace.restore import KEEP

__all__ = ["RestorePointsDialog", "point_text"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("RestorePointsDialog", text)


def point_text(point) -> str:
    """How a restore point is named to the user: its time and action."""
    return _tr("%s (before %s)") % (point.created.strftime("%Y-%m-%d %H:%M:%S"), point.action)


class RestorePointsDialog(QDialog):
    """The restore points of the open workspace; ``chosen()`` is the one selected when Restore is pressed.

    Parameters
    ----------
    points : list of layers.workspace.restore.RestorePoint
        Newest first.
    folder : Path
        Where they are kept (shown).
    """

    def __init__(self, points, folder, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("restore_points_dialog")
        self.points = list(points)
        self.setWindowTitle(_tr("Restore point"))
        layout = QVBoxLayout(self)
        intro = QLabel(_tr("Restore points are copies of the workspace made before steps that Undo cannot take "
                           "back. Restoring one replaces the workspace with it; the present state is kept as a "
                           "restore point first.\nKept in %s (the newest %d).") % (folder, KEEP))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.tree = QTreeWidget()
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setHeaderLabels([_tr("Made at"), _tr("Before"), _tr("Size")])
        locale = QLocale()
        for point in self.points:
            item = QTreeWidgetItem([point.created.strftime("%Y-%m-%d %H:%M:%S"), point.action,
                                    locale.formattedDataSize(point.size)])
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.tree)
        if not self.points:
            empty = QLabel(_tr("There are no restore points yet."))
            layout.addWidget(empty)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.restore_button = self.buttons.addButton(_tr("&Restore"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.restore_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.tree.itemSelectionChanged.connect(
            lambda: self.restore_button.setEnabled(bool(self.tree.selectedItems())))
        self.tree.itemDoubleClicked.connect(lambda *_: self.accept())
        if self.points:
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self.resize(640, 320)

    def select(self, index: int) -> None:
        """Choose the restore point at ``index`` (0: the newest)."""
        self.tree.setCurrentItem(self.tree.topLevelItem(index))

    def chosen(self):
        """The chosen RestorePoint, or None."""
        item = self.tree.currentItem()
        return None if item is None else self.points[self.tree.indexOfTopLevelItem(item)]
