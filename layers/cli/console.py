"""Console output of the ``tongcheng`` command: exit codes, progress bars, tables."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeAlias

__all__ = ["EXIT_OK", "EXIT_ERROR", "EXIT_CONFLICTS", "EXIT_INTERRUPTED", "EXIT_BROKEN_PIPE", "EXIT_TERMINATED",
           "Commands", "progress_bar", "display_width", "print_summary", "one_line", "os_error_text"]

#: The subcommands of the ``tongcheng`` parser, handed to each command group's ``add_commands``.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

#: The command did all it was asked.
EXIT_OK = 0
#: An error: one line on standard error, nothing written.
EXIT_ERROR = 1
#: Applied or merged, but with conflicts (listed in the report); with policy ``manual`` they are unresolved.
EXIT_CONFLICTS = 2
#: Done, but some input was skipped (points, waypoints, sentences, or a file that gave nothing; listed).
EXIT_SKIPPED = 3
#: Interrupted with Ctrl+C; nothing was written.
EXIT_INTERRUPTED = 130
#: The reader of standard output went away (``tongcheng ... | head``): 128 + SIGPIPE, as a shell reports it.
EXIT_BROKEN_PIPE = 141
#: Stopped by SIGTERM; nothing was written (128 + SIGTERM).
EXIT_TERMINATED = 143

#: Longest error line printed; the whole text goes to the log (``--log-file``).
ERROR_WIDTH = 300


@contextmanager
def progress_bar(total: int | None, description: str, unit: str = " features",
                 unit_scale: bool = False) -> Iterator[Callable[..., None]]:
    """A tqdm progress bar on stderr (hidden when stderr is not a terminal).

    Yields a callback ``advance(done, total=None)`` that moves the bar to ``done``.
    For bytes pass ``unit="B", unit_scale=True``.
    """
    from tqdm import tqdm

    with tqdm(total=total, desc=description, unit=unit, unit_scale=unit_scale,
              unit_divisor=1024 if unit == "B" else 1000,
              file=sys.stderr, leave=False, disable=None, dynamic_ncols=True) as bar:

        def advance(done: int, total: int | None = None) -> None:
            if total is not None and bar.total != total:  # a total learnt on the way
                bar.total = total
            bar.update(done - bar.n)

        yield advance


def one_line(text: str, width: int = ERROR_WIDTH) -> str:
    """A message as one line of at most *width* characters (lines joined by "; ", the rest cut with "…")."""
    line = "; ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return line if len(line) <= width else line[:width - 1] + "…"


#: What to do about an operating-system error, by errno name.
_ADVICE = {
    "ENOSPC": "free some disk space (or write to another disk) and try again",
    "EFBIG": "the file is larger than this system allows: free space or write to another disk",
    "EDQUOT": "the disk quota is used up: free some space and try again",
    "EROFS": "the disk is read-only: choose a folder you can write to",
    "EACCES": "permission denied: choose a folder you can write to, or ask for access",
    "EPERM": "permission denied: choose a folder you can write to, or ask for access",
    "ENOENT": "no such file or folder (moved or deleted while working?): check the path and try again",
    "ENOTDIR": "a part of the path is a file, not a folder: check the path",
    "EISDIR": "this is a folder, not a file: name a file",
    "EIO": "the disk reported an input/output error: check the disk or the network drive",
}


def os_error_text(exc: OSError) -> str:
    """An operating-system error as "PATH: what happened; what to do"."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    what = exc.strerror or str(exc)
    path = exc.filename if exc.filename is not None else "file"
    advice = _ADVICE.get(name)
    return f"{path}: {what}" + (f"; {advice}" if advice else "")


def display_width(text: str) -> int:
    """Columns a text takes in a terminal: CJK characters take two."""
    return sum(2 if ord(c) >= 0x2E80 else 1 for c in text)


def print_summary(summary: dict[str, Any]) -> None:
    """Print a workspace's summary (``Workspace.summary()``) as a table."""
    print(f"workspace   {summary['path']}")
    print(f"id          {summary['workspace_id']}")
    print(f"crs         {summary['crs']} ({summary['crs_name']})")
    print(f"user        {summary['user']}")
    print(f"created     {summary['created_at']}")
    print()
    header = f"{'layer':<18}{'title':<14}{'geometry':<17}{'features':>9}{'inserted':>10}{'updated':>9}{'deleted':>9}"
    print(header)
    print("-" * len(header))
    for layer in summary["layers"]:
        pending = layer["pending"]
        title = layer["title_zh"]
        pad = 14 - display_width(title)
        print(
            f"{layer['name']:<18}{title}{' ' * max(pad, 1)}{layer['geometry']:<17}{layer['features']:>9}"
            f"{pending['insert']:>10}{pending['update']:>9}{pending['delete']:>9}"
        )
