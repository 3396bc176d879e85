"""The generic three-way merge of GeoPackages that share a schema (``tongcheng merge``).

:func:`merge_geopackages` reads three GeoPackages, merges each table with
:func:`layers.sync.merge.three_way` and writes a valid GeoPackage with base's
structure, plus a JSON report.  Its policies keep the generic-file words:
``'theirs'`` (the office side, :attr:`Side.OFFICE`), ``'ours'`` (the field
side, :attr:`Side.FIELD`) or ``'manual'``.  It merges every table registered
in ``gpkg_contents`` (features and attributes, QGIS's ``layer_styles``
included); anything else (``gpkg_metadata``, ...) is base's.  It holds the
rows of all three inputs in memory while it merges.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layers.errors import GeoPackageError, SyncError
from layers.geopackage import GeoPackage, LayerSchema, open_geopackage, temporary_path
from layers.log import logger
from layers.sync.merge import (
    POLICIES,
    Conflict,
    LayerCounts,
    ThreeWayResult,
    diff_rows,
    json_value,
    rows_by_key,
    three_way,
)

__all__ = ["POLICIES", "MergeResult", "merge_geopackages"]

log = logger(__name__)


@dataclass
class MergeResult:
    """What :func:`merge_geopackages` returns (and writes as the JSON report).

    Attributes
    ----------
    base, theirs, ours, out : pathlib.Path
    policy : str
    layers : dict of str to LayerCounts
    conflicts : list of Conflict
        Every conflict, resolved or not.
    renumbered : list of dict
        Inserted features whose fid changed in the output:
        ``{"layer", "key_field", "key", "fid_was", "fid"}``.
    """

    base: Path
    theirs: Path
    ours: Path
    out: Path
    policy: str
    layers: dict = field(default_factory=dict)
    conflicts: list = field(default_factory=list)
    renumbered: list = field(default_factory=list)

    @property
    def unresolved(self) -> list[Conflict]:
        """Conflicts left for a person (manual policy)."""
        return [c for c in self.conflicts if c.resolution is None]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "base": str(self.base), "theirs": str(self.theirs), "ours": str(self.ours),
            "out": str(self.out), "policy": self.policy,
            "layers": {name: {"key_field": c.key_field, "inserts": c.inserts,
                              "updates": c.updates, "deletes": c.deletes,
                              "conflicts": c.conflicts}
                       for name, c in self.layers.items()},
            "conflicts": [c.to_file_dict() for c in self.conflicts],
            "renumbered": [{k: json_value(v) for k, v in r.items()} for r in self.renumbered],
        }

    def to_json(self, indent: int = 2) -> str:
        """The report as JSON text (UTF-8 characters kept, not escaped)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


def merge_geopackages(base: str | os.PathLike, theirs: str | os.PathLike,
                      ours: str | os.PathLike, out: str | os.PathLike,
                      policy: str = "theirs",
                      report: str | os.PathLike | None = None) -> MergeResult:
    """Three-way merge of GeoPackages that share a schema into a new GeoPackage.

    Every feature and attribute table is merged with :func:`three_way`,
    matching features by ``uuid`` where the table has that column (the fid
    is then local and not compared) and by primary key otherwise.  The output
    starts as a copy of *base* (same tables, CRS, indexes, styles, metadata)
    and receives the merged deletes, updates and inserts; its spatial indexes,
    extents and ``last_change`` are kept current.  It is written to a
    temporary file next to *out* and renamed only when everything succeeded.

    Parameters
    ----------
    base, theirs, ours : str or path-like
        The common ancestor and the two descendants.
    out : str or path-like
        The merged GeoPackage to write (replaced if it exists).
    policy : {'theirs', 'ours', 'manual'}
        Who wins a conflict; ``'manual'`` keeps theirs in the output and
        marks the conflict unresolved in the report.
    report : str or path-like, optional
        Where to write the JSON report (:meth:`MergeResult.to_dict`).

    Returns
    -------
    MergeResult
        Per-layer counts (relative to base), every conflict with its base,
        theirs and ours values, and renumbered fids.

    Raises
    ------
    GeoPackageError
        If an input is missing, not a GeoPackage, truncated or corrupt.
    SyncError
        If the inputs' schemas differ (naming the files and the difference),
        *out* is one of the inputs, or a key is missing or repeated.
    ValueError
        For an unknown policy.
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    paths = {"base": Path(base), "theirs": Path(theirs), "ours": Path(ours)}
    out = Path(out)
    for role, path in paths.items():
        if path.exists() and out.exists() and os.path.samefile(path, out):
            raise SyncError(f"{out}: the output cannot be the {role} input")
    result = MergeResult(base=paths["base"], theirs=paths["theirs"], ours=paths["ours"],
                         out=out, policy=policy)
    log.info("merging %s (base), %s (theirs), %s (ours) into %s, policy %s",
             paths["base"], paths["theirs"], paths["ours"], out, policy)

    with ExitStack() as stack:
        gps = {role: stack.enter_context(open_geopackage(p)) for role, p in paths.items()}
        schemas = _common_schemas(gps)
        merged = {}
        for layer, schema in schemas.items():
            key = "uuid" if "uuid" in schema.column_names else schema.fid_column
            ignore = (schema.fid_column,) if key != schema.fid_column else ()
            rows = {role: rows_by_key(gp.rows(layer), key, f"{gp.path}: layer {layer!r}") for role, gp in gps.items()}
            tw = three_way(rows["base"], rows["theirs"], rows["ours"], key, policy=policy,
                           ignore=ignore, renumber=key == schema.fid_column, layer=layer)
            merged[layer] = (schema, key, rows["base"], tw)
            result.layers[layer] = LayerCounts(
                key_field=key, inserts=len(tw.inserted), updates=len(tw.updated),
                deletes=len(tw.deleted), conflicts=len(tw.conflicts))
            result.conflicts.extend(tw.conflicts)
            for old, new in tw.renumbered.items():
                result.renumbered.append({"layer": layer, "key_field": key, "key": new,
                                          "fid_was": old, "fid": new})

        tmp = temporary_path(out)
        report_path = Path(report) if report is not None else None
        tmp_report = temporary_path(report_path) if report_path is not None else None
        try:
            with closing(sqlite3.connect(tmp)) as dst:
                gps["base"].connection.backup(dst)
            with GeoPackage(tmp, "a") as gp:
                for schema, key, base_rows, tw in merged.values():
                    _write_layer(gp, schema, key, base_rows, tw, result)
            if tmp_report is not None:
                tmp_report.write_text(result.to_json() + "\n", encoding="utf-8")
            os.replace(tmp, out)
            if tmp_report is not None and report_path is not None:
                os.replace(tmp_report, report_path)
        except BaseException:
            for p in (tmp, tmp_report):
                if p is not None and p.exists():
                    p.unlink()
            raise
    return result


def _common_schemas(gps: dict[str, GeoPackage]) -> dict[str, LayerSchema]:
    """Schemas of base's tables; SyncError if theirs or ours differ."""
    base = gps["base"]

    def tables(gp: GeoPackage) -> set[str]:
        names = set()
        for layer in gp.layers():
            if gp.connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                     "AND name = ?", (layer,)).fetchone():
                names.add(layer)
        return names

    base_layers = tables(base)
    schemas = {layer: base.schema(layer) for layer in base.layers() if layer in base_layers}
    for role in ("theirs", "ours"):
        gp = gps[role]
        other = tables(gp)
        if other != base_layers:
            parts = []
            if base_layers - other:
                parts.append(f"layers only in {base.path}: {', '.join(sorted(base_layers - other))}")
            if other - base_layers:
                parts.append(f"layers only in {gp.path}: {', '.join(sorted(other - base_layers))}")
            raise SyncError(f"schemas differ between {base.path} (base) and {gp.path} "
                            f"({role}): {'; '.join(parts)}")
        for layer, schema in schemas.items():
            problem = _schema_difference(schema, gp.schema(layer), base.path, gp.path)
            if problem:
                raise SyncError(f"schemas differ between {base.path} (base) and {gp.path} "
                                f"({role}): layer {layer!r}: {problem}")
    return schemas


def _schema_difference(a: LayerSchema, b: LayerSchema, a_path: Path, b_path: Path) -> str | None:
    """Describe the first difference between two layer schemas, or None."""
    a_cols = {c.name: c.type.upper() for c in a.columns}
    b_cols = {c.name: c.type.upper() for c in b.columns}
    for name in a_cols:
        if name not in b_cols:
            return f"column {name!r} is missing in {b_path}"
        if a_cols[name] != b_cols[name]:
            return f"column {name!r} is {a_cols[name]} in {a_path} but {b_cols[name]} in {b_path}"
    for name in b_cols:
        if name not in a_cols:
            return f"column {name!r} is only in {b_path}"
    attrs = ["fid_column", "geometry_type"]
    if a.is_spatial:
        attrs += ["geometry_column", "srs_id", "z", "m"]
    for attr in attrs:
        va, vb = getattr(a, attr), getattr(b, attr)
        if va != vb:
            return f"{attr.replace('_', ' ')} is {va!r} in {a_path} but {vb!r} in {b_path}"
    return None


def _write_layer(gp: GeoPackage, schema: LayerSchema, key: str, base_rows: dict,
                 tw: ThreeWayResult, result: MergeResult) -> None:
    """Apply the merged rows of one layer to the copy of base in *gp*."""
    layer, fid = schema.name, schema.fid_column
    ignore = (fid,) if key != fid else ()
    diff = diff_rows(base_rows, tw.rows, key, ignore=ignore)
    if diff.deleted:
        gp.delete_rows(layer, key, diff.deleted)
    if diff.updated:
        gp.update_rows(layer, key, diff.updated)
    if not diff.inserted:
        return
    # Keep an inserted row's fid when it is free; give the others fresh ones.
    used = set(gp.keys(layer))
    rows, pending = [], []
    for row in diff.inserted:
        if row.get(fid) is not None and row[fid] not in used:
            used.add(row[fid])
            rows.append(row)
        else:
            pending.append(row)
    next_fid = max(used, default=0) + 1
    for row in pending:
        result.renumbered.append({"layer": layer, "key_field": key, "key": row[key],
                                  "fid_was": row.get(fid), "fid": next_fid})
        rows.append({**row, fid: next_fid})
        next_fid += 1
    try:
        gp.write_rows(layer, rows)
    except GeoPackageError as exc:
        raise SyncError(f"{result.out}: writing merged layer {layer!r}: {exc}") from exc
