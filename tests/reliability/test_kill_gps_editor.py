"""kill -9 at seeded random moments of ``tongcheng gps import`` and of the editor's save (issue 15, tests).

GPS import: several GPX files in one command; after each kill the workspace
passes ``PRAGMA integrity_check`` and holds, per file, either every row the
complete run stores for it or none; a rerun then imports what is missing (the
files stored before are skipped as duplicates, by hash) and ends in the
complete state. Editor save: the window (offscreen, ``desktop.app.open_window``)
makes attribute changes and adds features, then saves; after each kill the
workspace is sound and every row is the state before the save or every row the
state after it; the workspace opens again and a second save succeeds.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from layers.workspace.store import Workspace
from tests.reliability.helpers import ROOT, env, integrity
from tests.reliability.test_kill import TRIALS, Server

#: Columns that differ between two complete runs (clocks, random uuids) or that name the row's number.
VARYING = {"uuid", "created_at", "modified_at", "changed_at", "applied_at", "last_change"}
GPS_FILES = 3
POINTS = 5_000


def write_gpx(path: Path, seed: int) -> None:
    rng = random.Random(seed)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<gpx version="1.1" creator="kill trial" xmlns="http://www.topografix.com/GPX/1/1">']
    for w in range(5):
        lines.append(f'<wpt lat="{30.65 + rng.uniform(0, 0.01):.7f}" lon="{104.06 + rng.uniform(0, 0.01):.7f}">'
                     f"<name>点{seed}-{w}</name></wpt>")
    lat, lon = 30.60 + seed * 0.01, 104.00
    lines.append(f"<trk><name>轨迹{seed}</name><trkseg>")
    for i in range(POINTS):
        lat += rng.uniform(-2e-5, 4e-5)
        lon += rng.uniform(-2e-5, 4e-5)
        lines.append(f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"><ele>{500 + i % 40}</ele>'
                     f"<time>2024-05-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z</time></trkpt>")
    lines.append("</trkseg></trk></gpx>")
    path.write_text("\n".join(lines), "utf-8")


def rows(path: Path, tables) -> dict[str, list[tuple]]:
    """Every row of *tables* in rowid order, without the columns that vary between complete runs."""
    con = sqlite3.connect(path)  # read-write: a killed write's WAL is recovered here
    try:
        out = {}
        for table in tables:
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")') if r[1] not in VARYING]
            out[table] = con.execute(f'SELECT {", ".join(f"{c!r}" for c in columns)} FROM "{table}" '
                                     "ORDER BY rowid".replace("'", '"')).fetchall()
        return out
    finally:
        con.close()


def by_file(path: Path) -> dict[str, dict[str, list[tuple]]]:
    """The GPS rows of each imported file (by source_hash), without the varying columns."""
    out: dict[str, dict[str, list[tuple]]] = {}
    con = sqlite3.connect(path)
    try:
        for table in ("gps_tracks", "gps_waypoints"):
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")') if r[1] not in VARYING | {"fid"}]
            for row in con.execute(f'SELECT {", ".join(columns)} FROM {table} ORDER BY fid'):
                record = dict(zip(columns, row, strict=True))
                out.setdefault(record["source_hash"], {}).setdefault(table, []).append(row)
        (changes,) = con.execute("SELECT count(*) FROM tongcheng_changes WHERE op = 'insert' "
                                 "AND layer IN ('gps_tracks', 'gps_waypoints')").fetchone()
        stored = sum(len(r) for tables in out.values() for r in tables.values())
        assert changes == stored, "every stored GPS row is a tracked insert, and only those"
        (indexed,) = con.execute("SELECT count(*) FROM idx_gps_tracks_geom").fetchone()
        (tracks,) = con.execute("SELECT count(*) FROM gps_tracks").fetchone()
        assert indexed == tracks, "every track has its spatial index entry"
    finally:
        con.close()
    return out


@pytest.fixture(scope="module")
def gps_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("gps-forkserver"))
    yield s
    s.close()


def test_kill_gps_import(gps_server, tmp_path):
    server = gps_server
    files = [tmp_path / f"track{i}.gpx" for i in range(GPS_FILES)]
    for i, path in enumerate(files):
        write_gpx(path, i)
    empty = tmp_path / "empty.sqlite"
    Workspace.create(empty, user="张三").close()

    took = []
    for attempt in ("warm-up", "reference"):
        reference = tmp_path / f"{attempt}.sqlite"
        shutil.copy2(empty, reference)
        started = time.monotonic()
        assert server.run("gps", "import", reference, *files) == 0, server.stderr
        took.append(time.monotonic() - started)
    complete = by_file(reference)
    assert len(complete) == GPS_FILES and all(len(t["gps_tracks"]) == 1 for t in complete.values())

    rng = random.Random(20240515)
    killed = 0
    for i in range(TRIALS):
        ws = tmp_path / f"trial-{i}.sqlite"
        shutil.copy2(empty, ws)
        status = server.kill_after(rng.uniform(0.0, min(took) * 1.1), "gps", "import", ws, *files)
        killed += status == -signal.SIGKILL
        assert status in (0, -signal.SIGKILL), server.stderr
        assert integrity(ws) == "ok"
        state = by_file(ws)
        for digest, tables in state.items():  # each file: all of it or none
            assert tables == complete[digest], f"trial {i}: a file is stored in part"
        assert server.run("gps", "import", ws, *files) == 0, server.stderr
        assert integrity(ws) == "ok"
        assert by_file(ws) == complete, f"trial {i}: the rerun did not complete the import"
        with Workspace.open(ws) as opened:
            assert opened.count("gps_tracks") == GPS_FILES
    assert killed >= TRIALS // 4, f"only {killed} of {TRIALS} trials killed mid-run"


class EditorServer:
    """``editor_server.py``: forks a child per save of the editor window."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process = subprocess.Popen([sys.executable, "-m", "tests.reliability.editor_server"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        env=env(QT_QPA_PLATFORM="offscreen"), cwd=ROOT)

    def start(self, workspace: Path, mode: str, seed: int = 0) -> tuple[int, Path]:
        out = self.folder / "out"
        out.unlink(missing_ok=True)
        request = {"workspace": str(workspace), "out": str(out), "mode": mode, "seed": seed}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())["pid"], out

    def status(self) -> int:
        return json.loads(self.process.stdout.readline())["status"]

    def run(self, workspace: Path, mode: str, seed: int = 0) -> tuple[int, str]:
        _, out = self.start(workspace, mode, seed)
        status = self.status()
        return status, out.read_text() if out.exists() else ""

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.fixture(scope="module")
def editor_server(tmp_path_factory):
    s = EditorServer(tmp_path_factory.mktemp("editor-server"))
    yield s
    s.close()


EDITED = ("toilets", "signboards", "kiosks", "tongcheng_changes", "tongcheng_base_toilets",
          "tongcheng_base_signboards", "tongcheng_base_kiosks", "idx_toilets_geom")


def test_kill_editor_save(editor_server, small_files, tmp_path):
    server = editor_server
    source = tmp_path / "source.sqlite"
    shutil.copy2(small_files["workspace"], source)
    before = rows(source, EDITED)

    took = []
    for attempt in ("warm-up", "reference"):
        reference = tmp_path / f"{attempt}.sqlite"
        shutil.copy2(source, reference)
        status, out = server.run(reference, "edit", seed=7)
        assert status == 0 and out.splitlines()[-1].startswith("saved"), out
        took.append(float(out.split()[-1]))
    after = rows(reference, EDITED)
    assert after != before

    rng = random.Random(20240516)
    killed_saving = 0
    for i in range(TRIALS):
        ws = tmp_path / f"trial-{i}.sqlite"
        shutil.copy2(source, ws)
        pid, out = server.start(ws, "edit", seed=7)
        deadline = time.monotonic() + 60
        while not (out.exists() and out.read_text().startswith("saving")):  # the edits are made: now it saves
            assert time.monotonic() < deadline, "the editor child never reached its save"
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, min(took) * 1.2))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        status = server.status()
        assert status in (0, -signal.SIGKILL), out.read_text()
        killed_saving += status == -signal.SIGKILL and "saved" not in out.read_text()
        assert integrity(ws) == "ok"
        state = rows(ws, EDITED)
        assert state in (before, after), f"trial {i}: the save is stored in part"
        again, text = server.run(ws, "again")
        assert again == 0 and "saved" in text, f"trial {i}: a second save failed: {text}"
        assert integrity(ws) == "ok"
        with Workspace.open(ws) as opened:
            assert opened.connection.execute("SELECT count(*) FROM kiosks WHERE name = '再存一次'").fetchone() == (1,)
    assert killed_saving >= TRIALS // 4, f"only {killed_saving} of {TRIALS} trials killed mid-save"
