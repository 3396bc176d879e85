"""The ``tongcheng`` command: headless work on workspaces.

User errors print one line (``tongcheng: error: ...``) and exit 1; long work
shows a progress bar on standard error. Ctrl+C exits 130, SIGTERM 143, a
closed pipe (``| head``) 141, all without a traceback.

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

# ruff: noqa: E402 -- the guard below comes first, so a Ctrl+C while the modules after it load is a quiet exit.
from layers.cli.startup import quiet_while_loading

_loading = quiet_while_loading()

import argparse
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path

from layers import __version__
from layers.cli import definitions as cli_definitions
from layers.cli import gps as cli_gps
from layers.cli import imports as cli_imports
from layers.cli import inspections as cli_inspections
from layers.cli import master as cli_master
from layers.cli import photos as cli_photos
from layers.cli import standard as cli_standard
from layers.cli import sync as cli_sync
from layers.cli.console import (
    EXIT_BROKEN_PIPE,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    one_line,
    os_error_text,
    print_summary,
    progress_bar,
)
from layers.errors import TongchengError
from layers.log import configure as configure_logging
from layers.log import logger
from layers.postgres.urls import is_postgres
from layers.sqlite.locks import is_locked

log = logger(__name__)

__all__ = ["main", "build_parser"]

def cmd_init(args: argparse.Namespace) -> int | None:
    from layers.workspace.store import Workspace

    if str(args.workspace).lower().endswith(".gpkg") or is_postgres(args.workspace):
        from layers.cli.sync import cmd_init_master

        cmd_init_master(args)
        return None

    numbering = cli_standard.numbering_options(args)
    with Workspace.create(args.workspace, crs=args.crs, user=args.user) as workspace:
        cli_standard.start_numbering(workspace, numbering)
        print_summary(workspace.summary())
        cli_standard.print_numbering(workspace)
    return None


def cmd_demo(args: argparse.Namespace) -> int | None:
    from layers.demo import DEMO_COUNTS, fill_demo
    from layers.workspace.store import Workspace

    if str(args.workspace).lower().endswith(".gpkg") or is_postgres(args.workspace):
        from layers.cli.sync import cmd_init_master

        cmd_init_master(args, demo=True)
        return None

    numbering = cli_standard.numbering_options(args)
    with Workspace.create(args.workspace, crs=args.crs, user=args.user) as workspace:
        try:
            cli_standard.start_numbering(workspace, numbering)
            with progress_bar(sum(DEMO_COUNTS.values()), "demo") as advance:
                fill_demo(workspace, seed=args.seed, progress=lambda done, total: advance(done))
        except BaseException:
            workspace.close()
            Path(args.workspace).unlink(missing_ok=True)
            raise
        print_summary(workspace.summary())
        cli_standard.print_numbering(workspace)
    return None


def cmd_info(args: argparse.Namespace) -> None:
    from layers.workspace.store import Workspace

    if is_postgres(args.workspace) or cli_definitions.is_geopackage(args.workspace):
        from layers.cli.sync import print_master_info

        print_master_info(args.workspace)
        return

    with Workspace.open(args.workspace) as workspace:
        print_summary(workspace.summary())
        cli_standard.print_numbering(workspace)


def cmd_layers(args: argparse.Namespace) -> None:
    from layers.schema.definitions import load_definitions

    for name, definition in load_definitions(args.definitions).items():
        kind = "survey" if definition.survey else "reference" if definition.reference else "facility"
        print(f"{name:<18}{definition.geometry_type:<17}{kind:<9}{len(definition.fields):>3} fields  "
              f"{definition.title('zh_CN')} / {definition.title('en')}")
        if args.fields:
            for f in definition.fields:
                flags = " ".join(part for part in (
                    "required" if f.required else "", f"derived: {f.derived}" if f.derived else "",
                    f"located in {f.located_in.layer}.{f.located_in.field}" if f.located_in else "",
                    f"required where {f.required_if.describe()}" if f.required_if else "") if part)
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
        p.add_argument("workspace", help="the workspace file to create (e.g. district.sqlite); a .gpkg or a "
                                         "postgresql://user@host/db[?schema=name] makes an office master")
        p.add_argument("--crs", default="EPSG:4544", help="CRS of the layers (default EPSG:4544, CGCS2000 GK CM 105E)")
        p.add_argument("--user", help="name written into the audit columns (default: login name)")
        cli_standard.add_creation_options(p)

    p = commands.add_parser("init", help="create an empty workspace")
    workspace_creation(p)
    p.set_defaults(run=cmd_init)

    p = commands.add_parser("demo", help="create a workspace filled with a demo district of Chengdu")
    workspace_creation(p)
    p.add_argument("--seed", type=int, default=2026, help="random seed (the same seed gives the same demo)")
    p.set_defaults(run=cmd_demo)

    p = commands.add_parser("info", help="show a workspace's layers, counts and pending changes, or a master's "
                                         "(GeoPackage or postgresql://) layers, counts, version and definition "
                                         "versions")
    p.add_argument("workspace", help="a workspace or a master")
    p.set_defaults(run=cmd_info)

    p = commands.add_parser("layers", help="list the layer definitions")
    p.add_argument("--fields", action="store_true", help="list each layer's fields too")
    p.add_argument("--definitions", help="folder of layer definitions (default: the shipped ones)")
    p.set_defaults(run=cmd_layers)

    cli_gps.add_commands(commands)
    cli_sync.add_commands(commands)
    cli_master.add_commands(commands)
    cli_photos.add_commands(commands)
    cli_imports.add_commands(commands)
    cli_definitions.add_commands(commands)
    cli_inspections.add_commands(commands)
    cli_standard.add_commands(commands)
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


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl+C, so every ``finally`` removes what it made."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _error(message: str) -> int:
    try:
        print(f"tongcheng: error: {one_line(message)}", file=sys.stderr)
    except (OSError, ValueError):
        pass
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tongcheng`` command; return its exit code.

    Every failure ends here as one line on standard error and an exit code:
    1 for an error (a file's problem, with what to do), 130 for Ctrl+C, 143
    for SIGTERM, 141 when the reader of standard output went away (``| head``);
    never a traceback (``--log-file`` keeps the details). Run as the program
    (``argv`` None: the arguments are ``sys.argv``), Ctrl+C and SIGTERM are
    ignored once the command is over, while the interpreter exits: the exit
    code already says what happened.
    """
    try:
        return _main(argv)
    finally:
        if argv is None:
            _ignore_signals_while_exiting()


def _ignore_signals_while_exiting() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(signum, signal.SIG_IGN)
        except ValueError:  # not the main thread
            return


def _main(argv: Sequence[str] | None) -> int:
    try:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _terminate)
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as done:  # --help, --version or a usage error: argparse has printed it
            sys.stdout.flush()  # a closed pipe shows here (141), not in the interpreter's last flush
            return done.code if isinstance(done.code, int) else EXIT_ERROR if done.code else 0
        configure_logging(verbose=args.verbose, log_file=args.log_file)
        log.debug("tongcheng %s: %s", __version__, " ".join(sys.argv[1:] if argv is None else argv))
        code = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
    except TongchengError as e:
        log.debug("command failed", exc_info=True)
        return _error(str(e))
    except BrokenPipeError:
        # Python's advice (signal module, "Note on SIGPIPE"): stop quietly, never write to the pipe again.
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as e:
        log.debug("command failed", exc_info=True)
        return _error(os_error_text(e))
    except sqlite3.Error as e:
        log.debug("command failed", exc_info=True)
        if is_locked(e):
            return _error("a file is in use by another program (still locked after the wait); "
                          "close it there and try again")
        return _error(f"database error: {e}")
    except KeyboardInterrupt:
        _say("tongcheng: interrupted; nothing was written")
        return EXIT_INTERRUPTED
    except Terminated:
        _say("tongcheng: stopped; nothing was written")
        return EXIT_TERMINATED
    return code or 0


def _say(text: str) -> None:
    try:
        print(text, file=sys.stderr)
    except (OSError, ValueError):
        pass


_loading.end()  # loaded: main() handles Ctrl+C and SIGTERM from here on

if __name__ == "__main__":
    sys.exit(main())
