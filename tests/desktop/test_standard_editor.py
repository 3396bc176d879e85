"""The component standard in the editor (issue 14): zones and grid cells drawn, given fields read-only in the form."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from shapely.geometry import Point

from desktop.canvas.render import render_layer
from desktop.forms.feature_form import FeatureForm

from .editor_fixtures import feature_position, isolated_feature, wait_rendered


def zone_point(window, zone):
    """A point well inside a zone of that kind, and the unit grid cell's code there (from the layers' features)."""
    session = window.session
    area = next(f.geometry for f in session.workspace.features("zones") if f.attributes["zone"] == zone)
    point = area.buffer(-60).representative_point()
    cell = next(f.attributes["code"] for f in session.workspace.features("grid_cells") if f.geometry.intersects(point))
    return point, cell


def test_zones_and_grid_cells_are_drawn_beneath_and_never_picked(qtbot, window):
    assert [name for name in window.sources][-2:] == ["zones", "grid_cells"]  # drawn under the facilities
    zones = window.sources["zones"]
    assert zones.geometry_type == "POLYGON" and not zones.pickable and not window.sources["grid_cells"].pickable
    strict, _ = zone_point(window, "严管区")
    window.canvas.set_center(strict.x, strict.y)
    window.canvas.set_map_units_per_pixel(4.0)
    wait_rendered(qtbot, window)
    image = window.canvas.layer_image("zones")
    assert image is not None  # the canvas rendered the layer
    drawn = render_layer(zones, window.canvas.transform(), window.canvas.render_settings()).image
    centre = drawn.pixelColor(drawn.width() // 2, drawn.height() // 2)
    assert 0 < centre.alpha() < 64 and centre.red() > centre.green()  # the strict zone's translucent fill
    outline = QColor(zones.style["classes"][0]["color"])
    opaque = [drawn.pixelColor(x, y) for x in range(0, drawn.width(), 2) for y in range(0, drawn.height(), 2)
              if drawn.pixelColor(x, y).alpha() == 255]
    assert any(c.name() == outline.name() for c in opaque)  # its edge, in the zone's colour
    cells = render_layer(window.sources["grid_cells"], window.canvas.transform(), window.canvas.render_settings())
    assert cells.feature_count > 4  # a 400 m grid at 4 m a pixel
    window.set_tool("identify")
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=window.canvas.to_screen(strict.x, strict.y)
                     .toPoint())
    shown = window.identify_tree.identified  # a facility there, or nothing: never a zone or a grid cell
    assert shown is None or shown[0] not in ("zones", "grid_cells")
    assert not window.is_editable("zones", tell=False)


def test_new_feature_form_shows_the_zone_and_grid_cell_of_the_click_read_only(qtbot, window, prompts):
    strict, cell = zone_point(window, "严管区")
    window.set_current_layer("signboards")
    assert window.add_point_at(strict.x, strict.y) is None  # the scripted form was cancelled
    assert prompts.form_given == {"zone": "严管区", "grid_cell": cell}
    definition = window.workspace.layer("signboards")
    form = FeatureForm(definition, attachments_folder=window.workspace.path.parent, language="en",
                       given=prompts.form_given)
    qtbot.addWidget(form)
    form.show()
    for name, text in (("zone", "Strict"), ("grid_cell", cell), ("component_code", "")):
        editor = form.editor(name)
        assert editor.isReadOnly() and editor.focusPolicy() == Qt.FocusPolicy.NoFocus
        assert editor.text() == text
    assert form.editor("component_code").placeholderText() == "given when saved"
    assert not {"zone", "grid_cell", "component_code"} & set(form.values())
    assert form.labels["owner_contact"].text().endswith(" *")  # every signboard in the strict zone
    assert not form.labels["permit_no"].text().endswith(" *")  # a shop sign needs no permit there
    kind = form.editor("kind")
    kind.setCurrentIndex(kind.findData("户外广告"))
    kind.activated.emit(kind.currentIndex())
    assert form.labels["permit_no"].text().endswith(" *") and form.labels["permit_no"].font().bold()
    form.editor("business_name").setText("大广告")
    form.editor("owner_contact").setText("13800000000")
    form.editor("district").setCurrentIndex(form.editor("district").findData("锦江区"))
    form.button_box.button(form.button_box.StandardButton.Ok).click()
    assert form.isVisible()  # refused: the strict zone asks for the permit number
    assert form.error_text("permit_no") == \
        "Permit number: a value is required where Management zone is Strict and Kind is Outdoor advertisement"
    form.editor("permit_no").setText("成城广审〔2026〕7号")
    form.button_box.button(form.button_box.StandardButton.Ok).click()
    assert not form.isVisible()
    fid = window.add_feature("signboards", form.values(), strict)
    added = window.session.feature("signboards", fid)
    assert added.attributes["zone"] == "严管区" and added.attributes["grid_cell"] == cell
    window.save()
    saved = window.session.features_by_fid("signboards", window.session.fids("signboards")[-1:].tolist())[0]
    assert saved.attributes["permit_no"] == "成城广审〔2026〕7号"
    assert saved.attributes["component_code"].startswith("5101040307")


def test_the_form_of_a_feature_shows_its_code_and_a_move_changes_its_zone(qtbot, window, prompts):
    fid = isolated_feature(window, "toilets")
    feature = window.session.feature("toilets", fid)
    seen = {}

    def script(form):
        seen["code"] = (form.editor("component_code").text(), form.editor("component_code").isReadOnly())
        seen["grid"] = (form.editor("grid_cell").text(), form.editor("grid_cell").isReadOnly())
        seen["changes"] = form.changes()
        return True

    prompts.form_script = script
    window.set_tool("identify")
    qtbot.mouseDClick(window.canvas, Qt.MouseButton.LeftButton, pos=feature_position(window, "toilets", fid))
    assert seen["code"] == (feature.attributes["component_code"], True)
    assert seen["grid"] == (feature.attributes["grid_cell"], True) and seen["changes"] == {}
    target = "管控区" if feature.attributes["zone"] != "管控区" else "规范区"
    point, cell = zone_point(window, target)
    assert window.move_feature("toilets", fid, Point(point.x, point.y))
    moved = window.session.feature("toilets", fid).attributes
    assert (moved["zone"], moved["grid_cell"]) == (target, cell)
    assert moved["component_code"] == feature.attributes["component_code"]  # a code never follows the position
    window.undo_stack.undo()
    assert window.session.feature("toilets", fid).attributes == feature.attributes

