"""The feature form: a dialog built from a layer definition, validated by the core."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from layers.errors import ValidationError
from layers.schema.definitions import (
    derive,  # the core's own evaluation of derived fields
    validate_feature,
)

from .widgets import PhotoEditor, create_editor

__all__ = ["FeatureForm", "validation_message"]

ERROR_STYLE = "color: #c62828;"
INVALID_STYLE = "border: 1px solid #c62828;"


class FeatureForm(QDialog):
    """A dialog to enter or show the attributes of one feature.

    Parameters
    ----------
    definition : layers.schema.definitions.LayerDefinition
    attributes : dict, optional
        The feature's current values (stored form or Python values); for a
        new feature, omit them and the definition's defaults are shown.
    attachments_folder : path-like
        Where a photo field copies chosen images; photo values are stored
        relative to its parent (the workspace folder).
    language : str
        Language of field labels and code-list labels ('zh_CN' or 'en').
    read_only : bool
        Show only (identify): nothing can be changed, one Close button.
    mixed : iterable of str
        Fields whose values differ between the features edited together
        (several selected features): shown empty and marked "mixed", and left
        out of ``changes()`` unless the user edits them.
    count : int
        How many features the form edits at once (1 for one feature).
    given : dict, optional
        A new feature's values the core gives (``definition.given_names``: the
        zone and unit grid cell of its position; the component code comes on
        save). Given fields are shown, never typed: for an existing feature
        they come from ``attributes``.
    photos : desktop.forms.photo_strip.PhotoStrip, optional
        The feature's photos (thumbnails, add, view, delete), shown below
        the fields; its edits are undoable commands of their own.
    parent : QWidget, optional

    Notes
    -----
    ``values()`` gives the editable fields' values; ``accept()`` validates
    them with ``layers.schema.definitions.validate_feature`` and, when a rule is broken,
    shows the message next to the field it names, focuses that field and
    stays open. After acceptance ``clean_values()`` holds the values in
    their stored form (derived fields computed) and ``changes()`` only the
    fields that differ from ``attributes``.
    """

    def __init__(self, definition, attributes=None, *, attachments_folder, language="zh_CN",
                 read_only=False, mixed=(), count=1, given=None, photos=None, parent=None):
        super().__init__(parent)
        self.definition = definition
        self.language = language
        self.read_only = read_only
        self.mixed = frozenset(mixed)
        self.count = int(count)
        self._touched: set[str] = set()  # fields the user edited
        self._invalid: dict[str, str] = {}  # field -> why its value is refused (checked as the user edits)
        self.attachments_folder = Path(attachments_folder)
        self._new = attributes is None
        self._initial = dict(definition.defaults() if attributes is None else attributes)
        if given:
            self._initial.update(given)
        self._given = {name: self._initial.get(name) for name in definition.given_names}
        self._clean = None
        self.tabs = None  # a QTabWidget once a page is added (add_page)
        self.editors = {}  # field name -> editor widget
        self.labels = {}  # field name -> QLabel
        self.errors = {}  # field name -> QLabel for its message
        self.setObjectName(f"feature_form_{definition.name}")
        self.setSizeGripEnabled(True)

        content = QWidget()
        self.form_layout = QFormLayout(content)
        self.form_layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form_layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        for field in definition.fields:
            self._add_row(field)
        self.photo_strip = photos
        if photos is not None:
            self._retire_photo_fields()
        self.photos_label = QLabel()
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(content)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)

        self.required_note = QLabel(self)
        self.required_note.setVisible(not read_only and any((f.required or f.required_if) and not f.derived
                                                            for f in definition.fields))
        buttons = QDialogButtonBox.StandardButton
        self.button_box = QDialogButtonBox(buttons.Close if read_only else buttons.Ok | buttons.Cancel, self)
        self.button_box.accepted.connect(self.accept)
        self.button_box.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll_area, 1)
        if photos is not None:  # below the fields, always in view
            layout.addWidget(self.photos_label)
            layout.addWidget(photos)
        layout.addWidget(self.required_note)
        layout.addWidget(self.button_box)
        self._update_derived()
        self._update_conditional()
        self._retranslate()
        self.resize(520, min(720, 140 + 38 * len(definition.fields) + (180 if photos is not None else 0)))

    # --- building ------------------------------------------------------------------------

    def changeEvent(self, event):
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self):
        """Texts of our own (field and code labels follow ``language``, the definition's labels)."""
        if self.read_only:
            title = self.tr("{0}: feature attributes")
        elif self._new:
            title = self.tr("{0}: new feature")
        elif self.count > 1:
            title = self.tr("{0}: edit %n features", "", self.count)
        else:
            title = self.tr("{0}: edit feature")
        self.setWindowTitle(title.format(self.definition.title(self.language)))
        if not self.required_note.styleSheet():
            self.required_note.setText(self.tr("Fields marked * are required."))
        self.photos_label.setText(self.tr("Photos"))
        for name in self.mixed - self._touched:
            if name in self.editors:
                _show_mixed(self.editors[name], self.tr("mixed"))
        for name, editor in self.editors.items():
            if self.definition.field(name).derived:
                derived = self.definition.field(name).derived
                editor.setToolTip(self.tr("Computed from other fields: {0}").format(derived))
            elif name in self._given:
                self._show_given(name, editor)
        self._update_conditional()

    def _add_row(self, field):
        label = QLabel(field.label(self.language) + (" *" if field.required and not field.derived else ""))
        label.setToolTip(field.name)
        if field.required and not field.derived:
            font = QFont(label.font())
            font.setBold(True)
            label.setFont(font)
        if field.derived or field.name in self.definition.given_names:
            editor = QLineEdit()
            editor.setReadOnly(True)
            editor.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            if not field.derived:  # given by the core: shown on the window's background, as not for typing
                value = self._initial.get(field.name)
                editor.setText("" if value is None else str(field.code_label(value, self.language)))
                editor.setStyleSheet("QLineEdit { background: palette(window); }")
        else:
            editor = create_editor(field, language=self.language, attachments_folder=self.attachments_folder)
            editor.set_field_value(None if field.name in self.mixed else self._initial.get(field.name))
            editor.fieldEdited.connect(lambda name=field.name: self._edited(name))
            if self.read_only:
                _make_read_only(editor)
        editor.setObjectName(f"field_{field.name}")
        # An invalid value's red border (INVALID_STYLE) must not make the editor smaller: no row moves.
        editor.setMinimumHeight(editor.sizeHint().height())
        label.setBuddy(editor)
        error = QLabel()
        error.setObjectName(f"error_{field.name}")
        error.setStyleSheet(ERROR_STYLE)
        error.setWordWrap(True)
        # The message's line is kept while hidden, so the form does not jump as a typed value
        # turns invalid and valid again.
        keep_place = error.sizePolicy()
        keep_place.setRetainSizeWhenHidden(True)
        error.setSizePolicy(keep_place)
        error.setMinimumHeight(error.fontMetrics().lineSpacing())
        error.setVisible(False)
        cell = QWidget()
        box = QVBoxLayout(cell)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(editor)
        box.addWidget(error)
        self.form_layout.addRow(label, cell)
        self.editors[field.name] = editor
        self.labels[field.name] = label
        self.errors[field.name] = error

    def _retire_photo_fields(self):
        """With the feature's photos shown below (stored in the file, they travel), a single-path photo field
        (copied beside the workspace: it does not travel) is hidden; an old value is shown, not editable."""
        for field in self.definition.fields:
            if field.type != "photo":
                continue
            editor = self.editors[field.name]
            if self._initial.get(field.name) in (None, ""):
                self.form_layout.setRowVisible(self.labels[field.name], False)
            else:
                editor.setEnabled(False)
                editor.setToolTip(self.tr("A single photo kept from before: it stays beside this workspace and "
                                          "does not travel with changes. tongcheng photos adopt moves it to the "
                                          "photos below, which do."))

    # --- values ----------------------------------------------------------------------------

    def values(self):
        """{field: Python value} of the editable fields (not derived, not JSON)."""
        return {
            f.name: self.editors[f.name].field_value()
            for f in self.definition.fields
            if not f.derived and f.type != "json" and f.name not in self._given
        }

    def given_values(self):
        """The values the core gave (component code, zone, unit grid cell): shown, not editable."""
        return dict(self._given)

    def clean_values(self):
        """The values as validated on acceptance (stored form, derived fields computed), or None."""
        return None if self._clean is None else dict(self._clean)

    def changes(self):
        """{field: value} of the editable fields whose stored form differs from the initial attributes.

        For a new feature, every editable field. A "mixed" field (several
        features) counts only once the user edited it.
        """
        values = self.values()
        if self._new:
            return values
        changed = {}
        for name, value in values.items():
            field = self.definition.field(name)
            if name in self.mixed:
                if name in self._touched:
                    changed[name] = value
                continue
            if _stored(self.definition, field, value) != _stored(self.definition, field, self._initial.get(name)):
                changed[name] = value
        return changed

    def editor(self, name):
        """The editor widget of a field."""
        return self.editors[name]

    def add_page(self, widget, title):
        """Show the fields on a first tab and ``widget`` on another (e.g. the facility's inspections)."""
        if self.tabs is None:
            self.tabs = QTabWidget(self)
            self.tabs.setObjectName("form_tabs")
            layout = self.layout()
            index = layout.indexOf(self.scroll_area)
            layout.removeWidget(self.scroll_area)
            self.tabs.addTab(self.scroll_area, self.tr("Attributes"))
            layout.insertWidget(index, self.tabs, 1)
            # the fields keep the room they had: the dialog grows by the tab bar and the tab's frame
            self.resize(self.width(), self.height() + self.tabs.tabBar().sizeHint().height() + 8)
        return self.tabs.addTab(widget, title)

    # --- validation -----------------------------------------------------------------------------

    def validate(self):
        """Check the values; show the first broken rule inline. Returns True when they are valid."""
        self.clear_errors()
        try:
            self._clean = self._validated()
        except ValidationError as error:
            self._clean = None
            self.show_error(error)
            return False
        return True

    def accept(self):
        if self.read_only:
            super().accept()
            return
        if not self.validate():
            return
        try:
            for editor in self.editors.values():
                if isinstance(editor, PhotoEditor):
                    editor.commit()
        except OSError as e:
            self.show_error(ValidationError(str(e), layer=self.definition.name, field=self._photo_field()),
                            message=self.tr("The photo could not be copied: {0}").format(e.strerror or e))
            return
        if self._clean is not None:
            self._clean = self._validated()  # a renamed copy changes the path
        super().accept()

    def _validated(self):
        """The values checked by the core: all of them for one feature, the changes for several."""
        if self.mixed or self.count > 1:
            return validate_feature(self.definition, self.changes(), partial=True)
        return validate_feature(self.definition, {**self._given, **self.values()})

    def show_error(self, error, message=None):
        """Show a ValidationError (from here or from the edit session) next to its field and focus it.

        Errors without a known field (e.g. the geometry) are shown above the buttons.
        """
        name = getattr(error, "field", None)
        text = message or validation_message(error, self.definition, self.language)
        label = self.errors.get(name)
        if label is None:
            self.required_note.setText(text)
            self.required_note.setStyleSheet(ERROR_STYLE)
            self.required_note.setVisible(True)
            return
        label.setText(text)
        label.setVisible(True)
        editor = self.editors[name]
        self.scroll_area.ensureWidgetVisible(editor)
        editor.setFocus(Qt.FocusReason.OtherFocusReason)

    def clear_errors(self):
        for label in self.errors.values():
            label.clear()
            label.setVisible(False)
        self.required_note.setText(self.tr("Fields marked * are required."))
        self.required_note.setStyleSheet("")
        self.required_note.setVisible(not self.read_only)

    def error_text(self, name):
        """The message shown for a field ('' when none), e.g. for tests."""
        label = self.errors[name]
        return label.text() if not label.isHidden() else ""

    # --- live updates ---------------------------------------------------------------------------------

    def _edited(self, name):
        self._touched.add(name)
        label = self.errors.get(name)
        if label is not None and not label.isHidden():
            label.clear()
            label.setVisible(False)
        self._check_field(name)
        if any(name in f.derived_inputs for f in self.definition.fields if f.derived):
            self._update_derived()
        if any(name in f.required_if.fields for f in self.definition.conditional_fields):
            self._update_conditional()

    def _check_field(self, name):
        """Check one edited value at once: an invalid one is shown with the reason and OK is disabled.

        The value stays as the user typed it.
        """
        try:
            validate_feature(self.definition, {name: self.editors[name].field_value()}, partial=True)
        except ValidationError as error:
            self._invalid[name] = validation_message(error, self.definition, self.language)
            self.errors[name].setText(self._invalid[name])
            self.errors[name].setVisible(True)
            self.editors[name].setProperty("invalid", True)
            self.editors[name].setStyleSheet(INVALID_STYLE)
        else:
            self._invalid.pop(name, None)
            self.editors[name].setProperty("invalid", False)
            self.editors[name].setStyleSheet("")
        ok = self.button_box.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setEnabled(not self._invalid)
            ok.setToolTip("\n".join(self._invalid.values()))

    def invalid_fields(self):
        """{field: reason} of the values refused as the user edited them (OK is disabled while any)."""
        return dict(self._invalid)

    def _update_derived(self):
        derived = [f for f in self.definition.fields if f.derived]
        if not derived:
            return
        values = {}
        for f in self.definition.fields:
            if f.derived:
                continue
            value = self._given[f.name] if f.name in self._given else self.editors[f.name].field_value()
            values[f.name] = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        for f in derived:
            result = derive(f, values)
            self.editors[f.name].setText("" if result is None else _format_number(result))

    def _show_given(self, name, editor):
        """A given field's read-only box: what it is, and a placeholder while it has no value."""
        field = self.definition.field(name)
        if field.located_in is not None:
            editor.setToolTip(self.tr("Taken from the position: the {0} the feature lies in").format(
                field.located_in.layer))
            editor.setPlaceholderText(self.tr("outside every {0}").format(field.located_in.layer))
        else:
            editor.setToolTip(self.tr("Component code (部件标识码): given by Tongcheng, never typed"))
            editor.setPlaceholderText(self.tr("given when saved") if self._new
                                      else self.tr("none yet: the office gives it when it applies the changes"))

    def required_here(self, name):
        """Whether a field is required for the values now in the form (always, or by its ``required_if``)."""
        field = self.definition.field(name)
        if field.required:
            return True
        if field.required_if is None or self.mixed or self.count > 1:
            return False
        values = {**self._given}
        for other in field.required_if.fields:
            if other in self.editors and other not in self._given and not self.definition.field(other).derived:
                values[other] = self.editors[other].field_value()
        return field.required_if.applies(values)

    def _update_conditional(self):
        """Mark the fields a zone (or another field's value) makes required here, with the rule as tooltip."""
        for field in self.definition.conditional_fields:
            label = self.labels.get(field.name)
            if label is None:
                continue
            required = self.required_here(field.name)
            label.setText(field.label(self.language) + (" *" if required else ""))
            font = QFont(label.font())
            font.setBold(required)
            label.setFont(font)
            label.setToolTip(f"{field.name}: " + self.tr("required where {0}").format(
                conditions_text(field, self.definition, self.language)))

    def _photo_field(self):
        return next((name for name, e in self.editors.items() if isinstance(e, PhotoEditor)), None)


def _make_read_only(editor):
    if hasattr(editor, "edit"):  # dates: the inner QDateTimeEdit and the clear button
        editor.edit.setReadOnly(True)
        editor.edit.setCalendarPopup(False)
        editor.edit.setButtonSymbols(editor.edit.ButtonSymbols.NoButtons)
        editor.clear_button.setVisible(False)
    elif hasattr(editor, "setReadOnly"):
        editor.setReadOnly(True)
        if hasattr(editor, "setButtonSymbols"):
            editor.setButtonSymbols(editor.ButtonSymbols.NoButtons)
    else:  # combo boxes and check boxes have no read-only mode
        editor.setEnabled(False)


def _show_mixed(editor, text):
    """Show an editor empty and marked ``text`` ("mixed"): the features edited together differ here."""
    editor.setToolTip(text)
    if hasattr(editor, "edit"):  # dates
        editor.edit.setSpecialValueText(text)
    elif hasattr(editor, "allow_empty"):  # numbers
        editor.allow_empty()
        editor.lineEdit().setPlaceholderText(text)
    elif hasattr(editor, "setTristate"):  # booleans: the third state
        editor.setTristate(True)
        editor.setCheckState(Qt.CheckState.PartiallyChecked)
        editor.setText(text)
        editor.clicked.connect(lambda _checked: editor.setText(""))
    elif hasattr(editor, "setPlaceholderText"):  # text, code lists
        if hasattr(editor, "setCurrentIndex"):
            editor.setCurrentIndex(-1)
        editor.setPlaceholderText(text)


def _stored(definition, field, value):
    """A value in its stored form, for comparison (invalid values compare as themselves)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return validate_feature(definition, {field.name: value}, partial=True)[field.name]
    except ValidationError:
        return value


def _format_number(value):
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


# --- messages -----------------------------------------------------------------------------------------


def conditions_text(field, definition, language="zh_CN"):
    """A field's ``required_if`` in words: "管理分区 is 严管区 and 类型 is 户外广告" (labels, translated joins)."""
    parts = []
    for name, values in field.required_if.conditions:
        other = definition.field(name)
        shown = QCoreApplication.translate("ValidationMessage", " or ").join(
            str(other.code_label(v, language)) for v in values)
        parts.append(QCoreApplication.translate("ValidationMessage", "{0} is {1}").format(other.label(language), shown))
    return QCoreApplication.translate("ValidationMessage", " and ").join(parts)


def validation_message(error, definition, language="zh_CN"):
    """A ValidationError as one translated sentence naming the field by its label.

    The core's messages are English and name fields by their column names;
    this turns the error's ``rule`` into text in the interface language.
    """
    name = getattr(error, "field", None)
    rule = getattr(error, "rule", None) or ""
    if name == "geom":
        label = QCoreApplication.translate("ValidationMessage", "Geometry")
    else:
        try:
            label = definition.field(name).label(language)
        except Exception:  # noqa: BLE001 - an unknown field is named as it is
            label = name or definition.title(language)
    if rule.startswith("required where") and name in definition.known_names \
            and definition.field(name).required_if is not None:
        return QCoreApplication.translate("ValidationMessage", "{field}: a value is required where {0}").format(
            conditions_text(definition.field(name), definition, language), field=label)
    patterns = [
        (r"required", QCoreApplication.translate("ValidationMessage", "{field}: a value is required")),
        (r"a component code never changes",
         QCoreApplication.translate("ValidationMessage", "{field}: a component code never changes")),
        (r"does not have the form",
         QCoreApplication.translate("ValidationMessage", "{field}: not in the expected form")),
        (r"unknown field", QCoreApplication.translate("ValidationMessage", "{field}: no such field in this layer")),
        (r"is not text", QCoreApplication.translate("ValidationMessage", "{field}: must be text")),
        (r"is longer than (\d+) characters",
         QCoreApplication.translate("ValidationMessage", "{field}: at most {0} characters")),
        (r"is not a whole number", QCoreApplication.translate("ValidationMessage", "{field}: must be a whole number")),
        (r"is not a (?:finite )?number", QCoreApplication.translate("ValidationMessage", "{field}: must be a number")),
        (r"is not true or false", QCoreApplication.translate("ValidationMessage", "{field}: must be yes or no")),
        (r"is a date and time, not a date|is not a date \(",
         QCoreApplication.translate("ValidationMessage", "{field}: must be a date (YYYY-MM-DD)")),
        (r"is not a date and time|has no time zone",
         QCoreApplication.translate("ValidationMessage", "{field}: must be a date and time with a time zone")),
        (r"is not JSON|cannot be written as JSON",
         QCoreApplication.translate("ValidationMessage", "{field}: must be JSON")),
        (r"is not in the code list",
         QCoreApplication.translate("ValidationMessage", "{field}: choose a value from the list")),
        (r"is below the minimum (\S+)",
         QCoreApplication.translate("ValidationMessage", "{field}: must be at least {0}")),
        (r"is above the maximum (\S+)",
         QCoreApplication.translate("ValidationMessage", "{field}: must be at most {0}")),
    ]
    for pattern, template in patterns:
        match = re.search(pattern, rule)
        if match:
            groups = [_format_bound(g) for g in match.groups()]
            return template.format(*groups, field=label)
    return QCoreApplication.translate("ValidationMessage", "{field}: {rule}").format(field=label, rule=rule or error)


def _format_bound(text):
    try:
        return _format_number(float(text))
    except ValueError:
        return text

