"""File > Check out from server…: the connection, the master's areas as the scope, its layers, the workspace file.

Steps in one dialog. **Connect** opens the master (host, port, database,
user, schema make the ``postgresql://`` string; the password, if typed, is
used for this session only) and lists its administrative areas as a tree
(city, district, street), with "whole master" and "current map extent" above
them, and its **layers**, each facility layer ticked, with the features the
chosen area holds (counted by the core in a worker thread as the area
changes; inspections and reference polygons come with the layers that need
them). The **workspace file** is suggested from the database and the area
until the user types one. **Check out** runs the core's checkout of the
ticked layers in a worker thread behind a progress dialog with Cancel; the
workspace appears under its name only once complete, so a cancel or an error
leaves nothing behind. Any failure is one line in the dialog.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QThread
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from layers.errors import Cancelled
from layers.log import logger

from ..server_access import remember_password, server_error_line, with_password
from .busy import run_busy
from .layer_chooser import LayerChooser
from .progress_job import run_cancellable
from .server_fields import ServerFields

__all__ = ["ServerCheckoutDialog", "WHOLE_MASTER", "MAP_EXTENT"]

_log = logger(__name__)

# The kinds of scope item besides the areas (``Qt.UserRole`` data of the tree's first column).
WHOLE_MASTER, MAP_EXTENT, AREA = "whole", "extent", "area"
_KIND, _SCOPE = Qt.ItemDataRole.UserRole, Qt.ItemDataRole.UserRole + 1


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("ServerCheckoutDialog", text, disambiguation, n)


def level_label(level: str) -> str:
    """An area level in the interface language."""
    return {"city": _tr("City"), "district": _tr("District"), "street": _tr("Street")}.get(level, level)


class _Connected:
    """What Connect found: the master's description and its areas."""

    def __init__(self, url: str, info, areas) -> None:
        self.url, self.info, self.areas = url, info, areas


class _CountJob(QThread):
    """Counts what a checkout of one area would take (``checkout_counts``), off the GUI thread; stoppable."""

    def __init__(self, url: str, scope: str | None, bbox: str | None, parent: QWidget) -> None:
        super().__init__(parent)
        self.url, self.scope, self.bbox = url, scope, bbox
        self.stop = threading.Event()
        self.value = None
        self.error: BaseException | None = None

    def progress(self, _done: int, _total: int) -> None:
        if self.stop.is_set():
            raise Cancelled("counting stopped")

    def run(self) -> None:
        from layers.sync.checkout_counts import checkout_counts

        try:
            self.value = with_password(self.url, lambda: checkout_counts(
                self.url, scope=self.scope, bbox=self.bbox, progress=self.progress))()
        except BaseException as e:  # handed to the GUI thread
            self.error = e


class ServerCheckoutDialog(QDialog):
    """Check out a workspace from a PostGIS master.

    Parameters
    ----------
    folder : str
        Where the workspace file is suggested.
    extent : (xmin, ymin, xmax, ymax) or None
        The window's current map extent, offered as a scope.
    extent_crs : str or None
        The CRS of *extent* (moved into the master's CRS after Connect).

    Attributes
    ----------
    checked_out : Path or None
        The workspace made (after the dialog was accepted).
    counts : dict or None
        Features checked out per layer.
    """

    def __init__(self, folder: str, extent=None, extent_crs: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("server_checkout")
        self.setWindowTitle(_tr("Check out from server"))
        self.folder = folder
        self.extent, self.extent_crs = extent, extent_crs
        self.connected: _Connected | None = None
        self.checked_out: Path | None = None
        self.counts: dict | None = None
        self._target_typed = False
        self._count_job: _CountJob | None = None  # the count of the area chosen
        self._count_jobs: set[_CountJob] = set()  # every count not yet ended (stopped ones too)

        layout = QVBoxLayout(self)
        server = QGroupBox(_tr("1. Server"))
        self.server = ServerFields()
        form = self.server.form
        self.host, self.port, self.database = self.server.host, self.server.port, self.server.database
        self.user, self.schema, self.password = self.server.user, self.server.schema, self.server.password
        server_layout = QVBoxLayout(server)
        server_layout.addWidget(self.server)
        self.connect_button = QPushButton(_tr("&Connect"))
        self.connect_button.setObjectName("connect")
        self.connect_button.clicked.connect(self.connect_to_server)
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.connect_button)
        row.addWidget(self.status, 1)
        form.addRow(row)
        layout.addWidget(server)

        middle = QHBoxLayout()
        scope = QGroupBox(_tr("2. Area to check out"))
        scope_layout = QVBoxLayout(scope)
        self.areas = QTreeWidget()
        self.areas.setObjectName("areas")
        self.areas.setHeaderLabels([_tr("Area"), _tr("Level"), _tr("Code")])
        self.areas.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.areas.setMinimumHeight(200)
        self.areas.currentItemChanged.connect(lambda *_: self._scope_changed())
        self.areas.itemDoubleClicked.connect(lambda *_: self.check_out())
        scope_layout.addWidget(self.areas)
        middle.addWidget(scope, 3)
        chooser = QGroupBox(_tr("3. Layers"))
        chooser_layout = QVBoxLayout(chooser)
        self.layer_chooser = LayerChooser()
        self.layer_chooser.changed.connect(self._layers_changed)
        self.counts_note = QLabel()
        self.counts_note.setObjectName("counts_note")
        self.counts_note.setWordWrap(True)
        self.counts_note.setStyleSheet("color: palette(placeholder-text)")
        chooser_layout.addWidget(self.layer_chooser, 1)
        chooser_layout.addWidget(self.counts_note)
        middle.addWidget(chooser, 2)
        layout.addLayout(middle, 1)

        target = QGroupBox(_tr("4. Workspace file"))
        target_layout = QHBoxLayout(target)
        self.target = QLineEdit()
        self.target.setObjectName("target")
        self.target.textEdited.connect(self._target_edited)
        browse = QPushButton(_tr("&Browse…"))
        browse.clicked.connect(self._browse)
        target_layout.addWidget(self.target, 1)
        target_layout.addWidget(browse)
        layout.addWidget(target)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.checkout_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.checkout_button.setText(_tr("Check &out"))
        self.buttons.accepted.connect(self.check_out)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self.server.edited.connect(self._disconnect)
        self._disconnect()
        self.connect_button.setDefault(True)
        self.resize(940, 760)

    # -- the connection -------------------------------------------------------------------

    def url(self) -> str:
        """The connection string of the fields (never with the password)."""
        return self.server.url()

    def show_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b71c1c; font-weight: bold" if error else "")

    def status_text(self) -> str:
        return self.status.text()

    def _disconnect(self) -> None:
        """The fields changed: the areas listed are no longer known to be the server's."""
        self.connected = None
        self._count_job = None
        self.areas.clear()
        self.areas.setEnabled(False)
        self.layer_chooser.clear_master()
        self.layer_chooser.setEnabled(False)
        self.counts_note.clear()
        self.checkout_button.setEnabled(False)
        self.show_status(_tr("Fill in the server and press Connect."))

    def connect_to_server(self) -> bool:
        """Open the master and list its areas; True if it worked (else one line in the dialog says why)."""
        if not self.server.complete():
            self.show_status(_tr("Give the host and the database."), error=True)
            return False
        try:
            url = self.url()
            password = self.password.text()

            def work():
                from layers.sync.areas import list_areas
                from layers.sync.store import open_master

                with open_master(url) as store:
                    return store.info, list_areas(store)

            info, areas = run_busy(self, _tr("Connecting to %s…") % self.host.text().strip(),
                                   with_password(url, work, password))
        except Exception as exc:  # one line in the dialog; nothing was written
            _log.info("check out from server: cannot connect to %s: %s", self.url(), exc)
            self._disconnect()
            self.show_status(server_error_line(exc), error=True)
            return False
        remember_password(url, password)
        self.server.remember()
        self.connected = _Connected(url, info, areas)
        self.layer_chooser.set_master(info, self._language())
        self.layer_chooser.setEnabled(True)
        self._fill_areas(areas)
        levels = {}
        for area in areas:
            levels[area.level] = levels.get(area.level, 0) + 1
        counted = ", ".join(f"{level_label(level)} {n}" for level, n in levels.items())
        self.show_status(_tr("Master version %d in %s, layers: %s. Areas: %s.")
                         % (info.version, info.crs, ", ".join(info.definitions[n].title(self._language())
                                                             for n in info.layers), counted or _tr("none")))
        self.areas.setEnabled(True)
        self.checkout_button.setEnabled(True)
        self.checkout_button.setDefault(True)
        return True

    def _language(self) -> str:
        window = self.parent()
        return getattr(window, "language", "zh_CN")

    # -- the scope -------------------------------------------------------------------------

    def _master_extent(self):
        """The window's extent in the master's CRS (None if unknown or not transformable)."""
        if self.extent is None or self.connected is None:
            return None
        crs = self.connected.info.crs
        if not self.extent_crs or self.extent_crs == crs:
            return tuple(float(v) for v in self.extent)
        import pyproj

        try:
            move = pyproj.Transformer.from_crs(self.extent_crs, crs, always_xy=True)
            return tuple(float(v) for v in move.transform_bounds(*self.extent))
        except pyproj.exceptions.ProjError:
            return None

    def _fill_areas(self, areas) -> None:
        self.areas.clear()
        whole = QTreeWidgetItem([_tr("Whole master"), "", ""])
        whole.setData(0, _KIND, WHOLE_MASTER)
        self.areas.addTopLevelItem(whole)
        box = self._master_extent()
        if box is not None:
            extent = QTreeWidgetItem([_tr("Current map extent"), _tr("Box"), ""])
            extent.setData(0, _KIND, MAP_EXTENT)
            extent.setData(0, _SCOPE, ",".join(f"{v:.3f}" for v in box))
            extent.setToolTip(0, ", ".join(f"{v:,.1f}" for v in box))
            self.areas.addTopLevelItem(extent)
        items: dict[str, QTreeWidgetItem] = {}
        for area in areas:  # cities first, then districts, then streets: parents come before children
            item = QTreeWidgetItem([area.name or area.code, level_label(area.level), area.code])
            item.setData(0, _KIND, AREA)
            item.setData(0, _SCOPE, area.scope)
            parent = items.get(area.parent or "")
            (parent.addChild(item) if parent is not None else self.areas.addTopLevelItem(item))
            items[area.code] = item
        self.areas.expandToDepth(1)
        self.areas.resizeColumnToContents(1)
        self.areas.setCurrentItem(whole)

    def area_item(self, code: str) -> QTreeWidgetItem:
        """The tree item of an area, by code."""
        found = self.areas.findItems(code, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive, 2)
        if not found:
            raise KeyError(code)
        return found[0]

    def choose_area(self, code: str) -> None:
        self.areas.setCurrentItem(self.area_item(code))

    def choose_whole_master(self) -> None:
        self.areas.setCurrentItem(self.areas.topLevelItem(0))

    def choose_map_extent(self) -> None:
        item = self.areas.topLevelItem(1)
        if item is None or item.data(0, _KIND) != MAP_EXTENT:
            raise LookupError("no map extent offered")
        self.areas.setCurrentItem(item)

    def scope(self) -> tuple[str | None, str | None]:
        """(scope, bbox) of the chosen item: an area's ``level:code``, or a box, or both None (whole master)."""
        item = self.areas.currentItem()
        kind = item.data(0, _KIND) if item is not None else WHOLE_MASTER
        if kind == AREA:
            return str(item.data(0, _SCOPE)), None
        if kind == MAP_EXTENT:
            return None, str(item.data(0, _SCOPE))
        return None, None

    def _scope_changed(self) -> None:
        if self.connected is None:
            return
        self._count()
        if self._target_typed:
            return
        item = self.areas.currentItem()
        kind = item.data(0, _KIND) if item is not None else WHOLE_MASTER
        part = {WHOLE_MASTER: "all", MAP_EXTENT: "extent"}.get(kind) or str(item.text(2))
        name = f"{self.database.text().strip() or 'server'}-{part}.sqlite"
        self.target.setText(str(Path(self.folder) / name))  # setText: not an edit of the user's

    # -- the layers and their counts ------------------------------------------------------------

    def _count(self) -> None:
        """Count what the chosen area holds, in a worker thread (a count still running is told to stop)."""
        if self._count_job is not None:
            self._count_job.stop.set()
        scope, bbox = self.scope()
        self.layer_chooser.set_counts(None)
        self.counts_note.setText(_tr("Counting the features in the area…"))
        job = _CountJob(self.connected.url, scope, bbox, self)
        job.finished.connect(self._job_finished)  # a bound method: the connection goes with the dialog
        self._count_job = job
        self._count_jobs.add(job)
        job.start()

    def stop_counting(self) -> None:
        """Stop every count and wait for its thread to end (before the dialog goes)."""
        self._count_job = None
        for job in list(self._count_jobs):
            job.stop.set()
            job.wait()
            self._count_jobs.discard(job)

    def _job_finished(self) -> None:
        job = self.sender()
        if isinstance(job, _CountJob):
            self._counted(job)

    def _counted(self, job: _CountJob) -> None:
        self._count_jobs.discard(job)
        job.deleteLater()
        if job is not self._count_job:  # stopped: another area was chosen since, or the dialog is going
            return
        self._count_job = None
        if job.error is not None:
            _log.info("counting %s on %s failed: %s", job.scope or job.bbox or "the whole master", job.url, job.error)
            self.counts_note.setText(_tr("The features could not be counted: %s") % server_error_line(job.error))
            return
        self.layer_chooser.set_counts(job.value)
        self._layers_changed()

    def counting(self) -> bool:
        """Whether the features of the chosen area are being counted."""
        return self._count_job is not None

    def _layers_changed(self) -> None:
        if self.layer_chooser.counts is None:
            return
        taken = self.layer_chooser.taken()
        counts = self.layer_chooser.counts
        ticked = self.layer_chooser.ticked()
        total = sum(counts.count(name, ticked) for name in taken)
        self.counts_note.setText(_tr("The checkout takes %s features and records.") % f"{total:,}" if taken
                                 else _tr("Tick at least one layer."))

    def choose_layers(self, names) -> None:
        """Tick exactly the facility layers *names* (as the user does)."""
        for name in self.layer_chooser.names():
            if not self.layer_chooser.follows(name):
                self.layer_chooser.set_ticked(name, name in names)

    def done(self, result: int) -> None:
        self.stop_counting()  # a count still running ends before the dialog goes
        super().done(result)

    # -- the target ---------------------------------------------------------------------------

    def _target_edited(self, _text: str) -> None:
        self._target_typed = True

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, _tr("Workspace file"), self.target.text() or self.folder,
                                              _tr("Tongcheng workspaces (*.sqlite)"))
        if path:
            self._target_typed = True
            self.target.setText(path)

    def set_target(self, path: str) -> None:
        """Name the workspace file to make (as if typed)."""
        self._target_typed = True
        self.target.setText(str(path))

    def _target_path(self) -> Path | None:
        text = self.target.text().strip()
        if not text:
            self.show_status(_tr("Choose the workspace file to make."), error=True)
            return None
        path = Path(text).expanduser()
        if not path.suffix:
            path = path.with_suffix(".sqlite")
            self.target.setText(str(path))
            self.show_status(_tr("The workspace file is named %s.") % path.name)
        if path.exists():
            self.show_status(_tr("%s already exists: choose another name.") % path.name, error=True)
            return None
        if not path.absolute().parent.is_dir():
            self.show_status(_tr("The folder %s does not exist.") % path.absolute().parent, error=True)
            return None
        return path

    # -- the checkout ------------------------------------------------------------------------------

    def check_out(self) -> bool:
        """Make the workspace (progress with Cancel); accept the dialog when done. False if it was not made."""
        if self.connected is None:
            self.show_status(_tr("Connect to the server first."), error=True)
            return False
        path = self._target_path()
        if path is None:
            return False
        if not self.layer_chooser.ticked():
            self.show_status(_tr("Tick at least one layer to check out."), error=True)
            return False
        url = self.connected.url
        scope, bbox = self.scope()
        layers = self.layer_chooser.chosen()

        def work(progress):
            from layers.sync.checkout import checkout

            return checkout(url, path, scope=scope, bbox=bbox, layers=layers, progress=progress)

        def undo(_counts) -> None:  # Cancel pressed as the checkout finished: take the new file away again
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)

        _log.info("check out from %s (%s; layers %s) into %s", url, scope or bbox or "whole master",
                  ", ".join(layers) if layers else "all", path)
        try:
            counts = run_cancellable(self, _tr("Check out from server"),
                                     _tr("Checking out into %s…") % path.name,
                                     lambda progress: with_password(url, lambda: work(progress))(),
                                     undo=undo, object_name="server_checkout_progress")
        except Cancelled:
            self.show_status(_tr("Cancelled: no workspace was made."))
            return False
        except Exception as exc:
            _log.info("check out from %s failed: %s", url, exc)
            self.show_status(server_error_line(exc), error=True)
            return False
        self.checked_out, self.counts = path, counts
        self.accept()
        return True
