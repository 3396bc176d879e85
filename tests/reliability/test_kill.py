"""kill -9 at seeded random moments of apply, update, changes, export and checkout (issue 15, item 12).

Each trial copies small files, runs the real command in a child process (see
``forkserver.py``), kills it with SIGKILL after a random delay (seeded), then
checks: ``PRAGMA integrity_check`` of every file written, every saved row is
either the state before or the state after a complete run (never a mix), and
a rerun succeeds and ends in the complete state.
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

from layers.sync.apply import apply_package
from tests.reliability.helpers import ROOT, env, integrity

TRIALS = 20
FACILITY = ("toilets", "signboards", "kiosks")
#: Columns whose value is the clock of the run (two complete runs differ in them).
CLOCK = {"applied_at", "last_change", "changed_at"}


class Server:
    """The fork server: runs tongcheng commands in children, reports their pid and end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.killed = 0
        self.process = subprocess.Popen([sys.executable, "-m", "tests.reliability.forkserver"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env(), cwd=ROOT)

    def start(self, *argv: object) -> int:
        request = {"argv": [str(a) for a in argv], "stdout": str(self.folder / "stdout"),
                   "stderr": str(self.folder / "stderr")}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())["pid"]

    def status(self) -> int:
        return json.loads(self.process.stdout.readline())["status"]

    def run(self, *argv: object) -> int:
        self.start(*argv)
        return self.status()

    def kill_after(self, delay: float, *argv: object) -> int:
        pid = self.start(*argv)
        time.sleep(delay)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        status = self.status()
        self.killed += status == -signal.SIGKILL
        return status

    @property
    def stderr(self) -> str:
        return (self.folder / "stderr").read_text("utf-8", "replace")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.fixture(scope="module")
def server_process(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("forkserver"))
    yield s
    s.close()


@pytest.fixture
def server(server_process):
    """The fork server; the test's trials must have killed some commands mid-run (not all ended first)."""
    server_process.killed = 0
    yield server_process
    assert server_process.killed >= TRIALS // 4, f"only {server_process.killed} of {TRIALS} trials killed mid-run"


def table_rows(path: Path, tables) -> dict[str, list[tuple]]:
    """Every row of *tables* (those present), in rowid order, without the clock columns."""
    con = sqlite3.connect(path)  # read-write: an interrupted write's hot journal is rolled back here
    try:
        present = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        out = {}
        for table in tables:
            if table not in present:
                continue
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")') if r[1] not in CLOCK]
            out[table] = con.execute(f'SELECT {", ".join(map(repr, columns)).replace(chr(39), chr(34))} '
                                     f'FROM "{table}" ORDER BY rowid').fetchall()
        return out
    finally:
        con.close()


MASTER_TABLES = (*FACILITY, "tongcheng_master", "tongcheng_ledger", "tongcheng_deleted", "gpkg_contents",
                 *(f"rtree_{t}_geom" for t in FACILITY))
WORKSPACE_TABLES = (*FACILITY, "tongcheng_settings", "tongcheng_changes", *(f"tongcheng_base_{t}" for t in FACILITY))


def copy(files: dict[str, Path], folder: Path) -> dict[str, Path]:
    folder.mkdir()
    out = {}
    for key, path in files.items():
        if path.is_dir():
            shutil.copytree(path, folder / path.name)
        else:
            shutil.copy2(path, folder / path.name)
        out[key] = folder / path.name
    return out


def others(folder: Path, expected: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in expected)


@pytest.fixture(scope="module")
def inputs(small_files, tmp_path_factory):
    """The small files, and a master with the package applied (what update brings)."""
    folder = tmp_path_factory.mktemp("inputs")
    files = copy({**small_files, "sent": small_files["workspace"].with_name("ws.sqlite.sent")}, folder / "f")
    applied = folder / "applied.gpkg"
    shutil.copy2(files["master"], applied)
    apply_package(applied, files["package"])
    return {**files, "applied": applied}


def measure(server, inputs, tmp_path, name, argv_of):
    """A complete run on fresh copies: the state after, and how long it took."""
    took = []
    for attempt in ("warm-up", "reference"):  # the server's first child pays for lazy imports
        files = copy(inputs, tmp_path / f"{name}-{attempt}")
        started = time.monotonic()
        assert server.run(*argv_of(files)) == 0, server.stderr
        took.append(time.monotonic() - started)
    return files, min(took)


def trial_files(inputs, tmp_path, name, i):
    return copy(inputs, tmp_path / f"{name}-{i}")


def kill_in_place(server, inputs, tmp_path, name, argv, key, tables, seed):
    """kill -9 trials of a command that rewrites ``inputs[key]`` in place; yields each trial's files.

    Each trial leaves the file sound and wholly as before or as after (never a
    mix), and a rerun reaches the after state.
    """
    before = table_rows(inputs[key], tables)
    reference, took = measure(server, inputs, tmp_path, name, argv)
    after = table_rows(reference[key], tables)
    assert after != before
    rng = random.Random(seed)
    for i in range(TRIALS):
        files = trial_files(inputs, tmp_path, name, i)
        server.kill_after(rng.uniform(0, took), *argv(files))
        assert integrity(files[key]) == "ok"
        state = table_rows(files[key], tables)
        assert state in (before, after), f"trial {i}: a mix of before and after"
        assert server.run(*argv(files)) == 0, server.stderr
        assert table_rows(files[key], tables) == after
        yield files


def test_kill_apply(server, inputs, tmp_path):
    argv = lambda f: ("apply", f["master"], f["package"])  # noqa: E731
    for files in kill_in_place(server, inputs, tmp_path, "apply", argv, "master", MASTER_TABLES, 15_1):
        assert others(files["master"].parent, {p.name for p in files.values()}) == []


def test_kill_update(server, inputs, tmp_path):
    argv = lambda f: ("update", f["workspace"], f["applied"])  # noqa: E731
    trials = list(kill_in_place(server, inputs, tmp_path, "update", argv, "workspace", WORKSPACE_TABLES, 15_2))
    assert len(trials) == TRIALS


def test_kill_changes(server, inputs, tmp_path):
    argv = lambda f: ("changes", f["workspace"], f["workspace"].with_name("out.gpkg"))  # noqa: E731
    before = table_rows(inputs["workspace"], WORKSPACE_TABLES)
    sent_before = sent_packages(before)
    reference, took = measure(server, inputs, tmp_path, "changes", argv)
    rng = random.Random(15_3)
    for i in range(TRIALS):
        files = trial_files(inputs, tmp_path, "changes", i)
        out = files["workspace"].with_name("out.gpkg")
        server.kill_after(rng.uniform(0, took), *argv(files))
        assert integrity(files["workspace"]) == "ok"
        state = table_rows(files["workspace"], WORKSPACE_TABLES)
        uuids = sent_packages(state)
        if state == before:  # not sent: no package under its name, nothing marked as sent
            assert not out.exists(), f"trial {i}: a package whose edits are not marked as sent"
            assert server.run(*argv(files)) == 0, server.stderr
            assert out.exists()
        else:  # sent: the edits are marked as sent, and the package is whole (kept beside the workspace)
            assert state["tongcheng_changes"] == [] and uuids[:-1] == sent_before, f"trial {i}: a mix"
            kept = files["sent"] / f"{uuids[-1]}.gpkg"
            assert integrity(kept) == "ok", f"trial {i}"
            if out.exists():
                assert package_uuid(out) == uuids[-1]
            assert server.run(*argv(files)) == 0, server.stderr  # puts it under its name if it was not yet
            assert "no changes" in (server.folder / "stdout").read_text()
            assert package_uuid(out) == uuids[-1]
        assert integrity(out) == "ok"
        now = sent_packages(table_rows(files["workspace"], ["tongcheng_settings"]))
        assert others(files["sent"], {f"{u}.gpkg" for u in now}) == []  # no copy of a package never sent
        assert others(out.parent, {p.name for p in files.values()} | {"out.gpkg"}) == []


def sent_packages(state) -> list[str]:
    return json.loads(dict(state["tongcheng_settings"])["sync_sent_packages"])


def package_uuid(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT value FROM tongcheng_package WHERE key = 'package_uuid'").fetchone()[0]
    finally:
        con.close()


def test_kill_export(server, inputs, tmp_path):
    argv = lambda f: ("export", f["master"], f["master"].with_name("partners.gpkg"))  # noqa: E731
    reference, took = measure(server, inputs, tmp_path, "export", argv)
    expected = table_rows(reference["master"].with_name("partners.gpkg"), FACILITY)
    rng = random.Random(15_4)
    for i in range(TRIALS):
        files = trial_files(inputs, tmp_path, "export", i)
        out = files["master"].with_name("partners.gpkg")
        server.kill_after(rng.uniform(0, took), *argv(files))
        if out.exists():
            assert integrity(out) == "ok" and table_rows(out, FACILITY) == expected, f"trial {i}"
        assert server.run(*argv(files)) == 0, server.stderr
        assert table_rows(out, FACILITY) == expected
        assert others(out.parent, {p.name for p in files.values()} | {"partners.gpkg"}) == []


def test_kill_checkout(server, inputs, tmp_path):
    argv = lambda f: ("checkout", f["master"], f["master"].with_name("field.sqlite"))  # noqa: E731
    reference, took = measure(server, inputs, tmp_path, "checkout", argv)
    expected = table_rows(reference["master"].with_name("field.sqlite"), FACILITY)
    rng = random.Random(15_5)
    for i in range(TRIALS):
        files = trial_files(inputs, tmp_path, "checkout", i)
        target = files["master"].with_name("field.sqlite")
        server.kill_after(rng.uniform(0, took), *argv(files))
        if target.exists():  # complete, or nothing under this name
            assert integrity(target) == "ok" and table_rows(target, FACILITY) == expected, f"trial {i}"
        else:
            assert server.run(*argv(files)) == 0, server.stderr
        assert table_rows(target, FACILITY) == expected
        assert others(target.parent, {p.name for p in files.values()} | {"field.sqlite"}) == [], f"trial {i}"
