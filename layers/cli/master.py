"""The master commands: ``master copy``, ``master grant``, ``areas``, ``log``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from layers.cli.console import Commands, progress_bar

__all__ = ["add_commands"]


def cmd_copy(args: argparse.Namespace) -> None:
    from layers.sync.copy import copy_master

    with progress_bar(None, "copy") as advance:
        info = copy_master(args.source, args.dest, progress=lambda done, total: advance(done))
    print(f"copied master {info.master_id} version {info.version} to {args.dest}")


def cmd_grant(args: argparse.Namespace) -> None:
    from layers.errors import SyncError
    from layers.postgres.connection import connect, parse_location
    from layers.postgres.urls import is_postgres
    from layers.sync.postgis.security import grant_area
    from layers.sync.store import open_master

    if not is_postgres(args.master):
        raise SyncError(f"{args.master}: only a PostGIS master has database accounts (a GeoPackage master keeps "
                        "packages in their scope at apply)")
    from layers.sync.codes import CodeBook

    with open_master(args.master, write=True) as store:
        layers = list(store.info.layers)
        book = CodeBook(store)
        if book.tables:  # a master made before: its code tables made or brought up first, for the role to use
            store.run(book.ensure_tables)
    with connect(parse_location(args.master), autocommit=True) as con, con.transaction():
        name = grant_area(con, args.role, args.area, layers)
    print(f"role {args.role} may now write the features of {args.area} ({name}) in {args.master}")


def cmd_areas(args: argparse.Namespace) -> None:
    from layers.sync.areas import add_areas
    from layers.sync.master import AREAS_TABLE
    from layers.sync.store import open_master

    if args.add:
        n = add_areas(args.master, Path(args.add))
        print(f"added or replaced {n} areas in {args.master}")
    with open_master(args.master) as store:
        for a in store.table_rows(AREAS_TABLE):
            print(f"{a['level']:<10}{a['code']:<14}{a['name'] or '':<12}{a['parent'] or ''}")


def cmd_log(args: argparse.Namespace) -> None:
    from layers.sync.history import changes
    from layers.sync.store import open_master

    with open_master(args.master) as store:
        found = changes(store, uuid=args.uuid, since=args.since)
    for c in found:
        print(f"version {c.version}  {c.applied_at or '?'}  by {c.applied_by or '?'} (editor {c.editor or '?'}), "
              f"package {c.package_uuid}")
        print(f"  {c.op:<7}{c.layer} {c.uuid}")
        for name, old, new in c.fields():
            print(f"    {name}: {_shown(old)} -> {_shown(new)}")
    if not found:
        print("no changes recorded" + (f" for {args.uuid}" if args.uuid else ""))


def _shown(value: object, width: int = 60) -> str:
    text = "null" if value is None else json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def add_commands(commands: Commands) -> None:
    """Add ``master``, ``areas`` and ``log`` to the ``tongcheng`` argument parser's subparsers."""
    location = "a master GeoPackage or postgresql://user@host/db[?schema=name]"
    p = commands.add_parser("master", help="move a master between GeoPackage and PostGIS; database accounts")
    sub = p.add_subparsers(dest="master_command", required=True, metavar="ACTION")
    c = sub.add_parser("copy", help="copy a master whole (features, ids, audit, ledger, history, areas) between "
                                    "a GeoPackage and a PostGIS database, either way")
    c.add_argument("source", help=location)
    c.add_argument("dest", help="a new .gpkg, or a postgresql:// database (or ?schema=) without a master")
    c.set_defaults(run=cmd_copy)
    g = sub.add_parser("grant", help="PostGIS: let a database role write only the features of one area "
                                     "(row-level security)")
    g.add_argument("master", help="postgresql://owner@host/db[?schema=name]")
    g.add_argument("role", help="an existing database role (CREATE ROLE ... LOGIN)")
    g.add_argument("area", help="an area code (tongcheng areas MASTER lists them)")
    g.set_defaults(run=cmd_grant)

    p = commands.add_parser("areas", help="list a master's administrative areas (city, district, street), "
                                          "or add them from a file")
    p.add_argument("master", help=location)
    p.add_argument("--add", metavar="FILE", help="polygons with code, level (city/district/street), name, parent "
                                                 "(GeoJSON, GeoPackage, Shapefile) in the master's CRS or with one")
    p.set_defaults(run=cmd_areas)

    p = commands.add_parser("log", help="what each apply changed: version, who, when, old and new values")
    p.add_argument("master", help=location)
    p.add_argument("--uuid", help="the changes of one feature")
    p.add_argument("--since", metavar="DATE", help="applied on or after this date (YYYY-MM-DD)")
    p.set_defaults(run=cmd_log)
