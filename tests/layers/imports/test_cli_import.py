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


def test_import_into_a_master_is_not_yet_supported(tmp_path, gbk_shapefile):
    result = run("import", gbk_shapefile, tmp_path / "master.gpkg", "--layer", "toilets")
    assert result.returncode == 1
    assert "master is not yet supported" in result.stderr and len(result.stderr.splitlines()) == 1


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
