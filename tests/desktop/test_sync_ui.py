"""The Sync menu on a real window: send changes, receive an update with the conflict review."""

from __future__ import annotations

import json

import pytest
import shiboken6
from PySide6.QtWidgets import QApplication

from desktop.app import open_window
from desktop.dialogs import UnsavedAnswer
from desktop.dialogs.conflicts import BASE, FEATURE, FIELD, FIELD_VALUE, KIND, OFFICE, OFFICE_EDIT
from desktop.dialogs.sync_dialogs import SyncPrompts
from desktop.sync_menu import SyncMenu
from layers.geopackage import open_geopackage
from layers.sync.apply import apply_package
from layers.sync.changes import read_package, write_changes
from layers.sync.checkout import checkout
from layers.sync.master import recover
from layers.workspace.store import Workspace

from .editor_fixtures import ScriptedPrompts, wait_rendered

COUNTS = {"toilets": 12, "signboards": 8, "kiosks": 4}


class ScriptedSyncPrompts(SyncPrompts):
    """Answers the sync menu's questions from attributes; records them."""

    def __init__(self, window):
        super().__init__(window)
        self.asked = []
        self.unsaved_answer = UnsavedAnswer.SAVE
        self.package = None
        self.master = None
        self.review = None          # callable(dialog) -> bool, or None to cancel
        self.apply_script = None    # callable(apply dialog) -> bool (True when it applied), or None to close
        self.dialog_seen = None

    def unsaved_before_sync(self, count):
        self.asked.append(("unsaved", count))
        return self.unsaved_answer

    def package_path(self, suggested):
        self.asked.append(("package", suggested))
        return None if self.package is None else str(self.package)

    def master_path(self, folder):
        self.asked.append(("master", folder))
        return None if self.master is None else str(self.master)

    def apply_packages(self, dialog):
        self.asked.append(("apply", dialog.folder))
        self.apply_dialog = dialog
        return bool(self.apply_script and self.apply_script(dialog))

    def review_update(self, dialog):
        self.asked.append(("review", len(dialog.result.conflicts)))
        self.dialog_seen = dialog
        return False if self.review is None else self.review(dialog)


@pytest.fixture
def office(master_file, tmp_path):
    """A fresh master, a field workspace checked out from it, and the uuids of its toilets."""
    master = tmp_path / "master.gpkg"
    master.write_bytes(master_file.read_bytes())
    checkout(master, tmp_path / "field.sqlite", user="张三")
    recover(master)
    with open_geopackage(master) as gp:
        uuids = [r["uuid"] for r in gp.rows("toilets")]
    return master, tmp_path / "field.sqlite", uuids


@pytest.fixture
def prompts():
    return ScriptedPrompts()


def open_sync_window(qtbot, path, prompts):
    w = open_window(path, language="en", prompts=prompts, show=False)
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    w.zoom_full()
    wait_rendered(qtbot, w)
    sync = next(e for e in w.extensions if isinstance(e, SyncMenu))
    sync.prompts = ScriptedSyncPrompts(w)
    return w, sync


@pytest.fixture
def windows(prompts):
    opened = []
    yield opened
    for w in opened:
        if shiboken6.isValid(w):
            prompts.unsaved_answer = UnsavedAnswer.DISCARD
            w.close()
            QApplication.processEvents()


def test_sync_menu_has_its_actions(qtbot, office, prompts, windows):
    _master, field, _u = office
    w, sync = open_sync_window(qtbot, field, prompts)
    windows.append(w)
    titles = [a.text() for a in w.menuBar().actions()]
    assert "S&ync" in titles
    assert [a.text() for a in sync.menu.actions() if a.text()] == [
        "&Send changes…", "&Receive update…", "&Apply change packages to a master…"]


def test_nothing_to_send_says_so(qtbot, office, prompts, windows):
    _master, field, _u = office
    w, sync = open_sync_window(qtbot, field, prompts)
    windows.append(w)
    sync.actions["send"].trigger()
    assert ("information", "Nothing to send: no edits since the last sync.") in prompts.asked
    assert not any(q[0] == "package" for q in sync.prompts.asked)


def test_send_changes_saves_first_and_writes_a_package_with_counts(qtbot, office, prompts, windows, tmp_path):
    master, field, u = office
    w, sync = open_sync_window(qtbot, field, prompts)
    windows.append(w)
    fids = {w.workspace.find("toilets", k).fid: k for k in u[:3]}
    first, second, third = list(fids)
    assert w.change_attributes("toilets", first, {"name": "现场改名"})
    assert w.change_attributes("toilets", second, {"seats_male": 7})
    assert w.delete_features("toilets", [third])
    assert w.is_modified()
    sync.prompts.package = tmp_path / "out" / "field-changes"
    (tmp_path / "out").mkdir()
    sync.actions["send"].trigger()
    assert ("unsaved", 3) in sync.prompts.asked           # asked, and saved (the scripted answer)
    assert not w.is_modified()
    package = tmp_path / "out" / "field-changes.gpkg"
    assert package.exists()
    result = sync.last_result
    assert result.layers["toilets"] == {"insert": 0, "update": 2, "delete": 1}
    assert read_package(package).package_uuid == result.package_uuid
    with open_geopackage(package) as gp:
        ops = {r["uuid"]: r["op"] for r in gp.rows("toilets")}
    assert ops == {u[0]: "update", u[1]: "update", u[2]: "delete"}
    message = [m for kind, m in prompts.asked if kind == "information"][-1]
    assert ("Public toilets: 0 inserted, 2 updated, 1 deleted" in message
            or ": 0 inserted, 2 updated, 1 deleted" in message)
    # the base was reset: nothing more to send
    assert sum(sum(c.values()) for c in sync.pending_counts().values()) == 0
    # the office can apply it
    assert apply_package(master, package).version_after == 2


def office_edits(master, tmp_path, u):
    """Another member of staff changes u[0] name and u[1] seats; the office applies the package."""
    other = tmp_path / "other.sqlite"
    checkout(master, other, user="李四")
    with Workspace.open(other) as ws:
        ws.update("toilets", ws.find("toilets", u[0]).fid, {"name": "办公室名"})
        ws.update("toilets", ws.find("toilets", u[1]).fid, {"seats_male": 9})
        ws.update("toilets", ws.find("toilets", u[2]).fid, {"opening_hours": "8:00-20:00"})
        write_changes(ws, tmp_path / "other.gpkg")
    apply_package(master, tmp_path / "other.gpkg")


def test_receive_update_reviews_conflicts_and_keeps_the_chosen_field_value(qtbot, office, prompts, windows,
                                                                             tmp_path):
    master, field, u = office
    with Workspace.open(field) as ws:
        base_name = ws.find("toilets", u[0]).attributes["name"]
        base_seats = ws.find("toilets", u[1]).attributes["seats_male"]
    office_edits(master, tmp_path, u)
    w, sync = open_sync_window(qtbot, field, prompts)
    windows.append(w)
    # unsaved field edits on the same fields: the user saves them when asked
    assert w.change_attributes("toilets", w.workspace.find("toilets", u[0]).fid, {"name": "现场名"})
    assert w.change_attributes("toilets", w.workspace.find("toilets", u[1]).fid, {"seats_male": 3})
    seen = {}

    def review(dialog):
        table = dialog.conflicts
        assert dialog.policy() == "office"
        assert len(table.conflicts) == 2
        name_row = table.row_of("toilets", u[0], "name")
        seats_row = table.row_of("toilets", u[1], "seats_male")
        seen["name"] = [table.text(name_row, c) for c in (FIELD, KIND, BASE, OFFICE, FIELD_VALUE)]
        seen["seats"] = [table.text(seats_row, c) for c in (FIELD, BASE, OFFICE, FIELD_VALUE)]
        seen["feature"] = table.text(name_row, FEATURE)
        seen["office_edit"] = table.text(name_row, OFFICE_EDIT)
        assert table.choices() == ["office", "office"]
        table.set_choice(name_row, "field")
        return True

    sync.prompts.master = master
    sync.prompts.review = review
    sync.actions["receive"].trigger()
    assert ("unsaved", 2) in sync.prompts.asked
    assert prompts.errors == []
    assert seen["name"] == ["Name", "Both changed", base_name, "办公室名", "现场名"]
    assert seen["seats"] == ["Men's places", str(base_seats), "9", "3"]
    assert "现场名" in seen["feature"] or u[0] in seen["feature"]
    assert "李四" in seen["office_edit"]
    ws = w.workspace
    assert ws.find("toilets", u[0]).attributes["name"] == "现场名"       # the field's value, chosen
    assert ws.find("toilets", u[1]).attributes["seats_male"] == 9          # the office's, by the policy
    assert ws.find("toilets", u[2]).attributes["opening_hours"] == "8:00-20:00"  # office change merged in
    changes = {c.uuid: c for c in ws.changes("toilets")}
    assert set(changes) == {u[0]} and changes[u[0]].changed_fields == ("name",)  # pending, to send
    assert not w.is_modified()
    assert w.layer_panel.count("toilets") == COUNTS["toilets"]
    report = json.loads(sync.last_report.read_text("utf-8"))
    by_field = {c["field"]: c for c in report["conflicts"]}
    assert by_field["name"]["resolution"] == "field" and by_field["name"]["office_value"] == "办公室名"
    assert by_field["seats_male"]["resolution"] == "office" and by_field["seats_male"]["field_value"] == 3
    message = [m for kind, m in prompts.asked if kind == "information"][-1]
    assert str(sync.last_report) in message
    # and the next package sends the chosen value
    sync.prompts.package = tmp_path / "next.gpkg"
    sync.actions["send"].trigger()
    assert sync.last_result.layers["toilets"] == {"insert": 0, "update": 1, "delete": 0}


def test_receive_update_with_the_field_policy_and_cancel(qtbot, office, prompts, windows, tmp_path):
    master, field, u = office
    office_edits(master, tmp_path, u)
    with Workspace.open(field) as ws:
        ws.update("toilets", ws.find("toilets", u[0]).fid, {"name": "现场名"})
    w, sync = open_sync_window(qtbot, field, prompts)
    windows.append(w)
    sync.prompts.master = master
    sync.actions["receive"].trigger()                 # the review is cancelled: nothing changes
    assert ("review", 1) in sync.prompts.asked
    assert sync.last_result is None
    assert w.workspace.find("toilets", u[1]).attributes["seats_male"] != 9

    def keep_field(dialog):
        dialog.set_policy("field")
        assert dialog.choices() == ["field"]
        return True

    sync.prompts.review = keep_field
    sync.actions["receive"].trigger()
    ws = w.workspace
    assert ws.find("toilets", u[0]).attributes["name"] == "现场名"
    assert ws.find("toilets", u[1]).attributes["seats_male"] == 9
    report = json.loads(sync.last_report.read_text("utf-8"))
    assert report["policy"] == "field" and report["conflicts"][0]["resolution"] == "field"


def test_receive_update_errors_are_shown(qtbot, office, prompts, windows, tmp_path):
    _master, field, _u = office
    w, sync = open_sync_window(qtbot, field, prompts)
    windows.append(w)
    bad = tmp_path / "not-a-master.gpkg"
    bad.write_text("nonsense")
    sync.prompts.master = bad
    sync.actions["receive"].trigger()
    assert prompts.errors and "not-a-master.gpkg" in prompts.errors[-1]


def test_feature_deleted_at_the_office_can_be_kept_from_the_field(qtbot, office, prompts, windows, tmp_path):
    master, field, u = office
    other = tmp_path / "other.sqlite"
    checkout(master, other, user="李四")
    with Workspace.open(other) as ws:
        ws.delete("toilets", ws.find("toilets", u[3]).fid)
        write_changes(ws, tmp_path / "other.gpkg")
    apply_package(master, tmp_path / "other.gpkg")
    with Workspace.open(field) as ws:
        ws.update("toilets", ws.find("toilets", u[3]).fid, {"name": "外业保留", "seats_male": 5})
    w, sync = open_sync_window(qtbot, field, prompts)
    windows.append(w)

    def keep(dialog):
        table = dialog.conflicts
        assert {c.kind for c in table.conflicts} == {"delete/update"}
        assert len(table.conflicts) == 2            # name and seats_male, one feature
        assert table.text(0, OFFICE) == "(deleted)"
        table.set_choice(0, "field")                # the choice is the feature's: both rows follow
        assert table.choices() == ["field", "field"]
        return True

    sync.prompts.master = master
    sync.prompts.review = keep
    sync.actions["receive"].trigger()
    assert prompts.errors == []
    feature = w.workspace.find("toilets", u[3])
    assert feature.attributes["name"] == "外业保留" and feature.attributes["seats_male"] == 5
    assert {c.uuid: c.op for c in w.workspace.changes("toilets")} == {u[3]: "insert"}


def test_the_conflict_review_names_each_feature_and_shows_the_choice_whole(qtbot, office, prompts, windows,
                                                                           tmp_path):
    from desktop.dialogs.conflicts import FEATURE, KEEP

    master, field, u = office
    office_edits(master, tmp_path, u)
    w, sync = open_sync_window(qtbot, field, prompts)
    windows.append(w)
    names = {uuid: w.workspace.find("toilets", uuid).attributes["name"] for uuid in u[:2]}
    assert w.change_attributes("toilets", w.workspace.find("toilets", u[0]).fid, {"name": "现场名"})
    assert w.change_attributes("toilets", w.workspace.find("toilets", u[1]).fid, {"seats_male": 3})
    seen = {}

    def review(dialog):
        table = dialog.conflicts
        dialog.show()
        rows = {uuid: table.row_of("toilets", uuid, f) for uuid, f in ((u[0], "name"), (u[1], "seats_male"))}
        seen["features"] = {uuid: table.text(row, FEATURE) for uuid, row in rows.items()}
        widths = [table.combos[row].sizeHint().width() for row in rows.values()]
        seen["keep"] = (table.table.columnWidth(KEEP), max(widths))
        return False

    sync.prompts.master = master
    sync.prompts.review = review
    sync.actions["receive"].trigger()
    # each row is named by the feature's name, not by the same short uuid prefix on every row
    assert seen["features"] == {u[0]: "现场名", u[1]: names[u[1]]}
    width, combo = seen["keep"]
    assert width >= combo  # the choice column shows its drop-down whole
