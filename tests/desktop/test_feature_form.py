"""The feature form: built from each shipped layer definition, validated inline, photos copied."""

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QCheckBox, QComboBox, QDialogButtonBox, QLineEdit, QPlainTextEdit

from desktop.forms import FeatureForm, validation_message
from desktop.forms.widgets import DateEditor, IntegerEditor, PhotoEditor, RealEditor, TextEditor
from layers.errors import ValidationError
from layers.schema.definitions import load_definitions, validate_feature

DEFINITIONS = load_definitions()


@pytest.fixture
def attachments(tmp_path):
    folder = tmp_path / "district.attachments"
    folder.mkdir()
    return folder


def make_form(qtbot, attachments, layer="toilets", attributes=None, **options):
    form = FeatureForm(DEFINITIONS[layer], attributes, attachments_folder=attachments, **options)
    qtbot.addWidget(form)
    return form


@pytest.mark.parametrize("layer", list(DEFINITIONS))
def test_form_is_built_for_every_shipped_layer(qtbot, attachments, layer):
    definition = DEFINITIONS[layer]
    form = make_form(qtbot, attachments, layer)
    form.show()
    assert list(form.editors) == list(definition.field_names)
    for f in definition.fields:
        editor = form.editor(f.name)
        if f.derived or f.name in definition.given_names:  # computed, or given by the core (issue 14)
            assert isinstance(editor, QLineEdit) and editor.isReadOnly()
        elif f.codes:
            assert isinstance(editor, QComboBox)
            assert editor.findData(f.codes[0].value) >= 0
        else:
            expected = {"text": QLineEdit, "integer": IntegerEditor, "real": RealEditor, "boolean": QCheckBox,
                        "date": DateEditor, "datetime": DateEditor.__mro__[1], "photo": PhotoEditor,
                        "json": QPlainTextEdit}[f.type]
            assert isinstance(editor, expected), (f.name, type(editor))
        label = form.labels[f.name]
        assert label.text().startswith(f.label("zh_CN"))
        assert label.font().bold() == (f.required and not f.derived)
        assert label.text().endswith(" *") == (f.required and not f.derived)
    # a new feature starts from the definition's defaults
    values = form.values()
    for name, default in definition.defaults().items():
        if definition.field(name).type != "json":
            assert values[name] == default, name
    assert all(not definition.field(n).derived and definition.field(n).type != "json" for n in values)


def test_required_empty_value_is_refused_inline_naming_the_field(qtbot, attachments):
    form = make_form(qtbot, attachments)
    form.show()
    qtbot.waitExposed(form)
    form.editor("district").set_field_value("锦江区")
    form.button_box.button(QDialogButtonBox.StandardButton.Ok).click()
    assert form.isVisible()  # stays open
    assert form.result() != FeatureForm.DialogCode.Accepted
    assert "名称" in form.error_text("name")
    assert form.errors["name"].isVisible()
    assert form.focusWidget() is form.editor("name")
    assert form.clean_values() is None
    # typing clears the message; a valid form is accepted
    qtbot.keyClicks(form.editor("name"), "Chunxi Road")
    assert form.error_text("name") == ""
    form.button_box.button(QDialogButtonBox.StandardButton.Ok).click()
    assert form.result() == FeatureForm.DialogCode.Accepted
    clean = form.clean_values()
    assert clean["name"] == "Chunxi Road" and clean["district"] == "锦江区" and clean["open_24h"] == 0


def test_out_of_range_stored_value_is_shown_and_refused_not_clamped(qtbot, attachments):
    attributes = {**DEFINITIONS["toilets"].defaults(), "name": "甲", "district": "锦江区", "seats_male": 250}
    form = make_form(qtbot, attachments, attributes=attributes, language="en")
    assert form.values()["seats_male"] == 250
    assert not form.validate()
    assert form.error_text("seats_male") == "Men's places: must be at most 200"
    assert form.error_text("name") == ""


def test_validation_messages_name_the_field_in_the_language():
    toilets = DEFINITIONS["toilets"]
    with pytest.raises(ValidationError) as caught:
        validate_feature(toilets, {"name": "x" * 101, "district": "锦江区"})
    assert validation_message(caught.value, toilets, "en") == "Name: at most 100 characters"
    assert validation_message(caught.value, toilets, "zh_CN").startswith("名称")
    with pytest.raises(ValidationError) as caught:
        validate_feature(toilets, {"name": "甲", "district": "火星区"})
    assert validation_message(caught.value, toilets, "en") == "District: choose a value from the list"
    error = ValidationError("toilets.geom: empty", layer="toilets", field="geom", rule="the geometry is empty")
    assert validation_message(error, toilets, "en") == "Geometry: the geometry is empty"


def test_code_list_shows_labels_and_stores_values(qtbot, attachments):
    form = make_form(qtbot, attachments, language="en")
    combo = form.editor("district")
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert "" not in labels and len(labels) == 14  # required: no empty entry
    combo.setCurrentIndex(combo.findText("Jinjiang"))
    assert form.values()["district"] == "锦江区"
    status = form.editor("status")
    assert status.currentText() == "In use" and status.field_value() == "在用"
    lighting = make_form(qtbot, attachments, "signboards", language="en").editor("lighting")
    assert lighting.itemText(0) == "" and lighting.field_value() == "无"  # not required: an empty first entry
    zh = make_form(qtbot, attachments)
    assert zh.editor("structure").currentText() == "独立式"


def test_old_value_missing_from_the_code_list_is_kept(qtbot, attachments):
    attributes = {**DEFINITIONS["toilets"].defaults(), "name": "甲", "district": "旧区名"}
    form = make_form(qtbot, attachments, attributes=attributes)
    assert form.values()["district"] == "旧区名"
    assert not form.validate()
    assert "区（市）县" in form.error_text("district")


def test_derived_area_updates_live(qtbot, attachments):
    form = make_form(qtbot, attachments, "signboards")
    area = form.editor("area_m2")
    assert area.text() == ""
    width, height = form.editor("width_m"), form.editor("height_m")
    width.set_field_value(2.5)
    width.fieldEdited.emit()
    assert area.text() == ""  # height still empty
    qtbot.keyClicks(height.lineEdit(), "4")
    assert area.text() == "10"
    height.lineEdit().selectAll()
    qtbot.keyClicks(height.lineEdit(), "1.2")
    assert area.text() == "3"
    assert "area_m2" not in form.values()
    form.editor("business_name").set_field_value("王记面馆")
    form.editor("district").set_field_value("青羊区")
    assert form.validate()
    assert form.clean_values()["area_m2"] == 3.0


def test_numbers_may_be_empty_unless_required(qtbot, attachments):
    form = make_form(qtbot, attachments, "signboards")
    width = form.editor("width_m")
    assert width.field_value() is None and width.text() == ""
    assert (width.minimum(), width.maximum()) == (-1.0, 100.0)
    qtbot.keyClicks(width.lineEdit(), "3.75")
    width.interpretText()
    assert width.field_value() == 3.75
    width.lineEdit().selectAll()
    qtbot.keyClick(width.lineEdit(), Qt.Key.Key_Delete)
    width.interpretText()
    assert width.field_value() is None
    toilets = make_form(qtbot, attachments, "toilets")
    seats = toilets.editor("seats_male")
    assert seats.field_value() == 0  # the default
    seats.stepBy(3)
    assert seats.field_value() == 3


def test_dates_use_a_calendar_and_can_be_empty(qtbot, attachments):
    attributes = {**DEFINITIONS["toilets"].defaults(), "name": "甲", "district": "锦江区",
                  "last_inspected": "2026-03-15"}
    form = make_form(qtbot, attachments, attributes=attributes)
    date = form.editor("last_inspected")
    assert date.edit.calendarPopup()
    assert date.field_value() == dt.date(2026, 3, 15)
    assert form.changes() == {}
    date.clear_button.click()
    assert date.field_value() is None
    assert form.changes() == {"last_inspected": None}
    date.set_field_value(dt.date(2026, 4, 1))
    assert form.validate()
    assert form.clean_values()["last_inspected"] == "2026-04-01"


def test_text_respects_max_length_and_booleans_are_check_boxes(qtbot, attachments):
    form = make_form(qtbot, attachments)
    assert form.editor("name").maxLength() == 100
    assert isinstance(form.editor("name"), TextEditor)
    accessible = form.editor("accessible")
    assert not accessible.isTristate()
    accessible.click()
    assert form.values()["accessible"] is True


def test_json_is_shown_pretty_and_read_only(qtbot, attachments):
    attributes = {"name": "航点", "extras": '{"sym":"Flag","cmt":"井盖"}'}
    form = make_form(qtbot, attachments, "gps_waypoints", attributes=attributes)
    viewer = form.editor("extras")
    assert viewer.isReadOnly()
    assert viewer.toPlainText() == '{\n  "cmt": "井盖",\n  "sym": "Flag"\n}'
    assert "extras" not in form.values()


def make_image(path, size=(640, 480)):
    image = QImage(*size, QImage.Format.Format_RGB32)
    image.fill(QColor("#3388cc"))
    assert image.save(str(path))
    return path


def test_photo_is_copied_with_a_relative_path_and_shows_a_thumbnail(qtbot, attachments, tmp_path):
    source = make_image(tmp_path / "IMG 0042.JPG")
    form = make_form(qtbot, attachments)
    form.editor("name").set_field_value("甲")
    form.editor("district").set_field_value("锦江区")
    photo = form.editor("photo")
    photo.set_source_file(source)
    relative = form.values()["photo"]
    assert relative.startswith("district.attachments/IMG_0042-") and relative.endswith(".jpg")
    assert not (tmp_path / relative).exists()  # copied only when the form is accepted
    pixmap = photo.thumbnail.pixmap()
    assert not pixmap.isNull() and pixmap.width() <= 160 and pixmap.height() <= 120
    form.accept()
    assert form.result() == FeatureForm.DialogCode.Accepted
    assert (tmp_path / relative).read_bytes() == source.read_bytes()
    assert form.clean_values()["photo"] == relative
    # a second choice of the same file gets another name
    again = make_form(qtbot, attachments)
    again.editor("photo").set_source_file(source)
    assert again.values()["photo"] != relative
    # reopening shows the stored photo
    shown = make_form(qtbot, attachments, attributes={**form.clean_values()}, read_only=True)
    assert not shown.editor("photo").thumbnail.pixmap().isNull()


def test_cancelled_form_copies_nothing(qtbot, attachments, tmp_path):
    source = make_image(tmp_path / "p.png", (50, 40))
    form = make_form(qtbot, attachments)
    form.editor("photo").set_source_file(source)
    form.reject()
    assert list(attachments.iterdir()) == []


def test_read_only_form_for_identify(qtbot, attachments):
    attributes = {**DEFINITIONS["toilets"].defaults(), "name": "甲", "district": "锦江区"}
    form = make_form(qtbot, attachments, attributes=attributes, read_only=True)
    assert form.editor("name").isReadOnly()
    assert not form.editor("district").isEnabled()
    assert not form.editor("photo").choose_button.isVisibleTo(form)
    assert form.button_box.standardButtons() == QDialogButtonBox.StandardButton.Close
    assert form.values()["name"] == "甲"


def test_changes_lists_only_edited_fields(qtbot, attachments):
    stored = validate_feature(DEFINITIONS["toilets"], {"name": "甲", "district": "锦江区", "seats_male": 4})
    form = make_form(qtbot, attachments, attributes=stored)
    assert form.changes() == {}
    form.editor("open_24h").click()
    form.editor("seats_male").set_field_value(5)
    assert form.changes() == {"open_24h": True, "seats_male": 5}
