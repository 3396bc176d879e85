"""Sync > Apply change packages to a master… on the real window: a master file or a server, the packages, the check
(a dry run), the review of the conflicts with a choice each, the apply with progress and Cancel; a bad package or
an unreachable server is one line in the dialog and nothing is written."""

from __future__ import annotations

import hashlib
import sqlite3

import psycopg
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QProgressDialog, QPushButton

from desktop.dialogs.apply_packages import ApplyPackagesDialog
from desktop.dialogs.conflicts import FEATURE, FIELD_VALUE, KEEP, OFFICE, VALUE
from desktop.sync_menu import SyncMenu
from layers.geopackage import open_geopackage
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.master import LEDGER_TABLE, recover
from layers.sync.postgis.create import create_postgis_master
from layers.workspace.store import Workspace
from tests.layers.test_gpkg import assert_valid
from tests.postgis.server import PASSWORD

from .test_server_sync_ui import fill_connection, no_pgpass  # noqa: F401  (fixture)
from .test_sync_ui import ScriptedSyncPrompts

COUNTS = {"toilets": 20, "signboards": 6, "kiosks": 4}


def rename(ws, uuid, name):
    ws.update("toilets", ws.find("toilets", uuid).fid, {"name": name})


def day_of_packages(master, folder):
    """张三 renames toilets 0 and 1, 李四 renames toilet 1 (a conflict with 张三) and toilet 2; the uuids."""
    checkout(master, folder / "zhang.sqlite", user="张三")
    checkout(master, folder / "li.sqlite", user="李四")
    with Workspace.open(folder / "zhang.sqlite") as a:
        uuids = [r["uuid"] for r in a.raw_rows("toilets")]
        rename(a, uuids[0], "张三改零")
        rename(a, uuids[1], "张三改一")
        write_changes(a, folder / "zhang.gpkg")
    with Workspace.open(folder / "li.sqlite") as b:
        rename(b, uuids[1], "李四改一")
        rename(b, uuids[2], "李四改二")
        write_changes(b, folder / "li.gpkg")
    return uuids


def names(master):
    recover(master)
    with open_geopackage(master) as gp:
        return {r["uuid"]: r["name"] for r in gp.rows("toilets")}


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sync_of(window) -> SyncMenu:
    sync = next(e for e in window.extensions if isinstance(e, SyncMenu))
    sync.prompts = ScriptedSyncPrompts(window)
    return sync


def counts_of(dialog):
    table = dialog.counts
    return [tuple(table.item(r, c).text() for c in range(table.columnCount())) for r in range(table.rowCount())]


def test_check_review_and_apply_two_packages_to_a_master_file(qtbot, window, prompts, master, tmp_path):
    uuids = day_of_packages(master, tmp_path)
    original = names(master)
    sync = sync_of(window)
    seen = {}

    def script(dialog):
        assert isinstance(dialog, ApplyPackagesDialog) and not dialog.apply_button.isEnabled()
        dialog.set_master_file(master)
        dialog.add_packages([tmp_path / "zhang.gpkg", tmp_path / "li.gpkg"])
        assert dialog.check(), dialog.status_text()
        seen["status"] = dialog.status_text()
        seen["summary"] = dialog.summary.text()
        seen["counts"] = counts_of(dialog)
        seen["tabs"] = [dialog.conflict_tabs.tabText(i) for i in range(dialog.conflict_tabs.count())]
        table = dialog.table_of(tmp_path / "li.gpkg")
        row = table.row_of("toilets", uuids[1], "name")
        seen["conflict"] = (table.text(row, FEATURE), table.text(row, OFFICE), table.text(row, FIELD_VALUE),
                            table.choice(row))
        seen["unchanged"] = names(master) == original            # the check wrote nothing
        seen["entries"] = [table.combos[row].itemText(i) for i in range(table.combos[row].count())]

        def type_value():                                        # the value dialog, with the field's own editor
            value = QApplication.activeModalWidget()
            seen["value dialog"] = (value.objectName(), value.editor.text())
            value.editor.setText("王五定名")
            value.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

        combo = table.combos[row]
        QTimer.singleShot(0, type_value)
        combo.setCurrentIndex(combo.findData(VALUE))
        combo.activated.emit(combo.currentIndex())               # what picking "Value…" does
        seen["typed"] = (table.choice(row), table.text(row, KEEP))
        dialog.apply_button.click()
        return dialog.result() == dialog.DialogCode.Accepted

    sync.prompts.apply_script = script
    sync.actions["apply"].trigger()
    assert prompts.errors == [] and seen["unchanged"]
    assert seen["status"] == "Checked: review the conflicts, then Apply."
    assert seen["summary"] == ("Master master.gpkg: version 1 now, 3 after the apply of 2 packages. Nothing has been "
                               "written yet.")
    assert seen["counts"] == [("zhang.gpkg", "Public toilets", "0", "2", "0", "0", "0"),
                              ("li.gpkg", "Public toilets", "0", "1", "0", "1", "0")]
    assert seen["tabs"] == ["li.gpkg (1)"]
    assert seen["conflict"] == (original[uuids[1]], "张三改一", "李四改一", "office")  # named as the master names it
    assert seen["entries"] == ["Office", "Field", "Value…"]
    assert seen["value dialog"] == ("conflict_value", "李四改一")     # starts at the field's value
    assert seen["typed"] == ({"value": "王五定名"}, "Value: 王五定名")
    now = names(master)
    assert (now[uuids[0]], now[uuids[1]], now[uuids[2]]) == ("张三改零", "王五定名", "李四改二")  # the value typed
    batch = sync.last_result
    assert (batch.version_before, batch.version_after) == (1, 3) and all(p.exists() for p in batch.reports)
    message = [m for kind, m in prompts.asked if kind == "information"][-1]
    assert message.startswith("Master version 1 → 3.\n\n"
                              "zhang.gpkg:\n  Public toilets: 0 inserted, 2 updated, 0 deleted, 0 conflicts\n"
                              "li.gpkg:\n  Public toilets: 0 inserted, 2 updated, 0 deleted, 1 conflicts\n")
    assert_valid(master)


def test_cancel_a_bad_package_or_a_changed_master_write_nothing(qtbot, window, prompts, master, tmp_path):
    uuids = day_of_packages(master, tmp_path)
    (tmp_path / "notes.gpkg").write_text("not a GeoPackage")
    sync = sync_of(window)
    seen = {}

    def script(dialog):
        dialog.set_master_file(master)
        dialog.add_packages([tmp_path / "zhang.gpkg", tmp_path / "notes.gpkg"])
        seen["bad"] = (dialog.check(), dialog.status_text(), dialog.apply_button.isEnabled())
        dialog.package_list.setCurrentRow(1)
        dialog.remove_selected()
        dialog.add_packages([tmp_path / "li.gpkg"])
        assert dialog.check(), dialog.status_text()
        before = digest(master)
        # Cancel while the apply waits for the master file (another program holds its write lock a moment)
        holder = sqlite3.connect(master)
        holder.execute("BEGIN IMMEDIATE")

        def press_cancel():
            progress = dialog.findChild(QProgressDialog, "apply_progress")
            seen["button"] = progress.findChild(QPushButton).text()
            progress.findChild(QPushButton).click()
            QTimer.singleShot(200, holder.rollback)

        QTimer.singleShot(0, press_cancel)
        seen["cancelled"] = (dialog.apply(), dialog.status_text(), digest(master) == before)
        holder.close()
        # The office changes the conflicting toilet meanwhile: the review no longer holds
        with Workspace.open(tmp_path / "office.sqlite") as office:
            rename(office, uuids[1], "办公室改一")
            write_changes(office, tmp_path / "office.gpkg")
        apply_package(master, tmp_path / "office.gpkg")
        before = digest(master)
        dialog.table_of(tmp_path / "li.gpkg").set_all("field")
        seen["stale"] = (dialog.apply(), dialog.status_text(), digest(master) == before)
        return False

    checkout(master, tmp_path / "office.sqlite", user="office")
    sync.prompts.apply_script = script
    sync.actions["apply"].trigger()
    ran, line, can_apply = seen["bad"]
    assert not ran and not can_apply and "\n" not in line
    assert line.startswith(str(tmp_path / "notes.gpkg")) and "not a GeoPackage" in line
    assert seen["button"] == "Cancel"
    assert seen["cancelled"] == (False, "Cancelled: nothing was written to the master.", True)
    ran, line, unchanged = seen["stale"]
    assert not ran and unchanged and "\n" not in line
    assert "no choice for the conflict toilets" in line and line.endswith("Nothing was written: check again.")
    with open_geopackage(master) as gp:
        assert len(list(gp.rows(LEDGER_TABLE))) == 1             # the office's own package only
    assert sync.last_result is None


@pytest.fixture
def server_master(pg_server, pg_database, no_pgpass, tmp_path):  # noqa: F811
    url = pg_server.url(pg_database)
    create_postgis_master(url, user="office", demo=True, counts=COUNTS)
    return pg_server, pg_database, url


def test_apply_to_a_server_and_an_unreachable_one(qtbot, window, prompts, server_master, tmp_path):
    pg_server, database, url = server_master
    uuids = day_of_packages(url, tmp_path)
    sync = sync_of(window)
    seen = {}

    def script(dialog):
        dialog.use_server_master()
        fill_connection(dialog.server, pg_server, database, PASSWORD)
        dialog.server.port.setValue(1)                         # nothing listens there
        dialog.add_packages([tmp_path / "li.gpkg", tmp_path / "zhang.gpkg"])
        seen["unreachable"] = (dialog.check(), dialog.status_text())
        dialog.server.port.setValue(pg_server.port)
        assert dialog.check(), dialog.status_text()
        seen["counts"] = counts_of(dialog)
        dialog.apply_button.click()
        return dialog.result() == dialog.DialogCode.Accepted

    sync.prompts.apply_script = script
    sync.actions["apply"].trigger()
    ran, line = seen["unreachable"]
    assert not ran and "\n" not in line and PASSWORD not in line
    assert line == f"postgresql://postgres@127.0.0.1:1/{database}: The server cannot be reached: is it running, is " \
                   "the address right, is there a network?"
    assert [row[0] for row in seen["counts"]] == ["li.gpkg", "zhang.gpkg"]
    assert seen["counts"][1][-2] == "1"                        # 张三's rename of toilet 1 comes second: the conflict
    with psycopg.connect(url) as con:
        now = dict(con.execute("SELECT uuid, name FROM toilets WHERE uuid = ANY(%s)", (uuids[:3],)).fetchall())
        version = con.execute("SELECT value FROM tongcheng_master WHERE key = 'version'").fetchone()[0]
    assert (now[uuids[0]], now[uuids[1]], now[uuids[2]], version) == ("张三改零", "李四改一", "李四改二", "3")


def test_a_typed_value_is_checked_and_offered_only_where_it_can_be_kept(qtbot, master, tmp_path):
    from desktop.dialogs.conflicts import ConflictTable
    from layers.errors import ValidationError
    from layers.sync.batch import apply_packages
    from layers.sync.master import read_master

    uuids = day_of_packages(master, tmp_path)
    with Workspace.open(tmp_path / "li.sqlite") as b:           # 李四 also deletes what 张三 renamed
        b.delete("toilets", b.find("toilets", uuids[0]).fid)
        b.update("toilets", b.find("toilets", uuids[2]).fid, {"seats_male": 4})
        write_changes(b, tmp_path / "li2.gpkg")
    with Workspace.open(tmp_path / "zhang.sqlite") as a:
        a.update("toilets", a.find("toilets", uuids[2]).fid, {"seats_male": 6})
        write_changes(a, tmp_path / "zhang2.gpkg")
    dry = apply_packages(master, [tmp_path / n for n in ("zhang.gpkg", "li.gpkg", "zhang2.gpkg", "li2.gpkg")],
                         dry_run=True)
    conflicts = dry.results[-1].conflicts
    table = ConflictTable(conflicts, read_master(master).definitions, language="en")
    qtbot.addWidget(table)
    kinds = {(c.uuid, c.field): (c.kind, table.combos[row].count()) for row, c in enumerate(conflicts)}
    assert kinds[(uuids[0], "name")] == ("update/delete", 2)     # a feature deleted on one side: office or field
    seats = table.row_of("toilets", uuids[2], "seats_male")
    assert kinds[(uuids[2], "seats_male")] == ("update/update", 3)
    with pytest.raises(ValidationError):
        table.set_value(seats, "four")                           # the core refuses it; nothing chosen
    assert table.choice(seats) == "office"
    table.set_value(seats, "5")
    assert table.choice(seats) == {"value": 5}                   # kept in its stored form
