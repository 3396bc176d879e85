"""The ``tongcheng gps ...`` commands: import GPS files, match waypoints to facilities."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, TextIO

from layers.cli.console import Commands, display_width, progress_bar

if TYPE_CHECKING:
    from layers.errors import TongchengError
    from layers.gps.importer import ImportSummary

__all__ = ["add_commands", "print_import_summary"]


def add_commands(commands: Commands) -> None:
    """Add the gps command group to the ``tongcheng`` argument parser's subparsers."""
    gps = commands.add_parser("gps", help="import GPS tracks and waypoints; match waypoints to facilities")
    sub = gps.add_subparsers(dest="gps_command", required=True, metavar="GPS_COMMAND")

    p = sub.add_parser(
        "import", help="import GPX, NMEA or CSV files into gps_tracks and gps_waypoints",
        description="Import GPS files into the workspace's gps_tracks and gps_waypoints layers. "
                    "All files are imported in one transaction, each file on its own: a file that "
                    "cannot be read is skipped whole (nothing of it is written) and reported; the "
                    "others are imported. Files imported before (same SHA-256) are skipped, so the "
                    "same command can be run again after fixing a bad file.")
    p.add_argument("workspace")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--tz", help="zone of times written without one, e.g. +08:00 or Asia/Shanghai "
                                "(default: the workspace setting)")
    p.add_argument("--from", dest="datum", choices=("wgs84", "gcj02", "bd09"), default="wgs84",
                   help="datum of the coordinates: wgs84 (GPS receivers, default), gcj02 (AMap, "
                        "Tencent), bd09 (Baidu)")
    p.add_argument("--simplify", type=float, metavar="M", help="simplify tracks (Douglas-Peucker), tolerance in metres")
    p.add_argument("--max-speed", type=float, metavar="KMH", help="drop track points reached faster than this (km/h)")
    p.add_argument("--max-hdop", type=float, metavar="H", help="drop track points with a larger HDOP")
    p.set_defaults(run=cmd_import)

    p = sub.add_parser("match", help="pair waypoints with the nearest facility; write a review list CSV")
    p.add_argument("workspace")
    p.add_argument("--layer", required=True, help="facility layer, e.g. toilets")
    p.add_argument("--max-distance", type=float, default=15.0, metavar="M",
                   help="largest waypoint-facility distance in metres (default 15)")
    p.add_argument("--source", metavar="FILE_NAME_OR_HASH",
                   help="only the waypoints of this imported file (its name, or its SHA-256 or a prefix)")
    p.add_argument("--out", default="review.csv", help="the review list to write (default review.csv)")
    p.set_defaults(run=cmd_match)

    p = sub.add_parser("apply-matches", help="move matched facilities onto their waypoints (rows of a review list)")
    p.add_argument("workspace")
    p.add_argument("review", metavar="REVIEW.csv")
    p.add_argument("--layer", help="facility layer (default: the review list's layer column)")
    p.add_argument("--create-unmatched", action="store_true",
                   help="create a facility from each row without one (named after the waypoint)")
    p.add_argument("--set", dest="assignments", action="append", metavar="FIELD=VALUE", default=[],
                   help="value of a field of created facilities (repeatable), e.g. --set district=锦江区")
    p.set_defaults(run=cmd_apply_matches)


# --- import ---------------------------------------------------------------------------------


def _plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else words or word + 's'}"


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - display_width(text), 1)


def print_import_summary(summary: ImportSummary, file: TextIO | None = None) -> None:
    """Print the table of an ImportSummary, then each file's notes."""
    file = file or sys.stdout
    names = [f.name for f in summary.files]
    width = max([display_width(n) for n in names] + [4]) + 2
    header = (_pad("file", width) + f"{'format':<7}{'tracks':>7}{'routes':>7}{'segments':>9}{'points':>9}"
              f"{'waypoints':>10}{'dropped':>8}  status")
    print(header, file=file)
    print("-" * display_width(header), file=file)
    for f in summary.files:
        status = "imported" if f.imported else "skipped: duplicate" if f.duplicate else "FAILED: nothing written"
        if f.imported:
            counts = (f"{f.tracks:>7}{f.routes:>7}{f.segments:>9}{f.track_points + f.route_points:>9}"
                      f"{f.waypoints:>10}{f.dropped_total:>8}")
        else:
            counts = f"{'-':>7}{'-':>7}{'-':>9}{'-':>9}{'-':>10}{'-':>8}"
        print(_pad(f.name, width) + f"{f.format or '?':<7}" + counts + "  " + status, file=file)
    for f in summary.files:
        notes: list[str] = []
        if f.duplicate:
            notes.append(f.message or "")
        elif f.error:
            notes.append(f.error)
        else:
            if f.dropped:
                notes.append("dropped points: " + ", ".join(f"{reason} {n}" for reason, n in sorted(f.dropped.items())))
            if f.empty_segments:
                notes.append(_plural(f.empty_segments, "empty segment") + " (counted, not drawn)")
            if f.lineless_tracks:
                notes.append(_plural(f.lineless_tracks, "track or route", "tracks or routes")
                             + " without any line: not stored")
            if f.lineless_points:
                notes.append(_plural(f.lineless_points, "point") + " in segments without a line: not drawn")
            notes.append(f.time_note or "times: all with a zone")
            if f.bad_times:
                notes.append(f"{f.bad_times} times could not be read (stored as missing)")
            notes.extend(f.messages[:5])
            if len(f.messages) > 5:
                notes.append(f"... and {len(f.messages) - 5} more messages")
        print(f"\n{f.name}:", file=file)
        for note in notes:
            print(f"  {note}", file=file)


def cmd_import(args: argparse.Namespace) -> int:
    from layers.gps.importer import import_gps
    from layers.workspace.store import Workspace

    with Workspace.open(args.workspace) as workspace:
        total = sum(os.path.getsize(p) for p in args.files if os.path.isfile(p))
        try:
            with progress_bar(total, "gps import", unit="B", unit_scale=True) as advance:
                summary = import_gps(workspace, args.files, tz=args.tz, datum=args.datum,
                                     simplify_m=args.simplify, max_speed_kmh=args.max_speed,
                                     max_hdop=args.max_hdop, progress=advance)
        except ValueError as exc:  # a bad --tz
            raise _error(f"--tz {args.tz}: {exc}") from None
    print_import_summary(summary)
    for f in summary.failed:
        print(f"tongcheng: error: {f.error}", file=sys.stderr)
    return 1 if summary.failed else 0


def _error(message: str) -> TongchengError:
    from layers.errors import TongchengError

    return TongchengError(message)


# --- matching ---------------------------------------------------------------------------------


def cmd_match(args: argparse.Namespace) -> None:
    from layers.gps.matching import match_waypoints, write_review
    from layers.workspace.store import Workspace

    with Workspace.open(args.workspace) as workspace:
        matches = match_waypoints(workspace, args.layer, args.max_distance, source=args.source)
    try:
        write_review(matches, args.out)
    except OSError as exc:
        raise _error(f"{args.out}: cannot be written ({exc.strerror})") from None
    matched = [m for m in matches if m.facility_uuid]
    print(f"{len(matches)} waypoints, {len(matched)} matched to {args.layer} within {args.max_distance:g} m, "
          f"{len(matches) - len(matched)} unmatched")
    if matched:
        distances = sorted(m.distance_m for m in matched if m.distance_m is not None)
        print(f"distances: median {distances[len(distances) // 2]:.1f} m, largest {distances[-1]:.1f} m")
    print(f"review list: {args.out} (delete the rows not to apply, then run "
          f"tongcheng gps apply-matches {args.workspace} {args.out})")


def cmd_apply_matches(args: argparse.Namespace) -> None:
    from layers.gps.matching import apply_matches, parse_assignments, read_review
    from layers.workspace.store import Workspace

    values = parse_assignments(args.assignments)
    matches = read_review(args.review)
    with Workspace.open(args.workspace) as workspace:
        summary = apply_matches(workspace, matches, layer=args.layer, create_unmatched=args.create_unmatched,
                                values=values, where=args.review)
    print(f"{len(summary.moved)} facilities moved onto their waypoints"
          + (f", {summary.unchanged} already there" if summary.unchanged else ""))
    if args.create_unmatched:
        print(f"{len(summary.created)} facilities created from unmatched waypoints"
              + (f", {summary.already_created} created before (skipped)" if summary.already_created else ""))
    elif summary.unmatched:
        print(f"{summary.unmatched} unmatched waypoints left alone (--create-unmatched creates facilities)")
