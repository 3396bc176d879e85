"""The component standard on the command line: ``tongcheng codes``, and the numbering lines of other commands.

``init``/``demo`` take ``--district`` (and ``--serials`` for a workspace),
``checkout`` takes ``--code-block``, ``info`` and ``init`` say how a workspace
numbers its components, ``apply`` lists the codes the office gave, ``update``
the blocks it added and the district areas it renewed; the
functions here do that for ``layers/cli/main.py`` and ``layers/cli/sync.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layers.cli.console import Commands

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

__all__ = ["add_commands", "add_creation_options", "numbering_options", "start_numbering", "print_numbering",
           "print_renumbered", "print_code_update", "cmd_codes"]


def add_creation_options(parser: argparse.ArgumentParser) -> None:
    """``--district`` and ``--serials`` of ``init`` and ``demo``."""
    parser.add_argument("--district", metavar="CODE",
                        help="6-digit district code (GB/T 2260, e.g. 510104) the component codes are numbered in; "
                             "a workspace then numbers its components itself (standalone); without it, no "
                             "component codes are given")
    parser.add_argument("--serials", metavar="FIRST-LAST", default="1-999999",
                        help="standalone workspace: the serials of each component class it may give "
                             "(default 1-999999; give two standalone workspaces of one district distinct ranges)")


def numbering_options(args: argparse.Namespace) -> tuple[str, tuple[int, int]] | None:
    """``--district`` and ``--serials`` checked before anything is made (WorkspaceError naming the option)."""
    from layers.errors import WorkspaceError
    from layers.schema.components import check_district
    from layers.workspace.numbering import parse_serial_range

    if not getattr(args, "district", None):
        return None
    try:
        district = check_district(args.district)
    except ValueError as exc:
        raise WorkspaceError(f"--district: {exc}") from None
    try:
        return district, parse_serial_range(args.serials)
    except ValueError as exc:
        raise WorkspaceError(f"--serials: {exc}") from None


def start_numbering(workspace: Workspace, options: tuple[str, tuple[int, int]] | None) -> None:
    """Standalone numbering of a workspace made by ``init``/``demo`` with ``--district`` (see numbering_options)."""
    from layers.workspace.numbering import start_standalone

    if options is not None:
        start_standalone(workspace, *options)


def numbering_lines(summary: Mapping[str, Any], checked_out: bool = False) -> list[str]:
    """What a workspace's numbering (``layers.workspace.numbering.numbering_summary``) says, line by line."""
    pending = {k: v for k, v in summary["pending"].items() if v}
    if summary["numbering"] is None and checked_out:
        lines = ["component codes: this checkout has no block of codes (its master numbered nothing when it was "
                 "made): new features wait for the office's code, given when it applies the changes"]
    elif summary["numbering"] is None:
        lines = ["component codes: none given here (no district code; a checkout takes the master's, "
                 "init takes --district)"]
    elif summary["numbering"] == "standalone":
        first, last = summary["range"]
        lines = [f"component codes: standalone, district {summary['district']}, serials {first:06d}-{last:06d} per "
                 "class (this workspace's own range: no master coordinates it)"]
    else:
        lines = [f"component codes: district {summary['district']}, from the blocks the master reserved at checkout"]
    areas = summary.get("district_areas") or []
    if areas and summary["numbering"] is not None:
        lines[0] += (f"; a new feature is numbered in the district it lies in ({len(areas)} district areas: "
                     f"{', '.join(areas)}), else in {summary['district']}")
    by_district = summary.get("districts") or {}
    rows = ([(f"district {d} class {c}", n) for d, classes in sorted(by_district.items())
             for c, n in sorted(classes.items())] if areas or len(by_district) > 1 else
            [(f"class {c}", n) for c, n in sorted(summary["classes"].items())])
    for name, c in rows:
        lines.append(f"  {name}: {c['given']} of {c['serials']} serials given, {c['left']} left"
                     + ("  (used up: new features wait for the office's code)" if not c["left"]
                        and summary["numbering"] == "checkout" else ""))
    for layer, n in pending.items():
        lines.append(f"  {layer}: {n} features without a component code"
                     + (" (the office gives them codes when it applies the changes)"
                        if summary["numbering"] == "checkout" or checked_out else ""))
    return lines


def print_numbering(workspace: Workspace) -> None:
    """Print how a workspace numbers its components (after ``tongcheng info`` and ``init``)."""
    from layers.sync.checkout import checked_out_master_id
    from layers.workspace.numbering import numbering_summary

    if not any(d.component for d in workspace.definitions.values()):
        return
    print()
    for line in numbering_lines(numbering_summary(workspace), checked_out_master_id(workspace) is not None):
        print(line)


def print_renumbered(renumbered: Sequence[Mapping[str, Any]], limit: int = 20) -> None:
    """The codes apply gave or kept, one line each (the report lists them all)."""
    for r in renumbered[:limit]:
        before = r["from"] or "no code"
        after = r["to"] or "the master's code kept"
        print(f"renumbered  {r['layer']} {r['uuid']}: {before} -> {after} ({r['reason']})", file=sys.stderr)
    if len(renumbered) > limit:
        print(f"... and {len(renumbered) - limit} more codes given by the office (see the report)", file=sys.stderr)


def print_code_update(blocks: Sequence[Mapping[str, Any]], districts: Mapping[str, Sequence[str]],
                      note: str | None, dry_run: bool) -> None:
    """What an update did to a workspace's component codes: new blocks, renewed district areas, one line each;
    why no block was reserved (standard error)."""
    for b in blocks:
        if b["first"] is None:
            print(f"component codes: would reserve {b['serials']} serials of class {b['component_class']} in "
                  f"district {b['district']} (dry run: not reserved)")
        else:
            print(f"component codes: new block {b['district']} {b['component_class']} {b['first']:06d}-"
                  f"{b['last']:06d} ({b['serials']} serials)")
    if districts:
        parts = "; ".join(f"{what} {' '.join(codes)}" for what, codes in districts.items())
        print(f"district areas: {parts} (new features are numbered by them{', dry run: not kept' if dry_run else ''})")
    if note:
        print(f"component codes: no new block: {note}", file=sys.stderr)


def cmd_codes(args: argparse.Namespace) -> None:
    """``tongcheng codes PATH``: how a workspace or master numbers its components; set a master's district."""
    from layers.postgres.urls import is_postgres
    from layers.workspace.store import Workspace

    if is_postgres(args.path) or Path(args.path).suffix.lower() == ".gpkg":
        _master_codes(args.path, args)
        return
    path = Path(args.path)
    if args.district or args.assign_missing:
        from layers.errors import WorkspaceError

        raise WorkspaceError(f"{path}: --district and --assign-missing are for a master (a workspace takes its "
                             "district at init, or from the master at checkout)")
    from layers.sync.checkout import checked_out_master_id
    from layers.workspace.numbering import numbering_summary

    with Workspace.open(path) as ws:
        summary = numbering_summary(ws)
        checked_out = checked_out_master_id(ws) is not None
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    for line in numbering_lines(summary, checked_out):
        print(line)


def _master_codes(path: str, args: argparse.Namespace) -> None:
    """``tongcheng codes MASTER`` (a GeoPackage or ``postgresql://``)."""
    from layers.sync.codes import CodeBook
    from layers.sync.store import open_master
    from layers.workspace.identity import login_name

    changed: dict[str, int] = {}
    if args.district or args.assign_missing:
        with open_master(path, write=True) as store:
            book = CodeBook(store)

            def work() -> dict[str, int]:
                if args.district:
                    book.set_district(args.district)
                return book.assign_missing(login_name()) if args.assign_missing else {}

            changed = store.run(work)
    with open_master(path) as store:
        book = CodeBook(store)
        district, blocks, missing = book.district(), book.blocks(), book.missing()
        areas = book.district_map().codes if district else []
    if args.json:
        print(json.dumps({"district": district, "district_areas": areas, "blocks": blocks, "assigned": changed,
                          "without_code": missing}, ensure_ascii=False, indent=2))
        return
    print(f"component codes of master {path}: " + (
        (f"district {district}" if not areas else f"district {district} and its {len(areas)} district areas "
         f"({', '.join(areas)}): a feature is numbered in the district it lies in, in {district} where no area "
         "holds it") if district else "no district code (none given; set one with --district)"))
    for layer, n in changed.items():
        print(f"  {layer}: gave {n} features their codes")
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for block in blocks:
        pairs.setdefault((block["district"] or "", block["component_class"]), []).append(block)
    for (code, component_class), rows in sorted(pairs.items()):
        checkouts = sum(1 for r in rows if r["purpose"] == "checkout")
        print(f"  district {code} class {component_class}: serials up to "
              f"{max(r['last_serial'] for r in rows):06d} handed out ({checkouts} checkout blocks)")
    for layer, n in missing.items():
        if n:
            print(f"  {layer}: {n} features without a component code (--assign-missing gives them codes)")


def add_commands(commands: Commands) -> None:
    """Add ``tongcheng codes``."""
    p = commands.add_parser(
        "codes", help="show how a workspace or master numbers its component codes (部件标识码)",
        description="A workspace: its district, the blocks of serials it draws from (checkout) or its own "
                    "range (standalone), what is left, and the features waiting for a code. A master: its "
                    "district and the serials handed out per class; --district sets the district code of a "
                    "master that has none, --assign-missing gives every feature without a code the office's "
                    "next one.")
    p.add_argument("path", help="a workspace (.sqlite) or a master (.gpkg)")
    p.add_argument("--district", metavar="CODE", help="master: the 6-digit district code to number in (once)")
    p.add_argument("--assign-missing", action="store_true",
                   help="master: give the features without a component code their codes")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=cmd_codes)
