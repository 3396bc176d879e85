"""The Sync menu with a server: send changes to, and receive updates from, a PostGIS master directly.

A workspace checked out from a ``postgresql://`` master (File > Check out
from server…, or ``tongcheng checkout``) records where it came from. Its
Sync > Send changes then applies the change package to the master at once
(``layers.sync.direct.send_to_master``: nothing is written before the
server answered; packages sent before that never arrived go first), and
Sync > Receive update updates from the master itself. The work runs in a
worker thread on the window's own workspace, like every sync.

When the server cannot be reached, one line says so and offers the by-file
way (write a package file; receive from a master file). A refused login asks
for the password, which is kept in memory for the session only
(``desktop.server_access``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QCoreApplication

from layers.errors import Cancelled, LoginRefused, ServerUnreachable
from layers.log import logger
from layers.postgres.urls import is_postgres
from layers.sync.checkout import checkout_info
from layers.sync.direct import checkout_master, send_to_master

from .dialogs.sent_report import SentReportDialog
from .menu_support import layer_title, run_busy, show_failure
from .server_access import remember_password, server_error_line, with_password

if TYPE_CHECKING:
    from .sync_menu import SyncMenu

__all__ = ["ServerSync", "OFFLINE"]

log = logger("desktop.server_sync")
T = TypeVar("T")

# What :meth:`ServerSync.send` returns when the user chose to send by file instead.
OFFLINE = object()


def _tr(text: str) -> str:
    return QCoreApplication.translate("ServerSync", text)


class ServerSync:
    """Direct send and receive for one window's Sync menu."""

    def __init__(self, menu: SyncMenu) -> None:
        self.menu = menu

    @property
    def window(self):
        return self.menu.window

    @property
    def prompts(self):
        return self.menu.prompts

    def master(self) -> str | None:
        """The server the workspace was checked out from (a ``postgresql://`` string), or None."""
        location = checkout_master(self.window.workspace)
        return location if isinstance(location, str) else None

    def run(self, master: object, label: str, work: Callable[[], T]) -> T:
        """``work()`` behind a busy dialog; on a server, logged in with the session's password (a refused
        login asks for it and tries again). Cancelled if the user gave no password."""
        if not is_postgres(master):
            return run_busy(self.window, label, work)
        url = str(master)
        while True:
            try:
                return run_busy(self.window, label, with_password(url, work))
            except LoginRefused as exc:
                password = self.prompts.server_password(url, server_error_line(exc))
                if password is None:
                    raise Cancelled("no password given") from None
                remember_password(url, password)

    def offer_files(self, title: str, error: ServerUnreachable, action: str) -> bool:
        """Say in one line that the server cannot be reached; True if the user goes the by-file way."""
        log.info("%s: server unreachable: %s", title, error)
        return self.prompts.offline(title, server_error_line(error), action)

    # -- send ----------------------------------------------------------------------------------

    def send(self, url: str):
        """Send the changes to the server now. The DirectSend, None (nothing done), or OFFLINE (send by file)."""
        title = _tr("Send changes")
        workspace = self.window.workspace
        pending = sum(sum(c.values()) for c in self.menu.pending_counts().values())
        if pending == 0 and not checkout_info(workspace)["sent"]:
            self.prompts.information(title, _tr("Nothing to send: no edits since the last sync."))
            return None
        folder = workspace.path.parent
        try:
            sent = self.run(url, _tr("Sending the changes to the server…"),
                            lambda: send_to_master(workspace, url, report_folder=folder))
        except ServerUnreachable as exc:
            return OFFLINE if self.offer_files(title, exc, _tr("Write a package file…")) else None
        except Cancelled:
            return None
        except Exception as exc:
            show_failure(self.prompts, title, exc, server_error_line(exc))
            return None
        self.menu.last_result = sent
        if sent.nothing_sent:
            self.prompts.information(title, _tr("Nothing to send: no edits since the last sync."))
            return sent
        self._tell(title, url, sent)
        self.window.statusBar().showMessage(_tr("Changes sent to the server (master version %d)")
                                            % (sent.applied[-1].version_after or 0), 8000)
        return sent

    def _tell(self, title: str, url: str, sent) -> None:
        last = sent.applied[-1]
        lines = [_tr("Sent to %s: master version %d → %d.") % (url, sent.applied[0].version_before or 0,
                                                               last.version_after or 0)]
        earlier = len(sent.applied) - (1 if sent.package is not None else 0)
        if earlier:
            lines.append(_tr("%d change package(s) sent before had not arrived; they were applied first.")
                         % earlier)
        lines.append("")
        totals: dict[str, list[int]] = {}
        for result in sent.applied:
            for name, c in result.layers.items():
                t = totals.setdefault(name, [0, 0, 0, 0])
                for i, n in enumerate((c.inserts, c.updates, c.deletes, c.conflicts)):
                    t[i] += n
        for name, (inserts, updates, deletes, conflicts) in totals.items():
            if inserts or updates or deletes or conflicts:
                lines.append(_tr("%s: %d inserted, %d updated, %d deleted, %d conflicts")
                             % (layer_title(self.window, name), inserts, updates, deletes, conflicts))
        rejected = sum(len(r.rejected) for r in sent.applied)
        if rejected:
            lines += ["", _tr("%d change(s) were refused (outside the checkout's area, or against the layer's "
                              "rules); the report lists them.") % rejected]
        conflicts = [c for r in sent.applied for c in r.conflicts]
        if not conflicts:
            if sent.reports:
                lines += [_tr("Report: %s") % ", ".join(str(p) for p in sent.reports)]
            lines += ["", _tr("Receive update brings the office's other changes into this workspace.")]
            self.prompts.information(title, "\n".join(lines))
            return
        window = self.window
        labels = self.menu._feature_labels(window.workspace, conflicts)
        dialog = SentReportDialog("\n".join(lines), conflicts, window.workspace.definitions, labels, sent.reports,
                                  window.language, window)
        try:
            self.prompts.sent_report(dialog)
        finally:
            dialog.deleteLater()
