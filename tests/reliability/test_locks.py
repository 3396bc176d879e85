"""A master or workspace another program holds: wait for it, then one clear line (issue 15, item 4)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.reliability.helpers import assert_one_line_error, run

HOLDER = r"""
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.execute("ROLLBACK")
"""


def hold(path, seconds):
    """Another program: an exclusive lock on *path* for *seconds*."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def release(holder, kill=False):
    if kill:
        holder.kill()
    holder.wait()
    holder.stdout.close()


@pytest.mark.parametrize("command", ["apply", "changes", "update"])
def test_a_file_still_locked_after_the_wait_is_in_use_by_another_program(small, command):
    target = small["workspace"] if command in ("changes", "update") else small["master"]
    args = {"apply": (small["master"], small["package"]),
            "changes": (small["workspace"], small["master"].with_name("out.gpkg")),
            "update": (small["workspace"], small["master"])}[command]
    if command == "update":
        assert run("apply", small["master"], small["package"]).returncode == 0
    holder = hold(target, 30)
    try:
        started = time.monotonic()
        result = run(command, *args, TONGCHENG_BUSY_TIMEOUT="1")
        waited = time.monotonic() - started
    finally:
        release(holder, kill=True)
    line = assert_one_line_error(result, target, "in use by another program")
    assert result.returncode == 1 and waited >= 1, line
    assert not small["master"].with_name("out.gpkg").exists()


def test_apply_waits_while_another_program_holds_the_master(small):
    holder = hold(small["master"], 1.5)
    try:
        result = run("apply", small["master"], small["package"], TONGCHENG_BUSY_TIMEOUT="60")
    finally:
        release(holder)
    assert result.returncode == 0, result.stderr
    assert "version 1 -> 2" in result.stdout
