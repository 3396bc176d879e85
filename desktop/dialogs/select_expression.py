"""Select features by a filter expression such as ``status = '停用' AND seats_male >= 4``.

The expression becomes a parameterised SQL condition: field names are
checked against the layer definition and every value is a bound parameter,
so no user text ever reaches SQL as code. The core's expression language
(``layers.schema.expressions.compile_filter``) is the one compiler.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QWidget,
)

from layers.schema.expressions import compile_filter

__all__ = ["SelectionMode", "compile_expression", "SelectByExpressionDialog"]


class SelectionMode(enum.Enum):
    """How the matching features combine with the current selection."""

    REPLACE = "replace"
    ADD = "add"
    REMOVE = "remove"
    WITHIN = "within"

    def combine(self, current: set, found: set) -> set:
        """The new selection from the current one and the features found."""
        if self is SelectionMode.ADD:
            return current | found
        if self is SelectionMode.REMOVE:
            return current - found
        if self is SelectionMode.WITHIN:
            return current & found
        return set(found)


def compile_expression(definition, text: str) -> tuple[str, tuple]:
    """Compile a filter expression on a layer to ``(sql condition, parameters)``.

    Raises
    ------
    ValueError
        The expression cannot be read or names an unknown field (the core's
        ``ExpressionError`` is a ``ValueError`` too).
    """
    compiled = compile_filter(text, ("fid", *definition.field_names))
    return compiled.sql, tuple(compiled.parameters)


class SelectByExpressionDialog(QDialog):
    """Type an expression on a layer's fields and select what matches.

    The field list and, for code-list fields, the values are one
    double-click away; the number of matching features (or the error) shows
    as you type.

    Parameters
    ----------
    definitions : list of LayerDefinition
        The layers that can be searched.
    count : callable(layer name, expression) -> int
        Counts the matches (raises ValueError on a bad expression).
    layer : str, optional
        The layer chosen first.
    language : str
        Language of titles and labels.
    """

    def __init__(self, definitions, count: Callable[[str, str], int], layer: str | None = None,
                 language: str = "zh_CN", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Select by expression"))
        self.resize(620, 420)
        self._definitions = {d.name: d for d in definitions}
        self._count = count
        self._language = language
        self.layer_combo = QComboBox()
        for d in definitions:
            self.layer_combo.addItem(d.title(language), d.name)
        if layer in self._definitions:
            self.layer_combo.setCurrentIndex(list(self._definitions).index(layer))
        self.mode_combo = QComboBox()
        for mode, text in ((SelectionMode.REPLACE, self.tr("New selection")),
                           (SelectionMode.ADD, self.tr("Add to selection")),
                           (SelectionMode.REMOVE, self.tr("Remove from selection")),
                           (SelectionMode.WITHIN, self.tr("Select within selection"))):
            self.mode_combo.addItem(text, mode)
        self.fields = QListWidget()
        self.values = QListWidget()
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("status = '停用' AND seats_male >= 4")
        self.editor.setTabChangesFocus(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Close)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Select"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow(self.tr("Layer"), self.layer_combo)
        form.addRow(self.tr("Mode"), self.mode_combo)
        grid = QGridLayout(self)
        grid.addLayout(form, 0, 0, 1, 2)
        grid.addWidget(QLabel(self.tr("Fields (double-click to insert)")), 1, 0)
        grid.addWidget(QLabel(self.tr("Values")), 1, 1)
        grid.addWidget(self.fields, 2, 0)
        grid.addWidget(self.values, 2, 1)
        grid.addWidget(QLabel(self.tr("Expression")), 3, 0, 1, 2)
        grid.addWidget(self.editor, 4, 0, 1, 2)
        grid.addWidget(self.status, 5, 0, 1, 2)
        grid.addWidget(self.buttons, 6, 0, 1, 2)
        grid.setRowStretch(2, 2)
        grid.setRowStretch(4, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.update_count)
        self.layer_combo.currentIndexChanged.connect(self._layer_changed)
        self.fields.currentItemChanged.connect(self._field_changed)
        self.fields.itemDoubleClicked.connect(lambda item: self._insert(item.data(Qt.ItemDataRole.UserRole)))
        self.values.itemDoubleClicked.connect(lambda item: self._insert(item.data(Qt.ItemDataRole.UserRole)))
        self.editor.textChanged.connect(self._timer.start)
        self._layer_changed()

    # -- results ------------------------------------------------------------------

    def layer(self) -> str:
        """The chosen layer's name."""
        return self.layer_combo.currentData()

    def expression(self) -> str:
        """The expression typed."""
        return self.editor.toPlainText().strip()

    def set_expression(self, text: str) -> None:
        self.editor.setPlainText(text)

    def mode(self) -> SelectionMode:
        """How the result combines with the current selection."""
        return self.mode_combo.currentData()

    # -- behaviour --------------------------------------------------------------------

    def update_count(self) -> int | None:
        """Count the matches of the current expression and show it (or the error)."""
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        text = self.expression()
        if not text:
            self.status.setText("")
            ok.setEnabled(False)
            return None
        try:
            n = self._count(self.layer(), text)
        except ValueError as e:
            self.status.setText(self.tr("Cannot use this expression: %s") % e)
            self.status.setStyleSheet("color: #b00020")
            ok.setEnabled(False)
            return None
        self.status.setStyleSheet("")
        self.status.setText(self.tr("%n feature(s) match", "", n))
        ok.setEnabled(True)
        return n

    def accept(self) -> None:
        self._timer.stop()
        if self.update_count() is None:
            return
        super().accept()

    def _layer_changed(self) -> None:
        definition = self._definitions[self.layer()]
        self.fields.clear()
        for f in definition.fields:
            item = QListWidgetItem(f"{f.name}  —  {f.label(self._language)}")
            item.setData(Qt.ItemDataRole.UserRole, f.name)
            self.fields.addItem(item)
        self.values.clear()
        self._timer.start()

    def _field_changed(self, current, _previous=None) -> None:
        self.values.clear()
        if current is None:
            return
        f = self._definitions[self.layer()].field(current.data(Qt.ItemDataRole.UserRole))
        if f.codes:
            for code in f.codes:
                item = QListWidgetItem(f"'{code.value}'  —  {code.label(self._language)}")
                item.setData(Qt.ItemDataRole.UserRole, "'" + str(code.value).replace("'", "''") + "'")
                self.values.addItem(item)
        elif f.type == "boolean":
            for word in ("TRUE", "FALSE"):
                item = QListWidgetItem(word)
                item.setData(Qt.ItemDataRole.UserRole, word)
                self.values.addItem(item)

    def _insert(self, text: str) -> None:
        cursor = self.editor.textCursor()
        before = self.editor.toPlainText()[:cursor.position()]
        cursor.insertText(("" if not before or before.endswith(" ") else " ") + text + " ")
        self.editor.setFocus()
