"""Receive update with a choice per field, driven through the real window: the workspace stays sound.

Regression for "database disk image is malformed" after Sync > Receive update
with per-field choices (issue 10). The cause: the editor's workers opened a
second ``Workspace`` on the file the window had open, and ``Workspace.open``
read the file's header with Python's ``open()``; closing that descriptor
dropped every POSIX lock the process held on the database (SQLite's "How To
Corrupt", section 2.2). The next program to close the file (``tongcheng
info``, QGIS, a backup) then believed it was the last user: it checkpointed
and deleted the WAL under the editor, whose later commits went to an unlinked
file that no other program could see, lost on a crash, and diverging from
anyone else's writes.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from layers.geopackage import open_geopackage
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.workspace.store import Workspace

from .test_sync_ui import office, open_sync_window, prompts, windows  # noqa: F401  (fixtures)

FIELDS = ("name", "seats_male", "opening_hours")
OFFICE_VALUES = {"name": "办公室名", "seats_male": 9, "opening_hours": "8:00-20:00"}
FIELD_VALUES = {"name": "现场名", "seats_male": 3, "opening_hours": "6:00-23:00"}
CHOICES = ("office", "field", "field")


def _rows(path):
    with Workspace.open(path) as ws:
        definition = ws.layer("toilets")
        return {f.uuid: ({n: f.attributes.get(n) for n in definition.field_names}, f.geometry.wkb)
                for f in ws.features("toilets")}


def test_receive_update_with_a_choice_per_field_keeps_the_workspace_sound(qtbot, office, prompts, windows,  # noqa: F811
                                                                         tmp_path):
    master, field, u = office
    other = tmp_path / "other.sqlite"
    checkout(master, other, user="李四")
    with Workspace.open(other) as ws:
        for uuid, name in zip(u[:3], FIELDS, strict=True):
            ws.update("toilets", ws.find("toilets", uuid).fid, {name: OFFICE_VALUES[name]})
        write_changes(ws, tmp_path / "other.gpkg")
    apply_package(master, tmp_path / "other.gpkg")
    with open_geopackage(master) as gp:
        office_uuids = {r["uuid"] for r in gp.rows("toilets")}

    w, sync = open_sync_window(qtbot, field, prompts)
    windows.append(w)
    for uuid, name in zip(u[:3], FIELDS, strict=True):   # unsaved edits, saved when the menu asks
        assert w.change_attributes("toilets", w.workspace.find("toilets", uuid).fid, {name: FIELD_VALUES[name]})
    before = _rows(field)

    def review(dialog):
        table = dialog.conflicts
        assert len(table.conflicts) == 3
        for uuid, name, choice in zip(u[:3], FIELDS, CHOICES, strict=True):
            table.set_choice(table.row_of("toilets", uuid, name), choice)
        return True

    sync.prompts.master = master
    sync.prompts.review = review
    sync.actions["receive"].trigger()
    qtbot.wait(200)                          # let the canvas and the table read the new state
    w.canvas.refresh()
    qtbot.wait(200)
    assert prompts.errors == []

    # The file is sound, seen from a new connection and from the window's own.
    con = sqlite3.connect(field)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        con.close()
    assert w.workspace.connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    # Every row is what the choices say: the office's value, or the field's.
    expected = {uuid: (dict(attributes), geometry) for uuid, (attributes, geometry) in before.items()}
    assert set(expected) == office_uuids
    for uuid, name, choice in zip(u[:3], FIELDS, CHOICES, strict=True):
        expected[uuid][0][name] = OFFICE_VALUES[name] if choice == "office" else FIELD_VALUES[name]
    after = _rows(field)
    assert after == expected
    pending = {c.uuid: c.changed_fields for c in w.workspace.changes("toilets")}
    assert pending == {u[1]: ("seats_male",), u[2]: ("opening_hours",)}


CHILD_READ = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
    "print(c.execute(\"SELECT name FROM toilets WHERE uuid = ?\", (sys.argv[2],)).fetchone()[0]); c.close()"
)


def _read_in_another_process(path, uuid):
    result = subprocess.run([sys.executable, "-c", CHILD_READ, str(path), uuid], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_edits_saved_after_receive_update_reach_the_disk_when_another_program_reads_the_file(
        qtbot, office, prompts, windows, tmp_path):  # noqa: F811
    master, field, u = office
    other = tmp_path / "other.sqlite"
    checkout(master, other, user="李四")
    with Workspace.open(other) as ws:
        ws.update("toilets", ws.find("toilets", u[0]).fid, {"name": OFFICE_VALUES["name"]})
        write_changes(ws, tmp_path / "other.gpkg")
    apply_package(master, tmp_path / "other.gpkg")
    w, sync = open_sync_window(qtbot, field, prompts)
    windows.append(w)
    assert w.change_attributes("toilets", w.workspace.find("toilets", u[0]).fid, {"name": FIELD_VALUES["name"]})
    sync.prompts.master = master
    sync.prompts.review = lambda dialog: True
    sync.actions["receive"].trigger()
    assert prompts.errors == []
    assert _read_in_another_process(field, u[0]) == OFFICE_VALUES["name"]  # e.g. `tongcheng info`, or QGIS
    assert w.change_attributes("toilets", w.workspace.find("toilets", u[1]).fid, {"name": "保存后的名字"})
    assert w.save()
    # What the user saved is on disk: another program sees it, while the editor is still open.
    assert _read_in_another_process(field, u[1]) == "保存后的名字"
    assert Path(str(field) + "-wal").exists() or _read_in_another_process(field, u[1]) == "保存后的名字"
