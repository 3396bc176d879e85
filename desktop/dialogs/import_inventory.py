"""File > Import inventory…: a source file, its column mapping, a preview, the validation report.

The dialog is a view on ``layers.imports``: the core reads the source
(``open_source``), suggests the mapping (``suggest_mapping``) and checks every
row (``plan_import``); the dialog shows what it found and lets the user change
which column feeds which field. It writes nothing: the caller turns the
accepted plan into one undoable command.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import shapely
from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from layers.errors import Cancelled, TongchengError
from layers.imports.coordinates import Reprojector, parse_source_crs
from layers.imports.importer import ImportPlan, plan_import
from layers.imports.mapping import Mapping, parse_mapping, suggest_mapping
from layers.imports.sources import Source, open_source

__all__ = ["ImportInventoryDialog", "PointPreview", "PREVIEW_ROWS"]

# Rows of the source shown in the preview table.
PREVIEW_ROWS = 20
# Source CRS choices offered (the file's own CRS comes first when it has one).
SOURCE_CRS_CHOICES = ("EPSG:4326", "EPSG:4490", "gcj02", "bd09", "EPSG:4544")
_NO_COLUMN = ""


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("ImportInventoryDialog", text, disambiguation, n)


class PointPreview(QWidget):
    """The checked rows' geometries as dots in their own extent: green rows pass, red rows break a rule."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(260, 200)
        self.good: list[tuple[float, float]] = []
        self.bad: list[tuple[float, float]] = []

    def set_points(self, good: list[tuple[float, float]], bad: list[tuple[float, float]]) -> None:
        self.good, self.bad = good, bad
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#fbfbf8"))
        points = self.good + self.bad
        if not points:
            painter.setPen(QColor("#777777"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, _tr("Check the rows to see them here"))
            painter.end()
            return
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        span = max(x1 - x0, y1 - y0) or 1.0
        area = QRectF(self.rect()).adjusted(12, 12, -12, -12)
        scale = min(area.width(), area.height()) / span
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#cccccc"), 1))
        painter.drawRect(area)
        for group, color in ((self.good, QColor("#1b9e77")), (self.bad, QColor("#d7301f"))):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(color))
            for x, y in group:
                sx = area.center().x() + (x - cx) * scale
                sy = area.center().y() - (y - cy) * scale
                painter.drawEllipse(QPointF(sx, sy), 3.0, 3.0)
        painter.end()


class ImportInventoryDialog(QDialog):
    """Choose a source file and a layer, map the columns, check the rows, then import.

    Signals
    -------
    checked(object)
        After every check: the ImportPlan.
    """

    checked = Signal(object)

    def __init__(self, workspace, layers: list[tuple[str, str]], language: str = "zh_CN",
                 folder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("import_inventory_dialog")
        self.workspace = workspace
        self.language = language
        self.folder = folder
        self.source: Source | None = None
        self.mapping: Mapping | None = None
        self.plan: ImportPlan | None = None
        self.setWindowTitle(_tr("Import inventory"))
        self.resize(980, 680)

        self.path_edit = QLineEdit()
        self.path_edit.setReadOnly(True)
        self.browse_button = QPushButton(_tr("Browse…"))
        self.browse_button.clicked.connect(self.browse)
        self.layer_combo = QComboBox()
        for name, title in layers:
            self.layer_combo.addItem(title, name)
        self.layer_combo.currentIndexChanged.connect(lambda _i: self._suggest())
        self.crs_combo = QComboBox()
        self.crs_combo.setEditable(True)
        self.x_combo = QComboBox()
        self.y_combo = QComboBox()
        self.key_combo = QComboBox()
        self.key_combo.currentIndexChanged.connect(lambda _i: self._invalidate())
        self.skip_invalid = QCheckBox(_tr("Import the rows that pass, leave out the others"))
        self.skip_invalid.toggled.connect(lambda _on: self._update_buttons())
        self.check_button = QPushButton(_tr("Check rows"))
        self.check_button.clicked.connect(self.check)

        file_row = QHBoxLayout()
        file_row.addWidget(self.path_edit, 1)
        file_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow(_tr("File:"), file_row)
        form.addRow(_tr("Layer:"), self.layer_combo)
        form.addRow(_tr("Source CRS:"), self.crs_combo)
        coordinates = QHBoxLayout()
        coordinates.addWidget(QLabel(_tr("x / longitude:")))
        coordinates.addWidget(self.x_combo, 1)
        coordinates.addWidget(QLabel(_tr("y / latitude:")))
        coordinates.addWidget(self.y_combo, 1)
        self.coordinates_row = QWidget()
        self.coordinates_row.setLayout(coordinates)
        coordinates.setContentsMargins(0, 0, 0, 0)
        form.addRow(_tr("Coordinate columns:"), self.coordinates_row)
        form.addRow(_tr("Update features whose field matches:"), self.key_combo)

        self.mapping_table = QTableWidget(0, 2)
        self.mapping_table.setHorizontalHeaderLabels([_tr("Field"), _tr("Source column")])
        self.mapping_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.mapping_table.verticalHeader().setVisible(False)
        self.preview_table = QTableWidget(0, 0)
        self.preview_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.report_table = QTableWidget(0, 5)
        self.report_table.setHorizontalHeaderLabels(
            [_tr("Row"), _tr("Field"), _tr("Column"), _tr("Value"), _tr("Problem")])
        self.report_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.report_table.horizontalHeader().setStretchLastSection(True)
        self.points = PointPreview()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.preview_table, _tr("First rows"))
        self.tabs.addTab(self.points, _tr("Points"))
        self.tabs.addTab(self.report_table, _tr("Validation report"))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel(_tr("Column mapping (suggested from the names; change any):")))
        left_layout.addWidget(self.mapping_table)
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setSizes([340, 640])

        self.summary = QLabel(_tr("Choose a file to import."))
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(_tr("Import"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.check_button)
        bottom.addWidget(self.skip_invalid)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.summary)
        layout.addLayout(bottom)
        self._update_buttons()

    # -- the source ---------------------------------------------------------------------

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, _tr("Import inventory"), self.folder,
            _tr("Inventories (*.shp *.geojson *.json *.gpkg *.fgb *.kml *.kmz *.csv *.txt *.xlsx);;All files (*)"))
        if path:
            self.set_file(path)

    def set_file(self, path: str) -> bool:
        """Read the file (the core's reader), suggest a mapping, show the first rows; False if it cannot be read."""
        try:
            source = open_source(path)
        except TongchengError as e:
            self.source = None
            self.summary.setText(str(e))
            self._update_buttons()
            return False
        self.source = source
        self.path_edit.setText(str(Path(path)))
        self.crs_combo.clear()
        choices = [source.crs] if source.crs else []
        choices += [c for c in SOURCE_CRS_CHOICES if c not in choices]
        self.crs_combo.addItems(choices)
        self._fill_preview()
        self._suggest()
        return True

    def layer(self) -> str:
        return self.layer_combo.currentData()

    def set_layer(self, name: str) -> None:
        self.layer_combo.setCurrentIndex(self.layer_combo.findData(name))

    def _fill_preview(self) -> None:
        source = self.source
        assert source is not None
        table = self.preview_table
        table.clear()
        table.setColumnCount(len(source.columns))
        table.setHorizontalHeaderLabels(source.columns)
        shown = source.rows[:PREVIEW_ROWS]
        table.setRowCount(len(shown))
        table.setVerticalHeaderLabels([str(row.number) for row in shown])
        for r, row in enumerate(shown):
            for c, column in enumerate(source.columns):
                value = row.values.get(column)
                table.setItem(r, c, QTableWidgetItem("" if value is None else str(value)))
        table.resizeColumnsToContents()

    def _suggest(self) -> None:
        """Prefill the mapping table and the coordinate columns from the core's suggested mapping."""
        if self.source is None or self.layer() is None:
            return
        definition = self.workspace.layer(self.layer())
        self.mapping = parse_mapping(tomllib.loads(suggest_mapping(self.source, definition)),
                                     _tr("the suggested mapping"))
        columns = [_NO_COLUMN, *self.source.columns]
        fields = [f for f in definition.fields if not f.derived]
        table = self.mapping_table
        table.setRowCount(len(fields))
        for r, f in enumerate(fields):
            item = QTableWidgetItem(f"{f.label(self.language)} ({f.name})" + (" *" if f.required else ""))
            item.setData(Qt.ItemDataRole.UserRole, f.name)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            table.setItem(r, 0, item)
            combo = QComboBox()
            combo.addItems(columns)
            combo.setCurrentText(self.mapping.fields.get(f.name, _NO_COLUMN))
            combo.currentIndexChanged.connect(lambda _i: self._invalidate())
            table.setCellWidget(r, 1, combo)
        self.key_combo.blockSignals(True)
        self.key_combo.clear()
        self.key_combo.addItem(_tr("(none: every row is a new feature)"), None)
        self.key_combo.addItem("uuid", "uuid")
        for f in fields:
            self.key_combo.addItem(f"{f.label(self.language)} ({f.name})", f.name)
        self.key_combo.setCurrentIndex(max(self.key_combo.findData(self.mapping.key), 0))
        self.key_combo.blockSignals(False)
        table_source = self.source.kind == "table"
        self.coordinates_row.setEnabled(table_source)
        for combo, chosen in ((self.x_combo, self.mapping.x), (self.y_combo, self.mapping.y)):
            combo.clear()
            combo.addItems(columns)
            combo.setCurrentText(chosen or _NO_COLUMN)
        if self.mapping.source_crs:
            self.crs_combo.setCurrentText(self.mapping.source_crs)
        self._invalidate()

    # -- the mapping and the check --------------------------------------------------------

    def column_for(self, field: str) -> str:
        """The source column the mapping table gives a field ('' for none)."""
        for r in range(self.mapping_table.rowCount()):
            if self.mapping_table.item(r, 0).data(Qt.ItemDataRole.UserRole) == field:
                return self.mapping_table.cellWidget(r, 1).currentText()
        raise KeyError(field)

    def set_column(self, field: str, column: str) -> None:
        for r in range(self.mapping_table.rowCount()):
            if self.mapping_table.item(r, 0).data(Qt.ItemDataRole.UserRole) == field:
                self.mapping_table.cellWidget(r, 1).setCurrentText(column)
                return
        raise KeyError(field)

    def current_mapping(self) -> Mapping:
        """The mapping as the table now says (value maps and constants of the suggestion kept)."""
        assert self.mapping is not None
        fields = {}
        for r in range(self.mapping_table.rowCount()):
            column = self.mapping_table.cellWidget(r, 1).currentText()
            if column:
                fields[self.mapping_table.item(r, 0).data(Qt.ItemDataRole.UserRole)] = column
        values = {name: v for name, v in self.mapping.values.items() if name in fields}
        data = {"layer": self.layer(), "fields": fields, "values": values}
        if self.key_combo.currentData():
            data["key"] = self.key_combo.currentData()
        if self.source is not None and self.source.kind == "table":
            data["x"], data["y"] = self.x_combo.currentText(), self.y_combo.currentText()
        return parse_mapping(data, _tr("the mapping of the dialog"))

    def check(self) -> ImportPlan | None:
        """Check every row with the mapping of the table (the core's plan_import); show the report and points."""
        if self.source is None:
            return None
        total = len(self.source.rows)
        progress = QProgressDialog(_tr("Checking %n row(s)…", "", total), _tr("Cancel"), 0, total, self)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(500)

        def advance(done: int) -> None:
            progress.setValue(done)
            QCoreApplication.processEvents()
            if progress.wasCanceled():
                raise Cancelled("the check was cancelled")

        try:
            plan = plan_import(self.workspace, self.layer(), self.source, self.current_mapping(),
                               source_crs=self.crs_combo.currentText().strip() or None, progress=advance)
        except Cancelled:
            self._invalidate()
            self.summary.setText(_tr("Check cancelled."))
            return None
        except TongchengError as e:
            self._invalidate()
            self.summary.setText(str(e))
            return None
        finally:
            progress.reset()
            progress.deleteLater()
        self.plan = plan
        self._fill_report(plan)
        self._update_buttons()
        self.checked.emit(plan)
        return plan

    def _fill_report(self, plan: ImportPlan) -> None:
        report = self.report_table
        report.setRowCount(len(plan.problems))
        for r, p in enumerate(plan.problems):
            for c, value in enumerate((p.row, p.field, p.column, p.value, p.message)):
                report.setItem(r, c, QTableWidgetItem("" if value is None else str(value)))
        report.resizeColumnsToContents()
        good = [(g.x, g.y) for g in (row.geometry for row in plan.rows)
                if g is not None and g.geom_type == "Point" and math.isfinite(g.x)]
        bad_rows = set(plan.invalid_rows)
        bad = []
        if self.source is not None and self.source.kind == "table" and self.x_combo.currentText():
            # Rows that break a rule are drawn where their coordinates say (when they are numbers at all).
            reproject = Reprojector(parse_source_crs(plan.source_crs), self.workspace.crs)
            for row in self.source.rows:
                if row.number in bad_rows:
                    try:
                        x = float(row.values.get(self.x_combo.currentText()))
                        y = float(row.values.get(self.y_combo.currentText()))
                    except (TypeError, ValueError):
                        continue
                    moved, why = reproject(shapely.Point(x, y))
                    if why is None:
                        bad.append((moved.x, moved.y))
        self.points.set_points(good, bad)
        new = _tr("%n new", "", plan.new)
        matching = _tr("%n matching a feature", "", plan.matched)
        crs = _tr("source CRS %s") % plan.source_crs
        text = (_tr("%n row(s) checked", "", plan.total) + ": " + _tr("%n pass", "", len(plan.rows))
                + " (" + new + ", " + matching + "), " + _tr("%n break a rule", "", len(plan.invalid_rows))
                + " (" + crs + ")")
        self.summary.setText(text)
        if plan.problems:
            self.tabs.setCurrentWidget(self.report_table)

    def _invalidate(self) -> None:
        self.plan = None
        self._update_buttons()

    def _update_buttons(self) -> None:
        plan = self.plan
        ready = plan is not None and bool(plan.rows) and (not plan.problems or self.skip_invalid.isChecked())
        self.import_button.setEnabled(ready)
        self.check_button.setEnabled(self.source is not None)
        if plan is None and self.source is not None:
            self.summary.setText(_tr("Press Check rows to check every row against the layer's rules."))
