"""File > Import GPS and the waypoint match review, on a real window over a small demo workspace."""

from __future__ import annotations

import pyproj
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from desktop.dialogs import UnsavedAnswer
from desktop.dialogs.gps_import import GpsImportDialog, ImportSummaryDialog, ImportSummaryModel
from desktop.dialogs.gps_review import MatchOptionsDialog, MatchReviewDialog
from layers.workspace.restore import list_restore_points
from layers.workspace.store import Workspace

from .editor_fixtures import ScriptedPrompts, make_workspace, shown_window, wait_rendered

NEW_TOILET = {"name": "不用", "district": "锦江区", "status": "在建"}


class GpsScriptedPrompts(ScriptedPrompts):
    """Also answers the GPS extension's questions: each dialog is handed to ``on_dialog`` (or accepted)."""

    def __init__(self):
        super().__init__()
        self.dialogs = []
        self.on_dialog = {}        # dialog class -> callable(dialog) -> bool
        self.save_first_answer = UnsavedAnswer.SAVE

    def gps_dialog(self, dialog):
        self.dialogs.append(dialog)
        self.asked.append(("gps_dialog", type(dialog).__name__))
        handler = self.on_dialog.get(type(dialog))
        return True if handler is None else handler(dialog)

    def gps_save_first(self, count):
        self.asked.append(("gps_save_first", count))
        return self.save_first_answer


@pytest.fixture
def workspace_path(tmp_path):
    return make_workspace(tmp_path / "district.sqlite")


@pytest.fixture
def prompts():
    return GpsScriptedPrompts()


@pytest.fixture
def window(qtbot, workspace_path, prompts):
    with shown_window(qtbot, workspace_path, prompts, size=(1000, 700)) as w:
        yield w


def _lonlat(window, layer, fid):
    point = window.session.feature(layer, fid).geometry
    to_wgs84 = pyproj.Transformer.from_crs(window.workspace.crs, "EPSG:4326", always_xy=True)
    return to_wgs84.transform(point.x, point.y)


def _gpx(path, waypoints=(), track=(), name="walk"):
    """A GPX 1.1 file: waypoints [(lon, lat, name)], one track [(lon, lat)]."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">']
    for lon, lat, wname in waypoints:
        parts.append(f'<wpt lat="{lat:.8f}" lon="{lon:.8f}"><name>{wname}</name>'
                     '<time>2026-11-02T02:00:00Z</time></wpt>')
    if track:
        parts.append(f"<trk><name>{name}</name><trkseg>")
        for i, (lon, lat) in enumerate(track):
            parts.append(f'<trkpt lat="{lat:.8f}" lon="{lon:.8f}"><ele>500</ele>'
                         f"<time>2026-11-02T02:{i // 60 % 60:02d}:{i % 60:02d}Z</time></trkpt>")
        parts.append("</trkseg></trk>")
    parts.append("</gpx>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _walk(tmp_path, window, n=50):
    """A GPX next to toilets 1 and 2 (3 m north of each), one waypoint far away, a short track."""
    (lon1, lat1), (lon2, lat2) = _lonlat(window, "toilets", 1), _lonlat(window, "toilets", 2)
    dlat = 3 / 111_000
    waypoints = [(lon1, lat1 + dlat, "厕所一"), (lon2, lat2 + dlat, "厕所二"), (104.20, 30.50, "新公厕")]
    track = [(104.06 + i * 0.00005, 30.66 + i * 0.00003) for i in range(n)]
    return _gpx(tmp_path / "walk.gpx", waypoints, track)


def _import(qtbot, window, paths, **options):
    """Import through the menu action, with the dialog driven from code; returns the summary."""
    prompts = window.prompts

    def fill(dialog: GpsImportDialog):
        dialog.set_files(paths)
        if "datum" in options:
            dialog.set_datum(options["datum"])
        if "simplify" in options:
            dialog.simplify_spin.setValue(options["simplify"])
        dialog.accept()
        return dialog.result() == dialog.DialogCode.Accepted

    prompts.on_dialog[GpsImportDialog] = fill
    gps = window.extensions[0]
    with qtbot.waitSignal(gps.importFinished, timeout=30000) as blocker:
        window.actions["gps_import"].trigger()
    return blocker.args[0]


def test_menus_and_dialog_defaults(window):
    gps = window.extensions[0]
    file_texts = [a.text() for a in window.file_menu.actions()]
    assert "Import &GPS…" in file_texts
    assert [a.objectName() for a in gps.menu.actions()] == ["gps_import", "gps_match", "gps_average",
                                                               "gps_average_session"]
    dialog = GpsImportDialog("+08:00")
    assert dialog.tz_edit.text() == "+08:00"
    assert [dialog.datum_combo.itemData(i) for i in range(3)] == ["wgs84", "gcj02", "bd09"]
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    dialog.set_files(["/nonexistent.gpx"])
    dialog.tz_edit.setText("+99:00")
    dialog.accept()
    assert dialog.result() != dialog.DialogCode.Accepted and "nonexistent" in dialog.message.text()
    options = dialog.options()
    assert options.simplify_m is None and options.max_speed_kmh is None and options.max_hdop is None
    dialog.simplify_spin.setValue(2.5)
    dialog.set_datum("gcj02")
    assert dialog.options().simplify_m == 2.5 and dialog.options().datum == "gcj02"
    dialog.deleteLater()


def test_import_shows_summary_refreshes_and_zooms(qtbot, window, prompts, tmp_path, testdata, workspace_path):
    walk = _walk(tmp_path, window)
    route = testdata("gpx/route.gpx")
    bad = tmp_path / "broken.gpx"
    bad.write_text('<?xml version="1.0"?>\n<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">\n'
                   '<wpt lat="30.66" lon="104.06"><name>x</name></wpt>\n<trk><trkseg>\n<trkpt lat="30.6',
                   encoding="utf-8")
    summaries = []
    prompts.on_dialog[ImportSummaryDialog] = lambda d: summaries.append(d) or True
    summary = _import(qtbot, window, [walk, bad, route])

    assert [f.name for f in summary.files] == ["walk.gpx", "broken.gpx", "route.gpx"]
    assert [f.imported for f in summary.files] == [True, False, True]
    assert "broken.gpx" in summary.files[1].error and "line" in summary.files[1].error
    # the summary dialog: a row per file, counts, status, the error in the notes
    (dialog,) = summaries
    model = dialog.model
    assert model.rowCount() == 3
    cell = lambda r, c: model.data(model.index(r, c))  # noqa: E731
    assert cell(0, ImportSummaryModel.FILE) == "walk.gpx" and cell(0, ImportSummaryModel.TRACKS) == 1
    assert cell(0, ImportSummaryModel.WAYPOINTS) == 3 and cell(0, ImportSummaryModel.POINTS) == 50
    assert cell(0, ImportSummaryModel.STATUS) == "imported"
    assert cell(1, ImportSummaryModel.STATUS) == "failed: nothing written"
    assert cell(2, ImportSummaryModel.ROUTES) == summary.files[2].routes >= 1
    assert "broken.gpx" in dialog.notes.toPlainText() and "line" in dialog.notes.toPlainText()
    assert "2 imported, 0 skipped as imported before, 1 failed" in dialog.headline.text()

    # layers refreshed (counts, drawn) and the view shows the GPS data
    waypoints = 3 + summary.files[2].waypoints
    assert window.layer_panel.count("gps_waypoints") == waypoints
    assert window.layer_panel.count("gps_tracks") == 1 + summary.files[2].stored_tracks
    wait_rendered(qtbot, window)
    xmin, ymin, xmax, ymax = window.sources["gps_tracks"].extent()
    shown = window.canvas.extent()
    assert shown[0] <= xmin and shown[1] <= ymin and shown[2] >= xmax and shown[3] >= ymax
    with Workspace.open(workspace_path) as ws:
        assert ws.connection.execute("SELECT count(*) FROM gps_waypoints").fetchone()[0] == waypoints

    # the same files again: skipped as duplicates, nothing added
    summary = _import(qtbot, window, [walk])
    assert summary.files[0].duplicate and window.layer_panel.count("gps_waypoints") == waypoints


def test_cancel_writes_nothing(qtbot, window, prompts, tmp_path, workspace_path):
    big = _gpx(tmp_path / "long.gpx", [(104.06, 30.66, "w")],
               [(104.0 + i * 1e-6, 30.6 + i * 1e-6) for i in range(150_000)])
    gps = window.extensions[0]
    cancelled_at = []

    def cancel_on_first_progress(fraction):
        if gps.job is not None and not cancelled_at:
            cancelled_at.append(fraction)
            gps.job.progress.findChild(QPushButton).click()  # the progress dialog's Cancel button

    prompts.on_dialog[GpsImportDialog] = lambda d: (d.set_files([big]), True)[1]
    window.actions["gps_import"].trigger()
    job = gps.job
    assert job is not None and not gps.import_action.isEnabled()
    job.progressed.connect(cancel_on_first_progress)
    with qtbot.waitSignal(gps.importFinished, timeout=60000) as blocker:
        pass
    assert blocker.args == [None] and job.was_cancelled and cancelled_at and cancelled_at[0] < 1.0
    assert not any(isinstance(d, ImportSummaryDialog) for d in prompts.dialogs)
    assert gps.import_action.isEnabled()
    assert window.layer_panel.count("gps_tracks") == 0 and window.layer_panel.count("gps_waypoints") == 0
    with Workspace.open(workspace_path) as ws:
        assert ws.connection.execute("SELECT count(*) FROM gps_tracks").fetchone()[0] == 0
        assert ws.connection.execute("SELECT count(*) FROM gps_waypoints").fetchone()[0] == 0


def test_import_asks_to_save_pending_edits_first(qtbot, window, prompts, tmp_path):
    window.change_attributes("toilets", 5, {"name": "改名"})
    assert window.session.is_dirty
    prompts.save_first_answer = UnsavedAnswer.CANCEL
    window.actions["gps_import"].trigger()
    assert prompts.asked[-1] == ("gps_save_first", 1) and window.extensions[0].job is None
    assert window.session.is_dirty
    prompts.save_first_answer = UnsavedAnswer.SAVE
    summary = _import(qtbot, window, [_walk(tmp_path, window)])
    assert summary.ok and not window.session.is_dirty
    assert window.session.feature("toilets", 5).attributes["name"] == "改名"


def test_review_selects_pairs_and_apply_moves_facility_and_creates_one(qtbot, window, prompts, tmp_path,
                                                                      workspace_path):
    _import(qtbot, window, [_walk(tmp_path, window)])
    before = window.session.feature("toilets", 1).geometry
    reviews = []

    def options(dialog: MatchOptionsDialog):
        dialog.set_layer("toilets")
        dialog.distance_spin.setValue(15)
        return True

    def review(dialog: MatchReviewDialog):
        reviews.append(dialog)
        model = dialog.model
        rows = {model.data(model.index(r, 0)): r for r in range(model.rowCount())}
        assert set(rows) == {"厕所一", "厕所二", "新公厕"}
        # the pairs are on the map: both waypoints and both facilities selected, in view
        assert window.selection("toilets") == {1, 2}
        assert len(window.selection("gps_waypoints")) == 2
        x, y = before.x, before.y
        xmin, ymin, xmax, ymax = window.canvas.extent()
        assert xmin < x < xmax and ymin < y < ymax
        assert model.data(model.index(rows["厕所一"], 2)) == "3.0"
        assert model.data(model.index(rows["新公厕"], 1)) == "(none: new facility)"
        assert model.data(model.index(rows["厕所一"], 0), Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
        # uncheck the second pair, create a facility from the unmatched waypoint
        model.setData(model.index(rows["厕所二"], 0), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
        dialog.create_unmatched.setChecked(True)
        assert [m.waypoint_name for m in dialog.selected_matches()] == ["厕所一", "新公厕"]
        # a click on a row shows that pair alone
        dialog.rowActivated.emit(model.matches[rows["厕所一"]])
        assert window.selection("toilets") == {1}
        return True

    prompts.on_dialog[MatchOptionsDialog] = options
    prompts.on_dialog[MatchReviewDialog] = review
    prompts.feature_values = NEW_TOILET
    gps = window.extensions[0]
    with qtbot.waitSignal(gps.matchesApplied) as blocker:
        window.actions["gps_match"].trigger()
    assert reviews and ("form", "toilets") in prompts.asked
    # the form for the new facility starts with the waypoint's name; the name typed there is the facility's
    assert prompts.form_start == {"name": "新公厕"}
    summary = blocker.args[0]
    assert len(summary.moved) == 1 and len(summary.created) == 1

    # one step on the undo stack (undo: test_applied_matches_are_one_undoable_step); Save writes it
    assert window.undo_stack.count() == 1 and window.session.is_dirty
    assert window.save()

    # toilet 1 moved onto its waypoint (3 m north), toilet 2 untouched, a new toilet with the typed name
    after = window.session.feature("toilets", 1).geometry
    assert after.x == pytest.approx(before.x, abs=0.05) and after.y - before.y == pytest.approx(3.0, abs=0.1)
    assert window.layer_panel.count("toilets") == 31
    created = window.workspace.find("toilets", summary.created[0])
    assert created.attributes["name"] == NEW_TOILET["name"] and created.attributes["district"] == "锦江区"
    assert window.selection("toilets") == {1, created.fid}
    waypoint = next(f for f in window.workspace.features("gps_waypoints") if f.attributes["name"] == "新公厕")
    assert waypoint.attributes["facility_uuid"] == created.uuid
    assert not window.session.is_dirty
    wait_rendered(qtbot, window)
    x, y = after.x, after.y
    assert 1 in window.sources["toilets"].features_in_extent((x - 0.5, y - 0.5, x + 0.5, y + 0.5)).fid
    with Workspace.open(workspace_path) as ws:
        assert ws.connection.execute("SELECT count(*) FROM toilets").fetchone()[0] == 31


def test_applied_matches_are_one_undoable_step(qtbot, window, prompts, tmp_path, workspace_path):
    _import(qtbot, window, [_walk(tmp_path, window)])
    before = {fid: window.session.feature("toilets", fid).geometry for fid in (1, 2)}
    prompts.on_dialog[MatchOptionsDialog] = lambda d: (d.set_layer("toilets"), d.distance_spin.setValue(15), True)[2]

    def review(dialog):
        dialog.create_unmatched.setChecked(True)
        return True

    prompts.on_dialog[MatchReviewDialog] = review
    prompts.feature_values = {**NEW_TOILET, "name": ""}  # no name typed: named after the waypoint
    window.actions["gps_match"].trigger()
    assert window.undo_stack.count() == 1 and window.undo_stack.undoText().startswith("Match 3 waypoints")
    assert window.layer_panel.count("toilets") == 31
    (new,) = [fid for fid in window.selection("toilets") if fid < 0]
    assert window.session.feature("toilets", new).attributes["name"] == "新公厕"
    assert not window.session.feature("toilets", 1).geometry.equals(before[1])

    window.actions["undo"].trigger()
    assert all(window.session.feature("toilets", fid).geometry.equals(g) for fid, g in before.items())
    assert window.layer_panel.count("toilets") == 30 and not window.session.is_dirty
    assert not any(f.attributes["facility_uuid"] for f in window.workspace.features("gps_waypoints"))
    window.actions["redo"].trigger()
    assert window.layer_panel.count("toilets") == 31
    assert window.save()
    with Workspace.open(workspace_path) as ws:
        linked = {f.attributes["name"]: f.attributes["facility_uuid"] for f in ws.features("gps_waypoints")}
        assert ws.find("toilets", linked["新公厕"]).attributes["name"] == "新公厕"
        assert ws.find("toilets", linked["厕所一"]).fid == 1


def test_review_cancel_changes_nothing(qtbot, window, prompts, tmp_path):
    _import(qtbot, window, [_walk(tmp_path, window)])
    before = window.session.feature("toilets", 1).geometry
    prompts.on_dialog[MatchOptionsDialog] = lambda d: (d.set_layer("toilets"), True)[1]
    prompts.on_dialog[MatchReviewDialog] = lambda d: False
    assert window.extensions[0].match_waypoints() is not None
    assert window.session.feature("toilets", 1).geometry.equals(before)
    assert window.layer_panel.count("toilets") == 30


def test_match_without_waypoints_tells_the_user(window, prompts):
    assert window.extensions[0].match_waypoints("toilets", 15) is None
    assert prompts.asked[-1][0] == "information"


def test_a_file_with_nothing_to_keep_is_said_so_in_the_summary(qtbot, window, prompts, tmp_path):
    walk = _walk(tmp_path, window)
    far = _gpx(tmp_path / "far.gpx", [(-122.4, 37.8, "San Francisco")], [])   # outside the workspace CRS's area
    summaries = []
    prompts.on_dialog[ImportSummaryDialog] = lambda d: summaries.append(d) or True
    summary = _import(qtbot, window, [walk, far])
    assert [f.status for f in summary.files] == ["imported", "nothing kept"]
    (dialog,) = summaries
    model = dialog.model
    assert model.data(model.index(0, ImportSummaryModel.STATUS)) == "imported"
    assert model.data(model.index(1, ImportSummaryModel.STATUS)) == "NOTHING KEPT"
    assert "1 file gave nothing to keep" in dialog.headline.text()
    dialog.table.selectRow(1)
    notes = dialog.notes.toPlainText()
    assert "far.gpx: nothing kept" in notes and "1 waypoint" in notes
    assert "skipped outside the workspace CRS's area" in notes


def _nmea(body):
    checksum = 0
    for byte in body.encode("ascii"):
        checksum ^= byte
    return f"${body}*{checksum:02X}"


def _stationary_log(path, lon, lat, fixes=40, seed=7, spread=1.0):
    """An NMEA log of a receiver held over (lon, lat): GGA fixes scattered by about ``spread`` metres, one RMC for
    the date."""
    import random

    rng = random.Random(seed)
    lines = []
    for i in range(fixes):
        x = lon + rng.gauss(0, 1.0) * spread / 97_000      # ~1 m in longitude at 30.6°N
        y = lat + rng.gauss(0, 1.0) * spread / 111_000
        hhmmss = f"0200{i:02d}.00"
        lat_text = f"{int(y):02d}{(y - int(y)) * 60:07.4f}"
        lon_text = f"{int(x):03d}{(x - int(x)) * 60:07.4f}"
        if i == 0:
            lines.append(_nmea(f"GNRMC,{hhmmss},A,{lat_text},N,{lon_text},E,0.0,0.0,021126,,,A"))
        lines.append(_nmea(f"GNGGA,{hhmmss},{lat_text},N,{lon_text},E,1,12,0.8,500.0,M,0.0,M,,"))
    path.write_text("\r\n".join(lines) + "\r\n", encoding="ascii")
    return path


def test_use_averaged_position_moves_the_selected_facility_undoably(qtbot, window, prompts, tmp_path):
    from desktop.dialogs.gps_average import MOVE, AveragedPositionDialog

    original = window.session.feature("toilets", 1).geometry
    lon, lat = _lonlat(window, "toilets", 1)
    log = _stationary_log(tmp_path / "held.nmea", lon + 20 / 97_000, lat)   # held 20 m east of the toilet
    window.set_selection("toilets", [1])
    seen = {}

    def move(dialog):
        seen["text"] = dialog.summary.text()
        seen["move"] = dialog.move_button.isEnabled() and "Public toilets" in dialog.move_button.text()
        dialog.choose(MOVE)
        return True

    prompts.on_dialog[AveragedPositionDialog] = move
    gps = window.extensions[0]
    assert gps.use_averaged_position(str(log)) == "move"
    assert seen["move"]
    assert "40 fixes averaged" in seen["text"] and "Estimated accuracy: ±" in seen["text"]
    moved = window.session.feature("toilets", 1).geometry
    assert 17 < moved.x - original.x < 23 and abs(moved.y - original.y) < 3    # the mean of the fixes
    assert window.is_modified()
    window.undo_stack.undo()
    assert window.session.feature("toilets", 1).geometry.equals(original)


def test_use_averaged_position_of_an_imported_session_moves_the_selected_facility(qtbot, window, prompts, tmp_path):
    from desktop.dialogs.gps_average import MOVE, AveragedPositionDialog

    original = window.session.feature("toilets", 1).geometry
    lon, lat = _lonlat(window, "toilets", 1)
    # a receiver held still 20 m east of the toilet, every fix at one place: a stationary session
    log = _stationary_log(tmp_path / "held.nmea", lon + 20 / 97_000, lat, fixes=30, spread=0.0)
    summary = _import(qtbot, window, [log])
    assert summary.files[0].track_points_kept == 30
    assert window.layer_panel.count("gps_track_points") == 30
    notes = next(d for d in prompts.dialogs if isinstance(d, ImportSummaryDialog)).notes.toPlainText()
    assert "30 fixes of stationary sessions kept as GPS track points" in notes
    window.set_selection("toilets", [1])
    offered = []

    def pick(labels):
        offered.append(labels)
        return 0

    prompts.gps_pick_session = pick
    seen = {}

    def move(dialog):
        seen["text"] = dialog.summary.text()
        dialog.choose(MOVE)
        return True

    prompts.on_dialog[AveragedPositionDialog] = move
    window.actions["gps_average_session"].trigger()
    assert len(offered) == 1 and len(offered[0]) == 1 and "held" in offered[0][0] and "30 fixes" in offered[0][0]
    assert "30 fixes averaged" in seen["text"]
    moved = window.session.feature("toilets", 1).geometry
    assert 18 < moved.x - original.x < 22 and abs(moved.y - original.y) < 1
    window.undo_stack.undo()
    assert window.session.feature("toilets", 1).geometry.equals(original)


def test_use_averaged_position_of_a_session_without_any_says_so(qtbot, window, prompts):
    assert window.extensions[0].use_averaged_session() is None
    assert any(kind == "information" and "No imported stationary session" in text
               for kind, text in [a for a in prompts.asked if len(a) == 2])


def test_use_averaged_position_without_a_selection_offers_only_add(qtbot, window, prompts, tmp_path):
    from desktop.dialogs.gps_average import AveragedPositionDialog

    lon, lat = _lonlat(window, "toilets", 2)
    log = _stationary_log(tmp_path / "held.nmea", lon, lat)
    window.clear_selection()
    states = []
    prompts.on_dialog[AveragedPositionDialog] = lambda d: states.append(d.move_button.isEnabled()) or False
    assert window.extensions[0].use_averaged_position(str(log)) is None
    assert states == [False]
    assert not window.is_modified()


def test_use_averaged_position_refuses_a_log_without_fixes_in_one_line(qtbot, window, prompts, tmp_path):
    empty = tmp_path / "empty.nmea"
    empty.write_text(_nmea("GNGSA,A,1,,,,,,,,,,,,,99.9,99.9,99.9") + "\r\n", encoding="ascii")
    assert window.extensions[0].use_averaged_position(str(empty)) is None
    (message,) = prompts.errors
    assert "empty.nmea" in message and "\n" not in message


def test_gps_import_says_it_cannot_be_undone_and_a_restore_point_takes_it_back(
        qtbot, window, prompts, tmp_path, workspace_path):
    window, prompts = window, prompts
    summary = _import(qtbot, window, [_walk(tmp_path, window)])
    assert summary.ok and ("restore point", "GPS import") in prompts.asked
    assert window.layer_panel.count("gps_waypoints") == 3
    (point,) = list_restore_points(workspace_path)
    assert point.action == "GPS import"

    prompts.restore_choice = 0
    window.actions["restore_point"].trigger()
    assert prompts.errors == []
    assert window.layer_panel.count("gps_waypoints") == 0 and window.layer_panel.count("gps_tracks") == 0
    assert window.undo_stack.count() == 0 and not window.is_modified()
    with Workspace.open(workspace_path) as ws:
        assert ws.count("gps_waypoints") == 0


def test_only_five_restore_points_are_kept(qtbot, window, prompts, tmp_path, workspace_path):
    for _ in range(6):
        _import(qtbot, window, [_walk(tmp_path, window)])
    assert len(list_restore_points(workspace_path)) == 5


def test_the_review_sits_beside_the_pair_it_asks_about_and_waypoints_are_drawn_on_top(qtbot, window, prompts,
                                                                                       tmp_path):
    _import(qtbot, window, [_walk(tmp_path, window)])
    order = [s.name for s in window.canvas.layers()]
    assert order.index("toilets") < order.index("gps_waypoints")  # normally facilities over the survey layers
    seen = []

    def pair_on_screen(dialog, fid):
        canvas = window.canvas
        frame = dialog.frameGeometry()
        waypoint = next(iter(window.selection("gps_waypoints")))
        points = [window.session.feature("toilets", fid).geometry,
                  window.session.feature("gps_waypoints", waypoint).geometry]
        for p in points:
            local = canvas.to_screen(p.x, p.y).toPoint()
            assert canvas.rect().adjusted(10, 10, -10, -10).contains(local), local
            assert not frame.adjusted(-10, -10, 10, 10).contains(canvas.mapToGlobal(local)), (frame, local)

    def review(dialog: MatchReviewDialog):
        layers = [s.name for s in window.canvas.layers()]
        seen.append(layers)
        assert layers.index("gps_waypoints") < layers.index("toilets")  # survey layers on top while matching
        assert window.selection("toilets") == {1, 2}
        pair_on_screen(dialog, 1)
        pair_on_screen(dialog, 2)
        model = dialog.model
        row = next(r for r in range(model.rowCount()) if model.data(model.index(r, 0)) == "厕所二")
        dialog.rowActivated.emit(model.matches[row])  # a click on a row: that pair alone, beside the dialog
        assert window.selection("toilets") == {2}
        pair_on_screen(dialog, 2)
        return False

    prompts.on_dialog[MatchOptionsDialog] = lambda d: (d.set_layer("toilets"), d.distance_spin.setValue(15), True)[2]
    prompts.on_dialog[MatchReviewDialog] = review
    window.actions["gps_match"].trigger()
    assert seen
    assert [s.name for s in window.canvas.layers()] == order  # the order comes back after the review
