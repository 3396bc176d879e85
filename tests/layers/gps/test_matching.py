"""Waypoints to facilities: nearest-first matching, the review CSV, applying it as tracked edits."""

import csv

import pytest
import shapely
from pyproj import Transformer

from layers.errors import TongchengError, ValidationError
from layers.gps.importer import import_gps
from layers.gps.matching import (
    REVIEW_COLUMNS,
    apply_matches,
    match_waypoints,
    parse_assignments,
    read_review,
    write_review,
)

TO_LONLAT = Transformer.from_crs("EPSG:4544", "EPSG:4326", always_xy=True)


def _write_waypoints(path, points):
    """A GPX of waypoints given as (name, x, y) in EPSG:4544."""
    body = []
    for name, x, y in points:
        lon, lat = TO_LONLAT.transform(x, y)
        body.append(f'<wpt lat="{lat:.9f}" lon="{lon:.9f}"><name>{name}</name></wpt>')
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="t" '
                    'xmlns="http://www.topografix.com/GPX/1/1">\n' + "\n".join(body) + "\n</gpx>\n", "utf-8")
    return path


@pytest.fixture
def surveyed(demo_workspace, tmp_path):
    """A demo workspace with waypoints near three toilets, two of them near the same one, and one far away."""
    ws = demo_workspace
    toilets = list(ws.features("toilets"))[:3]
    (a, b, c) = toilets
    points = [
        ("A 附近", a.geometry.x + 3.0, a.geometry.y + 4.0),      # 5 m from a
        ("A 更近", a.geometry.x + 0.6, a.geometry.y + 0.8),      # 1 m from a: wins a
        ("B", b.geometry.x - 6.0, b.geometry.y + 8.0),           # 10 m from b
        ("C 太远", c.geometry.x + 30.0, c.geometry.y),           # 30 m from c: beyond 15 m
        ("新公厕", 395000.0, 3385000.0),                          # nowhere near a toilet
    ]
    # Keep the far waypoints clear of every toilet of the demo.
    path = _write_waypoints(tmp_path / "survey.gpx", points)
    summary = import_gps(ws, [path])
    return ws, toilets, points, summary.files[0]


def _nearest_other(ws, x, y, exclude):
    best = None
    for f in ws.features("toilets"):
        if f.uuid in exclude:
            continue
        d = shapely.Point(x, y).distance(f.geometry)
        best = d if best is None else min(best, d)
    return best


def test_nearest_first_one_facility_per_waypoint(surveyed):
    ws, (a, b, c), points, _ = surveyed
    matches = match_waypoints(ws, "toilets", 15)
    by_name = {m.waypoint_name: m for m in matches}
    assert len(matches) == 5
    assert by_name["A 更近"].facility_uuid == a.uuid
    assert by_name["A 更近"].distance_m == pytest.approx(1.0, abs=0.01)
    assert by_name["A 更近"].facility_label == a.attributes["name"]
    assert by_name["B"].facility_uuid == b.uuid and by_name["B"].distance_m == pytest.approx(10.0, abs=0.01)
    # The farther waypoint near A does not take A; it gets another toilet only if one is within 15 m.
    other = by_name["A 附近"]
    assert other.facility_uuid != a.uuid
    if other.facility_uuid is None:
        assert (_nearest_other(ws, *points[0][1:], {a.uuid, b.uuid}) or 99) > 15
    uuids = [m.facility_uuid for m in matches if m.facility_uuid]
    assert len(uuids) == len(set(uuids))
    assert by_name["新公厕"].facility_uuid is None


def test_distance_limit_and_source_filter(surveyed, tmp_path):
    ws, (a, b, c), _, imported = surveyed
    by_name = {m.waypoint_name: m for m in match_waypoints(ws, "toilets", 40)}
    assert by_name["C 太远"].facility_uuid == c.uuid
    assert by_name["C 太远"].distance_m == pytest.approx(30.0, abs=0.01)
    _write_waypoints(tmp_path / "other.gpx", [("其他", 395500.0, 3385500.0)])
    import_gps(ws, [tmp_path / "other.gpx"])
    assert len(match_waypoints(ws, "toilets", 15)) == 6
    assert len(match_waypoints(ws, "toilets", 15, source="survey.gpx")) == 5
    assert len(match_waypoints(ws, "toilets", 15, source=imported.sha256)) == 5
    assert len(match_waypoints(ws, "toilets", 15, source=imported.sha256[:8].upper())) == 5
    with pytest.raises(TongchengError, match="no waypoints from 'nothing.gpx'"):
        match_waypoints(ws, "toilets", 15, source="nothing.gpx")


def test_only_facility_point_layers(surveyed):
    ws = surveyed[0]
    with pytest.raises(TongchengError, match="survey layer"):
        match_waypoints(ws, "gps_waypoints", 15)
    with pytest.raises(TongchengError, match="no layer 'roads'"):
        match_waypoints(ws, "roads", 15)
    with pytest.raises(TongchengError, match="positive"):
        match_waypoints(ws, "toilets", 0)


def test_review_csv_round_trip(surveyed, tmp_path):
    ws = surveyed[0]
    matches = match_waypoints(ws, "toilets", 15)
    path = tmp_path / "review.csv"
    write_review(matches, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == REVIEW_COLUMNS and len(rows) == 6
    back = read_review(path)
    assert [(m.waypoint_uuid, m.facility_uuid, m.distance_m) for m in back] == \
           [(m.waypoint_uuid, m.facility_uuid, m.distance_m) for m in matches]
    assert [m.line for m in back] == [2, 3, 4, 5, 6]
    # Excel on Chinese Windows saves GB18030.
    path.write_bytes(path.read_text("utf-8-sig").encode("gb18030"))
    assert [m.waypoint_name for m in read_review(path)] == [m.waypoint_name for m in matches]


def test_review_csv_without_the_columns_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", "utf-8")
    with pytest.raises(TongchengError, match="not a review list"):
        read_review(path)


def test_apply_moves_only_the_rows_kept_as_tracked_audited_edits(surveyed):
    ws, (a, b, c), _, _ = surveyed
    ws.user = "王五"
    matches = match_waypoints(ws, "toilets", 15)
    kept = [m for m in matches if m.waypoint_name in ("A 更近", "新公厕")]   # the user deleted the B row
    summary = apply_matches(ws, kept)
    assert summary.moved == [a.uuid] and summary.created == [] and summary.unmatched == 1
    moved = ws.find("toilets", a.uuid)
    waypoint = ws.find("gps_waypoints", kept[0].waypoint_uuid)
    assert moved.geometry.equals_exact(waypoint.geometry, 0)
    assert moved.audit["modified_by"] == "王五"
    assert ws.find("toilets", b.uuid).geometry.equals(b.geometry)     # not applied
    pending = ws.pending_changes()["toilets"]
    assert pending == {"insert": 0, "update": 1, "delete": 0}
    (change,) = ws.changes("toilets")
    assert change.uuid == a.uuid and change.changed_fields == ("geom",)
    assert waypoint.attributes["facility_uuid"] == a.uuid and waypoint.attributes["facility_layer"] == "toilets"
    # Applying the same list again changes nothing more.
    again = apply_matches(ws, kept)
    assert again.moved == [] and again.unchanged == 1
    assert ws.pending_changes()["toilets"] == pending


def test_create_unmatched_needs_values_without_defaults(surveyed):
    ws = surveyed[0]
    matches = match_waypoints(ws, "toilets", 15)
    before = ws.pending_changes()
    with pytest.raises(TongchengError, match=r"needs a value for district .*--set district=VALUE \(one of: 锦江区"):
        apply_matches(ws, matches, create_unmatched=True)
    with pytest.raises(TongchengError, match="toilets has no field 'colour'"):
        apply_matches(ws, matches, create_unmatched=True, values={"district": "锦江区", "colour": "red"})
    with pytest.raises(ValidationError, match=r"line 1|toilets.district: '火星' is not in the code list"):
        apply_matches(ws, matches, create_unmatched=True, values={"district": "火星"})
    assert ws.pending_changes() == before          # nothing half-written


def test_create_unmatched_creates_tracked_facilities_once(surveyed, tmp_path):
    ws, (a, b, c), _, _ = surveyed
    count = ws.count("toilets")
    path = tmp_path / "review.csv"
    write_review(match_waypoints(ws, "toilets", 15), path)
    matches = read_review(path)
    unmatched = [m for m in matches if m.facility_uuid is None]
    unmatched[-1].waypoint_name = "春熙路新公厕"          # the user renamed it in the review list
    summary = apply_matches(ws, matches, create_unmatched=True,
                            values=parse_assignments(["district=锦江区", "open_24h=是"]))
    assert len(summary.created) == len(unmatched)
    assert ws.count("toilets") == count + len(unmatched)
    created = ws.find("toilets", summary.created[-1])
    assert created.attributes["name"] == "春熙路新公厕"
    assert created.attributes["district"] == "锦江区" and created.attributes["open_24h"] == 1
    assert created.attributes["structure"] == "独立式"     # a default
    assert created.audit["created_by"] == "demo"
    waypoint = ws.find("gps_waypoints", unmatched[-1].waypoint_uuid)
    assert created.geometry.equals_exact(waypoint.geometry, 0)
    pending = ws.pending_changes()["toilets"]
    assert pending["insert"] == len(unmatched)
    assert {c.uuid for c in ws.changes("toilets") if c.op == "insert"} == set(summary.created)
    # Applying again creates nothing twice.
    again = apply_matches(ws, matches, create_unmatched=True, values={"district": "锦江区"})
    assert again.created == [] and again.already_created == len(unmatched)
    assert ws.count("toilets") == count + len(unmatched)


def test_conflicting_rows_are_refused_with_the_line(surveyed, tmp_path):
    ws, (a, *_), _, _ = surveyed
    matches = match_waypoints(ws, "toilets", 15)
    path = tmp_path / "review.csv"
    write_review(matches, path)
    rows = path.read_text("utf-8-sig").splitlines()
    b_row = next(r for r in rows if ",B," in r)
    # The user points the B waypoint at toilet A too.
    rows[rows.index(b_row)] = b_row.replace(b_row.split(",")[3], a.uuid)
    path.write_text("\n".join(rows) + "\n", "utf-8-sig")
    with pytest.raises(TongchengError, match=rf"line \d: facility {a.uuid} is also on line \d"):
        apply_matches(ws, read_review(path))
    rows[1] = rows[1].replace(rows[1].split(",")[1], "00000000-0000-0000-0000-000000000000")
    path.write_text("\n".join(rows[:2]) + "\n", "utf-8-sig")
    with pytest.raises(TongchengError, match="line 2: no waypoint 00000000"):
        apply_matches(ws, read_review(path))
    with pytest.raises(TongchengError, match="rows are for toilets, not kiosks"):
        apply_matches(ws, read_review(path), layer="kiosks")
