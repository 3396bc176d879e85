"""Pipes closed early, Ctrl+C and SIGTERM: quiet exits with the conventional codes (issue 15, item 9)."""

from __future__ import annotations

import random
import signal
import subprocess
import time

import pytest

from tests.reliability.helpers import TONGCHENG, env, leftovers, run


def test_a_closed_pipe_ends_quietly_with_141():
    process = subprocess.Popen([*TONGCHENG, "layers", "--fields"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env())
    process.stdout.close()  # the reader is gone before anything is written (| head, at once)
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 141
    assert stderr == ""


def test_head_of_a_listing_prints_no_traceback():
    result = subprocess.run(" ".join(TONGCHENG) + " layers --fields | head -n 1", shell=True, capture_output=True,
                            text=True, env=env())
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


@pytest.mark.parametrize("signum, code, word", [(signal.SIGINT, 130, "interrupted"),
                                                 (signal.SIGTERM, 143, "stopped")])
def test_an_interrupted_export_exits_quietly_and_leaves_nothing(small, tmp_path, signum, code, word):
    rng = random.Random(9 + signum)
    out = tmp_path / "out"
    out.mkdir()
    for trial in range(3):
        process = subprocess.Popen([*TONGCHENG, "-v", "export", str(small["master"]), str(out / "partners"),
                                    "--format", "GeoJSON"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=env())
        line = process.stderr.readline()  # the command is running: its first log line
        assert "tongcheng" in line or "export" in line.lower(), line
        time.sleep(rng.uniform(0, 0.05))
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
        assert "Traceback" not in stderr, stderr
        assert process.returncode in (0, code), (process.returncode, stderr)
        if process.returncode == code:
            assert f"tongcheng: {word}" in stderr
            assert leftovers(out, set()) == [], trial
        else:
            assert leftovers(out, {"partners"}) == []
            for p in (out / "partners").iterdir():
                p.unlink()
            (out / "partners").rmdir()
    assert run("export", small["master"], out / "partners", "--format", "GeoJSON").returncode == 0
