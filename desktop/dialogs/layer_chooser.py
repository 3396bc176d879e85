"""The layers of a master to check out: ticked or not, with the features each would bring from the chosen area.

Facility layers are ticked by the user (all to start with). The layers that
come with them are not: the reference polygons they take their zone and grid
cell from, and child layers (inspections), whose records go with their
facilities. Which come along is the core's rule (``checkout_layers``); the
counts are the core's too (``checkout_counts``), shown as they arrive.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from layers.sync.checkout import checkout_layers

__all__ = ["LayerChooser"]

_NAME = Qt.ItemDataRole.UserRole
LAYER, FEATURES = 0, 1


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("LayerChooser", text, disambiguation, n)


class LayerChooser(QTreeWidget):
    """The master's layers with a tick each (facility layers) and the features in the area.

    Signals
    -------
    changed()
        The user ticked or unticked a layer.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layers")
        self.setRootIsDecorated(False)
        self.setColumnCount(2)
        self.setHeaderLabels([_tr("Layer"), _tr("Features")])
        self.header().setSectionResizeMode(LAYER, QHeaderView.ResizeMode.Stretch)
        self.header().setSectionResizeMode(FEATURES, QHeaderView.ResizeMode.ResizeToContents)
        self.info = None
        self.counts = None
        self._filling = False
        self.itemChanged.connect(self._item_changed)

    # -- the layers ---------------------------------------------------------------------------

    def set_master(self, info, language: str) -> None:
        """List *info*'s layers (every facility layer ticked); no counts yet."""
        self.info, self.counts = info, None
        self._filling = True
        try:
            self.clear()
            for name in info.layers:
                definition = info.definitions[name]
                item = QTreeWidgetItem([definition.title(language), ""])
                item.setData(LAYER, _NAME, name)
                item.setTextAlignment(FEATURES, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if self.follows(name):  # greyed: its tick follows the others', the user cannot change it
                    item.setFlags(Qt.ItemFlag.NoItemFlags)
                    item.setToolTip(LAYER, self._follows_tip(name))
                else:
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setToolTip(LAYER, name)
                item.setCheckState(LAYER, Qt.CheckState.Checked)
                self.addTopLevelItem(item)
        finally:
            self._filling = False
        self._update()

    def clear_master(self) -> None:
        self.info, self.counts = None, None
        self.clear()

    def follows(self, name: str) -> bool:
        """Whether a layer comes with others rather than being ticked: reference polygons, child layers."""
        definition = self.info.definitions[name]
        return definition.reference or definition.child_of is not None

    def _follows_tip(self, name: str) -> str:
        if self.info.definitions[name].child_of is not None:
            return _tr("Goes with its facilities: the records of the features checked out")
        return _tr("Comes with the layers that take their zone or grid cell from it")

    def item(self, name: str) -> QTreeWidgetItem:
        """The row of a layer, by table name."""
        for row in range(self.topLevelItemCount()):
            item = self.topLevelItem(row)
            if item.data(LAYER, _NAME) == name:
                return item
        raise KeyError(name)

    def names(self) -> list[str]:
        return [self.topLevelItem(row).data(LAYER, _NAME) for row in range(self.topLevelItemCount())]

    def set_ticked(self, name: str, ticked: bool) -> None:
        """Tick or untick a facility layer (as the user does)."""
        item = self.item(name)
        if not item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            raise ValueError(f"{name} comes with other layers: it is not ticked by itself")
        item.setCheckState(LAYER, Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def ticked(self) -> list[str]:
        """The facility layers ticked."""
        return [name for name in self.names() if not self.follows(name)
                and self.item(name).checkState(LAYER) == Qt.CheckState.Checked]

    def chosen(self) -> list[str] | None:
        """The layers to hand to the checkout: None when every facility layer is ticked (all of the master)."""
        if self.info is None:
            return None
        ticked = self.ticked()
        return None if len(ticked) == len([n for n in self.names() if not self.follows(n)]) else ticked

    def taken(self) -> list[str]:
        """Every layer the checkout takes with the ticked ones (what comes along included)."""
        if self.info is None:
            return []
        ticked = self.ticked()
        return checkout_layers(self.info, self.chosen()) if ticked else []

    def _item_changed(self, _item: QTreeWidgetItem, column: int) -> None:
        if self._filling or column != LAYER:
            return
        self._update()
        self.changed.emit()

    # -- the counts -------------------------------------------------------------------------------

    def set_counts(self, counts) -> None:
        """Show a ``CheckoutCounts`` (None: being counted)."""
        self.counts = counts
        self._update()

    def count_text(self, name: str) -> str:
        return self.item(name).text(FEATURES)

    def _update(self) -> None:
        """The ticks of the layers that come along, and the counts of what is taken."""
        if self.info is None:
            return
        taken = set(self.taken())
        ticked = self.ticked()
        self._filling = True
        try:
            for name in self.names():
                item = self.item(name)
                if self.follows(name):
                    item.setCheckState(LAYER, Qt.CheckState.Checked if name in taken else Qt.CheckState.Unchecked)
                if self.counts is None:
                    text = "…"
                elif name not in taken:
                    text = "–"
                elif name in self.counts.children:
                    text = f"{self.counts.count(name, ticked):,}"
                else:
                    text = f"{self.counts.count(name):,}"
                item.setText(FEATURES, text)
        finally:
            self._filling = False
