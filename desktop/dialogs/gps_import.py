"""File > Import GPS: the options dialog, the import on a worker thread with progress and cancel, the summary.

The import itself is the core's :func:`layers.gps.importer.import_gps`: one
transaction, a bad file rolled back alone, a cancel leaving nothing. It runs
on a ``QThread`` over the window's own workspace: the core owns its one
connection, and the import's session waits for any transaction of the
window's (and the reverse), so no second connection writes the open file.
The window re-reads the layers when the import is over.
"""

from __future__ import annotations

import os
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QObject, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

_ROOT = QModelIndex()

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

__all__ = ["GpsImportOptions", "GpsImportDialog", "ImportJob", "ImportSummaryModel", "ImportSummaryDialog",
           "file_notes", "file_status", "file_filters", "DATUMS"]

DATUMS = ("wgs84", "gcj02", "bd09")
"""Datums offered for the files' coordinates (the core's ``datum`` values)."""


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("GpsImportDialog", text, disambiguation, n)


def file_filters() -> str:
    """The file chooser's filters: GPX, NMEA, CSV, every GPS file, all files."""
    return ";;".join((
        _tr("GPS files (*.gpx *.nmea *.nma *.log *.txt *.csv)"),
        _tr("GPX (*.gpx)"),
        _tr("NMEA logs (*.nmea *.nma *.log *.txt)"),
        _tr("CSV of points (*.csv *.txt)"),
        _tr("All files (*)"),
    ))



@dataclass
class GpsImportOptions:
    """What the user chose in the import dialog (the arguments of ``import_gps``)."""

    paths: list
    tz: str | None = None
    datum: str = "wgs84"
    simplify_m: float | None = None
    max_speed_kmh: float | None = None
    max_hdop: float | None = None


def _optional_spin(maximum: float, decimals: int, suffix: str) -> QDoubleSpinBox:
    """A spin box whose minimum (0) means "off"."""
    spin = QDoubleSpinBox()
    spin.setRange(0.0, maximum)
    spin.setDecimals(decimals)
    spin.setSuffix(suffix)
    spin.setValue(0.0)
    return spin


class GpsImportDialog(QDialog):
    """Choose GPS files and the import options.

    Drive it from code with :meth:`set_files` and the option widgets, then
    read :meth:`options`; the Add files button opens the native chooser.
    """

    def __init__(self, workspace_timezone: str | None = None, folder: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("gps_import_dialog")
        self._folder = folder or ""
        self.files = QListWidget()
        self.files.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.add_button = QPushButton()
        self.remove_button = QPushButton()
        self.add_button.clicked.connect(self.choose_files)
        self.remove_button.clicked.connect(self.remove_selected)
        self.tz_edit = QLineEdit(workspace_timezone or "+08:00")
        self.datum_combo = QComboBox()
        for datum in DATUMS:
            self.datum_combo.addItem("", datum)
        self.simplify_spin = _optional_spin(1000.0, 1, " m")
        self.speed_spin = _optional_spin(2000.0, 0, " km/h")
        self.hdop_spin = _optional_spin(99.0, 1, "")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c62828")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        file_buttons = QVBoxLayout()
        file_buttons.addWidget(self.add_button)
        file_buttons.addWidget(self.remove_button)
        file_buttons.addStretch(1)
        file_row = QHBoxLayout()
        file_row.addWidget(self.files, 1)
        file_row.addLayout(file_buttons)
        self.form = QFormLayout()
        self.tz_label, self.datum_label = QLabel(), QLabel()
        self.simplify_label, self.speed_label, self.hdop_label = QLabel(), QLabel(), QLabel()
        self.form.addRow(self.tz_label, self.tz_edit)
        self.form.addRow(self.datum_label, self.datum_combo)
        self.form.addRow(self.simplify_label, self.simplify_spin)
        self.form.addRow(self.speed_label, self.speed_spin)
        self.form.addRow(self.hdop_label, self.hdop_spin)
        layout = QVBoxLayout(self)
        layout.addLayout(file_row)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.files.model().rowsInserted.connect(self._update_ok)
        self.files.model().rowsRemoved.connect(self._update_ok)
        self.retranslate()
        self._update_ok()
        self.resize(560, 420)

    def retranslate(self) -> None:
        self.setWindowTitle(_tr("Import GPS files"))
        self.add_button.setText(_tr("&Add files…"))
        self.remove_button.setText(_tr("&Remove"))
        self.tz_label.setText(_tr("Time zone of times without one:"))
        self.tz_edit.setToolTip(_tr("For example +08:00 or Asia/Shanghai; GPX times are UTC anyway"))
        self.datum_label.setText(_tr("Datum of the coordinates:"))
        names = {"wgs84": _tr("WGS84 (GPS receivers)"), "gcj02": _tr("GCJ-02 (AMap, Tencent)"),
                 "bd09": _tr("BD-09 (Baidu)")}
        for i in range(self.datum_combo.count()):
            self.datum_combo.setItemText(i, names[self.datum_combo.itemData(i)])
        self.simplify_label.setText(_tr("Simplify tracks, tolerance:"))
        self.speed_label.setText(_tr("Drop points faster than:"))
        self.hdop_label.setText(_tr("Drop points with HDOP above:"))
        off = _tr("off")
        for spin in (self.simplify_spin, self.speed_spin, self.hdop_spin):
            spin.setSpecialValueText(off)

    # -- files ----------------------------------------------------------------------------

    def set_files(self, paths) -> None:
        """Replace the list of files to import."""
        self.files.clear()
        self.add_files(paths)

    def add_files(self, paths) -> None:
        """Add files (each once)."""
        present = set(self.paths())
        for path in paths:
            path = os.fspath(path)
            if path not in present:
                self.files.addItem(path)
                present.add(path)
        if self.paths():
            self._folder = str(Path(self.paths()[-1]).parent)

    def paths(self) -> list[str]:
        return [self.files.item(i).text() for i in range(self.files.count())]

    def remove_selected(self) -> None:
        for item in self.files.selectedItems():
            self.files.takeItem(self.files.row(item))

    def choose_files(self) -> None:
        """The native file chooser (several files at once)."""
        paths, _ = QFileDialog.getOpenFileNames(self, _tr("Choose GPS files"), self._folder, file_filters())
        if paths:
            self.add_files(paths)

    # -- options --------------------------------------------------------------------------

    def set_datum(self, datum: str) -> None:
        self.datum_combo.setCurrentIndex(self.datum_combo.findData(datum))

    def options(self) -> GpsImportOptions:
        """The chosen files and options."""
        def value(spin):
            return spin.value() if spin.value() > spin.minimum() else None

        return GpsImportOptions(paths=self.paths(), tz=self.tz_edit.text().strip() or None,
                                datum=self.datum_combo.currentData(), simplify_m=value(self.simplify_spin),
                                max_speed_kmh=value(self.speed_spin), max_hdop=value(self.hdop_spin))

    def _update_ok(self, *_args) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self.files.count() > 0)

    def validate(self) -> str | None:
        """Why the options cannot be used, or None."""
        from layers.gps.timeparse import parse_tz

        if not self.paths():
            return _tr("Choose at least one file")
        missing = [p for p in self.paths() if not os.path.isfile(p)]
        if missing:
            return _tr("No such file: %s") % missing[0]
        tz = self.tz_edit.text().strip()
        if tz:
            try:
                parse_tz(tz)
            except (ValueError, TypeError) as exc:
                return _tr("Time zone %s: %s") % (tz, exc)
        return None

    def accept(self) -> None:
        problem = self.validate()
        self.message.setText(problem or "")
        if problem is None:
            super().accept()


# -- the worker ------------------------------------------------------------------------------


class _ImportWorker(QObject):
    """Runs ``import_gps`` on the window's workspace; lives on the worker thread."""

    progressed = Signal(float)          # fraction done, 0..1
    succeeded = Signal(object)          # ImportSummary
    cancelled = Signal()
    failed = Signal(str, str)           # message, details

    def __init__(self, workspace: Workspace, options: GpsImportOptions, cancel_event: threading.Event):
        super().__init__()
        self.workspace = workspace
        self.options = options
        self.cancel_event = cancel_event
        self._last = -1.0

    def _progress(self, done, total) -> None:
        fraction = min(1.0, done / total) if total else 1.0
        if fraction - self._last >= 0.005 or fraction >= 1.0:  # at most ~200 signals
            self._last = fraction
            self.progressed.emit(fraction)

    def run(self) -> None:
        from layers.errors import Cancelled
        from layers.gps.importer import import_gps

        o = self.options
        try:
            summary = import_gps(self.workspace, o.paths, tz=o.tz, datum=o.datum, simplify_m=o.simplify_m,
                                 max_speed_kmh=o.max_speed_kmh, max_hdop=o.max_hdop,
                                 progress=self._progress, cancel=self.cancel_event.is_set)
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:  # noqa: BLE001 - shown to the user, nothing written
            self.failed.emit(str(exc), traceback.format_exc())
        else:
            self.succeeded.emit(summary)


class ImportJob(QObject):
    """One GPS import on a worker thread, with a progress dialog whose Cancel stops it.

    Signals
    -------
    finished(object, str)
        Once, on the GUI thread: ``(summary, "")`` when the import ran (some
        files may have failed: see the summary), ``(None, "cancelled")`` when
        cancelled (nothing written), ``(None, message)`` when it failed as a
        whole (nothing written).
    progressed(float)
        Fraction done.
    """

    finished = Signal(object, str)
    progressed = Signal(float)

    def __init__(self, workspace: Workspace, options: GpsImportOptions, parent: QWidget | None = None):
        super().__init__(parent)
        self.options = options
        self.summary = None
        self.error = None
        self.details = None
        self.was_cancelled = False
        self.done = False
        self._cancel = threading.Event()
        self.progress = QProgressDialog(parent)
        self.progress.setObjectName("gps_import_progress")
        self.progress.setWindowTitle(_tr("Import GPS files"))
        self.progress.setLabelText(_tr("Importing %n file(s)…", "", len(options.paths)))
        self.progress.setCancelButtonText(_tr("Cancel"))
        self.progress.setRange(0, 1000)
        self.progress.setMinimumDuration(300)
        self.progress.setAutoClose(False)
        self.progress.setAutoReset(False)
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.canceled.connect(self.cancel)
        self.thread = QThread()
        self.thread.setObjectName("gps_import")
        self.worker = _ImportWorker(workspace, options, self._cancel)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.progressed.connect(self._progressed)
        self.worker.succeeded.connect(self._succeeded)
        self.worker.cancelled.connect(self._cancelled)
        self.worker.failed.connect(self._failed)

    def start(self) -> None:
        self.progress.setValue(0)
        self.thread.start()

    def cancel(self) -> None:
        """Ask the worker to stop; the import is rolled back (nothing written)."""
        if not self.done:
            self._cancel.set()
            self.progress.setLabelText(_tr("Cancelling…"))

    def is_cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the worker thread ended (used on close)."""
        return self.thread.wait(msecs)

    def _progressed(self, fraction: float) -> None:
        if not self.done:
            self.progress.setValue(int(fraction * 1000))
        self.progressed.emit(fraction)

    def _end(self) -> None:
        self.done = True
        self.thread.quit()
        self.thread.wait()
        self.progress.close()
        self.progress.deleteLater()

    def _succeeded(self, summary) -> None:
        self.summary = summary
        self._end()
        self.finished.emit(summary, "")

    def _cancelled(self) -> None:
        self.was_cancelled = True
        self._end()
        self.finished.emit(None, "cancelled")

    def _failed(self, message: str, details: str) -> None:
        self.error, self.details = message, details
        self._end()
        self.finished.emit(None, message)


# -- the summary -----------------------------------------------------------------------------


def file_status(f) -> str:
    """One word or two on what happened to a file (the core's ``FileSummary.status``, translated)."""
    return {
        "imported": _tr("imported"),
        "partly imported": _tr("partly imported: some input skipped"),
        "nothing kept": _tr("NOTHING KEPT"),
        "duplicate": _tr("skipped: imported before"),
        "failed": _tr("failed: nothing written"),
    }[f.status]


def file_notes(f) -> list[str]:
    """The notes on one file of an ImportSummary (errors name the file and line, as the core writes them)."""
    if f.duplicate:
        return [f.message or _tr("already imported")]
    if f.error:
        return [f.error]
    notes = []
    if f.nothing_kept:
        notes.append(f.nothing_kept_reason)
    if f.date_note:
        notes.append(f.date_note)
    if f.skipped_points or f.skipped_waypoints:
        notes.append(_tr("skipped outside the workspace CRS's area or not transformable: %s")
                     % ", ".join((_tr("%n point(s)", "", sum(f.skipped_points.values())),
                                  _tr("%n waypoint(s)", "", sum(f.skipped_waypoints.values())))))
    if f.stationary:
        notes.append(_tr("%n stationary session(s) (%s) stored as one averaged waypoint each", "", f.stationary)
                     % _tr("%n fix(es)", "", f.stationary_fixes))
        if f.track_points_kept:
            notes.append(_tr("%n fix(es) of stationary sessions kept as GPS track points (GPS > Use averaged "
                             "position of an imported session… averages them)", "", f.track_points_kept))
        else:
            notes.append(_tr("the fixes themselves were not kept: this workspace has no GPS track points layer"))
    if f.checksum_errors:
        notes.append(_tr("%n NMEA sentence(s) skipped for a wrong checksum", "", f.checksum_errors))
    if f.dropped:
        notes.append(_tr("dropped points: %s") % ", ".join(f"{reason} {n}" for reason, n in sorted(f.dropped.items())))
    if f.empty_segments:
        notes.append(_tr("%n empty segment(s), counted but not drawn", "", f.empty_segments))
    if f.lineless_tracks:
        notes.append(_tr("%n track(s) or route(s) without any line: not stored", "", f.lineless_tracks))
    if f.naive_times:
        notes.append(_tr("%n time(s) had no zone: read as UTC%s", "", f.naive_times) % f.tz)
    if f.bad_times:
        notes.append(_tr("%n time(s) could not be read (stored as missing)", "", f.bad_times))
    notes.extend(f.messages[:5])
    if len(f.messages) > 5:
        notes.append(_tr("… and %d more messages") % (len(f.messages) - 5))
    return notes


class ImportSummaryModel(QAbstractTableModel):
    """One row per imported file: file, format, tracks, routes, points, waypoints, dropped, status."""

    FILE, FORMAT, TRACKS, ROUTES, POINTS, WAYPOINTS, DROPPED, STATUS = range(8)
    FileSummaryRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, summary, parent: QObject | None = None):
        super().__init__(parent)
        self.summary = summary
        self.files = list(summary.files)

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self.files)

    def columnCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else 8

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        return (_tr("File"), _tr("Format"), _tr("Tracks"), _tr("Routes"), _tr("Points"), _tr("Waypoints"),
                _tr("Dropped"), _tr("Status"))[section]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        f = self.files[index.row()]
        column = index.column()
        if role == self.FileSummaryRole:
            return f
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join([f.path] + file_notes(f))
        if role == Qt.ItemDataRole.ForegroundRole and column == self.STATUS and f.error:
            from PySide6.QtGui import QColor

            return QColor("#c62828")
        if role == Qt.ItemDataRole.TextAlignmentRole and self.TRACKS <= column <= self.DROPPED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == self.FILE:
            return f.name
        if column == self.FORMAT:
            return (f.format or "?").upper()
        if column == self.STATUS:
            return file_status(f)
        if not f.imported:
            return "–"
        return {self.TRACKS: f.tracks, self.ROUTES: f.routes, self.POINTS: f.track_points + f.route_points,
                self.WAYPOINTS: f.waypoints, self.DROPPED: f.dropped_total}[column]


class ImportSummaryDialog(QDialog):
    """The result of an import: the table of files and every file's notes."""

    def __init__(self, summary, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("gps_import_summary")
        self.setWindowTitle(_tr("GPS import summary"))
        self.model = ImportSummaryModel(summary, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.headline = QLabel(self.headline_text(summary))
        self.headline.setWordWrap(True)
        self.notes = QPlainTextEdit(self.notes_text(summary))
        self.notes.setReadOnly(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.notes, 1)
        layout.addWidget(buttons)
        self.resize(760, 480)

    @staticmethod
    def headline_text(summary) -> str:
        text = _tr("%d imported, %d skipped as imported before, %d failed") % (
            len(summary.imported), len(summary.duplicates), len(summary.failed))
        if summary.failed:
            text += "\n" + _tr("Files that failed wrote nothing; the others were imported.")
        empty = [f for f in summary.files if f.nothing_kept]
        if empty:
            text += "\n" + _tr("%n file(s) gave nothing to keep: see the notes.", "", len(empty))
        return text

    @staticmethod
    def notes_text(summary) -> str:
        parts = []
        for f in summary.files:
            parts.append(f"{f.name}:")
            parts.extend(f"  {note}" for note in file_notes(f))
        return "\n".join(parts)
