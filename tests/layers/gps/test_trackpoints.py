"""A receiver held still is data (issue 15): a stationary session's fixes are kept as points of gps_track_points,
listed, averaged again from the workspace (`gps sessions`, `gps average --session`) and sent to the office."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from pyproj import Transformer

from layers.errors import GpsImportError
from layers.gps.average import average_position, average_session
from layers.gps.importer import import_gps
from layers.gps.trackpoints import TRACK_POINTS_LAYER, session_fixes, stored_sessions
from layers.schema.definitions import DEFINITIONS_FOLDER
from layers.workspace.store import Workspace
from tests.conftest import TESTDATA

from .test_cli_gps import tongcheng

STATIC = TESTDATA / "gps" / "static_hold_gga.nmea"
TRIPOD = TESTDATA / "gps" / "tripod_gga_zda.nmea"
TO_4544 = Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True)


def _sentence(body: str) -> str:
    checksum = 0
    for byte in body.encode("ascii"):
        checksum ^= byte
    return f"${body}*{checksum:02X}"


def held_log(path, fixes: int = 30, *, lat: str = "3039.6000", lon: str = "10404.2000", start_minute: int = 0):
    """An NMEA log of a receiver held over one spot: every GGA at the same place, HDOP and satellites varying,
    one RMC for the date."""
    lines = []
    for i in range(fixes):
        hhmmss = f"02{start_minute + i // 60:02d}{i % 60:02d}.00"
        if i == 0:
            lines.append(_sentence(f"GPRMC,{hhmmss},A,{lat},N,{lon},E,0.0,0.0,010524,,,A"))
        lines.append(_sentence(f"GPGGA,{hhmmss},{lat},N,{lon},E,{1 + i % 2},{8 + i % 5},0.{i % 9 + 1},"
                               f"{500 + i / 10:.1f},M,-30.0,M,,"))
    path.write_text("\r\n".join(lines) + "\r\n", encoding="ascii")
    return path


@pytest.fixture
def workspace(tmp_path):
    with Workspace.create(tmp_path / "ws.sqlite", user="张三") as ws:
        yield ws


def _points(ws):
    return sorted(ws.features(TRACK_POINTS_LAYER), key=lambda f: f.attributes["point"])


def test_every_fix_of_a_stationary_session_is_kept_as_a_track_point(workspace, tmp_path):
    log = held_log(tmp_path / "held.nmea", fixes=30)
    (f,) = import_gps(workspace, [log]).files
    assert f.status == "imported" and (f.stationary, f.stationary_fixes, f.track_points_kept) == (1, 30, 30)
    assert any("kept as 1 stationary waypoint and its 30 fixes as points of gps_track_points" in m
               for m in f.messages)
    (waypoint,) = workspace.features("gps_waypoints")
    assert json.loads(waypoint.attributes["extras"])["track_points"] == 30
    points = _points(workspace)
    assert len(points) == 30 and workspace.count("gps_tracks") == 0
    x, y = TO_4544.transform(104 + 4.2 / 60, 30 + 39.6 / 60)
    for i, p in enumerate(points):
        a = p.attributes
        assert a["session_uuid"] == waypoint.uuid and (a["track"], a["segment"], a["point"]) == ("held", 1, i + 1)
        assert a["time"] == f"2024-05-01T02:00:{i:02d}.000Z"
        assert a["elevation"] == pytest.approx(500 + i / 10)
        assert (a["hdop"], a["satellites"], a["fix_quality"]) == (pytest.approx((i % 9 + 1) / 10), 8 + i % 5,
                                                                  1 + i % 2)
        assert (a["source_file"], a["source_hash"]) == ("held.nmea", f.sha256)
        assert p.geometry.x == pytest.approx(x, abs=1e-6) and p.geometry.y == pytest.approx(y, abs=1e-6)


def test_the_fixes_of_a_receivers_log_with_several_talkers_are_all_kept(workspace, tmp_path):
    path = tmp_path / STATIC.name
    shutil.copyfile(STATIC, path)
    (f,) = import_gps(workspace, [path], date=dt.date(2024, 5, 1)).files
    assert (f.stationary_fixes, f.track_points_kept) == (19, 19)
    assert workspace.count(TRACK_POINTS_LAYER) == 19
    assert {p.attributes["satellites"] for p in workspace.features(TRACK_POINTS_LAYER)} >= {14, 15}


def test_a_moving_track_keeps_no_track_points(workspace, tmp_path):
    path = tmp_path / TRIPOD.name
    shutil.copyfile(TRIPOD, path)  # metre-level jitter: a (tiny) line, not a stationary session
    (f,) = import_gps(workspace, [path]).files
    assert f.imported and workspace.count("gps_tracks") == 1
    assert (f.stationary, f.track_points_kept, workspace.count(TRACK_POINTS_LAYER)) == (0, 0, 0)


def test_a_rolled_back_file_leaves_no_track_points(workspace, tmp_path):
    good = held_log(tmp_path / "held.nmea", fixes=5)
    bad = tmp_path / "bad.gpx"
    bad.write_text('<?xml version="1.0"?><gpx version="1.1"><trk><trkseg><trkpt lat="30.6" lon="104.0">', "utf-8")
    summary = import_gps(workspace, [good, bad])
    assert [f.status for f in summary.files] == ["imported", "failed"]
    assert workspace.count(TRACK_POINTS_LAYER) == 5
    again = import_gps(workspace, [good])  # the same file again: a duplicate, no second copy of its fixes
    assert again.files[0].duplicate and workspace.count(TRACK_POINTS_LAYER) == 5


def test_the_kept_fixes_average_to_what_the_file_averages_to(workspace, tmp_path):
    log = held_log(tmp_path / "held.nmea", fixes=12)
    import_gps(workspace, [log])
    (session,) = stored_sessions(workspace)
    assert (session.name, session.fixes, session.source_file) == ("held", 12, "held.nmea")
    from_file = average_position(log, workspace.crs)
    for key in (session.uuid, session.uuid[:8], "held", "held.nmea"):
        stored = average_session(workspace, key)
        assert stored.fixes == from_file.fixes == 12
        assert (stored.x, stored.y) == (pytest.approx(from_file.x, abs=1e-6), pytest.approx(from_file.y, abs=1e-6))
        assert stored.elevation == pytest.approx(from_file.elevation)
        assert (stored.start, stored.end) == (from_file.start, from_file.end)
        assert session.uuid in stored.path


def test_an_unknown_or_ambiguous_session_is_one_clear_error(workspace, tmp_path):
    import_gps(workspace, [held_log(tmp_path / "a.nmea", 4), held_log(tmp_path / "b.nmea", 4, start_minute=5,
                                                                       lat="3039.7000")])
    assert len(stored_sessions(workspace)) == 2
    with pytest.raises(GpsImportError, match="no stationary session 'nothing'"):
        session_fixes(workspace, "nothing")
    workspace.connection.execute("UPDATE gps_waypoints SET name = 'same'")
    with pytest.raises(GpsImportError, match="2 stationary sessions match 'same'"):
        session_fixes(workspace, "same")


def test_a_workspace_without_the_layer_keeps_the_waypoint_and_says_the_fixes_were_not_kept(tmp_path):
    # A workspace made before gps_track_points existed: the same definitions without it.
    folder = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS_FOLDER, folder)
    (folder / f"{TRACK_POINTS_LAYER}.toml").unlink()
    with Workspace.create(tmp_path / "old.sqlite", definitions_folder=folder) as old:
        (f,) = import_gps(old, [held_log(tmp_path / "held.nmea", 6)]).files
        assert f.status == "imported" and (f.stationary_fixes, f.track_points_kept) == (6, 0)
        assert any("no gps_track_points layer: the 6 fixes themselves are not kept" in m for m in f.messages)
        assert old.count("gps_waypoints") == 1 and stored_sessions(old) == []
        with pytest.raises(GpsImportError, match="no gps_track_points layer"):
            average_session(old, "held")


def test_cli_lists_and_averages_the_kept_sessions(tmp_path):
    ws = tmp_path / "ws.sqlite"
    Workspace.create(ws).close()
    log = held_log(tmp_path / "held.nmea", 20)
    imported = tongcheng("gps", "import", ws, log)
    assert imported.returncode == 0, imported.stderr
    assert ("20 fixes of a receiver held still: kept as 1 stationary waypoint in gps_waypoints and 20 points in "
            "gps_track_points") in imported.stdout
    listed = tongcheng("gps", "sessions", ws)
    assert listed.returncode == 0 and "1 stationary session in" in listed.stdout
    uuid = listed.stdout.split()[0]
    averaged = tongcheng("gps", "average", "--workspace", ws, "--session", uuid[:8], "--json")
    assert averaged.returncode == 0, averaged.stderr
    result = json.loads(averaged.stdout)
    from_file = json.loads(tongcheng("gps", "average", log, "--workspace", ws, "--json").stdout)
    assert result["fixes"] == from_file["fixes"] == 20
    assert (result["x"], result["y"]) == (pytest.approx(from_file["x"], abs=1e-6),
                                          pytest.approx(from_file["y"], abs=1e-6))
    unknown = tongcheng("gps", "average", "--workspace", ws, "--session", "zzzz")
    assert unknown.returncode == 1 and "no stationary session 'zzzz'" in unknown.stderr
    assert "Traceback" not in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1
    both = tongcheng("gps", "average", log, "--workspace", ws, "--session", uuid)
    assert both.returncode == 1 and "either a FILE or --session" in both.stderr
    alone = tongcheng("gps", "average", "--session", uuid)
    assert alone.returncode == 1 and "--session needs --workspace" in alone.stderr


def test_the_kept_fixes_travel_to_the_office_with_include_survey(tmp_path):
    from layers.geopackage import open_geopackage
    from layers.sync.apply import apply_package
    from layers.sync.changes import write_changes
    from layers.sync.checkout import checkout
    from layers.sync.master import create_master
    from tests.layers.test_gpkg import assert_valid

    master = tmp_path / "master.gpkg"
    create_master(master, user="office", demo=True, counts={"toilets": 3, "signboards": 3, "kiosks": 2})
    checkout(master, tmp_path / "ws.sqlite", user="张三")
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        import_gps(ws, [held_log(tmp_path / "held.nmea", 8)])
        (session,) = stored_sessions(ws)
        assert ws.pending_changes()[TRACK_POINTS_LAYER]["insert"] == 8
        sent = write_changes(ws, tmp_path / "p.gpkg", include_survey=True)
        assert sent.survey[TRACK_POINTS_LAYER]["insert"] == 8
        assert ws.pending_changes()[TRACK_POINTS_LAYER] == {"insert": 0, "update": 0, "delete": 0}
    result = apply_package(master, tmp_path / "p.gpkg")
    assert result.survey == {"gps_track_points": 8, "gps_tracks": 0, "gps_waypoints": 1}
    with open_geopackage(master) as gp:
        rows = list(gp.rows("survey_gps_track_points"))
        assert len(rows) == 8 and {r["session_uuid"] for r in rows} == {session.uuid}
        assert [r["uuid"] for r in gp.rows("survey_gps_waypoints")] == [session.uuid]
        assert sorted(r["point"] for r in rows) == list(range(1, 9))
        assert not gp.has_layer(TRACK_POINTS_LAYER)  # evidence, never a facility layer
    assert_valid(master)
