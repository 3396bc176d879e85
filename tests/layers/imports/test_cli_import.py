"""tongcheng import: dry run, report, --skip-invalid, --suggest-mapping, --source-crs, exit codes."""

import json
import os
import subprocess
import sys
import tomllib

from layers.workspace.store import Workspace

TONGCHENG = [sys.executable, "-m", "layers.cli.main"]


def run(*args, cwd=None):
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run([*TONGCHENG, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env)


def make_workspace(tmp_path):
    path = tmp_path / "district.sqlite"
    Workspace.create(path, user="张三").close()
    return path


def count(path):
    with Workspace.open(path) as ws:
        return ws.count("toilets")


def test_dry_run_reports_and_writes_nothing_then_skip_invalid_imports_the_rest(tmp_path, mixed_geojson):
    ws = make_workspace(tmp_path)
    report = tmp_path / "report.json"
    dry = run("import", mixed_geojson, ws, "--layer", "toilets", "--dry-run", "--report", report)
    assert dry.returncode == 1, dry.stderr
    assert "6 rows, 2 pass" in dry.stdout and "row 3: seats_male" in dry.stdout
    assert "nothing was written" in dry.stderr
    assert json.loads(report.read_text(encoding="utf-8"))["invalid"] == 4
    assert count(ws) == 0

    whole = run("import", mixed_geojson, ws, "--layer", "toilets")
    assert whole.returncode == 1 and count(ws) == 0

    skip = run("import", mixed_geojson, ws, "--layer", "toilets", "--skip-invalid", "--report", tmp_path / "r.csv")
    assert skip.returncode == 3, skip.stderr
    assert "2 new, 0 updated" in skip.stdout and "4 rows left out" in skip.stdout
    assert count(ws) == 2
    assert (tmp_path / "r.csv").read_text(encoding="utf-8-sig").startswith("row,field,column,value,message")


def test_suggest_mapping_then_import_the_gcj02_workbook(tmp_path, gcj_workbook):
    ws = make_workspace(tmp_path)
    mapping = tmp_path / "map.toml"
    suggested = run("import", "--suggest-mapping", gcj_workbook, "--layer", "toilets", "--mapping", mapping)
    assert suggested.returncode == 0, suggested.stderr
    data = tomllib.loads(mapping.read_text(encoding="utf-8"))
    assert data["fields"]["name"] == "名称" and (data["x"], data["y"]) == ("经度", "纬度")
    again = run("import", "--suggest-mapping", gcj_workbook, "--layer", "toilets", "--mapping", mapping)
    assert again.returncode == 1 and "exists" in again.stderr

    # The user maps the status values the suggestion listed, and says the coordinates are GCJ-02.
    text = mapping.read_text(encoding="utf-8")
    assert '# "正常" = ""' in text and '# "暂停" = ""' in text
    text = text.replace('# "正常" = ""', '"正常" = "在用"').replace('# "暂停" = ""', '"暂停" = "停用"')
    mapping.write_text(text, encoding="utf-8")
    result = run("import", gcj_workbook, ws, "--layer", "toilets", "--mapping", mapping, "--source-crs", "gcj02")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 new" in result.stdout
    assert count(ws) == 3


def test_suggest_mapping_prints_to_standard_output(gbk_shapefile):
    result = run("import", "--suggest-mapping", gbk_shapefile, "--layer", "toilets")
    assert result.returncode == 0, result.stderr
    assert tomllib.loads(result.stdout)["fields"]["name"] == "名称"


def _ledger(master):
    import sqlite3

    con = sqlite3.connect(master)
    try:
        version = con.execute("SELECT value FROM tongcheng_master WHERE key = 'version'").fetchone()[0]
        rows = con.execute("SELECT package_uuid, workspace_id, editor, base_version, version, policy, inserts, "
                           "updates, file FROM tongcheng_ledger ORDER BY version").fetchall()
    finally:
        con.close()
    return int(version), rows


def test_import_into_a_master_is_a_recorded_master_change(tmp_path, gbk_shapefile):
    from layers.geopackage import open_geopackage
    from layers.sync.checkout import checkout
    from layers.sync.master import create_master
    from layers.sync.update import update_workspace
    from tests.layers.test_gpkg import assert_valid

    master = tmp_path / "master.gpkg"
    create_master(master, user="office", demo=True, counts={"toilets": 2, "signboards": 2, "kiosks": 1})
    before = tmp_path / "before.sqlite"
    checkout(master, before, user="张三")  # a laptop that checked out before the import
    mapping = tmp_path / "map.toml"
    mapping.write_text('layer = "toilets"\nkey = "name"\n[fields]\nname = "名称"\nstatus = "状态"\n'
                       'district = "区县"\nseats_male = "男厕位"\n[values.status]\n"正常" = "在用"\n',
                       encoding="utf-8")
    untouched = master.read_bytes()
    dry = run("import", gbk_shapefile, master, "--layer", "toilets", "--mapping", mapping, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "3 pass (3 new" in dry.stdout and master.read_bytes() == untouched

    imported = run("import", gbk_shapefile, master, "--layer", "toilets", "--mapping", mapping)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "3 new, 0 updated" in imported.stdout and "version 1 -> 2" in imported.stdout
    version, ledger = _ledger(master)
    assert version == 2
    (row,) = ledger
    assert row[1:] == (None, row[2], 1, 2, "import", 3, 0, "公厕.shp") and row[2]
    with open_geopackage(master) as gp:
        toilets = {r["name"]: r for r in gp.rows("toilets")}
    assert len(toilets) == 5
    chunxi = toilets["春熙路公厕"]
    assert chunxi["status"] == "在用" and chunxi["structure"] == "独立式"  # the definition's default filled in
    assert chunxi["created_by"] == row[2] and chunxi["created_at"] and chunxi["modified_at"]
    assert len({r["uuid"] for r in toilets.values()}) == 5
    assert_valid(master)

    # The laptop receives the imported features with its next update; a fresh checkout has them.
    with Workspace.open(before) as ws:
        update_workspace(ws, master)
        assert ws.count("toilets") == 5 and ws.find("toilets", chunxi["uuid"]).attributes["status"] == "在用"
    checkout(master, tmp_path / "after.sqlite", user="李四")
    assert count(tmp_path / "after.sqlite") == 5

    # The same file again, with a value changed: matched by key, updated in place, a new version.
    mapping.write_text(mapping.read_text(encoding="utf-8").replace('"正常" = "在用"', '"正常" = "停用"'),
                       encoding="utf-8")
    again = run("import", gbk_shapefile, master, "--layer", "toilets", "--mapping", mapping)
    assert again.returncode == 0, again.stderr
    assert "0 new, 2 updated, 1 unchanged" in again.stdout and "version 2 -> 3" in again.stdout
    with open_geopackage(master) as gp:
        updated = {r["name"]: r for r in gp.rows("toilets")}
    assert updated["春熙路公厕"]["status"] == "停用" and updated["春熙路公厕"]["uuid"] == chunxi["uuid"]
    assert updated["春熙路公厕"]["created_at"] == chunxi["created_at"]
    same = run("import", gbk_shapefile, master, "--layer", "toilets", "--mapping", mapping)
    assert same.returncode == 0 and "nothing changed (version 3)" in same.stdout
    assert _ledger(master)[0] == 3 and len(_ledger(master)[1]) == 2
    assert_valid(master)


def test_a_master_import_with_broken_rows_writes_nothing(tmp_path, mixed_geojson):
    from layers.sync.master import create_master

    master = tmp_path / "master.gpkg"
    create_master(master, user="office")
    untouched = master.read_bytes()
    whole = run("import", mixed_geojson, master, "--layer", "toilets")
    assert whole.returncode == 1 and "nothing was written" in whole.stderr
    assert master.read_bytes() == untouched and _ledger(master) == (1, [])
    skip = run("import", mixed_geojson, master, "--layer", "toilets", "--skip-invalid")
    assert skip.returncode == 3, skip.stderr
    assert "2 new" in skip.stdout and _ledger(master)[0] == 2
    wrong = run("import", mixed_geojson, master, "--layer", "gps_tracks")
    assert wrong.returncode == 1 and "no layer 'gps_tracks' to import into" in wrong.stderr
    not_master = run("import", mixed_geojson, tmp_path / "nothing.gpkg", "--layer", "toilets")
    assert not_master.returncode == 1 and len(not_master.stderr.splitlines()) == 1


def test_errors_are_one_line(tmp_path, gbk_shapefile):
    ws = make_workspace(tmp_path)
    for args, message in [
        ((gbk_shapefile, ws, "--layer", "nope"), "no layer 'nope'"),
        ((tmp_path / "missing.shp", ws, "--layer", "toilets"), "no such file"),
        ((gbk_shapefile, ws, "--layer", "toilets", "--source-crs", "EPSG:0"), "unknown CRS"),
        ((gbk_shapefile, "--layer", "toilets"), "TARGET"),
    ]:
        result = run("import", *args)
        assert result.returncode == 1, args
        assert message in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
