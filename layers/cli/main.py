"""The ``tongcheng`` command: headless work on workspaces.

User errors print one line (``tongcheng: error: ...``) and exit 1; long work
shows a progress bar on standard error.

Command groups live beside the code they drive: ``layers/cli_gps.py`` and
``layers/cli_sync.py`` each have ``add_commands(commands)``. The editor (which
needs Qt, so the core may not import it) registers its ``editor`` command
through the ``tongcheng.commands`` entry point group in pyproject.toml.
A command's function receives the parsed arguments and returns an exit code
(or None for 0).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

from importlib.metadata import entry_points

from layers import __version__
from layers.errors import TongchengError

__all__ = ["main", "build_parser", "progress_bar", "display_width", "print_summary", "EXIT_ERROR"]

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


@contextmanager
def progress_bar(total, description, unit=" features", unit_scale=False):
    """A tqdm progress bar on stderr (hidden when stderr is not a terminal).

    Yields a callback ``advance(done, total=None)`` that moves the bar to ``done``.
    For bytes pass ``unit="B", unit_scale=True``.
    """
    from tqdm import tqdm

    with tqdm(total=total, desc=description, unit=unit, unit_scale=unit_scale, unit_divisor=1024 if unit == "B" else 1000,
              file=sys.stderr, leave=False, disable=None, dynamic_ncols=True) as bar:

        def advance(done, total=None):
            bar.update(done - bar.n)

        yield advance


def display_width(text):
    """Columns a text takes in a terminal: CJK characters take two."""
    return sum(2 if ord(c) >= 0x2E80 else 1 for c in text)


def print_summary(summary):
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


def cmd_init(args):
    from layers.workspace.store import Workspace

    if str(args.workspace).lower().endswith(".gpkg"):
        from layers.cli.sync import cmd_init_master

        return cmd_init_master(args)

    with Workspace.create(args.workspace, crs=args.crs, user=args.user) as workspace:
        print_summary(workspace.summary())


def cmd_demo(args):
    from layers.demo import DEMO_COUNTS, fill_demo
    from layers.workspace.store import Workspace

    if str(args.workspace).lower().endswith(".gpkg"):
        from layers.cli.sync import cmd_init_master

        return cmd_init_master(args, demo=True)

    with Workspace.create(args.workspace, crs=args.crs, user=args.user) as workspace:
        try:
            with progress_bar(sum(DEMO_COUNTS.values()), "demo") as advance:
                fill_demo(workspace, seed=args.seed, progress=lambda done, total: advance(done))
        except BaseException:
            workspace.close()
            Path(args.workspace).unlink(missing_ok=True)
            raise
        print_summary(workspace.summary())


def cmd_info(args):
    from layers.workspace.store import Workspace

    with Workspace.open(args.workspace) as workspace:
        print_summary(workspace.summary())


def cmd_layers(args):
    from layers.schema.definitions import load_definitions

    for name, definition in load_definitions(args.definitions).items():
        kind = "survey" if definition.survey else "facility"
        print(f"{name:<15}{definition.geometry_type:<17}{kind:<9}{len(definition.fields):>3} fields  "
              f"{definition.title('zh_CN')} / {definition.title('en')}")
        if args.fields:
            for f in definition.fields:
                flags = ("required " if f.required else "") + (f"derived: {f.derived}" if f.derived else "")
                codes = f" [{'/'.join(f.code_values)}]" if f.codes else ""
                print(f"    {f.name:<20}{f.type:<9}{f.label('zh_CN')} / {f.label('en')}{codes} {flags}".rstrip())


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tongcheng",
        description="Tongcheng: street-facility inventory (public toilets, signboards, kiosks).",
    )
    parser.add_argument("--version", action="version", version=f"tongcheng {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def workspace_creation(p):
        p.add_argument("workspace", help="the workspace file to create (e.g. district.sqlite)")
        p.add_argument("--crs", default="EPSG:4544", help="CRS of the layers (default EPSG:4544, CGCS2000 GK CM 105E)")
        p.add_argument("--user", help="name written into the audit columns (default: login name)")

    p = commands.add_parser("init", help="create an empty workspace")
    workspace_creation(p)
    p.set_defaults(run=cmd_init)

    p = commands.add_parser("demo", help="create a workspace filled with a demo district of Chengdu")
    workspace_creation(p)
    p.add_argument("--seed", type=int, default=2026, help="random seed (the same seed gives the same demo)")
    p.set_defaults(run=cmd_demo)

    p = commands.add_parser("info", help="show a workspace's layers, counts and pending changes")
    p.add_argument("workspace")
    p.set_defaults(run=cmd_info)

    p = commands.add_parser("layers", help="list the layer definitions")
    p.add_argument("--fields", action="store_true", help="list each layer's fields too")
    p.add_argument("--definitions", help="folder of layer definitions (default: the shipped ones)")
    p.set_defaults(run=cmd_layers)

    from layers.cli import gps as cli_gps
    from layers.cli import sync as cli_sync  # they use this module's helpers, so they come in after it

    cli_gps.add_commands(commands)
    cli_sync.add_commands(commands)
    for entry_point in entry_points(group="tongcheng.commands"):
        entry_point.load()(commands)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.run(args)
    except TongchengError as e:
        print(f"tongcheng: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tongcheng: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
