"""The ``tongcheng gps ...`` commands: import GPS files, match waypoints to facilities."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from typing import TYPE_CHECKING, TextIO

from layers.cli.console import EXIT_ERROR, EXIT_OK, EXIT_SKIPPED, Commands, display_width, progress_bar

if TYPE_CHECKING:
    from layers.errors import TongchengError
    from layers.gps.average import AveragedPosition
    from layers.gps.summary import FileSummary, ImportSummary

__all__ = ["add_commands", "print_import_summary", "import_exit_code"]

_IMPORT_EPILOG = (
    "exit codes: 0 every file imported whole (or imported before); 3 done, but something was skipped "
    "(points or waypoints outside the workspace CRS's area or not transformable, fixes or sentences the "
    "reader could not use, or a file that gave nothing): the summary says what and why; 1 a file could "
    "not be read (nothing of it written; the others are imported) or a usage error.")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


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
                    "same command can be run again after fixing a bad file. Points outside the area of "
                    "use of the workspace CRS are skipped and reported; fixes of a receiver held still "
                    "(all at one place) are kept as one stationary waypoint in gps_waypoints and every fix as a "
                    "point of gps_track_points.",
        epilog=_IMPORT_EPILOG)
    p.add_argument("workspace")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--tz", help="zone of times written without one, e.g. +08:00 or Asia/Shanghai "
                                "(default: the workspace setting)")
    p.add_argument("--from", dest="datum", choices=("wgs84", "gcj02", "bd09"), default="wgs84",
                   help="datum of the coordinates: wgs84 (GPS receivers, default), gcj02 (AMap, "
                        "Tencent), bd09 (Baidu)")
    p.add_argument("--date", type=_date, metavar="YYYY-MM-DD",
                   help="UTC date of the first fix of NMEA logs that date none of their fixes (GGA "
                        "without RMC or ZDA); NMEA times are UTC, so in China before 08:00 the local "
                        "date is the next day")
    p.add_argument("--simplify", type=float, metavar="M", help="simplify tracks (Douglas-Peucker), tolerance in metres")
    p.add_argument("--max-speed", type=float, metavar="KMH", help="drop track points reached faster than this (km/h)")
    p.add_argument("--max-hdop", type=float, metavar="H", help="drop track points with a larger HDOP")
    p.set_defaults(run=cmd_import)

    p = sub.add_parser(
        "average", help="the averaged position of a receiver held still over one spot, with its spread",
        description="Average the fixes (track points) of a GPS file recorded with the receiver held "
                    "still, e.g. over a manhole cover, or (--session) of a stationary session already "
                    "imported into the workspace (its fixes in gps_track_points): the number of fixes, the "
                    "mean position in the target CRS and in WGS84, and the spread of the fixes in metres "
                    "(2D RMS, the estimated accuracy; CEP50; farthest). Fixes outside the CRS's area of use "
                    "are left out and counted.",
        epilog="exit codes: 0 averaged; 1 the file cannot be read, the session is unknown, or no fix is usable.")
    p.add_argument("file", metavar="FILE", nargs="?", help="the GPS file (not with --session)")
    p.add_argument("--session", metavar="KEY",
                   help="with --workspace: average the kept fixes of this imported session (its waypoint's "
                        "uuid or first characters, its name or its file name; tongcheng gps sessions lists them)")
    p.add_argument("--workspace", metavar="WS", help="take the CRS of this workspace")
    p.add_argument("--layer", help="with --workspace: the layer the position is for (its CRS)")
    p.add_argument("--crs", help="target CRS, e.g. EPSG:4544 (default: the workspace's, else EPSG:4544)")
    p.add_argument("--from", dest="datum", choices=("wgs84", "gcj02", "bd09"), default="wgs84",
                   help="datum of the coordinates (default wgs84)")
    p.add_argument("--date", type=_date, metavar="YYYY-MM-DD",
                   help="UTC date of the first fix of an NMEA log without dates (for the times shown)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(run=cmd_average)

    p = sub.add_parser("sessions", help="list the stationary sessions whose fixes the workspace keeps",
                       description="List the stationary sessions (a receiver held still over one spot) imported "
                                   "into the workspace: their waypoint uuid, name, time, number of fixes kept in "
                                   "gps_track_points and file. tongcheng gps average --workspace WS --session KEY "
                                   "averages one.")
    p.add_argument("workspace")
    p.set_defaults(run=cmd_sessions)

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


def _status(f: FileSummary) -> str:
    if f.error is not None:
        return "FAILED: nothing written"
    if f.duplicate:
        return "skipped: duplicate"
    if f.nothing_kept:
        return "NOTHING KEPT"
    return "partly imported" if f.skipped_total else "imported"


def _notes(f: FileSummary) -> list[str]:
    if f.duplicate:
        return [f.message or ""]
    if f.error:
        return [f.error]
    notes: list[str] = []
    if f.nothing_kept_reason:
        notes.append(f.nothing_kept_reason)
    if f.dropped:
        notes.append("dropped points: " + ", ".join(f"{reason} {n}" for reason, n in sorted(f.dropped.items())))
    skipped_points, skipped_waypoints = sum(f.skipped_points.values()), sum(f.skipped_waypoints.values())
    if skipped_points or skipped_waypoints:
        notes.append(f"skipped: {_plural(skipped_points, 'point')}, {_plural(skipped_waypoints, 'waypoint')} "
                     "outside the workspace CRS's area of use or not transformable (details below)")
    if f.checksum_errors:
        notes.append(_plural(f.checksum_errors, "sentence") + " with a wrong checksum: skipped")
    if f.stationary:
        where = (f"and {_plural(f.track_points_kept, 'point')} in gps_track_points (tongcheng gps sessions lists "
                 "them, gps average --session averages them)" if f.track_points_kept else
                 "(this workspace has no gps_track_points layer: the fixes themselves were not kept; "
                 "tongcheng gps average FILE averages them)")
        notes.append(f"{_plural(f.stationary_fixes, 'fix', 'fixes')} of a receiver held still: kept as "
                     f"{_plural(f.stationary, 'stationary waypoint')} in gps_waypoints {where}")
    if f.empty_segments:
        notes.append(_plural(f.empty_segments, "empty segment") + " (counted, not drawn)")
    lineless = f.lineless_tracks
    if lineless:
        notes.append(_plural(lineless, "track or route", "tracks or routes") + " without any line: not stored"
                     + (" as tracks" if f.stationary else ""))
    if f.lineless_points:
        notes.append(_plural(f.lineless_points, "point") + " in segments without a line: not drawn")
    if f.date_note:
        notes.append(f"dates: {f.date_note}")
    notes.append(f.time_note or "times: all with a zone")
    if f.bad_times:
        notes.append(f"{f.bad_times} times could not be read (stored as missing)")
    shown = [m for m in f.messages if m != f.date_note and not m.endswith(f": {f.date_note}")]
    notes.extend(shown[:8])
    if len(shown) > 8:
        notes.append(f"... and {len(shown) - 8} more messages (-v shows the log)")
    return notes


def print_import_summary(summary: ImportSummary, file: TextIO | None = None) -> None:
    """Print the table of an ImportSummary, then each file's notes, then one line over all files."""
    file = file or sys.stdout
    names = [f.name for f in summary.files]
    width = max([display_width(n) for n in names] + [4]) + 2
    header = (_pad("file", width) + f"{'format':<7}{'tracks':>7}{'routes':>7}{'segments':>9}{'points':>9}"
              f"{'waypoints':>10}{'dropped':>8}  status")
    print(header, file=file)
    print("-" * display_width(header), file=file)
    for f in summary.files:
        if f.imported:
            counts = (f"{f.tracks:>7}{f.routes:>7}{f.segments:>9}{f.track_points + f.route_points:>9}"
                      f"{f.waypoints:>10}{f.dropped_total:>8}")
        else:
            counts = f"{'-':>7}{'-':>7}{'-':>9}{'-':>9}{'-':>10}{'-':>8}"
        print(_pad(f.name, width) + f"{f.format or '?':<7}" + counts + "  " + _status(f), file=file)
    for f in summary.files:
        print(f"\n{f.name}:", file=file)
        for note in _notes(f):
            print(f"  {note}", file=file)
    whole = sum(1 for f in summary.imported if not f.nothing_kept and not f.skipped_total)
    partly = sum(1 for f in summary.imported if not f.nothing_kept and f.skipped_total)
    empty = sum(1 for f in summary.imported if f.nothing_kept)
    print(f"\n{whole} imported whole, {partly} with something skipped, {empty} gave nothing, "
          f"{len(summary.duplicates)} imported before, {len(summary.failed)} failed", file=file)


def import_exit_code(summary: ImportSummary) -> int:
    """1 when a file failed, else 3 when something was skipped or a file gave nothing, else 0."""
    if summary.failed:
        return EXIT_ERROR
    return EXIT_SKIPPED if summary.skipped else EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from layers.gps.importer import import_gps
    from layers.gps.timeparse import parse_tz
    from layers.workspace.store import Workspace

    if args.tz is not None:
        try:
            parse_tz(args.tz)
        except ValueError as exc:
            raise _error(f"--tz {args.tz}: {exc}") from None
    with Workspace.open(args.workspace) as workspace:
        total = sum(os.path.getsize(p) for p in args.files if os.path.isfile(p))
        with progress_bar(total, "gps import", unit="B", unit_scale=True) as advance:
            summary = import_gps(workspace, args.files, tz=args.tz, datum=args.datum, date=args.date,
                                 simplify_m=args.simplify, max_speed_kmh=args.max_speed,
                                 max_hdop=args.max_hdop, progress=advance)
    print_import_summary(summary)
    for f in summary.failed:
        print(f"tongcheng: error: {f.error}", file=sys.stderr)
    for f in summary.imported:
        if f.nothing_kept_reason:
            print(f"tongcheng: warning: {f.nothing_kept_reason}", file=sys.stderr)
    return import_exit_code(summary)


# --- average ----------------------------------------------------------------------------------


def cmd_average(args: argparse.Namespace) -> int:
    from layers.gps.average import average_position

    crs = args.crs
    if args.layer and not args.workspace:
        raise _error("--layer needs --workspace (the layer's workspace)")
    if args.session is not None:
        return _average_session(args)
    if args.file is None:
        raise _error("gps average: give the GPS FILE, or --workspace WS --session KEY")
    if args.workspace:
        from layers.workspace.store import Workspace

        with Workspace.open(args.workspace) as workspace:
            if args.layer:
                workspace.layer(args.layer)  # an unknown layer is an error naming it
            if crs and crs != workspace.crs:
                raise _error(f"--crs {crs}: the workspace {args.workspace} is in {workspace.crs}")
            crs = workspace.crs
    if not crs:
        from layers.workspace.store import DEFAULT_CRS

        crs = DEFAULT_CRS
    try:
        import pyproj

        pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        raise _error(f"--crs {crs}: unknown CRS") from None
    result = average_position(args.file, crs, datum=args.datum, date=args.date)
    return _print_average(result, args.file, args.json)


def _average_session(args: argparse.Namespace) -> int:
    from layers.gps.average import average_session
    from layers.workspace.store import Workspace

    if args.file is not None:
        raise _error("gps average: give either a FILE or --session, not both")
    if not args.workspace:
        raise _error("--session needs --workspace (the workspace that keeps the session's fixes)")
    with Workspace.open(args.workspace) as workspace:
        if args.layer:
            workspace.layer(args.layer)
        if args.crs and args.crs != workspace.crs:
            raise _error(f"--crs {args.crs}: the workspace {args.workspace} is in {workspace.crs}")
        result = average_session(workspace, args.session)
    return _print_average(result, result.path or args.session, args.json)


def _print_average(result: AveragedPosition, name: str, as_json: bool) -> int:
    crs = result.crs
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return EXIT_OK
    skipped = f" ({result.skipped} left out: outside the area of use of {crs})" if result.skipped else ""
    print(f"{name}: {_plural(result.fixes, 'fix', 'fixes')} averaged{skipped}")
    print(f"position   x {result.x:.3f}  y {result.y:.3f}  ({crs})")
    print(f"           lat {result.lat:.8f}  lon {result.lon:.8f}  (WGS84)")
    if result.elevation is not None:
        print(f"elevation  {result.elevation:.2f} m")
    print(f"accuracy   {result.accuracy_m:.2f} m (2D RMS of the fixes), CEP50 {result.cep_m:.2f} m, "
          f"farthest fix {result.max_m:.2f} m")
    if result.start is not None and result.end is not None:
        seconds = (result.end - result.start).total_seconds()
        print(f"time       {result.start:%Y-%m-%d %H:%M:%S} to {result.end:%H:%M:%S} UTC ({seconds:.0f} s)")
    return EXIT_OK


def cmd_sessions(args: argparse.Namespace) -> int:
    from layers.gps.trackpoints import TRACK_POINTS_LAYER, stored_sessions
    from layers.workspace.store import Workspace

    with Workspace.open(args.workspace) as workspace:
        if TRACK_POINTS_LAYER not in workspace.definitions:
            raise _error(f"{args.workspace}: no {TRACK_POINTS_LAYER} layer (made by an older Tongcheng): "
                         "it keeps no fixes of stationary sessions")
        sessions = stored_sessions(workspace)
    for session in sessions:
        print(f"{session.uuid}  {session.label()}")
    print(f"{_plural(len(sessions), 'stationary session')} in {args.workspace}")
    return EXIT_OK


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
