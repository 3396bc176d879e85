"""Editors for one attribute each, chosen by the field's type in the layer definition.

Every editor has ``field_value()`` (the Python value: str, int, float, bool,
``datetime.date``, aware ``datetime.datetime`` or None for empty),
``set_field_value(value)`` (accepts the stored form too: ISO text, 0/1) and a
``fieldEdited`` signal emitted when the user changes it. The feature form and
the attribute table's delegate both build their editors with ``create_editor``.
The photo editor lives in ``photo_editor.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from PySide6.QtCore import QCoreApplication, QDate, QDateTime, QEvent, QObject, Qt, QTime, QTimeZone, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QStyledItemDelegate,
    QToolButton,
    QWidget,
)

from .photo_editor import IMAGE_FILTER, THUMBNAIL_SIZE, PhotoEditor

__all__ = [
    "create_editor",
    "CodeComboBox",
    "TextEditor",
    "IntegerEditor",
    "RealEditor",
    "BooleanEditor",
    "DateEditor",
    "DateTimeEditor",
    "JsonViewer",
    "PhotoEditor",
    "FieldDelegate",
    "IMAGE_FILTER",
    "THUMBNAIL_SIZE",
]

INT_LIMIT = 2**31 - 2  # QSpinBox holds a C int; one below is kept for "empty"
REAL_LIMIT = 1e12
REAL_DECIMALS = 6
EMPTY_DATE = QDate(1752, 9, 14)  # QDateEdit's own minimum: stands for "no date"


# --- code lists ---------------------------------------------------------------------------


class CodeComboBox(QComboBox):
    """A code list: shows the labels in the language, stores the value.

    Not required fields start with an empty entry. A stored value missing
    from the list (old data) is shown as it is, so it is neither lost nor
    silently replaced.
    """

    fieldEdited = Signal()

    def __init__(self, field, language="zh_CN", parent=None):
        super().__init__(parent)
        self.field = field
        if not field.required:
            self.addItem("", None)
        for code in field.codes:
            self.addItem(code.label(language), code.value)
            if code.label(language) != code.value:
                self.setItemData(self.count() - 1, code.value, Qt.ItemDataRole.ToolTipRole)
        self.activated.connect(lambda _index: self.fieldEdited.emit())

    def field_value(self):
        return self.currentData()

    def set_field_value(self, value):
        index = self.findData(value)
        if index < 0 and value is not None:
            self.addItem(str(value), value)
            index = self.count() - 1
        if index < 0:
            index = 0 if not self.field.required else -1
        self.setCurrentIndex(index)


# --- text ------------------------------------------------------------------------------------


class TextEditor(QLineEdit):
    """One line of text, limited to the field's max_length; empty is None."""

    fieldEdited = Signal()

    def __init__(self, field, language="zh_CN", parent=None):
        super().__init__(parent)
        self.field = field
        if field.max_length:
            self.setMaxLength(int(field.max_length))
        self.textEdited.connect(lambda _text: self.fieldEdited.emit())

    def field_value(self):
        text = self.text().strip()
        return text or None

    def set_field_value(self, value):
        if value is not None and self.field.max_length and len(str(value)) > self.maxLength():
            self.setMaxLength(len(str(value)))  # show old over-long data whole; validation names it
        self.setText("" if value is None else str(value))
        self.setCursorPosition(0)


# --- numbers -------------------------------------------------------------------------------------


class _OptionalNumber:
    """Mixin for spin boxes that may be empty: the value below the range stands for None.

    A number is never bent to fit the field's range: a value typed (or
    stored) outside it widens the spin box's own range so it is kept as it
    is, and the form's validation (the core's rule) names the broken limit.
    Text that is not a number cannot be typed at all.
    """

    _optional = False  # until _setup (Qt calls the overrides below while constructing)
    _low, _high = float("-inf"), float("inf")

    def _setup(self, field, low, high):
        self.field = field
        self._optional = not field.required
        self._low, self._high = low, high
        self._apply_range(low, high)
        if self._optional:
            self.setValue(self.minimum())
            self.lineEdit().setPlaceholderText(QCoreApplication.translate("FieldEditor", "empty"))
        self.setKeyboardTracking(True)
        self.setAccelerated(True)
        self._setting = False
        self.valueChanged.connect(self._value_changed)

    def _value_changed(self, _value):
        if not self._setting:
            self.fieldEdited.emit()

    def _apply_range(self, low, high):
        self.setRange(self._empty_value(low) if self._optional else low, high)

    def _empty_value(self, low):
        return low - 1

    def _hold(self, value):
        """Widen the range to hold ``value`` (never clamp what the user typed or what is stored)."""
        low, high = min(self._low, value), max(self._high, value)
        if (low, high) != (self._low, self._high):
            self._low, self._high = low, high
            self._apply_range(low, high)

    def allow_empty(self):
        """Let a required number be empty too (a "mixed" field of several features edited at once)."""
        if self._optional:
            return
        self._optional = True
        self._setting = True
        try:
            self._apply_range(self._low, self._high)
            self.setValue(self.minimum())
        finally:
            self._setting = False

    def is_empty(self):
        return self._optional and self.value() == self.minimum()

    def field_value(self):
        if self.is_empty():
            return None
        return self._python(self.value())

    def set_field_value(self, value):
        self._setting = True
        try:
            if value is None or value == "":
                if self._optional:
                    self.setValue(self.minimum())
                return
            value = self._python(value)
            # Old data outside the range is shown as it is (validation then names it), never clamped silently.
            self._hold(value)
            self.setValue(value)
        finally:
            self._setting = False

    def textFromValue(self, value):
        if self._optional and value == self.minimum():
            return ""
        return self._text(value)

    def valueFromText(self, text):
        text = text.strip()
        if self._optional and not text:
            return self.minimum()
        return self._parse(text)

    def validate(self, text, position):
        if self._optional and not text.strip():
            return QValidator.State.Acceptable, text, position
        return self._validate(text, position)

    def stepBy(self, steps):
        if self.is_empty():  # stepping from empty starts at the bottom of the range (or 0 inside it)
            self.setValue(max(self._low, min(self._high, 0)))
            return
        super().stepBy(steps)


class IntegerEditor(_OptionalNumber, QSpinBox):
    """A whole number within the field's min and max; empty allowed when not required."""

    fieldEdited = Signal()

    def __init__(self, field, language="zh_CN", parent=None):
        QSpinBox.__init__(self, parent)
        low = int(field.min) if field.min is not None else -INT_LIMIT
        high = int(field.max) if field.max is not None else INT_LIMIT
        self._setup(field, low, high)

    _python = staticmethod(int)

    def _text(self, value):
        return str(value)

    def _parse(self, text):
        try:
            return int(text)
        except ValueError:
            return self.minimum()

    def _validate(self, text, position):
        if not re.fullmatch(r"[-+]?\d*", text.strip()):
            return QValidator.State.Invalid, text, position  # not a whole number: not typed at all
        try:
            value = int(text)
        except ValueError:  # "-" on the way to a number
            return QValidator.State.Intermediate, text, position
        if abs(value) > INT_LIMIT:
            return QValidator.State.Invalid, text, position
        self._hold(value)  # out of the field's range: kept as typed, the form names the limit
        return QValidator.State.Acceptable, text, position


class RealEditor(_OptionalNumber, QDoubleSpinBox):
    """A number within the field's min and max, shown without trailing zeros; empty allowed when not required."""

    fieldEdited = Signal()

    def __init__(self, field, language="zh_CN", parent=None):
        QDoubleSpinBox.__init__(self, parent)
        self.setDecimals(REAL_DECIMALS)
        low = float(field.min) if field.min is not None else -REAL_LIMIT
        high = float(field.max) if field.max is not None else REAL_LIMIT
        self._setup(field, low, high)
        self.setSingleStep(0.1 if (high - low) <= 1000 else 1.0)

    _python = staticmethod(float)

    def _empty_value(self, low):
        return low - 1.0

    def _text(self, value):
        text = f"{value:.{REAL_DECIMALS}f}".rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text

    def _parse(self, text):
        try:
            return float(text.replace(",", "."))
        except ValueError:
            return self.minimum()

    def _validate(self, text, position):
        stripped = text.strip().replace(",", ".")
        if not re.fullmatch(r"[-+]?\d*\.?\d*", stripped):
            return QValidator.State.Invalid, text, position  # not a number: not typed at all
        try:
            value = float(stripped)
        except ValueError:  # "-" or "." on the way to a number
            return QValidator.State.Intermediate, text, position
        if abs(value) > REAL_LIMIT:
            return QValidator.State.Invalid, text, position
        self._hold(value)  # out of the field's range: kept as typed, the form names the limit
        return QValidator.State.Acceptable, text, position


# --- booleans -----------------------------------------------------------------------------------


class BooleanEditor(QCheckBox):
    """A check box; a field that is not required has a third state for "empty"."""

    fieldEdited = Signal()

    def __init__(self, field, language="zh_CN", parent=None):
        super().__init__(parent)
        self.field = field
        self.setTristate(not field.required)
        self.clicked.connect(lambda _checked: self.fieldEdited.emit())

    def field_value(self):
        state = self.checkState()
        if state == Qt.CheckState.PartiallyChecked:
            return None
        return state == Qt.CheckState.Checked

    def set_field_value(self, value):
        if value is None:
            self.setCheckState(Qt.CheckState.PartiallyChecked if self.isTristate() else Qt.CheckState.Unchecked)
        else:
            if isinstance(value, str):
                value = value.strip().lower() in ("1", "true", "yes", "是")
            self.setCheckState(Qt.CheckState.Checked if value else Qt.CheckState.Unchecked)


# --- dates ----------------------------------------------------------------------------------------


class _CalendarPage(QObject):
    """Opens an empty date's calendar on the current month rather than on the "empty" sentinel."""

    def __init__(self, editor):
        super().__init__(editor)
        self._editor = editor

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Show and self._editor.is_empty():
            today = QDate.currentDate()
            watched.setCurrentPage(today.year(), today.month())
        return False


class _DateLike(QWidget):
    """A QDateEdit / QDateTimeEdit with a calendar popup and a button to empty it."""

    fieldEdited = Signal()

    def __init__(self, field, edit, parent=None):
        super().__init__(parent)
        self.field = field
        self.edit = edit
        edit.setCalendarPopup(True)
        edit.setMinimumDate(EMPTY_DATE)
        edit.setSpecialValueText(" ")
        self.clear_button = QToolButton(self)
        self.clear_button.setText("×")
        self.clear_button.setToolTip(QCoreApplication.translate("FieldEditor", "Clear the date"))
        self.clear_button.setAutoRaise(True)
        self.clear_button.clicked.connect(self._clear)
        self.clear_button.setVisible(not field.required)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(edit, 1)
        layout.addWidget(self.clear_button)
        self.setFocusProxy(edit)
        edit.calendarWidget().installEventFilter(_CalendarPage(self))
        # Bound methods, not a lambda or our signal's emit: the connection goes with this widget. The inner
        # editor reports "editing finished" while a closed form is deleted (seen with the focus left in the box
        # before it); re-emitting our signal then, from a half-destroyed widget, raised a TypeError in Qt's loop.
        edit.editingFinished.connect(self._editing_finished)
        edit.calendarWidget().clicked.connect(self._date_clicked)
        self._clear()

    def _clear(self):
        self.edit.setDate(EMPTY_DATE)
        self.fieldEdited.emit()

    def _editing_finished(self):
        self.fieldEdited.emit()

    def _date_clicked(self, _date):
        self.fieldEdited.emit()

    def is_empty(self):
        return self.edit.date() == EMPTY_DATE


class DateEditor(_DateLike):
    """A date with a calendar popup; empty (None) when cleared."""

    def __init__(self, field, language="zh_CN", parent=None):
        edit = QDateEdit()
        edit.setDisplayFormat("yyyy-MM-dd")
        super().__init__(field, edit, parent)

    def field_value(self):
        if self.is_empty():
            return None
        date = self.edit.date()
        return dt.date(date.year(), date.month(), date.day())

    def set_field_value(self, value):
        if value in (None, ""):
            self.edit.setDate(EMPTY_DATE)
            return
        if isinstance(value, str):
            value = dt.date.fromisoformat(value.strip()[:10])
        self.edit.setDate(QDate(value.year, value.month, value.day))


class DateTimeEditor(_DateLike):
    """A date and time in UTC (as stored) with a calendar popup; empty (None) when cleared."""

    def __init__(self, field, language="zh_CN", parent=None):
        edit = QDateTimeEdit()
        edit.setTimeZone(QTimeZone.utc())
        edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        super().__init__(field, edit, parent)

    def field_value(self):
        if self.is_empty():
            return None
        value = self.edit.dateTime().toUTC()
        date, time = value.date(), value.time()
        return dt.datetime(date.year(), date.month(), date.day(), time.hour(), time.minute(), time.second(),
                           time.msec() * 1000, tzinfo=dt.UTC)

    def set_field_value(self, value):
        if value in (None, ""):
            self.edit.setDate(EMPTY_DATE)
            return
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        self.edit.setDateTime(QDateTime(QDate(value.year, value.month, value.day),
                                        QTime(value.hour, value.minute, value.second, value.microsecond // 1000),
                                        QTimeZone.utc()))


# --- json ------------------------------------------------------------------------------------------


class JsonViewer(QPlainTextEdit):
    """A JSON object, pretty-printed and read-only."""

    fieldEdited = Signal()

    def __init__(self, field, language="zh_CN", parent=None):
        super().__init__(parent)
        self.field = field
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setMaximumHeight(140)
        self._value = None

    def field_value(self):
        return self._value

    def set_field_value(self, value):
        self._value = value
        if value in (None, ""):
            self.setPlainText("")
            return
        try:
            parsed = json.loads(value) if isinstance(value, str) else value
            self.setPlainText(json.dumps(parsed, ensure_ascii=False, indent=2, sort_keys=True))
        except (TypeError, ValueError):
            self.setPlainText(str(value))


# --- the factory --------------------------------------------------------------------------------------


def create_editor(field, parent=None, *, language="zh_CN", attachments_folder=None):
    """The editor for a field of a layer definition.

    Parameters
    ----------
    field : layers.schema.definitions.FieldDefinition
    parent : QWidget, optional
    language : str
        Language of code-list labels.
    attachments_folder : path-like, optional
        Where a photo field copies chosen images.
    """
    if field.codes:
        return CodeComboBox(field, language, parent)
    if field.type == "photo":
        return PhotoEditor(field, language, parent, attachments_folder=attachments_folder)
    kind = {
        "text": TextEditor,
        "integer": IntegerEditor,
        "real": RealEditor,
        "boolean": BooleanEditor,
        "date": DateEditor,
        "datetime": DateTimeEditor,
        "json": JsonViewer,
    }[field.type]
    return kind(field, language, parent)


class FieldDelegate(QStyledItemDelegate):
    """Cell editors for an AttributeTableModel: the same editors as the feature form.

    The model's ``field_at(column)`` gives the field of a column; the editor
    starts from the cell's raw value and hands its value back through
    ``setData`` (the model turns that into an ``editRequested`` signal).
    Booleans are edited by their check box, not by an editor.
    """

    def __init__(self, language="zh_CN", parent=None):
        super().__init__(parent)
        self.language = language
        self._typed: dict[tuple[int, int], object] = {}  # (row, column) -> a refused value, kept as typed

    def keep_typed(self, row: int, column: int, value) -> None:
        """The next editor of this cell starts from *value* (an edit that was refused), not the stored one."""
        self._typed[(row, column)] = value

    def _field(self, index):
        model = index.model()
        field_at = getattr(model, "field_at", None)
        return field_at(index.column()) if field_at else None

    def createEditor(self, parent, option, index):
        field = self._field(index)
        if field is None or field.type in ("boolean", "photo", "json") or field.derived:
            return super().createEditor(parent, option, index)
        editor = create_editor(field, parent, language=self.language)
        editor.setAutoFillBackground(True)
        if isinstance(editor, CodeComboBox):  # a code chosen from the drop-down is the edit
            editor.activated.connect(lambda _index, e=editor: self._chosen(e))
        return editor

    def _chosen(self, editor):
        self.commitData.emit(editor)
        self.closeEditor.emit(editor)

    def setEditorData(self, editor, index):
        if hasattr(editor, "set_field_value"):
            from desktop.models.attribute_table import RawValueRole

            key = (index.row(), index.column())
            editor.set_field_value(self._typed.pop(key) if key in self._typed else index.data(RawValueRole))
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor, model, index):
        if hasattr(editor, "field_value"):
            if hasattr(editor, "interpretText"):
                editor.interpretText()
            model.setData(index, editor.field_value(), Qt.ItemDataRole.EditRole)
        else:
            super().setModelData(editor, model, index)
