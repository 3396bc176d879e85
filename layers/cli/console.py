"""Console output of the ``tongcheng`` command: exit codes, progress bars, tables."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeAlias

__all__ = ["EXIT_OK", "EXIT_ERROR", "EXIT_CONFLICTS", "EXIT_INTERRUPTED", "Commands", "progress_bar",
           "display_width", "print_summary"]

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
            bar.update(done - bar.n)

        yield advance


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
    header = f"{'layer':<15}{'title':<14}{'geometry':<17}{'features':>9}{'inserted':>10}{'updated':>9}{'deleted':>9}"
    print(header)
    print("-" * len(header))
    for layer in summary["layers"]:
        pending = layer["pending"]
        title = layer["title_zh"]
        pad = 14 - display_width(title)
        print(
            f"{layer['name']:<15}{title}{' ' * max(pad, 1)}{layer['geometry']:<17}{layer['features']:>9}"
            f"{pending['insert']:>10}{pending['update']:>9}{pending['delete']:>9}"
        )
