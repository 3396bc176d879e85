"""The ``tongcheng gps`` commands, run as a user runs them: ``python -m layers.cli.main`` in a subprocess."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyproj import Transformer

from layers.workspace.store import Workspace

from .conftest import WORLD_CRS

ROOT = Path(__file__).resolve().parents[3]
TO_LONLAT = Transformer.from_crs("EPSG:4544", "EPSG:4326", always_xy=True)


def tongcheng(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "error"}
    return subprocess.run([sys.executable, "-m", "layers.cli.main", *map(str, args)], capture_output=True,
                          text=True, encoding="utf-8", env=env, cwd=cwd, timeout=120)


@pytest.fixture
def ws_path(tmp_path):
    path = tmp_path / "district.sqlite"
    with Workspace.create(path, user="张三"):
        pass
    return path


@pytest.fixture
def world_ws_path(tmp_path):
    """A workspace whose CRS's area of use holds the shared GPX files (Slovenia...)."""
    path = tmp_path / "world.sqlite"
    with Workspace.create(path, crs=WORLD_CRS, user="张三"):
        pass
    return path


def _counts(path):
    with Workspace.open(path) as ws:
        return ws.count("gps_tracks"), ws.count("gps_waypoints"), ws.pending_changes()


def test_import_prints_a_table_and_notes(world_ws_path, testdata):
    ws_path = world_ws_path
    folder = testdata("gpx")
    result = tongcheng("gps", "import", ws_path, folder / "korita-zbevnica.gpx", folder / "route.gpx")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["file", "format", "tracks", "routes", "segments", "points", "waypoints",
                                "dropped", "status"]
    assert lines[2].split() == ["korita-zbevnica.gpx", "gpx", "4", "0", "4", "871", "2", "0", "imported"]
    assert lines[3].split() == ["route.gpx", "gpx", "0", "1", "0", "55", "0", "0", "imported"]
    assert "1 track or route without any line: not stored" in result.stdout
    assert "times: all with a zone" in result.stdout
    assert "tongcheng: error" not in result.stderr
    assert _counts(ws_path)[:2] == (4, 2)


def test_reimport_is_skipped_with_a_message_and_exit_0(world_ws_path, testdata):
    ws_path = world_ws_path
    path = testdata("gpx/unicode.gpx")
    assert tongcheng("gps", "import", ws_path, path).returncode == 0
    result = tongcheng("gps", "import", ws_path, path)
    assert result.returncode == 0
    assert "skipped: duplicate" in result.stdout
    assert "already imported (same SHA-256): skipped" in result.stdout
    assert _counts(ws_path)[1] == 6


def test_bad_file_exits_1_with_one_line_naming_file_and_line(world_ws_path, testdata, tmp_path):
    ws_path = world_ws_path
    whole = testdata("gpx/korita-zbevnica.gpx").read_bytes()
    cut = tmp_path / "cut.gpx"
    cut.write_bytes(whole[:50000])
    good = testdata("gpx/unicode.gpx")
    result = tongcheng("gps", "import", ws_path, cut, good)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("tongcheng: error:")]
    line = cut.read_bytes()[:50000].count(b"\n") + 1
    assert len(errors) == 1
    assert errors[0].startswith(f"tongcheng: error: {cut}, line {line}: malformed or truncated XML")
    assert "FAILED: nothing written" in result.stdout
    tracks, waypoints, pending = _counts(ws_path)
    assert (tracks, waypoints) == (0, 6)         # the good file is in, nothing of the bad one


def test_options_tz_datum_and_cleaning(ws_path, tmp_path):
    path = tmp_path / "local.gpx"
    points = "".join(f'<trkpt lat="{30.66 + i * 1e-4:.6f}" lon="104.06"><time>2024-05-01T08:30:{i:02d}</time>'
                     f"</trkpt>" for i in range(20))
    path.write_text(f'<gpx version="1.1"><trk><trkseg>{points}</trkseg></trk></gpx>\n', "utf-8")
    result = tongcheng("gps", "import", ws_path, path, "--tz", "+09:00", "--from", "gcj02",
                       "--simplify", "1", "--max-speed", "200", "--max-hdop", "5")
    assert result.returncode == 0, result.stderr
    assert "20 times had no zone: read as UTC+09:00 (--tz)" in result.stdout
    assert "simplified 18" in result.stdout
    with Workspace.open(ws_path) as ws:
        (track,) = ws.features("gps_tracks")
        assert track.attributes["start_time"] == "2024-04-30T23:30:00.000Z"
        lon, lat = TO_LONLAT.transform(*track.geometry.geoms[0].coords[0])
        assert 104.05 < lon < 104.06   # GCJ-02 -> WGS84 moves Chengdu a few hundred metres west


def test_usage_errors(ws_path, tmp_path):
    result = tongcheng("gps", "import", ws_path, tmp_path / "x.gpx", "--tz", "Mars/Olympus")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("tongcheng: error: --tz Mars/Olympus: unknown time zone")
    result = tongcheng("gps", "import", tmp_path / "none.sqlite", tmp_path / "x.gpx")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "no such workspace file" in result.stderr
    result = tongcheng("gps", "import", ws_path, tmp_path / "x.gpx", "--from", "wgs72")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def _survey(path, tmp_path):
    """Three waypoints: on toilet 1 (2 m), near toilet 2 (5 m), and one far from any."""
    with Workspace.open(path) as ws:
        toilets = list(ws.features("toilets"))[:2]
    near = [(t.geometry.x + dx, t.geometry.y) for t, dx in zip(toilets, (2.0, 5.0), strict=True)]
    points = [*near, (395000.0, 3385000.0)]
    body = ""
    for i, (x, y) in enumerate(points):
        lon, lat = TO_LONLAT.transform(x, y)
        body += f'<wpt lat="{lat:.9f}" lon="{lon:.9f}"><name>点{i}</name></wpt>\n'
    gpx = tmp_path / "survey.gpx"
    gpx.write_text(f'<gpx version="1.1">\n{body}</gpx>\n', "utf-8")
    return gpx, toilets


def test_match_and_apply_end_to_end(demo_file, tmp_path):
    ws_path = tmp_path / "demo.sqlite"
    ws_path.write_bytes(demo_file.read_bytes())
    gpx, toilets = _survey(ws_path, tmp_path)
    assert tongcheng("gps", "import", ws_path, gpx).returncode == 0

    review = tmp_path / "review.csv"
    result = tongcheng("gps", "match", ws_path, "--layer", "toilets", "--max-distance", "15",
                       "--source", "survey.gpx", "--out", review)
    assert result.returncode == 0, result.stderr
    assert "3 waypoints, 2 matched to toilets within 15 m, 1 unmatched" in result.stdout
    with open(review, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["facility_uuid"] for r in rows] == [toilets[0].uuid, toilets[1].uuid, ""]
    assert [r["distance_m"] for r in rows] == ["2.00", "5.00", ""]
    assert rows[0]["facility_label"] == toilets[0].attributes["name"]

    # The review: the user deletes the second row.
    with open(review, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([rows[0], rows[2]])
    result = tongcheng("gps", "apply-matches", ws_path, review, "--create-unmatched")
    assert result.returncode == 1
    assert result.stderr.startswith("tongcheng: error: toilets: creating facilities needs a value for district")
    assert "--set district=VALUE" in result.stderr and result.stderr.count("\n") == 1

    result = tongcheng("gps", "apply-matches", ws_path, review, "--create-unmatched", "--layer", "toilets",
                       "--set", "district=武侯区", "--set", "status=在建")
    assert result.returncode == 0, result.stderr
    assert "1 facilities moved onto their waypoints" in result.stdout
    assert "1 facilities created from unmatched waypoints" in result.stdout
    with Workspace.open(ws_path) as ws:
        moved = ws.find("toilets", toilets[0].uuid)
        assert moved.geometry.x == pytest.approx(toilets[0].geometry.x + 2.0, abs=1e-3)
        assert ws.find("toilets", toilets[1].uuid).geometry.equals(toilets[1].geometry)
        pending = ws.pending_changes()["toilets"]
        assert pending == {"insert": 1, "update": 1, "delete": 0}
        (created,) = [c for c in ws.changes("toilets") if c.op == "insert"]
        assert created.current["name"] == "点2" and created.current["district"] == "武侯区"
        assert created.current["status"] == "在建"

    result = tongcheng("gps", "apply-matches", ws_path, review, "--create-unmatched", "--set", "district=武侯区")
    assert result.returncode == 0
    assert "0 facilities moved onto their waypoints, 1 already there" in result.stdout
    assert "1 created before (skipped)" in result.stdout


def test_match_without_waypoints_of_the_source(ws_path, tmp_path):
    result = tongcheng("gps", "match", ws_path, "--layer", "toilets", "--source", "nope.gpx",
                       "--out", tmp_path / "r.csv")
    assert result.returncode == 1
    assert result.stderr == (
        "tongcheng: error: gps_waypoints: no waypoints from 'nope.gpx' (give a file name or a hash)\n"
    )
