"""The tongcheng command: init, demo, info, layers; one-line errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from layers.demo import demo_features
from layers.workspace.store import Workspace

TONGCHENG = [sys.executable, "-m", "layers.cli.main"]


def run(*args, cwd=None):
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run([*TONGCHENG, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env)


def test_init_then_info_shows_layers_and_no_changes(tmp_path):
    path = tmp_path / "district.sqlite"
    result = run("init", path, "--user", "王五")
    assert result.returncode == 0, result.stderr
    assert "EPSG:4544" in result.stdout and "王五" in result.stdout
    info = run("info", path)
    assert info.returncode == 0
    lines = info.stdout.splitlines()
    rows = {line.split()[0]: line.split() for line in lines if line.startswith(("toilets", "kiosks"))}
    assert rows["toilets"][-4:] == ["0", "0", "0", "0"]


def test_info_counts_pending_changes_made_by_raw_sql(tmp_path):
    path = tmp_path / "district.sqlite"
    with Workspace.create(path) as ws:
        ws.connection.execute(
            "INSERT INTO kiosks (name, district, geom) VALUES ('亭', '锦江区', MakePoint(1, 1, 4544))"
        )
    info = run("info", path)
    kiosks = next(line.split() for line in info.stdout.splitlines() if line.startswith("kiosks"))
    assert kiosks[-4:] == ["1", "1", "0", "0"]


def test_demo_creates_the_demo_district(tmp_path):
    path = tmp_path / "demo.sqlite"
    result = run("demo", path)
    assert result.returncode == 0, result.stderr
    with Workspace.open(path) as ws:
        assert (ws.count("toilets"), ws.count("signboards"), ws.count("kiosks")) == (1900, 20000, 600)
        statuses = {row[0] for row in ws.connection.execute("SELECT DISTINCT status FROM toilets")}
        zones = {row[0] for row in ws.connection.execute("SELECT DISTINCT zone FROM signboards")}
        approvals = {row[0] for row in ws.connection.execute("SELECT DISTINCT approval FROM signboards")}
        assert statuses == {"在用", "停用", "在建", "拆除"} and zones == {"严管区", "管控区", "规范区"}
        assert approvals == {"已审批", "未审批", "违规"}
        minx, miny, maxx, maxy = ws.full_extent()
        assert 395_000 < minx < maxx < 425_000 and 3_380_000 < miny < maxy < 3_405_000  # central Chengdu
        assert all(ws.pending_changes()[layer]["insert"] == 0 for layer in ws.definitions)


def test_demo_is_deterministic():
    a = demo_features(counts={"toilets": 50, "signboards": 50, "kiosks": 50})
    b = demo_features(counts={"toilets": 50, "signboards": 50, "kiosks": 50})
    for layer in a:
        assert [(attrs, p.wkb) for attrs, p in a[layer]] == [(attrs, p.wkb) for attrs, p in b[layer]]
    c = demo_features(seed=1, counts={"toilets": 50})
    assert [p.wkb for _, p in c["toilets"]] != [p.wkb for _, p in a["toilets"]]


def test_layers_lists_definitions_with_fields():
    result = run("layers", "--fields")
    assert result.returncode == 0
    assert "toilets" in result.stdout and "公厕 / Public toilets" in result.stdout
    assert "area_m2" in result.stdout and "derived: width_m * height_m" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["info", "{tmp}/missing.sqlite"], "missing.sqlite: no such workspace file"),
        (["info", "{tmp}/notes.txt"], "notes.txt: not a Tongcheng workspace"),
        (["init", "{tmp}/notes.txt"], "notes.txt: already exists"),
        (["init", "{tmp}/new.sqlite", "--crs", "EPSG:0"], "unknown CRS 'EPSG:0'"),
    ],
)
def test_user_errors_print_one_line_and_exit_non_zero(tmp_path, args, message):
    (tmp_path / "notes.txt").write_text("hello", "utf-8")
    result = run(*[a.format(tmp=tmp_path) for a in args])
    assert result.returncode == 1
    assert result.stderr.startswith("tongcheng: error: ") and message in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "new.sqlite").exists()


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("tongcheng")
    result = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("tongcheng ")


def test_log_file_holds_the_traceback_of_an_error_the_terminal_shows_in_one_line(tmp_path):
    log = tmp_path / "logs" / "run.log"
    result = run("info", tmp_path / "missing.sqlite", "--log-file", log)
    assert result.returncode == 1
    missing = tmp_path / "missing.sqlite"
    assert result.stderr.strip().splitlines() == [f"tongcheng: error: {missing}: no such workspace file"]
    text = log.read_text("utf-8")
    assert "Traceback" in text and "WorkspaceError" in text and "info" in text


def test_verbose_before_or_after_the_command_shows_the_debug_log(tmp_path):
    for args in (("-vv", "layers"), ("layers", "-vv")):
        result = run(*args)
        assert result.returncode == 0, result.stderr
        assert "tongcheng: DEBUG: tongcheng " in result.stderr
    quiet = run("layers")
    assert "DEBUG" not in quiet.stderr
