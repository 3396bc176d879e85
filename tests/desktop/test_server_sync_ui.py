"""The editor with a PostGIS master on a throwaway server: File > Check out from server… (connect, the areas as
scope, progress with Cancel), then Sync > Send changes and Receive update directly, and by file when offline."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton

from desktop.app import open_window, open_windows
from desktop.dialogs import UnsavedAnswer
from desktop.dialogs.conflicts import KEEP, OFFICE
from desktop.dialogs.server_checkout import ServerCheckoutDialog
from desktop.error_reporting import configure_logging
from desktop.sync_menu import SyncMenu
from layers.postgres.connection import password_given
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import SETTINGS, checkout
from layers.sync.direct import send_to_master
from layers.sync.postgis.create import create_postgis_master
from layers.workspace.store import Workspace
from tests.postgis.server import PASSWORD, new_database

from .editor_fixtures import wait_rendered
from .test_logging import log_dir, log_text  # noqa: F401  (the fixture: the editor's log in tmp_path)
from .test_sync_ui import ScriptedSyncPrompts

COUNTS = {"toilets": 200, "signboards": 10, "kiosks": 5}
STREET = "510104001"


class ServerSyncPrompts(ScriptedSyncPrompts):
    """The sync menu's questions about a server, answered from attributes."""

    def __init__(self, window):
        super().__init__(window)
        self.go_offline = False
        self.password = None
        self.reports = []

    def offline(self, title, reason, action):
        self.asked.append(("offline", reason, action))
        return self.go_offline

    def server_password(self, server, reason):
        self.asked.append(("password", server, reason))
        return self.password

    def sent_report(self, dialog):
        table = dialog.conflicts
        self.reports.append([(c.uuid, c.field, table.text(row, OFFICE), table.text(row, KEEP),
                              table.combos[row].isEnabled()) for row, c in enumerate(table.conflicts)])


@pytest.fixture
def no_pgpass(monkeypatch):
    """libpq finds no password of its own: only what the editor is given counts."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")


@pytest.fixture
def server(pg_server, pg_database, no_pgpass):
    """A demo PostGIS master (with the demo's areas); ``tcp`` asks for the password."""
    create_postgis_master(pg_server.url(pg_database), user="office", demo=True, counts=COUNTS)
    return pg_server, pg_database


@pytest.fixture
def closing():
    """Closes every editor window left open (edits discarded)."""
    yield
    for w in open_windows():
        if shiboken6.isValid(w):
            w.prompts.unsaved_answer = UnsavedAnswer.DISCARD
            w.close()
    QApplication.processEvents()


def fill_connection(dialog, pg_server, database, password):
    dialog.host.setText("127.0.0.1")
    dialog.port.setValue(pg_server.port)
    dialog.database.setText(database)
    dialog.user.setText("postgres")
    dialog.schema.setText("public")
    dialog.password.setText(password)


def sync_of(window) -> SyncMenu:
    sync = next(e for e in window.extensions if isinstance(e, SyncMenu))
    if not isinstance(sync.prompts, ServerSyncPrompts):
        sync.prompts = ServerSyncPrompts(window)
    return sync


def names_in_master(url, uuids):
    with psycopg.connect(url) as con:
        return dict(con.execute("SELECT uuid, name FROM toilets WHERE uuid = ANY(%s)", (list(uuids),)).fetchall())


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_check_out_a_street_edit_send_directly_and_receive_the_offices_change(qtbot, window, prompts, server,
                                                                             tmp_path, closing):
    pg_server, database = server
    target = tmp_path / "chunxi.sqlite"
    seen = {}

    def script(dialog):
        assert not dialog.checkout_button.isEnabled()        # nothing to check out before Connect
        fill_connection(dialog, pg_server, database, PASSWORD)
        dialog.connect_button.click()
        assert dialog.connected is not None, dialog.status_text()
        seen["status"] = dialog.status_text()
        top = [dialog.areas.topLevelItem(i).text(0) for i in range(dialog.areas.topLevelItemCount())]
        seen["top"] = top
        street = dialog.area_item(STREET)
        seen["street"] = (street.text(0), street.text(1), street.parent().text(2), street.parent().parent().text(0))
        dialog.choose_area(STREET)
        seen["suggested"] = dialog.target.text()
        dialog.set_target(str(target))
        dialog.checkout_button.click()
        return dialog.result() == dialog.DialogCode.Accepted

    prompts.server_checkout = script
    window.actions["check_out_server"].trigger()
    assert prompts.errors == []
    assert seen["top"][:2] == ["Whole master", "Current map extent"] and seen["top"][2] == "成都市"
    assert seen["street"] == ("春熙路街道", "Street", "510104", "成都市")
    assert "Master version 1 in EPSG:4544" in seen["status"] and "Street" in seen["status"]
    assert seen["suggested"].endswith(f"{database}-{STREET}.sqlite")
    # the new workspace is open in the window (the old one closed)
    new = open_windows()[-1]
    assert new.workspace.path == target and not window.isVisible()
    qtbot.waitExposed(new)
    wait_rendered(qtbot, new)
    url = new.workspace.setting(SETTINGS["path"])
    assert url == f"postgresql://postgres@127.0.0.1:{pg_server.port}/{database}"
    assert new.workspace.setting(SETTINGS["scope"]) == f"street:{STREET}"
    rows = list(new.workspace.raw_rows("toilets"))
    assert rows and all(r["street"] == "春熙路街道" for r in rows)

    # edit a feature, send directly: the server has it
    first, second = rows[0]["uuid"], rows[1]["uuid"]
    sync = sync_of(new)
    assert new.change_attributes("toilets", new.workspace.find("toilets", first).fid, {"name": "现场直接发送"})
    sync.actions["send"].trigger()
    assert ("unsaved", 1) in sync.prompts.asked and not any(q[0] in ("package", "offline", "password")
                                                            for q in sync.prompts.asked)
    assert prompts.errors == []
    socket_url = pg_server.url(database)
    assert names_in_master(socket_url, [first]) == {first: "现场直接发送"}
    message = [m for kind, m in prompts.asked if kind == "information"][-1]
    assert "master version 1 → 2" in message and ": 0 inserted, 1 updated, 0 deleted, 0 conflicts" in message

    # the office changes another feature of the street; Receive update brings it from the server
    office = tmp_path / "office.sqlite"
    checkout(socket_url, office, user="office")
    with Workspace.open(office) as ws:
        ws.update("toilets", ws.find("toilets", second).fid, {"name": "办公室改名"})
        send_to_master(ws)
    sync.prompts.review = lambda dialog: seen.setdefault("review", dialog.summary.text()) is not None
    sync.actions["receive"].trigger()
    assert prompts.errors == [] and not any(q[0] == "master" for q in sync.prompts.asked)
    assert f"Master {url}, version 1 → 3." in seen["review"]
    assert new.workspace.find("toilets", second).attributes["name"] == "办公室改名"
    assert new.session.feature("toilets", new.workspace.find("toilets", second).fid).attributes["name"] == "办公室改名"


def test_the_password_is_not_saved_in_the_settings_or_the_log(qtbot, log_dir, window, prompts,  # noqa: F811
                                                              server, tmp_path, closing, private_settings):
    pg_server, database = server
    configure_logging()

    def script(dialog):
        fill_connection(dialog, pg_server, database, PASSWORD)
        dialog.connect_button.click()
        dialog.choose_whole_master()
        dialog.set_target(str(tmp_path / "all.sqlite"))
        dialog.checkout_button.click()
        return dialog.result() == dialog.DialogCode.Accepted

    prompts.server_checkout = script
    window.actions["check_out_server"].trigger()
    assert prompts.errors == [] and (tmp_path / "all.sqlite").exists()
    for w in open_windows():
        w.close()
    QApplication.processEvents()
    assert "check out from postgresql://postgres@127.0.0.1" in log_text(log_dir)  # the log was written
    folders = [Path(private_settings), log_dir, tmp_path]
    checked = 0
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                checked += 1
                assert PASSWORD.encode() not in path.read_bytes(), path
    assert checked >= 3
    # but the connection (without the password) is remembered for next time
    dialog = ServerCheckoutDialog(str(tmp_path))
    try:
        assert (dialog.host.text(), dialog.port.value(), dialog.database.text(), dialog.password.text()) == (
            "127.0.0.1", pg_server.port, database, "")
    finally:
        dialog.deleteLater()


@pytest.mark.parametrize("case", ["wrong password", "unreachable", "not a master"])
def test_a_bad_connection_is_one_line_in_the_dialog_and_writes_nothing(qtbot, window, prompts, server, pg_server,
                                                                       tmp_path, case):
    _, database = server
    empty = new_database(pg_server)  # PostGIS, but no master
    before = files_in(tmp_path)
    seen = {}

    def script(dialog):
        if case == "not a master":
            fill_connection(dialog, pg_server, empty, PASSWORD)
        else:
            fill_connection(dialog, pg_server, database, "not-the-Pa55word" if case == "wrong password" else PASSWORD)
        if case == "unreachable":
            dialog.port.setValue(1)
        dialog.set_target(str(tmp_path / "never.sqlite"))
        dialog.connect_button.click()
        seen["status"] = dialog.status_text()
        seen["can check out"] = dialog.checkout_button.isEnabled()
        seen["check out"] = dialog.check_out()
        return dialog.result() == dialog.DialogCode.Accepted

    prompts.server_checkout = script
    window.actions["check_out_server"].trigger()
    status = seen["status"]
    assert "\n" not in status and not seen["can check out"] and seen["check out"] is False
    expected = {"wrong password": "refused the login", "unreachable": "cannot be reached",
                "not a master": "not a Tongcheng master"}[case]
    assert expected in status, status
    assert "Pa55word" not in status and PASSWORD not in status
    assert files_in(tmp_path) == before
    assert shiboken6.isValid(window) and window.workspace.path.name == "district.sqlite"


def test_cancelling_the_checkout_leaves_nothing_behind(qtbot, window, prompts, server, pg_server, tmp_path):
    _, database = server
    before = files_in(tmp_path)
    seen = {}

    def press_cancel(dialog):
        progress = dialog.findChild(QProgressDialog, "server_checkout_progress")
        assert progress is not None
        seen["button"] = progress.findChild(QPushButton).text()
        progress.findChild(QPushButton).click()  # what the user presses

    def script(dialog):
        fill_connection(dialog, pg_server, database, PASSWORD)
        dialog.connect_button.click()
        dialog.choose_area("510104")
        dialog.set_target(str(tmp_path / "cancelled.sqlite"))
        QTimer.singleShot(0, lambda: press_cancel(dialog))
        seen["made"] = dialog.check_out()
        seen["status"] = dialog.status_text()
        return False

    prompts.server_checkout = script
    window.actions["check_out_server"].trigger()
    assert seen["button"] == "Cancel"
    assert seen["made"] is False and seen["status"] == "Cancelled: no workspace was made."
    assert files_in(tmp_path) == before


def test_the_map_extent_is_offered_as_a_box_in_the_masters_crs(qtbot, window, prompts, server, pg_server, tmp_path,
                                                               closing):
    _, database = server
    seen = {}
    window.canvas.set_extent((502_000.0, 3_390_000.0, 503_000.0, 3_391_000.0))

    def script(dialog):
        fill_connection(dialog, pg_server, database, PASSWORD)
        dialog.connect_button.click()
        dialog.choose_map_extent()
        seen["scope"] = dialog.scope()
        return False

    prompts.server_checkout = script
    window.actions["check_out_server"].trigger()
    scope, bbox = seen["scope"]
    xmin, ymin, xmax, ymax = (float(v) for v in bbox.split(","))
    assert scope is None
    canvas = window.canvas.extent()
    assert (xmin, ymin, xmax, ymax) == pytest.approx(canvas, abs=0.01)  # the demo workspace is in EPSG:4544 too


@pytest.fixture
def street_workspace(server, pg_server, tmp_path):
    """A street checked out with the core over TCP (the password was typed in no dialog of this session)."""
    _, database = server
    url = pg_server.tcp_url(database)
    path = tmp_path / "street.sqlite"
    with password_given(PASSWORD):
        checkout(url, path, user="张三", scope=f"street:{STREET}")
    return url, path, pg_server.url(database)


def test_send_asks_for_the_password_and_shows_the_conflicts_the_server_settled(qtbot, prompts, street_workspace,
                                                                               tmp_path, closing):
    url, path, socket_url = street_workspace
    with Workspace.open(path) as ws:
        first, second = [r["uuid"] for r in ws.raw_rows("toilets")][:2]
    office = tmp_path / "office.sqlite"
    checkout(socket_url, office, user="office")
    with Workspace.open(office) as ws:
        ws.update("toilets", ws.find("toilets", second).fid, {"name": "办公室改"})
        send_to_master(ws)
    w = open_window(path, language="en", prompts=prompts)
    qtbot.waitExposed(w)
    sync = sync_of(w)
    w.change_attributes("toilets", w.workspace.find("toilets", first).fid, {"name": "现场一"})
    w.change_attributes("toilets", w.workspace.find("toilets", second).fid, {"name": "现场二"})
    sync.prompts.password = None                           # first: the user cancels the password question
    sync.actions["send"].trigger()
    assert [q[0] for q in sync.prompts.asked] == ["unsaved", "password"]
    assert "refused the login" in sync.prompts.asked[-1][2]
    assert names_in_master(socket_url, [first]) != {first: "现场一"}
    sync.prompts.password = PASSWORD
    sync.actions["send"].trigger()
    assert prompts.errors == []
    assert sync.prompts.reports == [[(second, "name", "办公室改", "Office", False)]]
    assert names_in_master(socket_url, [first, second]) == {first: "现场一", second: "办公室改"}
    assert list(tmp_path.glob("street-sent-*.json"))
    sync.prompts.asked.clear()
    sync.actions["send"].trigger()                           # the password is known now: not asked again
    assert ("information", "Nothing to send: no edits since the last sync.") in prompts.asked
    assert not any(q[0] == "password" for q in sync.prompts.asked)


def test_offline_the_changes_go_by_file_and_the_office_applies_them(qtbot, prompts, street_workspace, tmp_path,
                                                                   closing):
    url, path, socket_url = street_workspace
    with Workspace.open(path) as ws:  # the server is out of reach from here today
        ws.set_setting(SETTINGS["path"], "postgresql://postgres@127.0.0.1:1/inventory")
        first = next(iter(ws.raw_rows("toilets")))["uuid"]
    w = open_window(path, language="en", prompts=prompts)
    qtbot.waitExposed(w)
    sync = sync_of(w)
    w.change_attributes("toilets", w.workspace.find("toilets", first).fid, {"name": "离线发送"})
    sync.prompts.go_offline = False
    sync.actions["send"].trigger()                           # the user declines: nothing written
    offline = [q for q in sync.prompts.asked if q[0] == "offline"]
    assert len(offline) == 1 and "cannot be reached" in offline[0][1] and "\n" not in offline[0][1]
    assert offline[0][2] == "Write a package file…"
    assert sum(c["update"] for c in w.workspace.pending_changes().values()) == 1
    sync.prompts.go_offline = True
    sync.prompts.package = tmp_path / "by-file.gpkg"
    sync.actions["send"].trigger()
    assert (tmp_path / "by-file.gpkg").exists() and prompts.errors == []
    result = apply_package(socket_url, tmp_path / "by-file.gpkg")
    assert result.layers["toilets"].updates == 1
    assert names_in_master(socket_url, [first]) == {first: "离线发送"}
    # receiving offline offers a master file; declining does nothing
    sync.prompts.asked.clear()
    sync.prompts.go_offline = False
    sync.actions["receive"].trigger()
    assert [(q[0], q[2]) for q in sync.prompts.asked] == [("offline", "Choose a master file…")]


def test_receive_waits_for_packages_sent_by_file_that_never_reached_the_server(qtbot, prompts, street_workspace,
                                                                              tmp_path, closing):
    url, path, socket_url = street_workspace
    with Workspace.open(path) as ws:
        first = next(iter(ws.raw_rows("toilets")))["uuid"]
        ws.update("toilets", ws.find("toilets", first).fid, {"name": "还在路上"})
        write_changes(ws, tmp_path / "on-its-way.gpkg")
    w = open_window(path, language="en", prompts=prompts)
    qtbot.waitExposed(w)
    sync = sync_of(w)
    sync.prompts.password = PASSWORD
    sync.actions["receive"].trigger()
    assert prompts.errors == [] and not any(q[0] == "review" for q in sync.prompts.asked)
    assert prompts.asked[-1] == ("information", "Changes sent before have not reached the server yet: Send changes "
                                                "delivers them first, then receive the update.")
    sync.actions["send"].trigger()                            # delivers it (nothing new besides)
    assert names_in_master(socket_url, [first]) == {first: "还在路上"}
    assert "1 change package(s) sent before had not arrived" in prompts.asked[-1][1]
    sync.prompts.review = lambda dialog: True
    sync.actions["receive"].trigger()
    assert prompts.errors == [] and int(w.workspace.setting(SETTINGS["version"])) == 2
