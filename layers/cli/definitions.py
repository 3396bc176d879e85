"""The ``definitions`` commands (the office changes a layer definition, or adds a layer) and ``info`` on a master."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_commands", "cmd_definitions_update", "cmd_definitions_add", "is_geopackage"]


def is_geopackage(path: str | Path) -> bool:
    """Whether *path* is a GeoPackage (its SQLite header says application_id GPKG)."""
    try:
        with open(path, "rb") as f:
            header = f.read(72)
    except OSError:
        return False
    return header.startswith(b"SQLite format 3\x00") and header[68:72] == b"GPKG"


def cmd_definitions_update(args: argparse.Namespace) -> None:
    from layers.sync.definition_changes import update_definition
    from layers.sync.evolution import parse_mappings

    result = update_definition(args.master, args.file, mappings=parse_mappings(args.map or []), user=args.user,
                               dry_run=args.dry_run)
    title = "dry run: nothing written; would change" if result.dry_run else "changed"
    print(f"{title} layer {result.layer} definition version {result.old_version} -> {result.new_version}"
          + ("" if result.dry_run else f"; master {result.master} is at version {result.master_version}"))
    for line in result.changes:
        print(f"  {line}")
    if not result.dry_run:
        print("workspaces receive it with their next `tongcheng update`; packages made under the older "
              "version still apply")


def cmd_definitions_add(args: argparse.Namespace) -> None:
    from layers.sync.definition_changes import add_layer

    result = add_layer(args.master, args.file, user=args.user, dry_run=args.dry_run)
    if result.dry_run:
        print(f"dry run: nothing written; would add layer {result.layer} (definition version {result.new_version}) "
              f"to master {result.master}")
        return
    print(f"added layer {result.layer} (definition version {result.new_version}) to master {result.master}, "
          f"now at version {result.master_version}")
    print("workspaces checked out before receive it with their next `tongcheng update` (with the master's features "
          "of it in their scope); packages made without it still apply")


def add_commands(commands: Any) -> None:
    """Add ``definitions`` to the ``tongcheng`` argument parser's subparsers."""
    p = commands.add_parser("definitions", help="change the master's layer definitions")
    sub = p.add_subparsers(dest="definitions_command", required=True, metavar="ACTION")
    u = sub.add_parser("update", help="record a new version of a layer definition in the master and migrate "
                                      "its layer (workspaces follow with their next update)")
    u.add_argument("master", help="the master: a GeoPackage or postgresql://user@host/db[?schema=name]")
    u.add_argument("file", help="the layer definition (TOML) with a higher `version`")
    u.add_argument("--map", action="append", metavar="OLD=NEW",
                   help="where a removed field's values go (OLD_FIELD=NEW_FIELD) or a removed code's "
                        "(FIELD.OLD_CODE=NEW_CODE); nothing after = drops them; repeat for several")
    u.add_argument("--dry-run", action="store_true", help="check against the master's data, write nothing")
    u.add_argument("--user", help="who changes it (default: login name)")
    u.set_defaults(run=cmd_definitions_update)
    a = sub.add_parser("add", help="add a new layer to the master, from its definition (workspaces receive it with "
                                   "their next update)")
    a.add_argument("master", help="the master: a GeoPackage or postgresql://user@host/db[?schema=name]")
    a.add_argument("file", help="the new layer's definition (TOML), with a name the master does not have")
    a.add_argument("--dry-run", action="store_true", help="check it against the master, write nothing")
    a.add_argument("--user", help="who adds it (default: login name)")
    a.set_defaults(run=cmd_definitions_add)
