"""The ``tongcheng import`` command: bring an existing inventory into a layer of a workspace."""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from layers.cli.console import EXIT_ERROR, EXIT_OK, EXIT_SKIPPED, Commands, progress_bar

if TYPE_CHECKING:
    from layers.imports.importer import ImportPlan, ImportResult, ImportTarget
    from layers.imports.mapping import Mapping
    from layers.imports.sources import Source
    from layers.schema.definitions import LayerDefinition
    from layers.sync.master_import import MasterImportResult, MasterTarget

__all__ = ["add_commands"]

#: Problems printed on the console; the report (--report) lists them all.
SHOWN_PROBLEMS = 20

_EPILOG = (
    "exit codes: 0 every row imported (or, with --dry-run, every row passes); 3 with --skip-invalid, rows "
    "that break the layer's rules were left out (listed); 1 rows break the rules and nothing was written, "
    "or an error (one line).")


def add_commands(commands: Commands) -> None:
    """Add the import command to the ``tongcheng`` argument parser's subparsers."""
    p = commands.add_parser(
        "import", help="import an existing inventory (Shapefile, GeoJSON, GeoPackage, FlatGeobuf, KML, CSV, XLSX)",
        description="Import the features of SOURCE into a layer of the workspace TARGET. Every row is checked "
                    "first (the layer's types, ranges, code lists, required fields; empty, invalid or "
                    "out-of-area geometries): nothing is written unless every row passes, or with "
                    "--skip-invalid the rows that pass. Rows whose key (the mapping's key field) matches a "
                    "feature update it; the others become new features. One transaction. Without --mapping, "
                    "columns are matched to fields by their names and labels (--suggest-mapping shows how). "
                    "TARGET is a workspace (the import is a tracked edit, sent with the next changes) or the "
                    "office's master (.gpkg or postgresql://; the import is a recorded master change: its version "
                    "goes up, the ledger names the file, the user and the counts; new features take their zone "
                    "and grid cell from their position and their component code from the master, in the "
                    "district each lies in).",
        epilog=_EPILOG)
    p.add_argument("source", metavar="SOURCE", help="vector file (.shp .geojson .gpkg .fgb .kml .kmz ...) or table "
                                                     "(.csv .xlsx) with coordinate columns")
    p.add_argument("target", metavar="TARGET", nargs="?", help="the workspace or master (.gpkg) to import into")
    p.add_argument("--layer", required=True, help="the layer to import into, e.g. toilets")
    p.add_argument("--mapping", metavar="MAP.toml",
                   help="the mapping file (with --suggest-mapping: the file to write)")
    p.add_argument("--suggest-mapping", action="store_true",
                   help="write a first mapping from the column names and the layer's labels (to --mapping "
                        "or standard output) instead of importing")
    p.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    p.add_argument("--report", metavar="REPORT.csv|json", help="write every problem of every row to this file")
    p.add_argument("--skip-invalid", action="store_true", help="import the rows that pass, leave out the others")
    p.add_argument("--encoding", help="text encoding of the source (default: its .cpg, else detected: "
                                      "UTF-8 or GB18030/GBK)")
    p.add_argument("--source-crs", metavar="CRS",
                   help="CRS of the source's coordinates: EPSG:n (EPSG:4326 WGS84, EPSG:4490 CGCS2000, a "
                        "Gauss-Krueger zone), gcj02 (AMap, Tencent) or bd09 (Baidu); default: the mapping's, "
                        "else the file's own")
    p.set_defaults(run=cmd_import)


def _error(message: str) -> Exception:
    from layers.errors import TongchengError

    return TongchengError(message)


def _read(args: argparse.Namespace, mapping: Mapping | None) -> Source:
    from layers.imports.sources import open_source

    return open_source(args.source, encoding=args.encoding or (mapping.encoding if mapping else None),
                       sheet=mapping.sheet if mapping else None,
                       layer=mapping.source_layer if mapping else None)


def _definition(args: argparse.Namespace) -> LayerDefinition:
    from layers.schema.definitions import load_definitions

    definitions = load_definitions()
    if args.target and _is_master(args.target):
        from layers.sync.master_import import open_master_target

        with open_master_target(args.target) as master:
            return master.layer(args.layer)
    if args.target:
        from layers.workspace.store import Workspace

        with Workspace.open(args.target) as workspace:
            return workspace.layer(args.layer)
    if args.layer not in definitions:
        raise _error(f"no layer {args.layer!r} (layers: {', '.join(definitions)})")
    return definitions[args.layer]


def cmd_import(args: argparse.Namespace) -> int:
    if args.suggest_mapping:
        return _suggest(args)
    if not args.target:
        raise _error("import: give the workspace to import into (TARGET)")
    from layers.imports.importer import apply_import, write_report
    from layers.imports.mapping import load_mapping
    from layers.workspace.store import Workspace

    mapping = load_mapping(args.mapping) if args.mapping else None
    source = _read(args, mapping)
    if _is_master(args.target):
        from layers.sync.master_import import open_master_target

        with open_master_target(args.target, write=not args.dry_run) as master:
            plan, failed = _plan(args, master, source, mapping)
            plan.close()  # a master is written from the plan's rows
            result = None if args.dry_run or failed else _write_master(args, master, plan)
            if args.report:
                write_report(plan, args.report, result)
                print(f"report: {args.report}")
    else:
        with Workspace.open(args.target) as workspace:
            plan, failed = _plan(args, workspace, source, mapping, keep_rows=False)
            result = None
            if not args.dry_run and not failed:
                with closing(plan), progress_bar(plan.passed, "import") as advance:
                    result = apply_import(workspace, plan, skip_invalid=args.skip_invalid, progress=advance)
            plan.close()
            if args.report:
                write_report(plan, args.report, result)
                print(f"report: {args.report}")
    if result is not None:
        print(f"imported into {args.layer}: {result.inserted} new, {result.updated} updated, "
              f"{result.unchanged} unchanged" + (f", {result.skipped} rows left out" if result.skipped else ""))
    elif args.dry_run:
        print("dry run: nothing was written")
    if failed:
        print(f"tongcheng: error: {len(plan.invalid_rows)} of {plan.total} rows break the rules of {args.layer}: "
              "nothing was written (fix them, or --skip-invalid imports the others)", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_SKIPPED if plan.problems else EXIT_OK


def _is_master(target: str) -> bool:
    from layers.postgres.urls import is_postgres

    return is_postgres(target) or Path(target).suffix.lower() == ".gpkg"


def _plan(args: argparse.Namespace, target: ImportTarget, source: Source, mapping: Mapping | None, *,
          keep_rows: bool = True) -> tuple[ImportPlan, bool]:
    """Check every row (printing the notes and the problems); the plan and whether it fails the import.

    ``keep_rows=False``: the plan keeps the problems and counts, not the rows (a workspace
    import reads the source again to write it, in memory that does not grow with the file).
    """
    from layers.imports.importer import plan_import
    from layers.imports.mapping import parse_mapping, suggest_mapping

    definition = target.layer(args.layer)
    if mapping is None:
        import tomllib

        mapping = parse_mapping(tomllib.loads(suggest_mapping(source, definition)),
                                "the mapping made from the column names (--suggest-mapping shows it)")
    # The total is asked for once rows come: a workbook's sheet may still be read in the background until then.
    with progress_bar(None, "checking") as advance:
        plan = plan_import(target, args.layer, source, mapping, source_crs=args.source_crs,
                           progress=lambda done: advance(done, source.total), keep_rows=keep_rows)
    for note in plan.notes:
        print(f"note: {note}")
    _print_plan(plan)
    return plan, bool(plan.problems) and not args.skip_invalid


def _write_master(args: argparse.Namespace, master: MasterTarget, plan: ImportPlan) -> ImportResult:
    from layers.imports.importer import ImportResult
    from layers.sync.master_import import write_master_import

    written = write_master_import(
        master, plan.layer, [(r.attributes, r.geometry) for r in plan.rows if r.fid is None],
        [(r.fid, r.attributes, r.geometry) for r in plan.rows if r.fid is not None],
        source=str(plan.source), skipped=len(plan.invalid_rows))
    if written.import_uuid is not None:
        print(f"master {args.target}: version {written.version_before} -> {written.version_after} "
              f"(recorded in its ledger as import {written.import_uuid})")
        _print_standard(written)
    else:
        print(f"master {args.target}: nothing changed (version {written.version_before})")
    return ImportResult(inserted=written.inserted, updated=written.updated, unchanged=written.unchanged,
                        skipped=len(plan.invalid_rows), codes=written.codes)


def _print_standard(written: MasterImportResult) -> None:
    """What the master derived for the new features: located fields, component codes (by district)."""
    from layers.cli.standard import print_renumbered

    if written.located and written.inserted:
        print(f"{', '.join(written.located)}: taken from each new feature's position")
    if written.codes or written.kept:
        districts: dict[str, int] = {}
        for c in written.codes:
            districts[c["to"][:6]] = districts.get(c["to"][:6], 0) + 1
        print(f"component codes: {len(written.codes)} given by the master"
              + (f" (district {', '.join(f'{d}: {n}' for d, n in sorted(districts.items()))})" if districts else "")
              + (f", {written.kept} from the source kept" if written.kept else ""))
        print_renumbered([c for c in written.codes if c["from"]])  # a code of the source replaced


def _print_plan(plan: ImportPlan) -> None:
    print(f"{plan.source.name} -> {plan.layer} (source CRS {plan.source_crs}): {plan.total} rows, "
          f"{plan.passed} pass ({plan.new} new, {plan.matched} matching a feature), "
          f"{len(plan.invalid_rows)} break a rule")
    for problem in plan.problems[:SHOWN_PROBLEMS]:
        column = f" [{problem.column}]" if problem.column else ""
        value = f" {problem.value!r}" if problem.value is not None else ""
        print(f"  row {problem.row}: {problem.field}{column}{value}: {problem.message}")
    if len(plan.problems) > SHOWN_PROBLEMS:
        print(f"  ... and {len(plan.problems) - SHOWN_PROBLEMS} more problems (--report FILE lists them all)")


def _suggest(args: argparse.Namespace) -> int:
    from layers.imports.mapping import suggest_mapping

    definition = _definition(args)
    source = _read(args, None)
    text = suggest_mapping(source, definition)
    if args.mapping:
        path = Path(args.mapping)
        if path.exists():
            raise _error(f"{path}: exists; the suggested mapping is not written over it")
        path.write_text(text, encoding="utf-8")
        print(f"mapping written: {path} (edit it, then import with --mapping {path} --dry-run)")
    else:
        sys.stdout.write(text)
    return EXIT_OK
