"""Run work off the GUI thread behind a progress dialog with Cancel, and hand back its result or its exception."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QCoreApplication, Qt, QThread, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from layers.errors import Cancelled

from .busy import finish_worker

__all__ = ["run_cancellable", "Progress"]

T = TypeVar("T")
# What the work is given: ``progress(done, total)``, which raises ``Cancelled`` once Cancel was pressed.
Progress = Callable[[int, int], None]


def _tr(text: str) -> str:
    return QCoreApplication.translate("ProgressJob", text)


class _Worker(QThread):
    progressed = Signal(int, int)

    def __init__(self, function: Callable[[Progress], object], cancel: threading.Event) -> None:
        super().__init__()
        self.function = function
        self.cancel = cancel
        self.value: object = None
        self.error: BaseException | None = None

    def progress(self, done: int, total: int) -> None:
        if self.cancel.is_set():
            raise Cancelled("cancelled")
        self.progressed.emit(int(done), int(total))

    def run(self) -> None:
        try:
            self.value = self.function(self.progress)
        except BaseException as e:  # handed to the GUI thread
            self.error = e


def run_cancellable(parent: QWidget | None, title: str, label: str, function: Callable[[Progress], T],
                    *, undo: Callable[[T], None] | None = None, object_name: str = "progress_with_cancel") -> T:
    """Run ``function(progress)`` in a worker thread behind a progress dialog with Cancel.

    The work reports with ``progress(done, total)``; once Cancel is pressed
    that call raises :class:`~layers.errors.Cancelled`, which the work lets
    through after undoing what it did (the core's operations do). Cancel
    pressed after the work's last report: ``undo(result)`` takes the finished
    work back and Cancelled is raised (without *undo* the result is kept).

    The function must not touch widgets.

    Raises
    ------
    Cancelled
        The user pressed Cancel and the work stopped.
    BaseException
        Whatever the work raised.
    """
    cancel = threading.Event()
    dialog = QProgressDialog(label, _tr("Cancel"), 0, 0, parent)
    dialog.setObjectName(object_name)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(400)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)

    def cancelled() -> None:
        cancel.set()
        dialog.setLabelText(_tr("Cancelling…"))

    def progressed(done: int, total: int) -> None:
        if dialog.maximum() != total:
            dialog.setMaximum(max(total, 0))
        dialog.setValue(min(done, total) if total > 0 else 0)

    dialog.canceled.connect(cancelled)
    worker = _Worker(function, cancel)
    worker.progressed.connect(progressed, Qt.ConnectionType.QueuedConnection)  # run on the GUI thread
    value: T = finish_worker(worker, dialog)  # type: ignore[assignment]
    if cancel.is_set() and undo is not None:
        undo(value)
        raise Cancelled("cancelled")
    return value
