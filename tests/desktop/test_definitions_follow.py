"""The editor takes the definitions an update brings (issue 14): after Sync > Receive update the open window shows
a changed definition (new field, new code, renamed label, removed field) and a layer the office added, with no
reopening; the undo history that could write a removed field is cleared and the window says so; a restore point
from before the update brings the old layers back into the window too."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from shapely import Point

from desktop.app import open_window
from desktop.dialogs import UnsavedAnswer
from desktop.sync_menu import SyncMenu
from layers.geopackage import open_geopackage
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.definition_changes import add_layer, update_definition
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.layers.test_definition_changes import MAPPINGS, version_two

from .editor_fixtures import empty_spot, wait_rendered
from .test_sync_ui import ScriptedSyncPrompts, prompts, windows  # noqa: F401  (fixtures)

COUNTS = {"toilets": 12, "signboards": 8, "kiosks": 4}

BENCHES = """# 座椅 Benches: a layer the office adds to a master already in use.
name = "benches"
title = { zh_CN = "座椅", en = "Benches" }
geometry = "POINT"
label_field = "name"

[style]
symbol = "square"
size = 4.0
default_color = "#6d4c41"

[[fields]]
name = "name"
type = "text"
label = { zh_CN = "名称", en = "Name" }
required = true
max_length = 50

[[fields]]
name = "seats"
type = "integer"
label = { zh_CN = "座位数", en = "Seats" }
min = 1
max = 20
"""


@pytest.fixture
def office(master_file, tmp_path):
    """A master with a toilet of each case version two has to place, a field workspace checked out from it."""
    master = tmp_path / "master.gpkg"
    master.write_bytes(master_file.read_bytes())
    with open_geopackage(master, "a") as gp:
        fids = [r[0] for r in gp.connection.execute("SELECT fid FROM toilets ORDER BY fid LIMIT 2")]
        gp.connection.execute("UPDATE toilets SET structure = '移动式' WHERE fid = ?", (fids[0],))
        gp.connection.execute("UPDATE toilets SET community = '玉林社区' WHERE fid = ?", (fids[1],))
    field = tmp_path / "field.sqlite"
    checkout(master, field, user="张三")
    benches = tmp_path / "benches.toml"
    benches.write_text(BENCHES, "utf-8")
    return {"master": master, "field": field, "v2": version_two(tmp_path), "benches": benches, "folder": tmp_path}


def open_window_zh(qtbot, path, prompts):  # noqa: F811
    """The window with its data labels (layer titles, field labels, codes) in Chinese."""
    w = open_window(path, language="zh_CN", prompts=prompts, show=False)
    w.resize(1100, 750)
    w.show()
    qtbot.waitExposed(w)
    w.zoom_full()
    wait_rendered(qtbot, w)
    sync = next(e for e in w.extensions if isinstance(e, SyncMenu))
    sync.prompts = ScriptedSyncPrompts(w)
    return w, sync


def office_changes(office, bench_at):
    """The office changes the toilets' definition, adds the benches layer and places a bench at *bench_at*."""
    update_definition(office["master"], office["v2"], mappings=MAPPINGS, user="科长")
    add_layer(office["master"], office["benches"], user="科长")
    desk = office["folder"] / "office.sqlite"
    checkout(office["master"], desk, user="office")
    with Workspace.open(desk) as ws:
        bench = ws.insert("benches", {"name": "河边座椅", "seats": 4}, Point(*bench_at))
        package = write_changes(ws, office["folder"] / "benches.gpkg")
    apply_package(office["master"], package.path)
    return bench.uuid


def form_of(w, prompts, layer, fid):  # noqa: F811
    """The feature form the window opens for one feature (closed with Cancel)."""
    prompts.form_script = lambda form: False
    w.edit_attributes(layer, [fid])
    return prompts.forms[-1]


def codes(editor):
    return [editor.itemData(i) for i in range(editor.count()) if editor.itemData(i) is not None]


def receive(qtbot, sync, master):
    sync.prompts.master = master
    sync.prompts.review = lambda dialog: True
    sync.actions["receive"].trigger()
    qtbot.wait(100)
    wait_rendered(qtbot, sync.window)


def test_receive_update_shows_the_new_definitions_and_the_added_layer_at_once(qtbot, office, prompts, windows):  # noqa: F811
    w, sync = open_window_zh(qtbot, office["field"], prompts)
    windows.append(w)
    toilet = next(iter(w.session.features_by_fid("toilets", [1])))
    before = form_of(w, prompts, "toilets", toilet.fid)
    assert "community" in before.editors and "cleaner" not in before.editors
    assert "移动式" in codes(before.editor("structure"))
    assert "benches" not in w.layer_panel.layer_names()

    spot = empty_spot(w, "toilets", margin_px=30)
    bench_uuid = office_changes(office, w.canvas.to_map(QPointF(spot)))
    # An edit made and undone before the update: its redo would write the field the office removed.
    assert w.change_attributes("toilets", toilet.fid, {"community": "芳草社区"})
    w.undo_stack.undo()
    assert w.undo_stack.canRedo() and w.undo_stack.isClean()

    receive(qtbot, sync, office["master"])
    assert prompts.errors == []
    assert w.workspace.layer("toilets").version == 2

    # The form: the new fields with their Chinese labels, the renamed label, the new code, the removed field gone.
    after = form_of(w, prompts, "toilets", toilet.fid)
    assert after.labels["cleaner"].text().startswith("保洁单位")
    assert after.labels["has_water"].text().startswith("有水")
    assert after.labels["name"].text().startswith("公厕名称")
    assert "community" not in after.editors and "neighbourhood" in after.editors
    assert "装配式" in codes(after.editor("structure")) and "移动式" not in codes(after.editor("structure"))
    assert after.editor("has_water").field_value() is True  # the value the office's migration gave

    # The attribute table: the new columns, titled in the window's language; no column of the removed field.
    w.table.set_layer("toilets")
    model = w.table.view.model()
    column = model.column_of("cleaner")
    assert model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole).startswith("保洁单位")
    assert model.headerData(model.column_of("name"), Qt.Orientation.Horizontal,
                            Qt.ItemDataRole.DisplayRole).startswith("公厕名称")
    with pytest.raises(KeyError):
        model.column_of("community")
    assert w.table.layer_combo.findData("benches") >= 0

    # The layer panel lists the added layer, with its count; the map draws it and Identify finds the bench.
    assert "benches" in w.layer_panel.layer_names()
    assert w.layer_panel.count("benches") == 1
    assert w.canvas.is_layer_visible("benches")
    w.set_tool("identify")
    w.canvas.refresh()
    wait_rendered(qtbot, w)
    hit = w.identify_tool.feature_at(QPointF(spot))
    assert hit is not None and hit.layer == "benches"
    bench = w.session.feature("benches", hit.fid)
    assert bench.uuid == bench_uuid and bench.attributes["name"] == "河边座椅"
    image = w.canvas.grab().toImage()
    colour = image.pixelColor(spot)
    assert (colour.red(), colour.green(), colour.blue()) == (0x6d, 0x4c, 0x41)  # drawn in its style

    # The history was cleared, and the window said so: nothing can write the removed column.
    assert w.undo_stack.count() == 0 and not w.undo_stack.canRedo() and not w.undo_stack.canUndo()
    w.actions["redo"].trigger()
    w.actions["undo"].trigger()
    assert not w.session.is_dirty and prompts.errors == []
    assert "history" in w.statusBar().currentMessage().lower()
    (told,) = [asked[1] for asked in prompts.asked if asked[0] == "information"]
    assert "公厕: definition version 1 → 2" in told and "座椅: layer added" in told

    # Editing the new field goes through as usual and is saved in its column.
    assert w.change_attributes("toilets", toilet.fid, {"cleaner": "城东保洁"})
    assert w.save()
    assert w.workspace.find("toilets", toilet.uuid).attributes["cleaner"] == "城东保洁"
    w.undo_stack.clear()


def test_an_update_without_definition_changes_keeps_the_views_and_the_history(qtbot, office, prompts, windows):  # noqa: F811
    w, sync = open_window_zh(qtbot, office["field"], prompts)
    windows.append(w)
    sources = dict(w.sources)
    model = w.table.model("toilets")
    assert w.change_attributes("toilets", 1, {"name": "改了又撤"})
    w.undo_stack.undo()
    receive(qtbot, sync, office["master"])
    assert prompts.errors == []
    assert w.sources == sources and w.table.model("toilets") is model  # nothing rebuilt
    assert w.undo_stack.canRedo()  # the rule of before: an update keeps the history


def test_a_restore_point_from_before_the_update_brings_the_old_definitions_back(qtbot, office, prompts, windows):  # noqa: F811
    w, sync = open_window_zh(qtbot, office["field"], prompts)
    windows.append(w)
    office_changes(office, w.canvas.to_map(QPointF(empty_spot(w, "toilets"))))
    receive(qtbot, sync, office["master"])
    assert "benches" in w.layer_panel.layer_names()
    restore = next(e for e in w.extensions if hasattr(e, "restore") and hasattr(e, "action"))
    prompts.restore_choice = 0  # the one made before the update
    prompts.unsaved_answer = UnsavedAnswer.DISCARD
    restored = restore.restore()
    assert restored is not None and restored.action.startswith("Receive update")
    wait_rendered(qtbot, w)
    assert prompts.errors == []
    assert w.workspace.layer("toilets").version == 1
    assert "benches" not in w.layer_panel.layer_names() and "benches" not in w.sources
    assert w.table.layer_combo.findData("benches") < 0
    toilet = next(iter(w.session.features_by_fid("toilets", [1])))
    form = form_of(w, prompts, "toilets", toilet.fid)
    assert "community" in form.editors and "cleaner" not in form.editors


def test_a_workspace_opened_after_an_update_shows_its_definitions_and_keeps_the_remembered_layer_order(
        qtbot, office, prompts, windows):  # noqa: F811
    w, _sync = open_window_zh(qtbot, office["field"], prompts)
    w.layer_panel.move_layer("kiosks", -2)  # kiosks on top, remembered when the window closes
    order = [layer.name for layer in w.canvas.layers()]
    assert order[0] == "kiosks"
    spot = empty_spot(w, "toilets")
    office_changes(office, w.canvas.to_map(QPointF(spot)))
    w.close()
    with Workspace.open(office["field"]) as ws:  # updated outside the editor (tongcheng update)
        assert update_workspace(ws, office["master"]).definitions == [
            "layer toilets definition version 1 -> 2", "layer benches added (definition version 1)"]
    w, _sync = open_window_zh(qtbot, office["field"], prompts)
    windows.append(w)
    names = [layer.name for layer in w.canvas.layers()]
    assert [n for n in names if n != "benches"] == order and "benches" in names
    assert w.shown_definitions == w.workspace.definitions and w.sources["toilets"].definition.version == 2
    assert w.table.model("toilets").column_of("cleaner") > 0
