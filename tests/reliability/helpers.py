"""Shared by the fault tests: run the real ``tongcheng`` command in a child process, small data."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TONGCHENG = [sys.executable, "-m", "layers.cli.main"]
#: Features per facility layer of the masters these tests make: small, so a trial takes a moment.
SMALL = {"toilets": 12, "signboards": 16, "kiosks": 6}


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **extra}


def run(*args: object, timeout: float = 120, preexec_fn=None, **extra: str) -> subprocess.CompletedProcess:
    """Run ``tongcheng ARGS`` to the end; its output as text."""
    return subprocess.run([*TONGCHENG, *map(str, args)], capture_output=True, text=True, env=env(**extra),
                          timeout=timeout, preexec_fn=preexec_fn)


def start(*args: object, **extra: str) -> subprocess.Popen:
    """Start ``tongcheng ARGS`` (to be killed or waited for)."""
    return subprocess.Popen([*TONGCHENG, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env(**extra))


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: object) -> str:
    """The command failed with one line on standard error naming every needle, and no traceback."""
    assert result.returncode not in (0, None), result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert str(needle) in lines[0], lines[0]
    return lines[0]


def integrity(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    """Files in *folder* other than *keep* (temporary files, journals, partial outputs)."""
    return sorted(p.name for p in Path(folder).iterdir() if p.name not in keep)
