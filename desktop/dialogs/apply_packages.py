"""Sync > Apply change packages to a master… (the office): the master, the packages, a check, the review, the apply.

1. The **master**: a GeoPackage file, or a PostGIS server (the same fields as
   File > Check out from server…; a password typed is for this session only).
2. The **change packages**: one or more ``.gpkg`` files (each workspace's are
   applied in the order it sent them, whatever the order here).
3. **Check** runs the core's dry run (``layers.sync.batch.apply_packages``:
   the same apply, rolled back) behind a progress dialog with Cancel, and
   shows per package and layer what the apply would insert, update, delete
   and refuse, and the conflicts, one tab per package, each with a choice
   (office, field or a value typed) starting at the policy chosen: the
   review of Receive update (``ConflictTable``).
4. **Apply** hands the choices to the core as resolutions (with the values
   shown: if the master changed meanwhile, nothing is written and the check
   must be made again) and applies every package in one transaction, behind a
   progress dialog with Cancel; a cancel leaves the master as it was.

Any failure (a file that is not a change package, an unreachable server, a
package for another master) is one line in the dialog naming the file or the
server, and nothing is written. The dialog never decides a merge and never
touches a database itself: it calls the core.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from layers.errors import Cancelled, LoginRefused, ServerUnreachable
from layers.log import logger
from layers.sync.merge import Side

from ..server_access import remember_password, server_error_line, with_password
from .conflicts import ConflictTable
from .progress_job import run_cancellable
from .server_fields import ServerFields
from .sync_dialogs import POLICY_ORDER, policy_label

__all__ = ["ApplyPackagesDialog", "FILE", "SERVER", "COUNT_COLUMNS"]

_log = logger(__name__)

FILE, SERVER = "file", "server"
COUNT_COLUMNS = ("package", "layer", "inserts", "updates", "deletes", "conflicts", "refused")
_SETTINGS = "apply_packages"


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("ApplyPackagesDialog", text, disambiguation, n)


class _Checked:
    """A check that was made: of which master and packages, and what it found."""

    def __init__(self, master: str, packages: tuple[Path, ...], batch, labels) -> None:
        self.master, self.packages, self.batch, self.labels = master, packages, batch, labels


class ApplyPackagesDialog(QDialog):
    """Apply change packages to a master, after a check and a review of the conflicts.

    Parameters
    ----------
    folder : str
        Where the file choosers start.
    definitions : dict
        Layer definitions by name (titles, field and code labels of the review).
    language : str

    Attributes
    ----------
    checked : _Checked or None
        The last check, while the master and the packages are those it checked.
    applied : BatchResult or None
        What the apply did (after the dialog was accepted).
    tables : dict of str to ConflictTable
        The review of each package with conflicts, by package uuid.
    """

    def __init__(self, folder: str, definitions, language: str = "zh_CN", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("apply_packages")
        self.setWindowTitle(_tr("Apply change packages to a master"))
        self.folder = folder
        self.definitions = dict(definitions)
        self.language = language
        self.checked: _Checked | None = None
        self.applied = None
        self.tables: dict[str, ConflictTable] = {}

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        master = QGroupBox(_tr("1. Master"))
        master_layout = QVBoxLayout(master)
        self.use_file = QRadioButton(_tr("A master file (GeoPackage)"))
        self.use_file.setObjectName("use_file")
        self.use_server = QRadioButton(_tr("A server (PostGIS)"))
        self.use_server.setObjectName("use_server")
        self.kind = QButtonGroup(self)
        self.kind.addButton(self.use_file)
        self.kind.addButton(self.use_server)
        self.master_file = QLineEdit()
        self.master_file.setObjectName("master_file")
        self.master_file.setPlaceholderText(_tr("master.gpkg"))
        browse = QPushButton(_tr("&Browse…"))
        browse.clicked.connect(self._browse_master)
        row = QHBoxLayout()
        row.setContentsMargins(24, 0, 0, 0)
        row.addWidget(self.master_file, 1)
        row.addWidget(browse)
        self.file_row = QWidget()
        self.file_row.setLayout(row)
        self.server = ServerFields()
        self.server.form.setContentsMargins(24, 0, 0, 0)
        master_layout.addWidget(self.use_file)
        master_layout.addWidget(self.file_row)
        master_layout.addWidget(self.use_server)
        master_layout.addWidget(self.server)
        master_layout.addStretch(1)
        top.addWidget(master, 1)

        packages = QGroupBox(_tr("2. Change packages"))
        packages_layout = QVBoxLayout(packages)
        self.package_list = QListWidget()
        self.package_list.setObjectName("packages")
        self.package_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        add = QPushButton(_tr("&Add…"))
        add.clicked.connect(self._browse_packages)
        self.remove_button = QPushButton(_tr("&Remove"))
        self.remove_button.clicked.connect(self.remove_selected)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(add)
        buttons_row.addWidget(self.remove_button)
        buttons_row.addStretch(1)
        note = QLabel(_tr("Each workspace's packages are applied in the order it sent them."))
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text)")
        packages_layout.addWidget(self.package_list, 1)
        packages_layout.addLayout(buttons_row)
        packages_layout.addWidget(note)
        top.addWidget(packages, 1)
        layout.addLayout(top)

        check_row = QHBoxLayout()
        self.check_button = QPushButton(_tr("&Check (dry run)"))
        self.check_button.setObjectName("check")
        self.check_button.clicked.connect(self.check)
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        check_row.addWidget(self.check_button)
        check_row.addWidget(self.status, 1)
        layout.addLayout(check_row)

        self.review = QGroupBox(_tr("3. What the apply would do"))
        review_layout = QVBoxLayout(self.review)
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        review_layout.addWidget(self.summary)
        self.counts = QTableWidget(0, len(COUNT_COLUMNS))
        self.counts.setObjectName("counts")
        self.counts.setHorizontalHeaderLabels([_tr("Package"), _tr("Layer"), _tr("Inserts"), _tr("Updates"),
                                               _tr("Deletes"), _tr("Conflicts"), _tr("Refused")])
        self.counts.verticalHeader().setVisible(False)
        self.counts.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.counts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.counts.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        review_layout.addWidget(self.counts)
        form = QFormLayout()
        self.policy_combo = QComboBox()
        self.policy_combo.setObjectName("policy")
        for name in POLICY_ORDER:
            self.policy_combo.addItem(policy_label(name), name)
        self.policy_combo.currentIndexChanged.connect(lambda _i: self._policy_changed())
        form.addRow(_tr("Conflicts default to:"), self.policy_combo)
        review_layout.addLayout(form)
        self.conflict_note = QLabel()
        self.conflict_note.setWordWrap(True)
        review_layout.addWidget(self.conflict_note)
        self.conflict_tabs = QTabWidget()
        self.conflict_tabs.setObjectName("conflicts")
        review_layout.addWidget(self.conflict_tabs, 1)
        layout.addWidget(self.review, 1)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Close)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.apply_button.setText(_tr("&Apply"))
        self.apply_button.setObjectName("apply")
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self._restore()
        self.use_file.toggled.connect(lambda _on: self._kind_changed())
        self.master_file.textEdited.connect(lambda _text: self._invalidate())
        self.server.edited.connect(self._invalidate)
        self._kind_changed()
        self.resize(1100, 820)

    # -- the master and the packages ----------------------------------------------------------------

    def _restore(self) -> None:
        settings = QSettings()
        settings.beginGroup(_SETTINGS)
        kind = settings.value("kind") or FILE
        self.master_file.setText(str(settings.value("master_file") or ""))
        settings.endGroup()
        (self.use_server if kind == SERVER else self.use_file).setChecked(True)

    def _remember(self) -> None:
        settings = QSettings()
        settings.beginGroup(_SETTINGS)
        settings.setValue("kind", self.master_kind())
        settings.setValue("master_file", self.master_file.text().strip())
        settings.endGroup()
        if self.master_kind() == SERVER:
            self.server.remember()

    def master_kind(self) -> str:
        """``FILE`` or ``SERVER``."""
        return SERVER if self.use_server.isChecked() else FILE

    def set_master_file(self, path) -> None:
        """Choose a master file (as if typed)."""
        self.use_file.setChecked(True)
        self.master_file.setText(str(path))
        self._invalidate()

    def use_server_master(self) -> None:
        self.use_server.setChecked(True)

    def _kind_changed(self) -> None:
        server = self.master_kind() == SERVER
        self.file_row.setEnabled(not server)
        self.server.setEnabled(server)
        self._invalidate()

    def _browse_master(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, _tr("Master file"), self.master_file.text() or self.folder,
                                              _tr("Master GeoPackages (*.gpkg);;All files (*)"))
        if path:
            self.set_master_file(path)

    def _browse_packages(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, _tr("Change packages"), self.folder,
                                                _tr("Change packages (*.gpkg);;All files (*)"))
        self.add_packages(paths)

    def add_packages(self, paths) -> None:
        """Add package files to the list (a file listed already is not added again)."""
        listed = set(self.packages())
        for path in paths:
            path = Path(path)
            if path not in listed:
                self.package_list.addItem(str(path))
                listed.add(path)
        self._invalidate()

    def remove_selected(self) -> None:
        for item in self.package_list.selectedItems():
            self.package_list.takeItem(self.package_list.row(item))
        self._invalidate()

    def packages(self) -> list[Path]:
        return [Path(self.package_list.item(row).text()) for row in range(self.package_list.count())]

    def _master(self) -> str | None:
        """The master chosen (a file's path or a ``postgresql://`` string); None (with a line said) if none."""
        if self.master_kind() == SERVER:
            if not self.server.complete():
                self.show_status(_tr("Give the server's host and database."), error=True)
                return None
            return self.server.url()
        text = self.master_file.text().strip()
        if not text:
            self.show_status(_tr("Choose the master file."), error=True)
            return None
        return str(Path(text).expanduser())

    def show_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b71c1c; font-weight: bold" if error else "")

    def status_text(self) -> str:
        return self.status.text()

    def _failure(self, master: str, error: BaseException) -> str:
        """One line: what went wrong, naming the server when it is the server (the core's errors name the file)."""
        if isinstance(error, ServerUnreachable | LoginRefused):
            return f"{master}: {server_error_line(error)}"
        return server_error_line(error)

    def _invalidate(self) -> None:
        """The master or the packages changed: the check no longer holds."""
        self.checked = None
        self.tables = {}
        self.counts.setRowCount(0)
        self.conflict_tabs.clear()
        self.summary.clear()
        self.conflict_note.clear()
        self.review.setEnabled(False)
        self.apply_button.setEnabled(False)
        self.check_button.setDefault(True)
        self.show_status(_tr("Choose the master and the change packages, then Check."))

    # -- the check ---------------------------------------------------------------------------------------

    def check(self) -> bool:
        """The dry run, behind a progress dialog with Cancel; shows what the apply would do. True if it ran."""
        self._invalidate()
        master = self._master()
        if master is None:
            return False
        packages = tuple(self.packages())
        if not packages:
            self.show_status(_tr("Add the change packages to apply."), error=True)
            return False
        password = self.server.password.text() if self.master_kind() == SERVER else None

        def work(progress):
            from layers.sync.batch import apply_packages, feature_labels

            batch = apply_packages(master, packages, dry_run=True, policy=self.policy(), progress=progress)
            return batch, feature_labels(master, [c for r in batch.results for c in r.conflicts])

        _log.info("checking %d change package(s) against %s", len(packages), master)
        try:
            batch, labels = run_cancellable(self, _tr("Check the change packages"),
                                            _tr("Checking %n change package(s)…", "", len(packages)),
                                            lambda progress: with_password(master, lambda: work(progress),
                                                                           password)(),
                                            object_name="apply_check_progress")
        except Cancelled:
            self.show_status(_tr("Cancelled: nothing was checked."))
            return False
        except Exception as exc:  # one line in the dialog; nothing was written
            _log.info("checking packages against %s failed: %s", master, exc)
            self.show_status(self._failure(master, exc), error=True)
            return False
        if self.master_kind() == SERVER:
            remember_password(master, password)
        self._remember()
        self.checked = _Checked(master, packages, batch, labels)
        self._show_check()
        return True

    def policy(self) -> str:
        return self.policy_combo.currentData()

    def set_policy(self, policy: str) -> None:
        self.policy_combo.setCurrentIndex(POLICY_ORDER.index(policy))

    def _title(self, layer: str) -> str:
        definition = self.definitions.get(layer)
        return definition.title(self.language) if definition is not None else layer

    def _show_check(self) -> None:
        batch = self.checked.batch
        rows = []
        for result in batch.results:
            name = Path(result.other).name
            if result.already_applied:
                rows.append((name, _tr("(already applied: nothing to do)"), "", "", "", "", ""))
                continue
            refused: dict[str, int] = {}
            for r in result.rejected:
                refused[r["layer"]] = refused.get(r["layer"], 0) + 1
            shown = [(layer, c) for layer, c in result.layers.items()
                     if c.inserts or c.updates or c.deletes or c.conflicts or refused.get(layer)]
            if not shown:
                rows.append((name, _tr("(no changes)"), 0, 0, 0, 0, 0))
            for layer, c in shown:
                rows.append((name, self._title(layer), c.inserts, c.updates, c.deletes, c.conflicts,
                             refused.get(layer, 0)))
        self.counts.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                if column >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.counts.setItem(row, column, item)
        self.counts.setMaximumHeight(34 + 26 * max(1, min(len(rows), 8)))
        labels = {key: label for key, label in self.checked.labels.items() if label}
        for result in batch.results:
            if result.conflicts:
                table = ConflictTable(result.conflicts, self.definitions, labels, self.language, self.policy())
                self.tables[result.package_uuid] = table
                self.conflict_tabs.addTab(table, f"{Path(result.other).name} ({len(result.conflicts)})")
        conflicts = batch.conflicts
        applied = [r for r in batch.results if not r.already_applied]
        self.summary.setText(_tr("Master %s: version %d now, %d after the apply of %n package(s). Nothing has been "
                                 "written yet.", "", len(applied))
                             % (self._master_name(), batch.version_before or 0, batch.version_after or 0))
        if conflicts:
            self.conflict_note.setText(_tr(
                "%n conflict(s): the same field was changed in the field and at the office. Choose per field "
                "which value to keep; the other is kept in the package's report.", "", conflicts))
            self.conflict_tabs.show()
        else:
            self.conflict_note.setText(_tr("No conflicts: the packages merge cleanly with the master."))
            self.conflict_tabs.hide()
        self.review.setEnabled(True)
        self.apply_button.setEnabled(bool(applied))
        self.apply_button.setDefault(True)
        if not applied:
            self.show_status(_tr("Every package was applied to this master before: nothing to do."))
        else:
            self.show_status(_tr("Checked: review the conflicts, then Apply.") if conflicts
                             else _tr("Checked: nothing has been written yet. Apply writes it all in one go."))

    def _master_name(self) -> str:
        master = self.checked.master if self.checked is not None else ""
        return self.server.url() if self.master_kind() == SERVER else Path(master).name

    def _policy_changed(self) -> None:
        for table in self.tables.values():
            table.set_policy(self.policy())

    def table_of(self, package) -> ConflictTable:
        """The review of a package's conflicts, by its path."""
        for result in self.checked.batch.results:
            if Path(result.other) == Path(package):
                return self.tables[result.package_uuid]
        raise KeyError(package)

    # -- the apply -------------------------------------------------------------------------------------------

    def resolutions(self) -> dict:
        """By package uuid, the choice of each conflict shown (office, field or a typed value), with the values
        shown (checked again at apply)."""
        from layers.sync.resolutions import reviewed

        chosen = {}
        for result in self.checked.batch.results:
            table = self.tables.get(result.package_uuid)
            choices = table.choices() if table is not None else []
            chosen[result.package_uuid] = [reviewed(c, Side(choice) if isinstance(choice, str) else choice)
                                           for c, choice in zip(result.conflicts, choices, strict=True)]
        return chosen

    def apply(self) -> bool:
        """Apply every package in one transaction (progress with Cancel); accept the dialog when done."""
        if self.checked is None:
            self.show_status(_tr("Check the packages first."), error=True)
            return False
        master, packages = self.checked.master, self.checked.packages
        resolutions, policy = self.resolutions(), self.policy()
        folder = packages[0].parent

        def work(progress):
            from layers.sync.batch import apply_packages

            return apply_packages(master, packages, policy=policy, resolutions=resolutions, progress=progress,
                                  report_folder=folder)

        _log.info("applying %d change package(s) to %s (policy %s, %d conflicts reviewed)", len(packages), master,
                  policy, sum(len(v) for v in resolutions.values()))
        try:
            batch = run_cancellable(self, _tr("Apply the change packages"),
                                    _tr("Applying %n change package(s)…", "", len(packages)),
                                    lambda progress: with_password(master, lambda: work(progress))(),
                                    object_name="apply_progress")
        except Cancelled:
            self.show_status(_tr("Cancelled: nothing was written to the master."))
            return False
        except Exception as exc:  # one line; the master is as it was
            _log.info("applying packages to %s failed: %s", master, exc)
            self.show_status(self._failure(master, exc) + " " + _tr("Nothing was written: check again."),
                             error=True)
            return False
        self.applied = batch
        self.accept()
        return True
