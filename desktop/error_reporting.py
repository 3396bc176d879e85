"""The editor's log and what happens to an unexpected error.

:func:`configure_logging` sends the ``tongcheng`` log records (the core's and
the editor's) to a rotating file in the user's log folder
(``paths.log_file()``; ``TONGCHENG_LOG_DIR`` moves it, e.g. in tests).
:func:`install_excepthook` makes an exception nobody caught, in the GUI
thread or any other, a logged traceback and a readable error naming the
log file; the editor keeps running.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtWidgets import QApplication, QWidget

from layers.log import configure, logger

from . import paths
from .dialogs import ErrorDialog, format_exception

__all__ = ["configure_logging", "install_excepthook", "report_unexpected_error"]

_log = logger(__name__)


def _tr(text: str) -> str:
    return QCoreApplication.translate("app", text)


def configure_logging() -> Path | None:
    """Write the log to the rotating file ``paths.log_file()`` (not to the console); returns its path."""
    return configure(log_file=paths.log_file(), rotating=True, console=False)


def _write_report(details: str) -> Path | None:
    try:
        folder = paths.log_folder()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"error-{dt.datetime.now():%Y%m%d-%H%M%S}.txt"
        path.write_text(details, "utf-8")
        return path
    except OSError:
        return None


def report_unexpected_error(exc_type, exc, tb, parent: QWidget | None = None) -> None:
    """Log an exception nobody caught and show it (in the GUI thread): message, log path, traceback.

    The workspace is only written by ``save()``, in one transaction, so saved
    edits are never at risk; pending edits stay in the window, which keeps
    running. The traceback also goes to a report file in the log folder. A
    window given as ``parent`` shows the error through its ``prompts``.
    """
    details = format_exception(exc_type, exc, tb)
    _log.error("unexpected error\n%s", details)
    report = _write_report(details)
    if QApplication.instance() is None:
        sys.__excepthook__(exc_type, exc, tb)
        return
    message = _tr("Something went wrong: %s\n\nYour saved edits are safe. Unsaved edits are still in the "
                  "window; save them if you can.") % (exc or exc_type.__name__)
    message += "\n\n" + _tr("The log is %s") % paths.log_file()
    if report:
        message += "\n\n" + _tr("A report was written to %s") % report
    prompts = getattr(parent, "prompts", None)
    if prompts is not None:
        prompts.error(_tr("Unexpected error"), message, details)
    else:
        ErrorDialog(_tr("Unexpected error"), message, details, parent).exec()


class _Relay(QObject):
    """Carries an exception of another thread to the GUI thread (a queued signal)."""

    raised = Signal(object, object, object)


def install_excepthook(parent_for_dialogs: Callable[[], QWidget | None] | None = None) -> None:
    """Report unexpected errors (``sys.excepthook`` and ``threading.excepthook``) instead of crashing.

    ``parent_for_dialogs()`` gives the window to show the error in (None:
    a dialog of its own). An error in another thread (a ``threading``
    thread or a QThread) is handed to the GUI thread, which logs and shows it.
    """
    showing = threading.local()

    def show(exc_type, exc, tb) -> None:
        if getattr(showing, "active", False):  # an error while showing an error: log it only
            _log.error("unexpected error while reporting one\n%s", format_exception(exc_type, exc, tb))
            return
        showing.active = True
        try:
            parent = parent_for_dialogs() if callable(parent_for_dialogs) else None
            report_unexpected_error(exc_type, exc, tb, parent)
        finally:
            showing.active = False

    relay = None
    if QApplication.instance() is not None:
        relay = _Relay(QApplication.instance())
        relay.raised.connect(show)

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        if relay is None or threading.current_thread() is threading.main_thread():
            show(exc_type, exc, tb)
        else:  # e.g. a QThread's run(): widgets belong to the GUI thread
            relay.raised.emit(exc_type, exc, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook
