"""Run work off the GUI thread behind a busy dialog, and hand back its result or its exception."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QThread
from PySide6.QtWidgets import QProgressDialog, QWidget

__all__ = ["run_busy", "finish_worker"]

T = TypeVar("T")


def _tr(text: str) -> str:
    return QCoreApplication.translate("BusyDialog", text)


class _Worker(QThread):
    def __init__(self, function: Callable[[], object], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.function = function
        self.value: object = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self.function()
        except BaseException as e:  # handed to the GUI thread
            self.error = e


def run_busy(parent: QWidget | None, label: str, function: Callable[[], T]) -> T:
    """Run ``function()`` in a worker thread behind a busy progress dialog; its result, or its exception raised.

    The function must not touch widgets, and must open its own workspace
    connection (a connection is used by one thread at a time).
    """
    progress = QProgressDialog(label, None, 0, 0, parent)
    progress.setWindowTitle(_tr("Please wait"))
    progress.setWindowModality(Qt.WindowModality.WindowModal)
    progress.setMinimumDuration(400)
    progress.setCancelButton(None)
    return finish_worker(_Worker(function), progress)  # type: ignore[return-value]


def finish_worker(worker: QThread, dialog: QProgressDialog) -> object:
    """Start *worker* (a QThread with ``value`` and ``error``), keep the GUI alive until it ends, close
    *dialog*; the worker's value, or its exception raised on this (the GUI) thread."""
    loop = QEventLoop()
    worker.finished.connect(loop.quit)
    worker.start()
    if not worker.isFinished():
        loop.exec()
    worker.wait()
    dialog.reset()
    dialog.deleteLater()
    worker.deleteLater()
    error: BaseException | None = getattr(worker, "error", None)
    if error is not None:
        raise error
    return getattr(worker, "value", None)
