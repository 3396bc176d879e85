"""Editor extension: File > Import inventory… — an existing inventory into a layer, as one undoable edit.

The dialog (``dialogs/import_inventory.py``) shows the core's reading of the
file, its suggested mapping and its check of every row; this module turns the
accepted plan into one ``GroupCommand`` of the edit buffer: a new feature per
new row, changed values and positions for rows matching a feature by key.
Undo takes the whole import back; Save writes it like any other edit (and it
goes to the office with the next changes). A progress dialog with Cancel
shows while the edits are made; Cancel leaves nothing behind.

Questions go through the window's ``prompts``: ``inventory_dialog(dialog) ->
bool`` when it has it (tests script the dialog), else the dialog is shown.
"""

from __future__ import annotations

import shapely
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QProgressDialog

from layers.errors import TongchengError
from layers.log import logger
from layers.workspace.values import same_value

from .commands import AddFeatureCommand, ChangeAttributesCommand, GroupCommand, MoveFeatureCommand
from .dialogs.import_inventory import ImportInventoryDialog
from .menu_support import layer_title, show_failure

__all__ = ["install", "ImportMenu", "ImportCounts"]

_log = logger(__name__)
# Edits made between two looks at the progress dialog's Cancel.
_STEP = 200


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("ImportMenu", text, disambiguation, n)


class ImportCounts:
    """What an import did to the edit buffer."""

    def __init__(self, layer: str) -> None:
        self.layer = layer
        self.added: list[int] = []
        self.changed: list[int] = []
        self.unchanged = 0
        self.left_out = 0


class ImportMenu(QObject):
    """File > Import inventory… of one main window.

    Signals
    -------
    inventoryImported(object)
        After the import's command was pushed: the ImportCounts.
    """

    inventoryImported = Signal(object)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.action = QAction(window)
        self.action.setObjectName("import_inventory")
        self.action.triggered.connect(lambda _checked=False: self.import_inventory())
        window.actions["import_inventory"] = self.action
        quit_action = window.actions.get("quit")
        window.file_menu.insertAction(quit_action, self.action)
        self.retranslate()

    def retranslate(self) -> None:
        self.action.setText(_tr("Import &inventory…"))
        self.action.setToolTip(_tr("Import an existing inventory (Shapefile, GeoJSON, GeoPackage, KML, CSV, "
                                   "XLSX) into a layer, checked against its rules"))

    def _layers(self) -> list[tuple[str, str]]:
        window = self.window
        return [(name, layer_title(window, name)) for name, d in window.workspace.definitions.items()
                if not d.survey and window.is_editable(name, tell=False)]

    def dialog(self) -> ImportInventoryDialog:
        window = self.window
        dialog = ImportInventoryDialog(window.workspace, self._layers(), window.language,
                                       str(window.workspace.path.parent), window)
        current = window.current_layer()
        if current in dict(self._layers()):
            dialog.set_layer(current)
        return dialog

    def import_inventory(self) -> ImportCounts | None:
        """Show the dialog; on Import, make the plan's edits as one undoable command. The counts, or None."""
        dialog = self.dialog()
        try:
            hook = getattr(self.window.prompts, "inventory_dialog", None)
            accepted = hook(dialog) if hook is not None else bool(dialog.exec())
            plan = dialog.plan if accepted else None
        finally:
            dialog.deleteLater()
        if plan is None:
            return None
        return self.apply(plan)

    def apply(self, plan) -> ImportCounts | None:
        """The plan's rows as one GroupCommand pushed on the undo stack (None if cancelled or refused)."""
        window = self.window
        layer = plan.layer
        counts = ImportCounts(layer)
        counts.left_out = len(plan.invalid_rows)
        command = GroupCommand(_tr("Import %n row(s) of %s into %s", "", len(plan.rows))
                               % (plan.source.name, layer_title(window, layer)))
        progress = QProgressDialog(_tr("Importing %s…") % plan.source.name, _tr("Cancel"), 0, len(plan.rows), window)
        progress.setWindowTitle(_tr("Import inventory"))
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(500)
        try:
            for index, row in enumerate(plan.rows):
                if index % _STEP == 0:
                    progress.setValue(index)
                    QCoreApplication.processEvents()
                    if progress.wasCanceled():
                        command.revert()
                        window.statusBar().showMessage(_tr("Import cancelled: nothing was changed"), 6000)
                        return None
                attributes = {k: v for k, v in row.attributes.items() if k != "uuid"}
                if row.fid is None:
                    add = command.add(AddFeatureCommand(window.edits, layer, attributes, row.geometry,
                                                        uuid=row.attributes.get("uuid")))
                    counts.added.append(add.fid)
                    continue
                current = window.session.feature(layer, row.fid)
                changes = {k: v for k, v in attributes.items() if not same_value(current.attributes.get(k), v)}
                moved = current.geometry is None or not shapely.equals_exact(current.geometry, row.geometry, 1e-6)
                if changes:
                    command.add(ChangeAttributesCommand(window.edits, layer, row.fid, changes))
                if moved:
                    command.add(MoveFeatureCommand(window.edits, layer, row.fid, row.geometry))
                if changes or moved:
                    counts.changed.append(row.fid)
                else:
                    counts.unchanged += 1
        except TongchengError as exc:
            command.revert()
            show_failure(window.prompts, _tr("Import inventory"), exc, _tr("Nothing was changed.\n\n%s") % exc)
            return None
        finally:
            progress.reset()
            progress.deleteLater()
        if command.parts:
            window.undo_stack.push(command)
            window.clear_selection()
            window.set_selection(layer, counts.added + counts.changed)
        _log.info("import %s into %s: %d added, %d changed, %d unchanged, %d rows left out (undoable edits)",
                  plan.source, layer, len(counts.added), len(counts.changed), counts.unchanged, counts.left_out)
        window.statusBar().showMessage(
            _tr("Imported into %s: %d new, %d changed, %d unchanged, %d rows left out (undoable; Save writes them)")
            % (layer_title(window, layer), len(counts.added), len(counts.changed), counts.unchanged,
               counts.left_out), 10000)
        self.inventoryImported.emit(counts)
        return counts


def install(window) -> ImportMenu:
    """Add File > Import inventory… to the main window; returns the ImportMenu (has retranslate())."""
    return ImportMenu(window)
