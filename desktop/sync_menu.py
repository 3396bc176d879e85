"""Editor extension: the Sync menu (send changes, receive an update with a conflict review, apply packages).

Sync works on the saved workspace through the core (``layers.sync``), never
on the edit buffer: pending edits are saved or discarded first (the user is
asked). Long work runs in a worker thread behind a busy dialog, on the
window's own workspace: the core owns its one connection, and a session on
the worker waits for any transaction of the window's (and the reverse), so
no second connection ever writes the file the window has open. Afterwards
the layer sources are invalidated and the map and counts refreshed.

Receive update, and per-field choices
-------------------------------------
1. A dry run of ``update_workspace`` gives the per-layer counts and the
   conflicts (layer, uuid, field, base / office / field values, editors, times).
2. The review dialog shows them side by side with a choice per field
   (office or field), each starting at what the chosen policy keeps (the
   core's ``policy_choice``). Where one side deleted the feature the choice
   is the whole feature's.
3. The update runs with one ``Resolution`` per conflict: the core checks them
   against the conflicts of that moment and applies them in the same
   transaction as the update. Field values kept are pending changes against
   the new base, so the next change package sends them to the office. The
   report (written beside the workspace) lists every conflict with the side
   kept and the losing value.

A workspace checked out from a PostGIS server sends and receives directly
while the server answers, and by files when it does not
(``desktop.server_sync``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction

from layers.errors import Cancelled, ServerUnreachable, TongchengError
from layers.log import logger
from layers.postgres.urls import is_postgres
from layers.sync.changes import write_changes
from layers.sync.checkout import checked_out_master_id
from layers.sync.direct import undelivered_packages
from layers.sync.resolutions import Resolution
from layers.sync.store import open_master
from layers.sync.update import update_workspace

from .dialogs.apply_packages import ApplyPackagesDialog
from .dialogs.sync_dialogs import SyncPrompts, UpdateReviewDialog
from .menu_support import layer_title, refresh_after_change, run_busy, settle_unsaved, show_failure
from .restore_menu import before_one_way_step
from .server_sync import OFFLINE, ServerSync
from .window_definitions import change_lines, change_note

log = logger("desktop.sync_menu")

__all__ = ["install", "SyncMenu"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("SyncMenu", text)


def install(window):
    """Add the Sync menu to the main window; returns the :class:`SyncMenu` (with ``retranslate()``)."""
    return SyncMenu(window)


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


class SyncMenu:
    """The Sync menu of one window.

    Attributes
    ----------
    prompts : SyncPrompts
        Who answers the menu's questions (tests replace it).
    actions : dict of str to QAction
        ``send``, ``receive`` and ``apply``.
    last_result : object
        The last ``PackageResult``, ``SyncResult`` or ``BatchResult`` (for tests and the status bar).
    last_report : Path or None
        The last update report written.
    """

    def __init__(self, window):
        self.window = window
        self.prompts = SyncPrompts(window)
        self.last_result = None
        self.last_report = None
        self.server = ServerSync(self)
        self.menu = window.menuBar().addMenu("")
        self.actions = {name: QAction(window) for name in ("send", "receive", "apply")}
        self.actions["send"].triggered.connect(lambda _checked=False: self.send_changes())
        self.actions["receive"].triggered.connect(lambda _checked=False: self.receive_update())
        self.actions["apply"].triggered.connect(lambda _checked=False: self.apply_package())
        self.menu.addAction(self.actions["send"])
        self.menu.addAction(self.actions["receive"])
        self.menu.addSeparator()
        self.menu.addAction(self.actions["apply"])
        self.retranslate()

    def retranslate(self) -> None:
        self.menu.setTitle(_tr("S&ync"))
        texts = {
            "send": (_tr("&Send changes…"),
                     _tr("Write the edits since the last sync as a change package for the office")),
            "receive": (_tr("&Receive update…"), _tr("Bring the office's newer master into this workspace, "
                                                      "keeping the edits not yet sent")),
            "apply": (_tr("&Apply change packages to a master…"),
                      _tr("Office: check change packages from the field against a master (a file or a server), "
                          "review the conflicts, then apply them all in one go")),
        }
        for name, (text, tip) in texts.items():
            self.actions[name].setText(text)
            self.actions[name].setToolTip(tip)
            self.actions[name].setStatusTip(tip)

    # -- shared --------------------------------------------------------------------------

    @property
    def workspace(self):
        return self.window.workspace

    def _checked_out(self) -> bool:
        if checked_out_master_id(self.workspace):
            return True
        self.prompts.error(_tr("Sync"), _tr("%s was not checked out from a master, so it cannot be synced. "
                                            "Check out a workspace from the office's master first.")
                           % self.workspace.path.name)
        return False

    def _settle_unsaved(self) -> bool:
        """Save or discard pending edits (asks); False if the user cancelled or saving failed."""
        return settle_unsaved(self.window, self.prompts.unsaved_before_sync)

    # -- send -------------------------------------------------------------------------------

    def pending_counts(self) -> dict:
        """{layer: {'insert', 'update', 'delete'}} of the facility layers since the last sync."""
        counts = self.workspace.pending_changes()
        return {name: c for name, c in counts.items() if not self.workspace.layer(name).survey}

    def send_changes(self) -> object | None:
        """Write the edits since the last sync as a change package; returns the PackageResult, or None."""
        title = _tr("Send changes")
        if not self._checked_out() or not self._settle_unsaved():
            return None
        server = self.server.master()
        if server is not None:  # online: straight to the server; offline (if the user agrees): by file
            sent = self.server.send(server)
            if sent is not OFFLINE:
                return sent
        if sum(sum(c.values()) for c in self.pending_counts().values()) == 0:
            self.prompts.information(title, _tr("Nothing to send: no edits since the last sync."))
            return None
        ws_path = self.workspace.path
        suggested = str(ws_path.with_name(f"{ws_path.stem}-changes-{_stamp()}.gpkg"))
        out = self.prompts.package_path(suggested)
        if not out:
            return None
        if not out.lower().endswith(".gpkg"):
            out += ".gpkg"

        workspace = self.workspace

        def work():
            return write_changes(workspace, out)

        try:
            result = run_busy(self.window, _tr("Writing the change package…"), work)
        except Exception as e:
            show_failure(self.prompts, title, e)
            return None
        self.last_result = result
        if result.path is None:
            self.prompts.information(title, _tr("Nothing to send: no edits since the last sync."))
            return result
        lines = [_tr("Wrote the change package %s.") % result.path, ""]
        for name, c in result.layers.items():
            if sum(c.values()):
                lines.append(_tr("%s: %d inserted, %d updated, %d deleted")
                             % (layer_title(self.window, name), c["insert"], c["update"], c["delete"]))
        lines += ["", _tr("Give this file to the office. Your next package will hold only later edits.")]
        self.prompts.information(title, "\n".join(lines))
        self.window.statusBar().showMessage(_tr("Change package written: %s") % Path(result.path).name, 8000)
        return result

    # -- receive ---------------------------------------------------------------------------------

    def _feature_labels(self, ws, conflicts) -> dict:
        """{(layer, uuid): how the review names the feature}: its name (the layer's label field), else its
        fid; features of one layer with the same name get their fid too (the uuid is the cell's tooltip)."""
        labels: dict = {}
        for c in conflicts:
            key = (c.layer, c.uuid)
            if key in labels:
                continue
            definition = ws.layer(c.layer)
            label, fid = None, None
            try:
                feature = ws.find(c.layer, c.uuid)
                fid = feature.fid
                label = feature.attributes.get(definition.label_field) if definition.label_field else None
            except TongchengError:
                pass
            if label in (None, "") and definition.label_field:
                same = [d for d in conflicts if (d.layer, d.uuid) == key and d.field == definition.label_field]
                label = same[0].base_value if same else None
            labels[key] = (str(label) if label not in (None, "") else None, fid)
        named: dict = {}
        for (layer, _uuid), (label, _fid) in labels.items():
            named[(layer, label)] = named.get((layer, label), 0) + 1
        texts = {}
        for (layer, uuid), (label, fid) in labels.items():
            number = f"#{fid}" if fid is not None else uuid
            if label is None:
                texts[(layer, uuid)] = number
            elif named[(layer, label)] > 1:
                texts[(layer, uuid)] = f"{label} ({number})"
            else:
                texts[(layer, uuid)] = label
        return texts

    def receive_update(self, policy: str = "office") -> object | None:
        """Bring a newer master into the workspace after a dry run and the conflict review.

        Returns the SyncResult of the update, or None if nothing was done.
        """
        title = _tr("Receive update")
        if not self._checked_out() or not self._settle_unsaved():
            return None
        workspace = self.workspace
        ws_path = workspace.path
        master = self.server.master() or self.prompts.master_path(str(ws_path.parent))
        if not master:
            return None

        def dry_run():
            if is_postgres(master) and undelivered_packages(workspace, master):  # online: what was sent first
                return None
            result = update_workspace(workspace, master, policy=policy, dry_run=True)
            with open_master(master) as store:
                version = store.info.version
            return result, self._feature_labels(workspace, result.conflicts), version

        while True:
            try:
                preview = self.server.run(master, _tr("Comparing with the office's master…"), dry_run)
                break
            except ServerUnreachable as e:  # offline: a master file instead (a copy the office made)
                if not self.server.offer_files(title, e, _tr("Choose a master file…")):
                    return None
                master = self.prompts.master_path(str(ws_path.parent))
                if not master:
                    return None
            except Cancelled:
                return None
            except Exception as e:
                show_failure(self.prompts, title, e)
                return None
        if preview is None:
            self.prompts.information(title, _tr("Changes sent before have not reached the server yet: Send "
                                                "changes delivers them first, then receive the update."))
            return None
        preview, labels, version = preview
        dialog = UpdateReviewDialog(preview, workspace.definitions, labels, self.window.language, policy,
                                    self.window, master_version=version)
        try:
            if not self.prompts.review_update(dialog):
                return None
            chosen_policy, choices = dialog.policy(), dialog.choices()
        finally:
            dialog.deleteLater()
        resolutions = [Resolution(c.layer, c.uuid, c.field, choice)
                       for c, choice in zip(preview.conflicts, choices, strict=True)]
        if not before_one_way_step(self.window, title, _tr(
                "It rebases the workspace on the office's master: the edits not yet sent are kept on top of "
                "the new base, and the conflicts are settled as chosen.")):
            return None
        report = ws_path.with_name(f"{ws_path.stem}-update-{_stamp()}.json")
        log.info("receive update from %s into %s: policy %s, %d conflicts reviewed", master, ws_path,
                 chosen_policy, len(resolutions))

        def work():
            return update_workspace(workspace, master, policy=chosen_policy, resolutions=resolutions, report=report)

        try:
            result = self.server.run(master, _tr("Receiving the update…"), work)
        except Cancelled:
            return None
        except Exception as e:
            show_failure(self.prompts, title, e)
            refresh_after_change(self.window)
            return None
        self.last_result, self.last_report = result, report
        change = refresh_after_change(self.window)  # new definitions and added layers shown at once
        lines = [_tr("The workspace now has master version %d.") % (result.version_after or 0), ""]
        if change:
            lines += [_tr("The office changed layer definitions:"), *change_lines(self.window, change),
                      change_note(change), ""]
        for name, c in result.layers.items():
            lines.append(_tr("%s: %d inserted, %d updated, %d deleted, %d conflicts")
                         % (layer_title(self.window, name), c.inserts, c.updates, c.deletes, c.conflicts))
        if result.conflicts:
            lines += ["", _tr("%d conflicts; your choices kept %d field values. Every value not kept is "
                              "in the report:") % (len(result.conflicts),
                                                   sum(1 for c in result.conflicts if c.resolution == "field")),
                      str(report)]
        else:
            lines += ["", _tr("Report: %s") % report]
        self.prompts.information(title, "\n".join(lines))
        if change:
            self.window.statusBar().showMessage(_tr("Update received. %s") % change_note(change), 15000)
        else:
            self.window.statusBar().showMessage(_tr("Update received"), 8000)
        return result

    # -- apply (office) ----------------------------------------------------------------------------

    def apply_package(self) -> object | None:
        """Office: apply change packages to a master (a file or a server) after a check and a review of the
        conflicts (``dialogs/apply_packages.py``); returns the BatchResult, or None if nothing was applied."""
        title = _tr("Apply change packages")
        dialog = ApplyPackagesDialog(str(self.workspace.path.parent), self.workspace.definitions,
                                     self.window.language, self.window)
        try:
            accepted = self.prompts.apply_packages(dialog)
            batch = dialog.applied if accepted else None
        finally:
            dialog.deleteLater()
        if batch is None:
            return None
        self.last_result = batch
        self.last_report = batch.reports[-1] if batch.reports else None
        lines = [_tr("Master version %d → %d.") % (batch.version_before or 0, batch.version_after or 0), ""]
        for result in batch.results:
            lines.append(Path(result.other).name + ":")
            if result.already_applied:
                lines.append("  " + _tr("already applied; nothing changed."))
            for name, c in result.layers.items():
                if c.inserts or c.updates or c.deletes or c.conflicts:
                    lines.append("  " + _tr("%s: %d inserted, %d updated, %d deleted, %d conflicts")
                                 % (layer_title(self.window, name), c.inserts, c.updates, c.deletes, c.conflicts))
            if result.rejected:
                lines.append("  " + _tr("%d feature(s) refused (the reasons are in the report)") % len(result.rejected))
        if batch.reports:
            lines += ["", _tr("Reports (every value not kept is in them):")] + [str(r) for r in batch.reports]
        self.prompts.information(title, "\n".join(lines))
        self.window.statusBar().showMessage(_tr("Change packages applied: master version %d")
                                            % (batch.version_after or 0), 8000)
        return batch
