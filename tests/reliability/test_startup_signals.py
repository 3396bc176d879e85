"""Ctrl+C and a closed pipe while ``tongcheng`` is still starting: a quiet exit (issue 15, item 9).

The child runs with ``python -X importtime``, which prints a line on standard
error as each module finishes loading. The test waits for the first module
loaded after ``layers.cli.startup`` (so the command's own code is running: a
signal before that, while the interpreter itself starts, is the interpreter's
business) and then sends SIGINT after a random delay, from "at once" to well
into the heavy imports (numpy, pyproj, fiona) and the command itself.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest

from layers.workspace.store import Workspace
from tests.reliability.helpers import env

#: The console script's own code (``bin/tongcheng``): import main, run it.
CONSOLE_SCRIPT = "import sys; from layers.cli.main import main; sys.exit(main())"
GUARD_MODULE = "layers.cli.startup"


def _as_from_a_terminal() -> None:
    """In the child before it runs: Ctrl+C's default action, as a command typed in a terminal has it.  A suite
    started in the background by a script (``.ci/run &``) passes SIGINT on as ignored, and a program started
    that way rightly keeps ignoring it, as Python and the shells do."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(how: str, args: list[str]) -> subprocess.Popen:
    entry = ["-m", "layers.cli.main"] if how == "module" else ["-c", CONSOLE_SCRIPT]
    return subprocess.Popen([sys.executable, "-X", "importtime", *entry, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env(), preexec_fn=_as_from_a_terminal)


def _wait_until_our_code_runs(process: subprocess.Popen) -> list[str]:
    """Read import lines until one after the guard's module: the command's code is running."""
    seen: list[str] = []
    guard = False
    while True:
        line = process.stderr.readline()
        assert line, f"the command ended before loading {GUARD_MODULE}: {''.join(seen)}"
        seen.append(line)
        name = line.rsplit("|", 1)[-1].strip()
        if guard and line.startswith("import time:"):
            return seen
        guard = guard or name == GUARD_MODULE


def _messages(stderr: str) -> list[str]:
    """Standard error without ``-X importtime``'s lines."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("import time:")]


def _nmea(path, fixes: int = 30) -> None:
    lines = []
    for i in range(fixes):
        body = f"GPGGA,0200{i:02d}.00,3039.6000,N,10404.2000,E,1,09,0.8,500.0,M,-30.0,M,,"
        checksum = 0
        for byte in body.encode():
            checksum ^= byte
        lines.append(f"${body}*{checksum:02X}")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def gps_args(tmp_path) -> list[str]:
    Workspace.create(tmp_path / "ws.sqlite").close()
    _nmea(tmp_path / "held.nmea")
    return ["gps", "import", str(tmp_path / "ws.sqlite"), str(tmp_path / "held.nmea"), "--date", "2024-05-01"]


@pytest.mark.parametrize("how", ["console-script", "module"])
@pytest.mark.parametrize("command", ["--help", "gps import"])
def test_ctrl_c_while_starting_exits_quietly_with_130(how, command, gps_args):
    args = ["--help"] if command == "--help" else gps_args
    rng = random.Random(f"{how} {command}")
    codes = []
    for delay in [0.0, 0.002, *sorted(rng.uniform(0.005, 0.6) for _ in range(4))]:
        process = _start(how, args)
        _wait_until_our_code_runs(process)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
        messages = _messages(stderr)
        assert "Traceback" not in stderr and "Exception ignored" not in stderr, (delay, stderr[-2000:])
        # 130: our handler; -SIGINT: the process ended by the signal itself (seen under load, once the
        # command had handled it or while the interpreter shut down), which a shell also reports as 130.
        assert process.returncode in (0, 130, -signal.SIGINT), (delay, process.returncode, messages)
        if process.returncode == -signal.SIGINT:  # at most our one line, said before the end
            assert messages in ([], ["tongcheng: interrupted; nothing was written"]), (delay, messages)
        if process.returncode == 130:
            assert messages == ["tongcheng: interrupted; nothing was written"], (delay, messages)
        codes.append(process.returncode)
    assert 130 in codes  # the early signals did land while the command was loading


def test_an_interrupted_gps_import_at_start_leaves_the_workspace_as_it_was(gps_args, tmp_path):
    process = _start("console-script", gps_args)
    _wait_until_our_code_runs(process)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=120)
    assert process.returncode == 130
    with Workspace.open(tmp_path / "ws.sqlite") as workspace:
        assert workspace.count("gps_waypoints") == 0 and workspace.count("gps_tracks") == 0
    rerun = subprocess.run([sys.executable, "-m", "layers.cli.main", *gps_args], capture_output=True, text=True,
                           env=env(), timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert "Traceback" not in rerun.stderr


@pytest.mark.parametrize("how", ["console-script", "module"])
@pytest.mark.parametrize("command", ["--help", "--version", "gps import"])
def test_a_pipe_closed_while_starting_ends_quietly(how, command, gps_args):
    args = [command] if command.startswith("--") else gps_args
    process = _start(how, args)
    process.stdout.close()  # the reader (| head) went away before the command wrote anything
    stderr = process.stderr.read()
    process.stderr.close()
    code = process.wait(timeout=120)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr[-2000:]
    assert code == 141, (code, _messages(stderr))
    assert _messages(stderr) == []
