"""Concurrent applies to a PostGIS master: nothing lost, each package once; a killed or cut-off apply leaves nothing."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from shapely import Point

from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.copy import copy_master
from layers.workspace.store import Workspace
from tests.factories import make_master
from tests.postgis.test_master import edit, rows_of

ROOT = Path(__file__).resolve().parents[2]
COUNTS = {"toilets": 40, "signboards": 10, "kiosks": 5}
#: What workspace i changes on the shared features: one field each, so every edit can merge.
FIELDS = [("name", lambda i: f"名{i}"), ("status", lambda i: "停用"), ("seats_male", lambda i: 10 + i),
          ("opening_hours", lambda i: f"{i}:00-22:00"), ("managing_unit", lambda i: f"单位{i}"),
          ("seats_female", lambda i: 20 + i)]


@pytest.fixture
def office(pg_url, tmp_path):
    """A GeoPackage master, its PostGIS copy, and six change packages from six checkouts of the PostGIS one.

    Each workspace i changes its own field on the shared features u[0..9], and inserts a toilet;
    workspaces 0 and 1 both rename u[10] (a conflict).
    """
    gpkg = tmp_path / "master.gpkg"
    make_master(gpkg, COUNTS)
    copy_master(gpkg, pg_url)
    u = list(rows_of(pg_url))
    packages = []
    for i, (name, value) in enumerate(FIELDS):
        path = tmp_path / f"w{i}.sqlite"
        checkout(pg_url, path, user=f"clerk{i}")
        with Workspace.open(path) as ws:
            for k in u[:10]:
                edit(ws, k, **{name: value(i)})
            if i < 2:
                edit(ws, u[10], name=f"冲突{i}")
            ws.insert("toilets", {"name": f"新建{i}", "district": "锦江区"}, Point(400000 + i, 3390000))
            packages.append(write_changes(ws, tmp_path / f"p{i}.gpkg").path)
    return gpkg, pg_url, u, packages


def test_eight_processes_apply_at_once_and_lose_nothing(office, tmp_path):
    gpkg, url, u, packages = office
    jobs = packages + packages[:2]  # the first two packages twice, from two processes each
    procs = [subprocess.Popen([sys.executable, "-m", "layers.cli.main", "apply", url, str(p), "--report",
                               str(tmp_path / f"r{j}.json")], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for j, p in enumerate(jobs)]
    outcomes = [(p.communicate(timeout=300)[1], p.returncode) for p in procs]
    outcomes = [(code, err) for err, code in outcomes]
    assert all(code in (0, 2) for code, _ in outcomes), outcomes
    with psycopg.connect(url) as con:
        ledger = con.execute("SELECT package_uuid, version FROM tongcheng_ledger ORDER BY version").fetchall()
        assert len(ledger) == 6 and len({p for p, _ in ledger}) == 6
        assert [v for _, v in ledger] == list(range(2, 8))
        assert con.execute("SELECT value FROM tongcheng_master WHERE key = 'version'").fetchone()[0] == "7"
    reports = [json.loads((tmp_path / f"r{j}.json").read_text("utf-8")) for j in range(len(jobs))]
    assert sum(1 for r in reports if r["already_applied"]) == 2
    rows = rows_of(url)
    for i, (name, value) in enumerate(FIELDS):  # every clerk's edit is in the master
        for k in u[:10]:
            assert rows[k][name] == value(i), (i, name)
        assert sum(1 for r in rows.values() if r["name"] == f"新建{i}") == 1
    conflicts = [c for r in reports for c in r["conflicts"]]
    assert [(c["uuid"], c["field"]) for c in conflicts] == [(u[10], "name")]
    kept, lost = rows[u[10]]["name"], conflicts[0]["field_value"]
    assert {kept, lost} == {"冲突0", "冲突1"}  # one kept, the other in the conflict report
    for p in packages:  # the same packages one after another into the GeoPackage master
        apply_package(gpkg, p)
    sequential = rows_of(gpkg)
    assert sequential.keys() == rows.keys()
    for k in rows:
        ignore = {"modified_at", "modified_by"} | ({"name"} if k == u[10] else set())
        assert {n: v for n, v in rows[k].items() if n not in ignore} == \
               {n: v for n, v in sequential[k].items() if n not in ignore}


HANG = """
import sys, time, pathlib
from layers.cli.main import main
from layers.sync.postgis.store import PostgisMaster
flag, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
write = PostgisMaster.write_layer
def write_then_wait(self, *args, **kwargs):
    write(self, *args, **kwargs)
    flag.write_text("written")
    while not go.exists():
        time.sleep(0.05)
PostgisMaster.write_layer = write_then_wait
sys.exit(main(["apply", *sys.argv[3:]]))
"""


def _start_hanging_apply(url, package, tmp_path):
    flag, go = tmp_path / "written.flag", tmp_path / "go.flag"
    process = subprocess.Popen([sys.executable, "-c", HANG, str(flag), str(go), url, str(package)], cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return process, go


def _state(url):
    with psycopg.connect(url) as con:
        return (con.execute("SELECT count(*) FROM tongcheng_ledger").fetchone()[0],
                con.execute("SELECT value FROM tongcheng_master WHERE key = 'version'").fetchone()[0],
                con.execute("SELECT count(*) FROM tongcheng_history").fetchone()[0])


def test_a_killed_apply_leaves_the_master_unchanged_and_the_rerun_succeeds(office, tmp_path):
    _, url, _, packages = office
    before = rows_of(url)
    process, _ = _start_hanging_apply(url, packages[0], tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert rows_of(url) == before and _state(url) == (0, "1", 0)
    assert apply_package(url, packages[0]).version_after == 2


def test_a_connection_lost_mid_apply_writes_nothing_and_says_so(office, tmp_path):
    _, url, _, packages = office
    before = rows_of(url)
    process, go = _start_hanging_apply(url, packages[0], tmp_path)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tongcheng'")
    go.write_text("go")
    stderr = process.communicate(timeout=60)[1]
    assert process.returncode == 1, stderr
    message = stderr.strip().splitlines()
    assert len(message) == 1 and "connection to the server was lost" in message[0] and "nothing" in message[0]
    assert rows_of(url) == before and _state(url) == (0, "1", 0)
    assert apply_package(url, packages[0]).version_after == 2
