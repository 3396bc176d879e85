"""Help > About (version, the bundled libraries and their licences), Help > Keyboard shortcuts, the guide (F1)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, qVersion
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

__all__ = ["AboutDialog", "ShortcutsDialog", "GuideDialog", "bundled_libraries", "shortcut_rows"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("HelpDialogs", text)


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "—"


def bundled_libraries() -> list[tuple[str, str, str]]:
    """[(library, version, licence)] of what the editor ships with."""
    import numpy
    import pyproj
    import shapely

    try:
        import fiona

        gdal = fiona.__gdal_version__
    except ImportError:  # pragma: no cover - fiona is a dependency
        gdal = "—"
    return [
        ("Tongcheng", _version("tongcheng"), "MIT"),
        ("Qt", qVersion(), "LGPL-3.0"),
        ("PySide6 (Qt for Python)", _version("PySide6-Essentials"), "LGPL-3.0"),
        ("Shapely", shapely.__version__, "BSD-3-Clause"),
        ("GEOS", shapely.geos_version_string, "LGPL-2.1"),
        ("pyproj", pyproj.__version__, "MIT"),
        ("PROJ", pyproj.proj_version_str, "MIT"),
        ("Fiona", _version("fiona"), "BSD-3-Clause"),
        ("GDAL", gdal, "MIT"),
        ("NumPy", numpy.__version__, "BSD-3-Clause"),
        ("SQLite", "", _tr("Public domain")),
        ("SpatiaLite", "", "MPL-1.1 / GPL-2.0+ / LGPL-2.1+"),
        ("platformdirs", _version("platformdirs"), "MIT"),
        ("tqdm", _version("tqdm"), "MPL-2.0 / MIT"),
        ("WenQuanYi Micro Hei", "", "Apache-2.0"),
    ]


def _table(headers: list[str], rows: list[tuple[str, ...]]) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    return table


class AboutDialog(QDialog):
    """The editor's version and the libraries it bundles, with their licences."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("about_dialog")
        self.setWindowTitle(_tr("About Tongcheng"))
        layout = QVBoxLayout(self)
        self.headline = QLabel(_tr("<b>Tongcheng 同城</b> %s<br>Street-facility inventory editor. MIT licence.")
                               % _version("tongcheng"))
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.headline)
        layout.addWidget(QLabel(_tr("Bundled libraries and their licences:")))
        self.libraries = _table([_tr("Library"), _tr("Version"), _tr("Licence")], bundled_libraries())
        layout.addWidget(self.libraries, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(560, 460)


def shortcut_rows(actions) -> list[tuple[str, str]]:
    """[(what, keys)] of the actions that have a shortcut, as the menus name them, in the menus' order."""
    rows = []
    for action in actions:
        keys = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts() if not s.isEmpty()]
        if keys and action.text():
            rows.append((action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…"),
                         ", ".join(keys)))
    return rows


class ShortcutsDialog(QDialog):
    """Every keyboard shortcut of the window's actions."""

    def __init__(self, actions, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("shortcuts_dialog")
        self.setWindowTitle(_tr("Keyboard shortcuts"))
        layout = QVBoxLayout(self)
        rows = shortcut_rows(actions)
        rows.append((_tr("Open the form of the selected features"), "Enter"))
        rows.append((_tr("Edit a feature's attributes"), _tr("Double-click")))
        self.table = _table([_tr("Action"), _tr("Keys")], rows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(480, 520)


class GuideDialog(QDialog):
    """The README's guides, shown offline (F1)."""

    def __init__(self, readme: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("guide_dialog")
        self.setWindowTitle(_tr("Tongcheng guide"))
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(readme.read_text(encoding="utf-8"))
        layout.addWidget(self.browser, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(760, 600)
