"""tongcheng inspections (list a workspace's or master's inspections as a table, CSV or JSON) and
tongcheng inspections add (record one): Chinese or English words, one line per error, exit not 0."""

import csv
import io
import json
import shutil

from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.workspace.store import Workspace
from tests.layers.media.images import jpeg
from tests.layers.test_cli import run


def _copy(demo_file, tmp_path):
    path = tmp_path / "w.sqlite"
    shutil.copy2(demo_file, path)
    with Workspace.open(path) as ws:
        toilet = next(ws.features("toilets"))
        sign = next(ws.features("signboards"))
    return path, toilet, sign


def test_record_then_list_in_every_format(demo_file, tmp_path):
    path, toilet, sign = _copy(demo_file, tmp_path)
    (tmp_path / "door.jpg").write_bytes(jpeg())
    added = run("inspections", "add", path, "--layer", "toilets", "--uuid", toilet.uuid, "--condition", "破损",
                "--defect", "门窗损坏", "--note", "门锁坏了", "--photo", tmp_path / "door.jpg",
                "--time", "2026-05-01T09:00+08:00")
    assert added.returncode == 0, added.stderr
    assert f"of toilets {toilet.uuid} ({toilet.attributes['name']}): 破损 (Damaged), defect 门窗损坏" in added.stdout
    assert "case opened: 发现" in added.stdout and "1 photo(s) stored" in added.stdout
    assert "status 在用 -> 停用" in added.stdout or toilet.attributes["status"] == "停用"
    english = run("inspections", "add", path, "--layer", "signboards", "--uuid", sign.uuid, "--condition", "missing",
                  "--defect", "Safety hazard", "--time", "2026-05-08T09:00+08:00", "-v")
    assert english.returncode == 0, english.stderr
    assert "丢失 (Missing), defect 安全隐患" in english.stdout and "status" in english.stdout

    table = run("inspections", path)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].startswith("inspected (UTC)") and lines[-1] == "2 inspection(s), 2 open case(s)"
    assert "2026-05-01 01:00" in lines[2] and "门窗损坏" in lines[2] and "发现" in lines[2]

    as_json = json.loads(run("inspections", path, "--format", "json", "--layer", "toilets").stdout)
    assert [(r["facility_uuid"], r["condition"], r["description"], r["photos"]) for r in as_json] == [
        (toilet.uuid, "破损", "门锁坏了", 1)]
    assert as_json[0]["facility"] == toilet.attributes["name"] and as_json[0]["inspected_at"].startswith("2026-05-01")
    rows = list(csv.DictReader(io.StringIO(run("inspections", path, "--format", "csv").stdout)))
    assert {r["facility_layer"] for r in rows} == {"toilets", "signboards"} and rows[0]["case_status"] == "发现"
    older = json.loads(run("inspections", path, "--format", "json", "--status", "open,found",
                           "--older-than", "3d").stdout)
    assert len(older) == 2  # both weeks old by now
    assert json.loads(run("inspections", path, "--format", "json", "--status", "结案").stdout) == []


def test_list_a_master_with_a_record_of_a_deleted_facility(master, tmp_path):
    checkout(master, tmp_path / "w.sqlite")
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        kiosk = next(ws.features("kiosks"))
    recorded = run("inspections", "add", tmp_path / "w.sqlite", "--layer", "kiosks", "--uuid", kiosk.uuid,
                   "--condition", "abandoned")
    assert recorded.returncode == 0, recorded.stderr
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        package = write_changes(ws, tmp_path / "p.gpkg").path
    checkout(master, tmp_path / "office.sqlite", user="office")
    with Workspace.open(tmp_path / "office.sqlite") as office:
        office.delete("kiosks", office.find("kiosks", kiosk.uuid).fid)
        apply_package(master, write_changes(office, tmp_path / "o.gpkg").path)
    applied = run("apply", master, package)
    assert applied.returncode == 2 and "delete/insert" in applied.stderr  # a conflict: the inspection is kept
    listed = run("inspections", master)
    assert listed.returncode == 0, listed.stderr
    assert "(missing)" in listed.stdout and "1 inspection(s), 1 open case(s)" in listed.stdout


def test_bad_input_is_one_line_and_records_nothing(demo_file, tmp_path):
    path, toilet, _ = _copy(demo_file, tmp_path)
    (tmp_path / "notes.jpg").write_text("hello")
    for args, message in [
        (["--layer", "toilets", "--uuid", "nope", "--condition", "破损"], "toilets has no feature with uuid nope"),
        (["--layer", "benches", "--uuid", toilet.uuid, "--condition", "破损"], "no layer 'benches'"),
        (["--layer", "toilets", "--uuid", toilet.uuid, "--condition", "broken"],
         "--condition 'broken' is not one of 完好/intact"),
        (["--layer", "toilets", "--uuid", toilet.uuid, "--condition", "破损", "--defect", "面板破损"],
         "--defect '面板破损' is not one of"),
        (["--layer", "toilets", "--uuid", toilet.uuid, "--condition", "破损", "--photo", tmp_path / "notes.jpg"],
         "not an image .*nothing was recorded"),
        (["--layer", "toilets", "--uuid", toilet.uuid], "--condition required"),
    ]:
        result = run("inspections", "add", path, *args)
        assert result.returncode == 1, (args, result.stdout)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        import re

        assert re.search(message, result.stderr), (message, result.stderr)
    assert "0 inspection(s)" in run("inspections", path).stdout
    for args, message in [([tmp_path / "missing.sqlite"], "missing.sqlite: no such file"),
                          ([path, "--status", "later"], "--status 'later' is not one of"),
                          ([path, "--condition", "破损"], "--condition records an inspection")]:
        result = run("inspections", *args)
        assert result.returncode == 1 and message in result.stderr, result.stderr
    assert run("inspections", path, "--older-than", "soon").returncode == 2  # a usage error, argparse's
