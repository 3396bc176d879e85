"""The ``tongcheng`` command: headless work on workspaces.

User errors print one line (``tongcheng: error: ...``) and exit 1; long work
shows a progress bar on standard error.

One module per command group (``layers/cli/gps.py``, ``layers/cli/sync.py``),
each with ``add_commands(commands)``; ``layers/cli/console.py`` owns output,
progress bars and exit codes. ``-v``/``-vv`` shows the core's log on standard
error, ``--log-file`` writes all of it to a file. The editor (which
needs Qt, so the core may not import it) registers its ``editor`` command
through the ``tongcheng.commands`` entry point group in pyproject.toml.
A command's function receives the parsed arguments and returns an exit code
(or None for 0).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path

from layers import __version__
from layers.cli import gps as cli_gps
from layers.cli import sync as cli_sync
from layers.cli.console import EXIT_ERROR, EXIT_INTERRUPTED, print_summary, progress_bar
from layers.errors import TongchengError
from layers.log import configure as configure_logging
from layers.log import logger

log = logger(__name__)

__all__ = ["main", "build_parser"]

def cmd_init(args: argparse.Namespace) -> int | None:
    from layers.workspace.store import Workspace

    if str(args.workspace).lower().endswith(".gpkg"):
        from layers.cli.sync import cmd_init_master

        cmd_init_master(args)
        return None

    with Workspace.create(args.workspace, crs=args.crs, user=args.user) as workspace:
        print_summary(workspace.summary())
    return None


def cmd_demo(args: argparse.Namespace) -> int | None:
    from layers.demo import DEMO_COUNTS, fill_demo
    from layers.workspace.store import Workspace

    if str(args.workspace).lower().endswith(".gpkg"):
        from layers.cli.sync import cmd_init_master

        cmd_init_master(args, demo=True)
        return None

    with Workspace.create(args.workspace, crs=args.crs, user=args.user) as workspace:
        try:
            with progress_bar(sum(DEMO_COUNTS.values()), "demo") as advance:
                fill_demo(workspace, seed=args.seed, progress=lambda done, total: advance(done))
        except BaseException:
            workspace.close()
            Path(args.workspace).unlink(missing_ok=True)
            raise
        print_summary(workspace.summary())
    return None


def cmd_info(args: argparse.Namespace) -> None:
    from layers.workspace.store import Workspace

    with Workspace.open(args.workspace) as workspace:
        print_summary(workspace.summary())


def cmd_layers(args: argparse.Namespace) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tongcheng",
        description="Tongcheng: street-facility inventory (public toilets, signboards, kiosks).",
    )
    parser.add_argument("--version", action="version", version=f"tongcheng {__version__}")
    _add_logging_options(parser, None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def workspace_creation(p: argparse.ArgumentParser) -> None:
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

    cli_gps.add_commands(commands)
    cli_sync.add_commands(commands)
    for entry_point in entry_points(group="tongcheng.commands"):
        entry_point.load()(commands)
    for command in commands.choices.values():  # also accepted after the command's name
        _add_logging_options(command, argparse.SUPPRESS)
    return parser


def _add_logging_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("-v", "--verbose", action="count", default=0 if default is None else default,
                        help="show what the program does (-vv: in detail)")
    parser.add_argument("--log-file", metavar="FILE", default=default,
                        help="also write the whole log (with details of errors) to FILE")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose, log_file=args.log_file)
    log.debug("tongcheng %s: %s", __version__, " ".join(sys.argv[1:] if argv is None else argv))
    try:
        code = args.run(args)
    except TongchengError as e:
        log.debug("command failed", exc_info=True)
        print(f"tongcheng: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tongcheng: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
