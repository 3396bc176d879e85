"""The sync and exchange commands: checkout, changes, apply, update, merge, export.

Exit codes of ``apply``, ``update`` and ``merge``:

* 0 -- done, no conflict;
* 2 -- done, with conflicts: resolved by the policy (the losing values are in
  the report), or left unresolved under ``--policy manual`` (the office's
  value stays); with ``--dry-run``: conflicts would occur; or done, with
  features rejected because they break their layer's rules (listed in the
  report, not written);
* 1 -- error: nothing was written (one line on standard error).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layers.cli.console import EXIT_CONFLICTS, EXIT_OK, Commands
from layers.errors import SyncError

if TYPE_CHECKING:
    from layers.sync.merge import Conflict, LayerCounts

__all__ = ["add_commands", "cmd_init_master"]

_EPILOG = ("exit status: 0 clean, 2 conflicts (resolved by the policy and listed in the report, "
           "or unresolved with --policy manual) or features rejected for breaking their layer's rules "
           "(listed in the report, not written), 1 error (nothing written)")


def _layers(text: str | None) -> list[str] | None:
    return [name.strip() for name in text.split(",") if name.strip()] if text else None


def _merge_options(parser: argparse.ArgumentParser) -> None:
    """The options apply and update share: policy, report, dry run, resolutions."""
    from layers.sync.resolutions import POLICIES

    parser.add_argument("--policy", choices=POLICIES, default="office",
                        help="who wins a conflict: office, field, newest (the later edit), or manual "
                             "(office value kept, conflict left unresolved); default office")
    parser.add_argument("--report", help="write counts and every conflict to this JSON file")
    parser.add_argument("--dry-run", action="store_true", help="print the counts; write nothing")
    parser.add_argument("--resolutions", metavar="FILE.json",
                        help="a choice per conflict: the report of a --dry-run with each \"choice\" set to "
                             "\"office\", \"field\" or {\"value\": ...}; refused if it does not match the "
                             "conflicts")


def _print_counts(layers: Mapping[str, LayerCounts], title: str) -> None:
    header = f"{'layer':<18}{'inserts':>9}{'updates':>9}{'deletes':>9}{'conflicts':>11}"
    print(title)
    print(header)
    print("-" * len(header))
    for name, c in layers.items():
        print(f"{name:<18}{c.inserts:>9}{c.updates:>9}{c.deletes:>9}{c.conflicts:>11}")


def _outcome(conflict: Conflict, shown: Mapping[str, object]) -> str:
    """What a conflict ended as: the side kept, or the value chosen in a resolutions file."""
    if isinstance(conflict.choice, dict):
        return f"value {_short(shown['kept'])} (chosen)"
    return conflict.resolution_text


def _print_conflicts(conflicts: Sequence[Conflict], limit: int = 20) -> None:
    for c in conflicts[:limit]:
        shown = c.to_dict()
        print(f"conflict  {c.layer} {c.uuid} {c.field} ({c.kind}): "
              f"office {_short(shown['office_value'])} [{c.office_editor or '?'}], "
              f"field {_short(shown['field_value'])} [{c.field_editor or '?'}] -> {_outcome(c, shown)}",
              file=sys.stderr)
    if len(conflicts) > limit:
        print(f"... and {len(conflicts) - limit} more conflicts (see the report)", file=sys.stderr)


def _print_rejected(rejected: Sequence[Mapping[str, str]], limit: int = 20) -> None:
    for r in rejected[:limit]:
        print(f"rejected  {r['layer']} {r['uuid']}: {r['reason']} (not written)", file=sys.stderr)
    if len(rejected) > limit:
        print(f"... and {len(rejected) - limit} more rejected features (see the report)", file=sys.stderr)


def _short(value: object, width: int = 40) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def cmd_init_master(args: argparse.Namespace, demo: bool = False) -> None:
    """``tongcheng init/demo MASTER.gpkg|postgresql://...``: create the office master (empty or the demo district)."""
    from layers.cli.console import progress_bar
    from layers.postgres.urls import is_postgres
    from layers.sync.master import create_master

    with progress_bar(None, "master") as advance:
        if is_postgres(args.workspace):
            from layers.sync.postgis.create import create_postgis_master

            create_postgis_master(args.workspace, args.crs, args.user, demo=demo, seed=getattr(args, "seed", 2026),
                                  progress=lambda done, total: advance(done), district=getattr(args, "district", None))
        else:
            create_master(args.workspace, args.crs, args.user, demo=demo, seed=getattr(args, "seed", 2026),
                          progress=lambda done, total: advance(done), district=getattr(args, "district", None))
    print_master_info(args.workspace)


def print_master_info(master: str) -> None:
    """``tongcheng info MASTER``: id, version, CRS, packages applied, areas, layers (counts, definition versions)."""
    from layers.sync.master import AREAS_TABLE, LEDGER_TABLE
    from layers.sync.store import open_master

    with open_master(master) as store:
        info = store.info
        print(f"master      {store.location}")
        print(f"id          {info.master_id}")
        print(f"version     {info.version}")
        print(f"crs         {info.crs}")
        print(f"packages    {len(store.table_rows(LEDGER_TABLE))} applied")
        areas = store.table_rows(AREAS_TABLE)
        if areas:
            levels: dict[str, int] = {}
            for a in areas:
                levels[a["level"]] = levels.get(a["level"], 0) + 1
            print("areas       " + ", ".join(f"{n} {level}" for level, n in levels.items()))
        print(f"{'layer':<18}{'definition':>10}{'features':>10}  title")
        for name, definition in info.definitions.items():
            count = f"{store.count(definition):>10}" if name in info.layers else f"{'survey':>10}"
            print(f"{name:<18}{'v' + str(definition.version):>10}{count}  "
                  f"{definition.title('zh_CN')} / {definition.title('en')}")


def cmd_checkout(args: argparse.Namespace) -> None:
    from layers.cli.console import progress_bar
    from layers.sync.checkout import checkout, checkout_info
    from layers.workspace.store import Workspace

    with progress_bar(None, "checkout") as advance:
        counts = checkout(args.master, args.workspace, user=args.user, bbox=args.bbox,
                          layers=_layers(args.layers), progress=lambda done, total: advance(done),
                          scope=args.scope, code_block=args.code_block)
    with Workspace.open(args.workspace) as ws:
        info = checkout_info(ws)
    print(f"checked out {args.workspace} from master {info['master_id']} version {info['version']}"
          + (f", scope {info['scope']}" if info.get("scope") else ""))
    for name, n in counts.items():
        print(f"{name:<18}{n:>9}")
    from layers.cli.standard import print_numbering

    with Workspace.open(args.workspace) as ws:
        print_numbering(ws)


def cmd_changes(args: argparse.Namespace) -> int:
    from layers.sync.changes import PackageResult, megabytes, write_changes
    from layers.workspace.store import Workspace

    def announce(plan: PackageResult) -> None:
        print(f"change package of about {megabytes(plan.estimated_bytes)}: {plan.total} feature change(s), "
              f"{_photo_counts(plan.photos, plan.photo_files, plan.photo_bytes, plan.photos_removed)}"
              + (f" (limit {megabytes(args.max_size)})" if args.max_size else ""), flush=True)

    with Workspace.open(args.workspace) as ws:
        result = write_changes(ws, args.out, include_survey=args.include_survey, max_bytes=args.max_size,
                               before_writing=announce)
    if result.path is None:
        print(f"{args.workspace}: no changes since the base; no package written")
        return 0
    print(f"wrote change package {result.path} ({result.package_uuid}), {megabytes(result.size)}, "
          f"base version {result.base_version}")
    header = f"{'layer':<18}{'inserts':>9}{'updates':>9}{'deletes':>9}"
    print(header)
    for name, c in result.layers.items():
        print(f"{name:<18}{c['insert']:>9}{c['update']:>9}{c['delete']:>9}")
    for name, c in result.survey.items():
        print(f"{name:<18}{c['insert']:>9}{c['update']:>9}{c['delete']:>9}  (survey evidence)")
    return 0


def _photo_counts(links: int, files: int, size: int, removed: int) -> str:
    """``3 photo(s) added (2 file(s), 4.1 MB), 1 taken off``."""
    from layers.sync.changes import megabytes

    return (f"{links} photo(s) added ({files} file(s), {megabytes(size)}; the others the office has), "
            f"{removed} taken off")


def _print_photos(photos: Mapping[str, int]) -> None:
    if any(photos.values()):
        parts = [f"{photos.get('linked', 0)} photo(s) linked"]
        if "stored" in photos:
            parts[0] += f" ({photos['stored']} new file(s))"
        parts.append(f"{photos.get('unlinked', 0)} taken off")
        if "dropped" in photos:
            parts[-1] += f" ({photos['dropped']} file(s) no facility has any more dropped)"
        print("photos: " + ", ".join(parts))
    if photos.get("gone_with_features"):
        print(f"{photos['gone_with_features']} photo link(s) went with their deleted features")
    if photos.get("of_missing_features"):
        print(f"{photos['of_missing_features']} photo(s) of features the master does not hold (deleted at the "
              "office, or refused) were not kept")
    if photos.get("without_bytes"):
        print(f"{photos['without_bytes']} photo link(s) came without their file, which the master had dropped: "
              "the field sends the files again after its next update")
    if photos.get("sent_again"):
        print(f"{photos['sent_again']} photo(s) the master lacks the file of go out again with the next package")


def size_in_bytes(text: str) -> int:
    """``50MB``, ``1.5GB``, ``800KB`` or a number of MB as bytes (argparse type)."""
    units = {"KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "B": 1}
    cleaned = text.strip().upper().replace(" ", "")
    unit = next((u for u in units if cleaned.endswith(u)), "")
    try:
        value = float(cleaned[:len(cleaned) - len(unit)] if unit else cleaned)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 50MB, 1.5GB)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a size must be more than 0")
    return int(value * units[unit or "MB"])


def cmd_apply(args: argparse.Namespace) -> int:
    if len(args.package) > 1:
        return _apply_several(args)
    from layers.sync.apply import apply_package

    (package,) = args.package
    result = apply_package(args.master, package, policy=args.policy, report=args.report,
                           dry_run=args.dry_run, resolutions=args.resolutions, strict=args.strict)
    return _print_apply(args, result)


def _apply_several(args: argparse.Namespace) -> int:
    """Several packages in one transaction (``layers.sync.batch``): each workspace's in the order it sent them;
    all applied or none; a dry run is that apply rolled back, so each package is checked after the ones before."""
    from layers.cli.console import progress_bar
    from layers.sync.batch import apply_packages

    if args.resolutions is not None:
        raise SyncError("--resolutions answers the conflicts of one package: apply that package on its own")
    report_folder = None
    if args.report is not None:
        report_folder = Path(args.report)
        if not report_folder.is_dir():
            raise SyncError(f"{report_folder}: with several packages --report names a folder (one report per "
                            "package is written there), and this is not one")
    with progress_bar(None, "apply", unit=" steps") as advance:
        outcome = apply_packages(args.master, args.package, policy=args.policy, dry_run=args.dry_run,
                                 strict=args.strict, progress=advance, report_folder=report_folder)
    worst = EXIT_OK
    for result in outcome.results:
        worst = max(worst, _print_apply(args, result))
    if args.dry_run:
        print(f"dry run of {len(outcome.results)} packages, each after the ones before it: nothing written")
    else:
        print(f"applied {len(outcome.results)} packages to {args.master} in one transaction: version "
              f"{outcome.version_before} -> {outcome.version_after}")
    for report in outcome.reports:
        print(f"report    {report}")
    return worst


def _print_apply(args: argparse.Namespace, result: Any) -> int:
    """The lines of one package's apply (or dry run); the exit code it calls for."""
    package = result.other
    if result.already_applied:
        print(f"{package}: package {result.package_uuid} was already applied to {args.master}; "
              "nothing changed")
        return 0
    title = (f"dry run of {package}: nothing written" if args.dry_run
             else f"applied {package} to {args.master}: version {result.version_before} -> "
                  f"{result.version_after}")
    _print_counts(result.layers, title)
    for name, n in result.survey.items():
        print(f"received {n} {name} as survey evidence (kept in survey_{name}, not merged)")
    _print_photos(result.photos)
    for f in result.followed:  # the facility follows its latest inspection (its definition says so)
        print(f"follows   {f['layer']} {f['uuid']}: {f['field']} {_short(f['before'])} -> {_short(f['after'])} "
              f"(its latest inspection {f['inspection']})")
    _print_conflicts(result.conflicts)
    if result.unresolved:
        print(f"{len(result.unresolved)} conflicts left unresolved (office values kept)", file=sys.stderr)
    _print_rejected(result.rejected)
    from layers.cli.standard import print_renumbered

    print_renumbered(result.renumbered)
    return EXIT_CONFLICTS if result.has_conflicts or result.rejected else EXIT_OK


def cmd_update(args: argparse.Namespace) -> int:
    from layers.sync.update import update_workspace
    from layers.workspace.store import Workspace

    with Workspace.open(args.workspace) as ws:
        result = update_workspace(ws, args.master, policy=args.policy, report=args.report,
                                  dry_run=args.dry_run, resolutions=args.resolutions)
    title = ("dry run: nothing written" if args.dry_run
             else f"updated {args.workspace} to master version {result.version_after}")
    for line in result.definitions:
        print(line + (" (dry run: not kept)" if args.dry_run else ""))
    from layers.cli.standard import print_code_update

    print_code_update(result.code_blocks, result.district_areas, result.codes_note, args.dry_run)
    _print_counts(result.layers, title)
    _print_photos(result.photos)
    _print_conflicts(result.conflicts)
    _print_rejected(result.rejected)
    return EXIT_CONFLICTS if result.has_conflicts or result.rejected else EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    from layers.sync.files import merge_geopackages

    result = merge_geopackages(args.base, args.theirs, args.ours, args.out, policy=args.policy,
                               report=args.report)
    print(f"merged into {args.out}")
    _print_counts(result.layers, f"policy {args.policy}")
    for c in result.conflicts:
        shown = c.to_file_dict()
        print(f"conflict  {c.layer} {c.key_field}={c.uuid} {c.field} ({c.kind}) -> {shown['resolution']}",
              file=sys.stderr)
    return EXIT_CONFLICTS if result.conflicts else EXIT_OK


def cmd_export(args: argparse.Namespace) -> None:
    from layers.cli.console import progress_bar
    from layers.sync.export import export

    with progress_bar(None, "export") as advance:
        result = export(args.source, args.out, layers=_layers(args.layers), where=args.where,
                        crs=args.crs, fmt=args.format, keep_audit=args.keep_audit, language=args.language,
                        progress=lambda done, total: advance(done), as_of=args.as_of, profile=args.profile)
    print(f"exported {result.kind} {args.source} as {result.format} in {result.crs}")
    for name, n in result.layers.items():
        print(f"{name:<18}{n:>9}")
    if result.folder is not None:
        print(f"wrote folder {result.folder} ({len(result.files)} layers, a .qml style beside each, "
              "code_lists.csv, fields.csv)")
    else:
        for path in result.files:
            print(f"wrote {path}")
    for layer, names in result.renamed.items():
        print(f"{layer}: shortened field names (full names in fields.csv): "
              + ", ".join(f"{a} -> {b}" for a, b in names.items()))
    if result.limits:
        print(f"note: {result.limits}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for note in getattr(result, "notes", []):  # --profile: what the profile could not say
        print(note)


def add_commands(commands: Commands) -> None:
    """Add the sync and exchange commands to the ``tongcheng`` argument parser's subparsers."""
    from layers.sync.files import POLICIES as FILE_POLICIES

    p = commands.add_parser("checkout", help="make an offline workspace from the office master")
    p.add_argument("master", help="the master: a GeoPackage, or postgresql://user@host/db[?schema=name] "
                                  "(password from PGPASSWORD or ~/.pgpass)")
    p.add_argument("workspace", help="the workspace file to create")
    p.add_argument("--scope", help="an area of the master: district:CODE or street:CODE (tongcheng areas MASTER "
                                   "lists them), or minx,miny,maxx,maxy; apply keeps its packages inside it")
    p.add_argument("--user", help="editor name for the audit columns (default: login name)")
    p.add_argument("--bbox", help="area minx,miny,maxx,maxy in the master's CRS (default: all)")
    p.add_argument("--layers", help="comma-separated facility layers (default: all); their inspections and the "
                                    "zones and grid cells they take values from come with them")
    p.add_argument("--code-block", type=int, metavar="N",
                   help="serials of component codes to reserve per class, in each district of the checkout, for "
                        "features added offline (default 200; the master records the blocks: no other workspace "
                        "gets them)")
    p.set_defaults(run=cmd_checkout)

    p = commands.add_parser("changes", help="write the changes since checkout or the last update "
                                            "as a change package (GeoPackage), and reset the base")
    p.add_argument("workspace")
    p.add_argument("out", help="the change package to write (.gpkg)")
    p.add_argument("--include-survey", action="store_true",
                   help="also send the GPS tracks and waypoints (survey layers) as evidence; the office keeps "
                        "them in survey tables of their own, never in the facility layers")
    p.add_argument("--max-size", type=size_in_bytes, metavar="SIZE",
                   help="refuse a package bigger than this (e.g. 50MB, 1GB; photos included): nothing is "
                        "written or marked as sent")
    p.set_defaults(run=cmd_changes)

    p = commands.add_parser("apply", help="apply a change package to the master (three-way, per field)",
                            epilog=_EPILOG)
    p.add_argument("master", help="a master GeoPackage or postgresql://user@host/db[?schema=name]")
    p.add_argument("package", nargs="+",
                   help="one or more change packages; several are applied in one transaction (all or none), "
                        "each workspace's in the order it sent them, and --report then names a folder")
    _merge_options(p)
    p.add_argument("--strict", action="store_true",
                   help="refuse the whole package if it changes features outside its checkout's scope "
                        "(default: refuse those features, listed by uuid, and apply the rest)")
    p.set_defaults(run=cmd_apply)

    p = commands.add_parser("update", help="bring a newer master into a workspace, keeping unsent edits",
                            epilog=_EPILOG)
    p.add_argument("workspace")
    p.add_argument("master", help="the newer master: GeoPackage or postgresql://user@host/db[?schema=name]")
    _merge_options(p)
    p.set_defaults(run=cmd_update)

    p = commands.add_parser("merge", help="three-way merge of GeoPackages that share a schema",
                            epilog="exit status: 0 clean, 2 conflicts, 1 error")
    p.add_argument("base")
    p.add_argument("theirs")
    p.add_argument("ours")
    p.add_argument("out")
    p.add_argument("--policy", choices=FILE_POLICIES, default="theirs",
                   help="who wins a conflict (manual: theirs, marked unresolved); default theirs")
    p.add_argument("--report", help="write counts and every conflict to this JSON file")
    p.set_defaults(run=cmd_merge)

    p = commands.add_parser("export", help="export facility layers for partners "
                                           "(GPKG, GeoJSON, CSV, FlatGeobuf, ESRI Shapefile)")
    p.add_argument("source", help="a workspace or a master (GeoPackage or postgresql://...)")
    p.add_argument("out", help="output file, or folder for several layers in a one-layer format")
    p.add_argument("--layers", help="comma-separated layers (default: the facility layers)")
    p.add_argument("--where", help="filter, e.g. \"status = '在用' AND seats_male >= 4\"")
    p.add_argument("--crs", help="output CRS as EPSG:n (default: the source's; GeoJSON: EPSG:4326)")
    p.add_argument("--format", help="GPKG, GeoJSON, CSV, FlatGeobuf or 'ESRI Shapefile' "
                                    "(default: from OUT's extension, else GPKG)")
    p.add_argument("--keep-audit", action="store_true",
                   help="keep created_by/created_at/modified_by/modified_at")
    p.add_argument("--language", choices=("zh_CN", "en"), default="zh_CN",
                   help="language of the style's field aliases and category labels (default zh_CN)")
    p.add_argument("--as-of", type=int, metavar="VERSION",
                   help="a master only: export it as it was at this version (tongcheng log lists the versions)")
    p.add_argument("--profile", choices=["standard"],
                   help="standard: the component layers with the national component standard's column names "
                        "and codes (ObjID, BGID, ObjState ...; see docs/standard.md)")
    p.set_defaults(run=cmd_export)
