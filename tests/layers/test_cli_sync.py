"""The sync commands end to end: init/demo of a master, checkout, changes, apply, update, merge, export."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import fiona
import pytest

from layers.geopackage import open_geopackage
from layers.sync.master import read_master
from tests.conftest import TESTDATA as DATA_ROOT
from tests.layers.test_gpkg import assert_valid

ROOT = Path(__file__).resolve().parents[2]

TESTDATA = DATA_ROOT / "gpkg"
TONGCHENG = [sys.executable, "-m", "layers.cli.main"]
COUNTS = {"toilets": 30, "signboards": 40, "kiosks": 10}


def run(*args, cwd=None):
    env = {**os.environ, "PYTHONWARNINGS": "error", "PYTHONPATH": str(ROOT)}
    return subprocess.run([*TONGCHENG, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env)


def sql(path, statement, *parameters):
    con = sqlite3.connect(path)
    try:
        rows = con.execute(statement, parameters).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def first_uuid(master, offset=0):
    with open_geopackage(master) as gp:
        return gp.keys("toilets", "uuid")[offset]


def test_init_and_demo_make_masters_for_gpkg_paths(tmp_path):
    result = run("init", tmp_path / "empty.gpkg", "--user", "office")
    assert result.returncode == 0, result.stderr
    assert "version     1" in result.stdout
    assert_valid(tmp_path / "empty.gpkg")
    assert read_master(tmp_path / "empty.gpkg").version == 1
    again = run("init", tmp_path / "empty.gpkg")
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "already exists" in again.stderr


def test_checkout_changes_apply_update_round(master, tmp_path):
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    assert run("checkout", master, a, "--user", "张三").returncode == 0
    out = run("checkout", master, b, "--user", "李四", "--layers", "toilets")
    assert out.returncode == 0 and "toilets" in out.stdout and "kiosks" not in out.stdout
    uuid = first_uuid(master)
    # edits by another tool (raw SQL) are tracked too
    sql(a, "UPDATE toilets SET name = '甲改' WHERE uuid = ?", uuid)
    sql(b, "UPDATE toilets SET name = '乙改' WHERE uuid = ?", uuid)
    sql(b, "UPDATE toilets SET status = '停用' WHERE uuid = ?", first_uuid(master, 1))

    out = run("changes", a, tmp_path / "pa.gpkg")
    assert out.returncode == 0 and "wrote change package" in out.stdout, out.stderr
    assert run("changes", a, tmp_path / "none.gpkg").stdout.endswith("no package written\n")
    assert run("changes", b, tmp_path / "pb.gpkg").returncode == 0
    assert_valid(tmp_path / "pa.gpkg")

    dry = run("apply", master, tmp_path / "pa.gpkg", "--dry-run")
    assert dry.returncode == 0 and "dry run" in dry.stdout
    assert "toilets                   0        1        0          0" in dry.stdout
    clean = run("apply", master, tmp_path / "pa.gpkg")
    assert clean.returncode == 0 and "version 1 -> 2" in clean.stdout
    again = run("apply", master, tmp_path / "pa.gpkg")
    assert again.returncode == 0 and "already applied" in again.stdout

    report = tmp_path / "conflicts.json"
    conflicted = run("apply", master, tmp_path / "pb.gpkg", "--policy", "manual", "--report", report)
    assert conflicted.returncode == 2, conflicted.stderr
    assert "conflict  toilets" in conflicted.stderr and "unresolved" in conflicted.stderr
    data = json.loads(report.read_text("utf-8"))
    (c,) = data["conflicts"]
    assert (c["uuid"], c["field"], c["office_value"], c["field_value"], c["resolution"]) == (
        uuid, "name", "甲改", "乙改", "unresolved")
    assert (c["office_editor"], c["field_editor"]) == ("张三", "李四")
    assert data["layers"]["toilets"] == {"inserts": 0, "updates": 1, "deletes": 0, "conflicts": 1}
    assert_valid(master)

    updated = run("update", a, master)
    assert updated.returncode == 0, updated.stderr
    assert "master version 3" in updated.stdout
    assert sql(a, "SELECT status FROM toilets WHERE uuid = ?", first_uuid(master, 1)) == [("停用",)]


def test_bad_input_is_one_line_and_exit_1(master, tmp_path):
    text = tmp_path / "package.gpkg"
    text.write_text("no", "utf-8")
    before = master.read_bytes()
    for args, message in [
        (("apply", master, text), "not a GeoPackage"),
        (("apply", master, master), "this is a master, not a change package"),
        (("apply", master, tmp_path / "missing.gpkg"), "no such file"),
        (("checkout", text, tmp_path / "w.sqlite"), "not a GeoPackage"),
        (("checkout", master, tmp_path / "w.sqlite", "--layers", "benches"), "no layer 'benches'"),
        (("update", tmp_path / "missing.sqlite", master), "no such workspace"),
        (("export", master, tmp_path / "x.gpkg", "--where", "colour = 'red'"), "unknown field 'colour'"),
    ]:
        result = run(*args)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.startswith("tongcheng: error: ") and result.stderr.count("\n") == 1, result.stderr
        assert message in result.stderr
    assert master.read_bytes() == before
    assert not (tmp_path / "w.sqlite").exists()


def test_update_refuses_a_workspace_that_was_not_checked_out(master, tmp_path):
    assert run("init", tmp_path / "plain.sqlite").returncode == 0
    result = run("update", tmp_path / "plain.sqlite", master)
    assert result.returncode == 1 and "not checked out from a master" in result.stderr


@pytest.mark.parametrize("fmt, name", [("GPKG", "out.gpkg"), ("GeoJSON", "out"), ("CSV", "out"),
                                       ("FlatGeobuf", "out"), ("ESRI Shapefile", "out")])
def test_export_command(master, tmp_path, fmt, name):
    result = run("export", master, tmp_path / name, "--format", fmt, "--layers", "toilets,kiosks",
                 "--where", "status = '在用'", "--crs", "EPSG:4490")
    assert result.returncode == 0, result.stderr
    assert "in EPSG:4490" in result.stdout
    with open_geopackage(master) as gp:
        expected = sum(1 for r in gp.rows("toilets") if r["status"] == "在用")
    if fmt == "GPKG":
        features = assert_valid(tmp_path / name)
        assert len(features["toilets"]) == expected
    else:
        files = sorted((tmp_path / name).iterdir())
        main = next(p for p in files
                    if p.name.startswith("toilets") and p.suffix in (".geojson", ".csv", ".fgb", ".shp"))
        options = {"X_POSSIBLE_NAMES": "X", "Y_POSSIBLE_NAMES": "Y"} if fmt == "CSV" else {}
        with fiona.open(main, **options) as src:
            assert len(src) == expected
            assert all(f["properties"]["status"] == "在用" for f in src)


# -- merge on GeoDiff's shared scenarios ----------------------------------------------------

SCENARIOS = {
    "2_deletes": ("deleted_A.gpkg", "deleted_B.gpkg", "merged_A_B.gpkg", []),
    "2_inserts": ("inserted_1_A.gpkg", "inserted_1_B.gpkg", "merged_1_A_1_B.gpkg", []),
    "2_updates": ("updated_A.gpkg", "updated_B.gpkg", "merged_1_A_1_B.gpkg", [("simple", "fid", 2, "geometry")]),
    "2_updates_2": ("updated_A.gpkg", "updated_B.gpkg", "merged_A_B.gpkg", []),
}


def rows_by_content(path):
    import shapely

    with open_geopackage(path) as gp:
        return [(r["fid"], r["name"], r["rating"], shapely.to_wkb(r["geometry"], flavor="iso", byte_order=1))
                for r in gp.rows("simple")]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_merge_command_on_the_shared_scenarios(tmp_path, scenario):
    data = tmp_path / "data"
    shutil.copytree(TESTDATA, data)
    for p in data.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    theirs, ours, merged, conflicts = SCENARIOS[scenario]
    folder = data / scenario
    out, report = tmp_path / "merged.gpkg", tmp_path / "report.json"
    result = run("merge", data / "base.gpkg", folder / theirs, folder / ours, out, "--policy", "ours",
                 "--report", report)
    assert result.returncode == (2 if conflicts else 0), result.stderr
    assert_valid(out)
    got, want = rows_by_content(out), rows_by_content(folder / merged)
    base_fids = {r[0] for r in rows_by_content(data / "base.gpkg")}
    assert {r[0]: r[1:] for r in got if r[0] in base_fids} == {r[0]: r[1:] for r in want if r[0] in base_fids}
    assert sorted(r[1:] for r in got) == sorted(r[1:] for r in want)  # inserts by content, not fid
    written = json.loads(report.read_text("utf-8"))
    assert [(c["layer"], c["key_field"], c["key"], c["field"]) for c in written["conflicts"]] == conflicts


def test_apply_dry_run_report_edited_then_applied_with_resolutions(master, tmp_path):
    import hashlib


    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    for ws, user in ((a, "张三"), (b, "李四")):
        assert run("checkout", master, ws, "--user", user).returncode == 0
    u = [first_uuid(master, i) for i in range(3)]
    sql(a, "UPDATE toilets SET name = '甲改' WHERE uuid = ?", u[0])
    sql(b, "UPDATE toilets SET name = '乙改' WHERE uuid = ?", u[0])
    sql(a, "UPDATE toilets SET status = '停用' WHERE uuid = ?", u[1])
    sql(b, "UPDATE toilets SET status = '在建' WHERE uuid = ?", u[1])
    sql(a, "UPDATE toilets SET opening_hours = '6:00-22:00' WHERE uuid = ?", u[2])
    sql(b, "UPDATE toilets SET opening_hours = '全天' WHERE uuid = ?", u[2])
    assert run("changes", a, tmp_path / "pa.gpkg").returncode == 0
    assert run("changes", b, tmp_path / "pb.gpkg").returncode == 0
    assert run("apply", master, tmp_path / "pa.gpkg").returncode == 0

    report = tmp_path / "r.json"
    dry = run("apply", master, tmp_path / "pb.gpkg", "--dry-run", "--report", report)
    assert dry.returncode == 2, dry.stderr
    data = json.loads(report.read_text("utf-8"))
    assert [c["choice"] for c in data["conflicts"]] == ["office"] * 3
    by_uuid = {c["uuid"]: c for c in data["conflicts"]}
    by_uuid[u[0]]["choice"] = "office"
    by_uuid[u[1]]["choice"] = "field"
    by_uuid[u[2]]["choice"] = {"value": "8:00-18:00"}
    (tmp_path / "choices.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")

    def digest():
        return hashlib.sha256(master.read_bytes()).hexdigest()

    # edited wrong: an unknown uuid, or an unknown choice -> refused, the master unchanged
    before = digest()
    wrong = json.loads(json.dumps(data))
    wrong["conflicts"][0]["uuid"] = "not-a-feature"
    (tmp_path / "wrong.json").write_text(json.dumps(wrong), "utf-8")
    out = run("apply", master, tmp_path / "pb.gpkg", "--resolutions", tmp_path / "wrong.json")
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "wrong.json" in out.stderr and "no choice for the conflict" in out.stderr
    bad = json.loads(json.dumps(data))
    bad["conflicts"][2]["choice"] = "theirs"
    (tmp_path / "bad.json").write_text(json.dumps(bad), "utf-8")
    out = run("apply", master, tmp_path / "pb.gpkg", "--resolutions", tmp_path / "bad.json")
    assert out.returncode == 1 and "bad.json: conflict 3" in out.stderr and "unknown choice 'theirs'" in out.stderr
    assert digest() == before

    out = run("apply", master, tmp_path / "pb.gpkg", "--resolutions", tmp_path / "choices.json",
              "--report", tmp_path / "after.json")
    assert out.returncode == 2, out.stderr
    assert_valid(master)
    with fiona.open(master, layer="toilets") as src:
        rows = {f["properties"]["uuid"]: f["properties"] for f in src}
    assert rows[u[0]]["name"] == "甲改"
    assert rows[u[1]]["status"] == "在建"
    assert rows[u[2]]["opening_hours"] == "8:00-18:00"
    after = {c["uuid"]: c for c in json.loads((tmp_path / "after.json").read_text("utf-8"))["conflicts"]}
    assert after[u[1]]["resolution"] == "field" and after[u[1]]["office_value"] == "停用"
    assert after[u[2]]["kept"] == "8:00-18:00" and after[u[2]]["field_value"] == "全天"
    assert f"{u[2]} opening_hours (update/update)" in out.stderr
    assert "-> value 8:00-18:00 (chosen)" in out.stderr


def test_stale_resolutions_are_refused_and_the_master_is_unchanged(master, tmp_path):
    import hashlib

    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    for ws in (a, b):
        assert run("checkout", master, ws).returncode == 0
    uuid = first_uuid(master)
    sql(a, "UPDATE toilets SET name = '甲改' WHERE uuid = ?", uuid)
    sql(b, "UPDATE toilets SET name = '乙改' WHERE uuid = ?", uuid)
    assert run("changes", a, tmp_path / "pa.gpkg").returncode == 0
    assert run("changes", b, tmp_path / "pb.gpkg").returncode == 0
    assert run("apply", master, tmp_path / "pb.gpkg", "--dry-run", "--report", tmp_path / "r.json").returncode == 0
    assert run("apply", master, tmp_path / "pa.gpkg").returncode == 0   # the master changed since the dry run
    before = hashlib.sha256(master.read_bytes()).hexdigest()
    out = run("apply", master, tmp_path / "pb.gpkg", "--resolutions", tmp_path / "r.json")
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "r.json" in out.stderr
    assert "no choice for the conflict" in out.stderr
    assert hashlib.sha256(master.read_bytes()).hexdigest() == before


def test_update_with_resolutions_from_the_command_line(master, tmp_path):
    a, c = tmp_path / "a.sqlite", tmp_path / "c.sqlite"
    for ws in (a, c):
        assert run("checkout", master, ws).returncode == 0
    uuid = first_uuid(master)
    sql(a, "UPDATE toilets SET name = '甲改' WHERE uuid = ?", uuid)
    assert run("changes", a, tmp_path / "pa.gpkg").returncode == 0
    assert run("apply", master, tmp_path / "pa.gpkg").returncode == 0
    sql(c, "UPDATE toilets SET name = '丙改' WHERE uuid = ?", uuid)
    report = tmp_path / "r.json"
    assert run("update", c, master, "--dry-run", "--report", report).returncode == 2
    data = json.loads(report.read_text("utf-8"))
    data["conflicts"][0]["choice"] = "field"
    report.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    out = run("update", c, master, "--resolutions", report)
    assert out.returncode == 2, out.stderr
    assert sql(c, "PRAGMA integrity_check") == [("ok",)]
    assert sql(c, "SELECT name FROM toilets WHERE uuid = ?", uuid) == [("丙改",)]
    assert sql(c, "SELECT op FROM tongcheng_changes WHERE uuid = ?", uuid) == [("update",)]


def test_apply_of_several_packages_is_one_transaction_in_the_order_they_were_sent(master, tmp_path):
    """``tongcheng apply MASTER P2 P1 Q``: each workspace's packages in the order it sent them (P1 before P2
    whatever the command line says), all or none; a dry run checks each after the ones before; reports in a
    folder; --resolutions is for one package."""
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    assert run("checkout", master, a, "--user", "张三").returncode == 0
    assert run("checkout", master, b, "--user", "李四").returncode == 0
    uuid, other = first_uuid(master), first_uuid(master, 1)
    sql(a, "UPDATE toilets SET name = '甲一' WHERE uuid = ?", uuid)
    assert run("changes", a, tmp_path / "p1.gpkg").returncode == 0
    sql(a, "UPDATE toilets SET name = '甲二' WHERE uuid = ?", uuid)
    assert run("changes", a, tmp_path / "p2.gpkg").returncode == 0
    sql(b, "UPDATE toilets SET status = '停用' WHERE uuid = ?", other)
    assert run("changes", b, tmp_path / "q.gpkg").returncode == 0
    before = master.read_bytes()
    packages = [tmp_path / "p2.gpkg", tmp_path / "p1.gpkg", tmp_path / "q.gpkg"]

    refused = run("apply", master, *packages, "--resolutions", tmp_path / "r.json")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "one package" in refused.stderr
    dry = run("apply", master, *packages, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run of 3 packages" in dry.stdout and master.read_bytes() == before
    assert dry.stdout.index("p1.gpkg") < dry.stdout.index("p2.gpkg")  # the order sent, not the order given

    reports = tmp_path / "reports"
    reports.mkdir()
    done = run("apply", master, *packages, "--report", reports)
    assert done.returncode == 0, done.stderr
    assert "applied 3 packages" in done.stdout and "version 1 -> 4" in done.stdout
    assert len(list(reports.glob("*.json"))) == 3
    assert sql(master, "SELECT name FROM toilets WHERE uuid = ?", uuid) == [("甲二",)]  # p2 last
    assert sql(master, "SELECT status FROM toilets WHERE uuid = ?", other) == [("停用",)]
    assert_valid(master)
