"""Inspections in the editor (issue 12): the facility form's Inspections tab (list, add, open) as one undo step
with the facility's followed status, the Cases panel (status and age filters, oldest first, double-click zooms to
the facility) and the map coloured by open cases; the real window, offscreen."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from layers.inspections import add_inspection
from layers.workspace.store import Workspace

from .editor_fixtures import ScriptedPrompts, make_workspace, wait_rendered


class InspectionPrompts(ScriptedPrompts):
    """Also answers the form of an inspection: ``inspection_script(form)`` fills it and returns True for OK."""

    def __init__(self):
        super().__init__()
        self.inspection_script = None
        self.inspection_forms = []

    def inspection_form(self, form):
        self.asked.append(("inspection", form.definition.name))
        self.inspection_forms.append(form)
        if self.inspection_script is None:
            return False
        form.show()
        if self.inspection_script(form):
            form.button_box.button(QDialogButtonBox.StandardButton.Ok).click()
        return form.result() == form.DialogCode.Accepted


@pytest.fixture
def prompts():
    return InspectionPrompts()


@pytest.fixture
def workspace_path(tmp_path):
    """The small demo district with three inspections: two open cases (10 and 2 days old) and an intact one."""
    path = make_workspace(tmp_path / "district.sqlite")
    now = dt.datetime.now(dt.UTC)
    with Workspace.open(path) as ws:
        toilets = list(ws.features("toilets"))
        kiosk = next(ws.features("kiosks"))
        add_inspection(ws, "toilets", toilets[1].uuid, condition="破损", defect="异味",
                       inspected_at=now - dt.timedelta(days=10))
        add_inspection(ws, "kiosks", kiosk.uuid, condition="damaged", case_status="立案",
                       inspected_at=now - dt.timedelta(days=2))
        add_inspection(ws, "toilets", toilets[2].uuid, condition="完好", inspected_at=now - dt.timedelta(days=1))
    return path


def choose(form, name, value):
    editor = form.editor(name)
    editor.setCurrentIndex(editor.findData(value))
    editor.fieldEdited.emit()


def test_the_inspections_tab_records_one_and_the_status_follows_in_one_undo_step(qtbot, window, prompts):
    session = window.session
    fid = int(session.fids("toilets")[0])
    before = session.feature("toilets", fid).attributes
    assert before["status"] != "拆除"
    seen = {}

    def inspection(form):
        assert form.definition.name == "inspections"
        assert not form.editor("facility_layer").isEnabled()  # the facility is the form's
        defects = [form.editor("defect").itemData(i) for i in range(form.editor("defect").count())]
        seen["defects"] = defects
        choose(form, "condition", "移除")
        choose(form, "defect", "其他")
        form.editor("description").setText("整体拆走了")
        return True

    def facility_form(form):
        page = form.tabs.widget(1)
        seen["tab"] = form.tabs.tabText(1)
        assert page.add()
        seen["status shown"] = form.editor("status").field_value()
        seen["note"] = page.note.text()
        seen["rows"] = page.tree.topLevelItemCount()
        return True

    prompts.form_script = facility_form
    prompts.inspection_script = inspection
    assert window.edit_attributes("toilets", [fid])
    assert seen["tab"] == "Inspections (0)" and seen["rows"] == 1
    assert "面板破损" not in seen["defects"] and "门窗损坏" in seen["defects"]  # the toilets' defect list
    assert seen["status shown"] == "拆除" and "follows its latest inspection" in seen["note"]
    assert window.undo_stack.count() == 1 and "Record inspection" in window.undo_stack.text(0)
    (record,) = session_inspections_of(window, fid)
    assert (record["condition"], record["defect"], record["description"]) == ("移除", "其他", "整体拆走了")
    assert record["case_status"] == "发现" and record["inspector"] == "测试员"
    assert session.feature("toilets", fid).attributes["status"] == "拆除"
    window.undo_stack.undo()  # one step takes back the inspection and the status
    assert session_inspections_of(window, fid) == [] and session.feature("toilets", fid).attributes == before
    window.undo_stack.redo()
    assert len(session_inspections_of(window, fid)) == 1
    assert window.save()
    with Workspace.open(window.workspace.path) as ws:  # committed: another connection reads it
        assert ws.count("inspections") == 4 and ws.get("toilets", fid).attributes["status"] == "拆除"
        assert ws.pending_changes()["inspections"]["insert"] == 4  # three made by the fixture, tracked too


def session_inspections_of(window, fid):
    from layers.inspections import session_inspections

    uuid = window.session.feature("toilets", fid).uuid
    return [r.values for r in session_inspections(window.session, layer="toilets", uuid=uuid)]


def test_opening_an_inspection_moves_its_case_on_and_stamps_the_step(qtbot, window, prompts):
    session = window.session
    fid = int(session.fids("toilets")[1])  # the toilet with a case found ten days ago
    seen = {}

    def inspection(form):
        seen["status"] = form.editor("case_status").field_value()
        choose(form, "case_status", "派遣")
        return True

    def facility_form(form):
        page = form.tabs.widget(1)
        assert page.tree.topLevelItemCount() == 1
        assert page.open_item(page.tree.topLevelItem(0))
        return True

    prompts.form_script = facility_form
    prompts.inspection_script = inspection
    assert window.edit_attributes("toilets", [fid])
    (record,) = session_inspections_of(window, fid)
    assert seen["status"] == "发现" and record["case_status"] == "派遣"
    stamped = dt.datetime.fromisoformat(record["dispatched_at"].replace("Z", "+00:00"))
    assert abs(stamped - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert session_inspections_of(window, fid)[0]["case_status"] == "发现"


def test_a_case_cannot_go_back_and_nothing_is_pushed(qtbot, window, prompts):
    fid = int(window.session.fids("kiosks")[0])  # its case is filed (立案)
    prompts.inspection_script = lambda form: choose(form, "case_status", "发现") or True

    def facility_form(form):
        page = form.tabs.widget(1)
        assert not page.open_item(page.tree.topLevelItem(0))
        return True

    prompts.form_script = facility_form
    assert not window.edit_attributes("kiosks", [fid])
    assert any("cannot go back" in e for e in prompts.errors)
    assert window.undo_stack.count() == 0


def test_the_cases_panel_filters_sorts_and_zooms_to_the_facility(qtbot, window, prompts):
    menu = next(e for e in window.extensions if type(e).__name__ == "InspectionsMenu")
    menu.dock.show()
    menu.dock.raise_()
    panel = menu.panel
    panel.refresh()
    model = panel.model
    assert model.rowCount() == 2  # the open cases; the intact inspection opened none
    layers = [model.rows[i].layer for i in range(2)]
    assert layers == ["toilets", "kiosks"]  # oldest first
    assert model.data(model.index(0, 0)).startswith("10 d") and panel.count_label.text() == "2 cases"
    panel.set_filter("立案")
    assert [r.layer for r in model.rows] == ["kiosks"]
    panel.set_filter("open", older_than_days=5)
    assert [r.layer for r in model.rows] == ["toilets"]
    panel.set_filter("every")
    assert model.rowCount() == 2
    panel.set_filter("open")
    toilet = model.rows[0]
    window.zoom_full()
    wait_rendered(qtbot, window)
    wide = window.canvas.map_units_per_pixel()
    panel.view.doubleClicked.emit(model.index(0, 2))
    assert window.selection("toilets") == {toilet.facility_fid}
    assert window.canvas.map_units_per_pixel() < wide
    x0, y0, x1, y1 = window.canvas.extent()
    point = window.session.feature("toilets", toilet.facility_fid).geometry
    assert x0 < point.x < x1 and y0 < point.y < y1


def test_the_map_colours_facilities_by_open_cases(qtbot, window, prompts):
    menu = next(e for e in window.extensions if type(e).__name__ == "InspectionsMenu")
    source = window.sources["toilets"]
    window.actions["colour_by_cases"].setChecked(True)
    wait_rendered(qtbot, window)
    assert source.style["field"] == "open_cases"
    assert "1 open case" in window.layer_panel.legend("toilets")
    fids = window.session.fids("toilets")
    drawn = source.features_for_drawing(source.extent(), labels=False)
    classes = dict(zip(drawn.fid.tolist(), drawn.category.tolist(), strict=True))
    assert classes[int(fids[1])] == "1" and classes[int(fids[0])] is None and classes[int(fids[2])] is None
    image = window.canvas.layer_image("toilets")
    assert image is not None
    # A new case through the tab colours its facility at once; closing the colouring restores the style.
    prompts.inspection_script = lambda form: choose(form, "condition", "破损") or True
    prompts.form_script = lambda form: form.tabs.widget(1).add()
    window.edit_attributes("toilets", [int(fids[0])])
    drawn = source.features_for_drawing(source.extent(), labels=False)
    assert dict(zip(drawn.fid.tolist(), drawn.category.tolist(), strict=True))[int(fids[0])] == "1"
    window.actions["colour_by_cases"].setChecked(False)
    assert source.style["field"] == "status"
    assert menu.colour_action.text().startswith("Colour facilities")


def test_an_opened_inspection_takes_photos_like_a_facility(qtbot, window, prompts, tmp_path):
    from layers.media.tables import photo_links
    from tests.layers.media.images import jpeg

    (tmp_path / "door.jpg").write_bytes(jpeg())
    fid = int(window.session.fids("toilets")[1])  # the toilet with a case
    seen = {}

    def inspection(form):
        strip = form.photo_strip
        assert strip is not None and strip.hashes() == []
        assert strip.photos.add_files([tmp_path / "door.jpg"])
        seen["hashes"] = strip.hashes()
        return False  # the photo is its own undoable command; the inspection's fields stay

    def facility_form(form):
        page = form.tabs.widget(1)
        page.open_item(page.tree.topLevelItem(0))
        return False

    prompts.form_script = facility_form
    prompts.inspection_script = inspection
    window.edit_attributes("toilets", [fid])
    assert len(seen["hashes"]) == 1 and window.undo_stack.count() == 1
    assert window.save()
    links = list(photo_links(window.workspace.connection, layer="inspections"))
    assert [(link.sha256, link.layer) for link in links] == [(seen["hashes"][0], "inspections")]


def test_the_cases_follow_a_receive_update_and_a_discard(qtbot, window, prompts):
    from desktop.menu_support import refresh_after_change

    menu = next(e for e in window.extensions if type(e).__name__ == "InspectionsMenu")
    menu.dock.show()
    assert menu.panel.model.rowCount() == 2
    toilet = window.workspace.get("toilets", int(window.session.fids("toilets")[5]))
    add_inspection(window.workspace, "toilets", toilet.uuid, condition="丢失")  # the core wrote it (as update does)
    refresh_after_change(window)
    assert menu.panel.model.rowCount() == 3
    prompts.inspection_script = lambda form: choose(form, "condition", "废弃") or True
    prompts.form_script = lambda form: form.tabs.widget(1).add()
    window.edit_attributes("toilets", [toilet.fid])
    assert menu.panel.model.rowCount() == 4  # a pending one too
    assert window.discard(ask=False)
    assert menu.panel.model.rowCount() == 3
