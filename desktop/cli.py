"""The ``tongcheng editor [WORKSPACE]`` command (registered through the ``tongcheng.commands`` entry point).

Qt is imported only when the command runs, so the other commands start
without it.
"""

from __future__ import annotations

__all__ = ["add_commands", "cmd_editor"]


def cmd_editor(args):
    from .app import main

    return main(args.workspace, language=args.language)


def add_commands(commands):
    """Add the ``editor`` command to the ``tongcheng`` argparse subparsers."""
    p = commands.add_parser("editor", help="open the map editor (the demo workspace when none is given)")
    p.add_argument("workspace", nargs="?", help="the workspace file to open (default: the demo workspace, "
                                                "made on first start in your data folder)")
    p.add_argument("--language", choices=["zh_CN", "en"],
                   help="interface language (default: the last one chosen, else the system's)")
    p.set_defaults(run=cmd_editor)
