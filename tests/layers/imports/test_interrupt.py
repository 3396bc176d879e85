"""Ctrl+C during a big import, while it checks or while it writes: exit 130, the workspace as it was."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
import shapely

from layers.workspace.store import Workspace

TONGCHENG = [sys.executable, "-m", "layers.cli.main"]
MAPPING = ('source_crs = "EPSG:4326"\nx = "经度"\ny = "纬度"\n[fields]\nname = "名称"\nstatus = "状态"\n'
           'district = "区县"\nseats_male = "男厕位"\n')


def write_csv(path, count):
    rng = np.random.default_rng(11)
    lon, lat = rng.uniform(103.95, 104.2, count), rng.uniform(30.55, 30.75, count)
    with path.open("w", encoding="utf-8") as f:
        f.write("名称,状态,区县,男厕位,经度,纬度\n")
        f.writelines(f"公厕{i},在用,锦江区,{i % 20},{lon[i]:.7f},{lat[i]:.7f}\n" for i in range(count))


def _as_from_a_terminal() -> None:
    """Ctrl+C's default action in the child, as a command typed in a terminal has it (a suite started in the
    background by a script passes SIGINT on as ignored, which the command rightly keeps)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_import(tmp_path, ws_path, *, at=None, delay=0.0):
    """Run the import; with ``at``, send Ctrl+C ``delay`` seconds after its log says ``at`` (checking, writing)."""
    command = [*TONGCHENG, "-v", "import", tmp_path / "t.csv", ws_path, "--layer", "toilets", "--mapping",
               tmp_path / "map.toml"]
    process = subprocess.Popen(list(map(str, command)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONWARNINGS": "error", "PYTHONUNBUFFERED": "1"},
                               preexec_fn=_as_from_a_terminal)
    said = []
    if at is not None:
        for line in process.stderr:
            said.append(line)
            if f"INFO: {at} " in line:
                break
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=600)
    return process.returncode, "".join(said) + stderr


def as_it_was(ws_path):
    """The workspace has no toilets, no tracked change, a sound file and index, and its triggers at work."""
    con = sqlite3.connect(ws_path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    with Workspace.open(ws_path) as ws:
        assert ws.count("toilets") == 0
        assert ws.pending_changes()["toilets"] == {"insert": 0, "update": 0, "delete": 0}
        feature = ws.insert("toilets", {"name": "一", "district": "锦江区"}, shapely.Point(390_000, 3_390_000))
        assert ws.pending_changes()["toilets"]["insert"] == 1
        assert [f.fid for f in ws.features_in_extent("toilets", (389_999, 3_389_999, 390_001, 3_390_001))] == \
            [feature.fid]
        assert ws.connection.execute("SELECT rtreecheck('idx_toilets_geom')").fetchone()[0] == "ok"
        ws.delete("toilets", feature.fid)


@pytest.mark.slow
def test_ctrl_c_while_checking_or_writing_leaves_the_workspace_as_it_was(tmp_path):
    write_csv(tmp_path / "t.csv", 120_000)
    (tmp_path / "map.toml").write_text(MAPPING, encoding="utf-8")
    rng = random.Random(14)
    codes = []
    for at, delay in [("checking", 0.0), ("checking", rng.uniform(0.05, 0.3)), ("writing", 0.0),
                      ("writing", rng.uniform(0.05, 0.3)), ("writing", rng.uniform(0.3, 0.8))]:
        ws_path = tmp_path / f"ws-{at}-{delay:.2f}.sqlite"
        Workspace.create(ws_path, user="张三").close()
        code, stderr = run_import(tmp_path, ws_path, at=at, delay=delay)
        assert "Traceback" not in stderr, stderr
        assert code in (0, 130), (at, delay, code, stderr)
        if code == 130:
            assert "tongcheng: interrupted; nothing was written" in stderr
            as_it_was(ws_path)
        codes.append(code)
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(ws_path.name)) == [ws_path.name]
    assert codes.count(130) >= 4, codes  # the signals landed before the end
    Workspace.create(tmp_path / "whole.sqlite", user="张三").close()
    code, stderr = run_import(tmp_path, tmp_path / "whole.sqlite")
    assert code == 0, stderr
    with Workspace.open(tmp_path / "whole.sqlite") as ws:
        assert ws.count("toilets") == 120_000
