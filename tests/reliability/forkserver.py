"""Run ``tongcheng`` commands in forked children of one process that has imported everything already.

A kill -9 trial needs a real process running the real command; starting a
Python with fiona, pyproj and SpatiaLite for each of a hundred trials would
take minutes, so this server imports the CLI once and forks a child per
command. Protocol on stdin/stdout, one JSON line each way: the test sends the
argv, the server answers ``{"pid": N}`` when the child runs and
``{"status": S}`` (``os.waitstatus_to_exitcode``; -9 for a kill -9) when it ended.
The child's output goes to files named by the request (``stdout``, ``stderr``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable

from layers.cli.main import build_parser, main


def fork_requests(child: Callable[[dict], int]) -> None:
    """For each JSON request line on stdin, fork ``child(request)``; answer its pid, then its exit status.

    The child never returns into this loop: it ends with ``os._exit`` (status 1
    if it raised).
    """
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = child(request)
            finally:
                os._exit(code)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"status": os.waitstatus_to_exitcode(status)}), flush=True)


def run_command(request: dict) -> int:
    """The child: ``tongcheng`` with the request's argv, its output into the request's files."""
    out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(err, 2)
    code = main(request["argv"])
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def serve() -> None:
    # Import now what every command imports when it runs, so a child does only the work.
    import tqdm  # noqa: F401

    import layers.sync.apply
    import layers.sync.checkout
    import layers.sync.export
    import layers.sync.update  # noqa: F401

    build_parser()
    fork_requests(run_command)


if __name__ == "__main__":
    serve()
