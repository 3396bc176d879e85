"""The SpatiaLite workspace: creation, refusal of other files, features, extent queries, transactions."""

import random
import sqlite3
import subprocess
import sys
import textwrap

import pyproj
import pytest
from shapely.geometry import LineString, MultiLineString, Point, box

from layers.errors import (
    FeatureNotFoundError,
    NewerWorkspaceError,
    NotAWorkspaceError,
    ValidationError,
    WorkspaceError,
)
from layers.sqlite.spatialite import connect
from layers.workspace.store import SCHEMA_VERSION, Workspace

CHUNXI = Point(410_520, 3_393_260)  # near Chunxi Road, EPSG:4544


def toilet(name="春熙路公厕", **more):
    return {"name": name, "district": "锦江区", **more}


def test_new_workspace_is_a_spatialite_file_with_one_table_per_layer(workspace):
    connection = workspace.connection
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"toilets", "signboards", "kiosks", "gps_tracks", "gps_waypoints"} <= tables
    columns = [row[1] for row in connection.execute("PRAGMA table_info(toilets)")]
    assert columns[:2] == ["fid", "uuid"]
    assert set(workspace.layer("toilets").field_names) <= set(columns)
    assert {"created_by", "created_at", "modified_by", "modified_at", "geom"} <= set(columns)
    geometry_columns = dict(connection.execute("SELECT f_table_name, srid FROM geometry_columns"))
    assert geometry_columns["toilets"] == 4544 and geometry_columns["gps_tracks"] == 4544
    indexed = {row[0] for row in connection.execute(
        "SELECT f_table_name FROM geometry_columns WHERE spatial_index_enabled = 1")}
    assert indexed == {name for name, d in workspace.definitions.items() if d.has_geometry}
    assert "inspections" in tables and "inspections" not in indexed  # a table without geometry
    assert "geom" not in [row[1] for row in connection.execute("PRAGMA table_info(inspections)")]
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert workspace.setting("schema_version") == str(SCHEMA_VERSION)


def test_default_crs_is_cgcs2000_gauss_kruger_105e(workspace):
    crs = pyproj.CRS.from_user_input(workspace.crs)
    assert crs.to_epsg() == 4544
    assert crs.datum.name.startswith("China 2000")
    assert crs.coordinate_operation.params[1].value == 105  # central meridian
    wkt = workspace.connection.execute("SELECT srtext FROM spatial_ref_sys WHERE srid = 4544").fetchone()[0]
    assert wkt.endswith('AUTHORITY["EPSG","4544"]]')
    from_file = pyproj.Transformer.from_crs("EPSG:4326", pyproj.CRS.from_wkt(wkt), always_xy=True)
    from_epsg = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True)
    tianfu_square = (104.0657, 30.6574)
    assert from_file.transform(*tianfu_square) == pytest.approx(from_epsg.transform(*tianfu_square), abs=1e-6)
    x, y = from_epsg.transform(*tianfu_square)
    assert 400_000 < x < 420_000 and 3_380_000 < y < 3_400_000  # 500 km false easting, no zone prefix


def test_crs_is_chosen_at_creation(tmp_path):
    with Workspace.create(tmp_path / "w.sqlite", crs="EPSG:4326") as ws:
        assert ws.srid == 4326
        ws.insert("toilets", toilet(), Point(104.07, 30.66))
        assert ws.connection.execute("SELECT ST_SRID(geom) FROM toilets").fetchone()[0] == 4326
    with pytest.raises(WorkspaceError, match="unknown CRS 'EPSG:999999'"):
        Workspace.create(tmp_path / "x.sqlite", crs="EPSG:999999")
    assert not (tmp_path / "x.sqlite").exists()


def test_create_refuses_an_existing_file(workspace):
    with pytest.raises(WorkspaceError, match="already exists"):
        Workspace.create(workspace.path)


def test_reopen_keeps_layers_settings_and_features(tmp_path):
    path = tmp_path / "w.sqlite"
    with Workspace.create(path, user="李四") as ws:
        fid = ws.insert("toilets", toilet(), CHUNXI).fid
        ws_id = ws.id
    with Workspace.open(path) as ws:
        assert ws.id == ws_id and ws.user == "李四"
        assert list(ws.definitions)[:3] == ["toilets", "signboards", "kiosks"]
        assert ws.get("toilets", fid).attributes["name"] == "春熙路公厕"


def test_refuses_a_file_that_is_not_a_workspace(tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("just some text", "utf-8")
    with pytest.raises(NotAWorkspaceError, match="notes.sqlite: not a Tongcheng workspace"):
        Workspace.open(text)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE things (a)")
    connection.close()
    with pytest.raises(NotAWorkspaceError, match="other.sqlite: not a Tongcheng workspace"):
        Workspace.open(other)
    with pytest.raises(WorkspaceError, match="missing.sqlite: no such workspace file"):
        Workspace.open(tmp_path / "missing.sqlite")


def test_refuses_a_workspace_of_a_newer_version(workspace):
    path = workspace.path
    workspace.connection.execute(
        "UPDATE tongcheng_settings SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),)
    )
    workspace.close()
    with pytest.raises(NewerWorkspaceError, match=f"workspace version {SCHEMA_VERSION + 1}"):
        Workspace.open(path)


def test_insert_gives_a_fid_a_unique_uuid_and_audit(workspace):
    a = workspace.insert("toilets", toilet("一号公厕"), CHUNXI)
    b = workspace.insert("toilets", toilet("二号公厕"), Point(410_600, 3_393_300))
    assert a.fid != b.fid and a.uuid != b.uuid
    assert len(a.uuid) == 36 and a.uuid.count("-") == 4
    assert a.audit["created_by"] == "张三" and a.audit["modified_by"] == "张三"
    assert a.audit["created_at"].endswith("Z")
    assert a.geometry.equals(CHUNXI)


def test_uuid_stays_the_same_through_updates_and_cannot_be_changed_by_sql(workspace):
    feature = workspace.insert("toilets", toilet(), CHUNXI)
    moved = workspace.update("toilets", feature.fid, {"name": "新名"}, Point(410_530, 3_393_270))
    assert moved.uuid == feature.uuid
    with pytest.raises(sqlite3.IntegrityError, match="uuid of a feature never changes"):
        workspace.connection.execute("UPDATE toilets SET uuid = 'x' WHERE fid = ?", (feature.fid,))
    assert workspace.get("toilets", feature.fid).uuid == feature.uuid


def test_raw_sql_insert_gets_a_uuid_and_audit(workspace):
    connection = workspace.connection
    for name in ("甲", "乙"):
        connection.execute(
            "INSERT INTO toilets (name, district, geom) VALUES (?, '锦江区', MakePoint(410000, 3393000, 4544))", (name,)
        )
    rows = connection.execute("SELECT uuid, created_by, created_at, modified_at FROM toilets").fetchall()
    assert len({row[0] for row in rows}) == 2
    for uuid, created_by, created_at, modified_at in rows:
        assert len(uuid) == 36 and uuid[14] == "4"
        assert created_by == "张三" and created_at and modified_at


def test_invalid_feature_is_refused_and_nothing_is_written(workspace):
    with pytest.raises(ValidationError) as caught:
        workspace.insert("toilets", toilet(zone="禁区"), CHUNXI)
    assert (caught.value.layer, caught.value.field, caught.value.value) == ("toilets", "zone", "禁区")
    assert "code list" in str(caught.value)
    assert workspace.count("toilets") == 0
    feature = workspace.insert("toilets", toilet(), CHUNXI)
    with pytest.raises(ValidationError, match="toilets.seats_male"):
        workspace.update("toilets", feature.fid, {"name": "改名", "seats_male": -3})
    assert workspace.get("toilets", feature.fid).attributes["name"] == "春熙路公厕"
    with pytest.raises(ValidationError):
        workspace.insert_many("toilets", [(toilet(), CHUNXI), (toilet(grade="x"), CHUNXI)])
    assert workspace.count("toilets") == 1


def test_update_recomputes_derived_area(workspace):
    sign = workspace.insert(
        "signboards", {"business_name": "王记面馆", "district": "锦江区", "width_m": 2, "height_m": 1}, CHUNXI)
    assert sign.attributes["area_m2"] == 2.0
    assert workspace.update("signboards", sign.fid, {"width_m": 4}).attributes["area_m2"] == 4.0
    assert workspace.update("signboards", sign.fid, {"height_m": 2.5}).attributes["area_m2"] == 10.0
    assert workspace.update("signboards", sign.fid, {"status": "停用"}).attributes["area_m2"] == 10.0
    assert workspace.update("signboards", sign.fid, {"height_m": None}).attributes["area_m2"] is None


def test_delete_and_restore_keep_fid_and_uuid(workspace):
    feature = workspace.insert("toilets", toilet(), CHUNXI)
    deleted = workspace.delete("toilets", feature.fid)
    with pytest.raises(FeatureNotFoundError):
        workspace.get("toilets", feature.fid)
    restored = workspace.restore(deleted)
    assert (restored.fid, restored.uuid) == (feature.fid, feature.uuid)
    assert restored.audit["created_at"] == feature.audit["created_at"]
    with pytest.raises(WorkspaceError, match="no layer 'benches'"):
        workspace.insert("benches", {}, CHUNXI)


def test_line_layers_take_lines(workspace):
    track = workspace.insert(
        "gps_tracks", {"name": "早班巡查", "kind": "track"},
        MultiLineString([[(0, 0), (10, 0)], [(20, 0), (30, 5)]]),
    )
    assert track.geometry.geom_type == "MultiLineString"
    single = workspace.insert("gps_tracks", {"kind": "route"}, LineString([(0, 0), (5, 5)]))
    assert single.geometry.geom_type == "MultiLineString"


def test_extent_query_returns_exactly_the_features_inside(workspace):
    rng = random.Random(7)
    points = [Point(rng.uniform(0, 1000), rng.uniform(0, 1000)) for _ in range(3000)]
    points += [Point(200, 300), Point(600, 700)]  # on the edges of the box below
    workspace.insert_many("toilets", [(toilet(f"公厕{i}"), p) for i, p in enumerate(points)])
    bbox = (200.0, 300.0, 600.0, 700.0)
    region = box(*bbox)
    expected = sorted(i + 1 for i, p in enumerate(points) if region.covers(p))
    found = sorted(f.fid for f in workspace.features_in_extent("toilets", bbox))
    assert found == expected
    arrays = workspace.point_arrays_in_extent("toilets", bbox, fields=("name", "status"))
    assert sorted(arrays["fid"].tolist()) == expected
    assert ((arrays["x"] >= 200) & (arrays["x"] <= 600)).all()
    assert set(arrays["status"]) == {"在用"}
    empty = workspace.point_arrays_in_extent("toilets", (5000, 5000, 6000, 6000), fields=("name",))
    assert len(empty["fid"]) == 0 and len(empty["name"]) == 0


def test_extent_query_uses_the_spatial_index(workspace):
    sql = "EXPLAIN QUERY PLAN SELECT fid FROM toilets WHERE " + workspace._extent_condition("toilets")
    plan = " ".join(str(row) for row in workspace.connection.execute(sql, workspace._extent_parameters((0, 0, 1, 1))))
    assert "idx_toilets_geom" in plan and "VIRTUAL TABLE INDEX" in plan


def test_extent_of_layers(workspace):
    assert workspace.extent("toilets") is None
    workspace.insert("toilets", toilet(), Point(10, 20))
    workspace.insert("kiosks", {"name": "报刊亭", "district": "锦江区"}, Point(30, 5))
    assert workspace.extent("toilets") == pytest.approx((10, 20, 10, 20))
    assert workspace.full_extent() == pytest.approx((10, 5, 30, 20))


def test_session_outer_owns_the_transaction_inner_errors_roll_back_their_part(workspace):
    with workspace.session():
        workspace.insert("toilets", toilet("外层"), CHUNXI)
        with pytest.raises(ValidationError):
            with workspace.session():
                workspace.insert("toilets", toilet("内层"), CHUNXI)
                workspace.insert("toilets", toilet(grade="bad"), CHUNXI)
        assert workspace.connection.in_transaction
    names = [f.attributes["name"] for f in workspace.features("toilets")]
    assert names == ["外层"]
    with pytest.raises(RuntimeError):
        with workspace.session():
            workspace.insert("toilets", toilet("会回滚"), CHUNXI)
            raise RuntimeError("boom")
    assert workspace.count("toilets") == 1
    assert not workspace.connection.in_transaction


def test_a_process_killed_mid_transaction_leaves_the_workspace_as_it_was(workspace, tmp_path):
    workspace.insert("toilets", toilet("已保存"), CHUNXI)
    before = workspace.pending_changes()
    path = workspace.path
    workspace.close()
    script = textwrap.dedent(
        f"""
        import os, signal
        from shapely.geometry import Point
        from layers.workspace.store import Workspace
        ws = Workspace.open({str(path)!r})
        with ws.session():
            for i in range(2000):
                ws.insert("toilets", {{"name": f"未保存{{i}}", "district": "锦江区"}}, Point(i, i))
            ws.connection.execute("UPDATE toilets SET name = 'changed'")
            print("inside", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == -9 and "inside" in result.stdout
    with Workspace.open(path) as reopened:
        assert [f.attributes["name"] for f in reopened.features("toilets")] == ["已保存"]
        assert reopened.pending_changes() == before
        assert reopened.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_second_reader_sees_committed_data_while_a_write_is_open(workspace):
    workspace.insert("toilets", toilet("已提交"), CHUNXI)
    with workspace.session():
        workspace.insert("toilets", toilet("未提交"), CHUNXI)
        with workspace.reader() as reader:
            names = [row[0] for row in reader.execute("SELECT name FROM toilets")]
    assert names == ["已提交"]


def test_spatialite_connection_reports_missing_library(tmp_path, monkeypatch):
    monkeypatch.setenv("TONGCHENG_SPATIALITE", str(tmp_path / "no_such_mod_spatialite"))
    with pytest.raises(WorkspaceError, match="cannot load SpatiaLite"):
        connect(tmp_path / "x.sqlite")


SPATIALITE_INSERT_TRIGGERS = {"ggi_toilets_geom", "tmi_toilets_geom", "gii_toilets_geom"}


def triggers(workspace):
    return {row[0] for row in workspace.connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}


def test_bulk_load_packs_the_index_and_restores_spatialite_triggers(workspace):
    rng = random.Random(3)
    points = [Point(rng.uniform(0, 5000), rng.uniform(0, 5000)) for _ in range(2500)]
    workspace.insert_many("toilets", [(toilet(f"公厕{i}"), p) for i, p in enumerate(points)], batch_size=100)
    connection = workspace.connection
    assert connection.execute("SELECT rtreecheck('idx_toilets_geom')").fetchone()[0] == "ok"
    assert connection.execute("SELECT CheckSpatialIndex('toilets', 'geom')").fetchone()[0] == 1
    assert SPATIALITE_INSERT_TRIGGERS <= triggers(workspace)
    bbox = (1000.0, 1200.0, 2500.0, 4000.0)
    expected = sorted(i + 1 for i, p in enumerate(points) if box(*bbox).covers(p))
    assert sorted(workspace.point_arrays_in_extent("toilets", bbox)["fid"].tolist()) == expected
    later = workspace.insert("toilets", toilet("后加"), Point(1500, 1500))  # the restored triggers index new rows
    assert later.fid in workspace.point_arrays_in_extent("toilets", bbox)["fid"]
    with pytest.raises(sqlite3.IntegrityError, match="Geometry constraint"):
        connection.execute("INSERT INTO toilets (name, district, geom) VALUES ('x', '锦江区', MakePoint(1, 1, 4326))")


def test_a_bulk_load_that_fails_late_leaves_nothing(workspace):
    features = [(toilet(f"公厕{i}"), Point(i, i)) for i in range(450)] + [(toilet(grade="坏"), Point(0, 0))]
    with pytest.raises(ValidationError, match="feature 451: toilets.grade"):
        workspace.insert_many("toilets", features, batch_size=100)
    assert workspace.count("toilets") == 0
    assert SPATIALITE_INSERT_TRIGGERS <= triggers(workspace)
    assert workspace.connection.execute("SELECT count(*) FROM idx_toilets_geom").fetchone()[0] == 0


def test_untracked_bulk_load_restores_change_tracking(workspace):
    with workspace.untracked():
        workspace.insert_many("toilets", [(toilet(f"基线{i}"), Point(i, i)) for i in range(300)], batch_size=100)
    assert "tongcheng_insert_toilets" in triggers(workspace)
    assert workspace.pending_changes()["toilets"]["insert"] == 0
    workspace.insert("toilets", toilet("之后"), Point(1, 1))
    assert workspace.pending_changes()["toilets"]["insert"] == 1


def test_a_session_on_another_thread_waits_for_the_current_one(tmp_path):
    """One connection, one writer: work handed to a thread never joins the window's open transaction."""
    import threading

    with Workspace.create(tmp_path / "ws.sqlite") as ws:
        entered = threading.Event()
        finished = threading.Event()

        def worker():
            entered.set()
            with ws.session():
                ws.insert("kiosks", {"name": "线程", "district": "锦江区"}, Point(400_100, 3_300_000))
            finished.set()

        with ws.session():
            ws.insert("kiosks", {"name": "窗口", "district": "锦江区"}, Point(400_000, 3_300_000))
            thread = threading.Thread(target=worker)
            thread.start()
            assert entered.wait(5)
            assert not finished.wait(0.3)          # it waits for this transaction to end
        thread.join(10)
        assert finished.is_set()
        names = sorted(f.attributes["name"] for f in ws.features("kiosks"))
        assert names == ["窗口", "线程"]
        assert len(list(ws.changes("kiosks"))) == 2


def test_a_rolled_back_session_does_not_take_work_of_another_thread_with_it(tmp_path):
    import threading

    with Workspace.create(tmp_path / "ws.sqlite") as ws:
        started = threading.Event()

        def worker():
            started.set()
            with ws.session():
                ws.insert("kiosks", {"name": "线程", "district": "锦江区"}, Point(400_100, 3_300_000))

        thread = threading.Thread(target=worker)
        with pytest.raises(RuntimeError), ws.session():
            ws.insert("kiosks", {"name": "撤销", "district": "锦江区"}, Point(400_000, 3_300_000))
            thread.start()
            assert started.wait(5)
            raise RuntimeError("the window's edit fails")
        thread.join(10)
        assert [f.attributes["name"] for f in ws.features("kiosks")] == ["线程"]
