"""Run a command of a benchmark as a child process and measure it (time, peak memory)."""

import os
import subprocess
import tempfile
import time

__all__ = ["run", "run_usage"]


def run(command, cwd, env=None):
    """Run a command (in ``env``, default this process's environment); return (seconds, peak RSS in MB, stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:  # never litter cwd
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, env=env)
        # wait4 gives the resource usage of this very child (not of all children).
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({process.returncode}): "
                               f"{err.read().decode(errors='replace')}")
        return seconds, usage.ru_maxrss / 1024.0, out.read().decode()


def run_usage(command, cwd, env=None):
    """``run``, and the CPU time (user + system) of the child: (seconds, cpu seconds, peak RSS in MB, stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise RuntimeError(f"{command[0]} failed: {err.read().decode(errors='replace')}")
        out.seek(0)
        return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, out.read().decode()
