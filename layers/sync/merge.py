"""Three-way merge of feature tables, per field, with every conflict reported.

The heart is :func:`three_way`, a pure function over row dicts: given the
rows of a common ancestor (*base*) and of two descendants (*theirs*, *ours*)
it returns the merged rows, what changed and the conflicts.  It knows nothing
of files, so the workspace sync (apply a change package to the office master,
update a workspace from the office) uses it as it is.
:func:`merge_geopackages` is the file driver: it reads three GeoPackages that
share a schema, merges each layer with :func:`three_way` and writes a valid
GeoPackage with base's structure, plus a JSON report.

Rules (Tongcheng's data model, DESIGN.md section 2)
---------------------------------------------------
* Features are matched by ``uuid`` where a table has that column, otherwise by
  the integer primary key.
* Per field: a field changed on one side only takes that change; a field
  changed on both sides to the same value is no conflict; a field changed on
  both sides to different values is a conflict.
* A feature deleted on one side and changed on the other is a conflict (one
  per field the other side changed); deleted on both sides, or deleted on one
  side and untouched on the other, it is deleted.
* Features inserted on both sides are all kept.  When matched by primary key,
  two different inserts under the same fid are two features: ours gets a new
  fid.  When matched by uuid, an equal uuid is the same feature and differing
  fields are conflicts.
* Geometries are compared by value (ISO WKB), never by their stored bytes.
* :func:`merge_geopackages` merges every table registered in
  ``gpkg_contents`` (features and attributes, QGIS's ``layer_styles``
  included); anything else (``gpkg_metadata``, ...) is base's.  It holds the
  rows of all three inputs in memory while it merges.
* Conflicts are resolved by the policy -- ``'theirs'`` or ``'ours'`` wins, or
  ``'manual'``: the output holds theirs and the conflict is marked
  ``'unresolved'`` for a person to decide -- and are *always* reported by key
  and field name with the base, theirs and ours values, so the losing value is
  never lost.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import shapely
from shapely.geometry.base import BaseGeometry

from layers.errors import GeoPackageError, SyncError
from layers.geopackage import GeoPackage, LayerSchema, open_geopackage, temporary_path

__all__ = [
    "POLICIES",
    "Conflict",
    "ThreeWayResult",
    "RowDiff",
    "LayerCounts",
    "MergeResult",
    "same_value",
    "geometry_wkt",
    "diff_rows",
    "three_way",
    "merge_geopackages",
]

#: Conflict policies: who wins a conflict ('manual': theirs, marked unresolved).
POLICIES = ("theirs", "ours", "manual")

_NOT_THERE = object()  # the base value of a field of a feature inserted on both sides


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Conflict:
    """One field of one feature that the two sides changed incompatibly.

    Attributes
    ----------
    layer : str or None
        Layer (table) name, when known.
    key_field : str
        Column the feature is matched by (``'uuid'`` or the fid column).
    key : object
        The feature's uuid or fid.
    field : str
        Name of the conflicting field.
    kind : str
        ``'update/update'`` (both changed the field), ``'update/delete'``
        (theirs changed it, ours deleted the feature), ``'delete/update'``
        (theirs deleted, ours changed) or ``'insert/insert'`` (both inserted
        the feature with different values).
    base, theirs, ours : object
        The field's values (None on a side that deleted the feature, and base
        None for an insert); geometries as shapely objects.
    resolution : str
        ``'theirs'`` or ``'ours'``: whose value (or deletion) is in the output;
        ``'unresolved'`` under the manual policy (the output holds theirs).
    """

    layer: str | None
    key_field: str
    key: Any
    field: str
    kind: str
    base: Any
    theirs: Any
    ours: Any
    resolution: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: geometries as lossless WKT (:func:`geometry_wkt`), bytes as hex."""
        return {
            "layer": self.layer, "key_field": self.key_field, "key": _json_value(self.key),
            "field": self.field, "kind": self.kind, "base": _json_value(self.base),
            "theirs": _json_value(self.theirs), "ours": _json_value(self.ours),
            "resolution": self.resolution,
        }


@dataclass
class ThreeWayResult:
    """What :func:`three_way` returns.

    Attributes
    ----------
    rows : dict
        Merged rows by key: base's surviving features in base order, then
        theirs' inserts, then ours'.
    inserted, updated, deleted : list
        Keys of features new in *rows*, changed from base, or gone from base.
    conflicts : list of Conflict
    renumbered : dict
        ``{old key: new key}`` for ours' inserts given a new key because
        theirs inserted a different feature under the same one (only with
        ``renumber=True``).
    """

    rows: dict = field(default_factory=dict)
    inserted: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    deleted: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)
    renumbered: dict = field(default_factory=dict)


@dataclass
class RowDiff:
    """Changes that turn one set of rows into another (see :func:`diff_rows`).

    Attributes
    ----------
    inserted : list of dict
        Whole rows that are new.
    updated : dict
        ``{key: {field: new value}}`` for rows whose fields changed.
    deleted : list
        Keys of rows that are gone.
    """

    inserted: list = field(default_factory=list)
    updated: dict = field(default_factory=dict)
    deleted: list = field(default_factory=list)


@dataclass
class LayerCounts:
    """Per-layer counts of a merge, relative to base."""

    key_field: str
    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    conflicts: int = 0


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
        return [c for c in self.conflicts if c.resolution == "unresolved"]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "base": str(self.base), "theirs": str(self.theirs), "ours": str(self.ours),
            "out": str(self.out), "policy": self.policy,
            "layers": {name: {"key_field": c.key_field, "inserts": c.inserts,
                              "updates": c.updates, "deletes": c.deletes,
                              "conflicts": c.conflicts}
                       for name, c in self.layers.items()},
            "conflicts": [c.to_dict() for c in self.conflicts],
            "renumbered": [{k: _json_value(v) for k, v in r.items()} for r in self.renumbered],
        }

    def to_json(self, indent: int = 2) -> str:
        """The report as JSON text (UTF-8 characters kept, not escaped)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


def geometry_wkt(geom: BaseGeometry) -> str:
    """WKT that reads back to exactly the same coordinates.

    GEOS's writer rounds (to 16 significant digits, or to a number of
    decimals); this one writes each coordinate as Python's shortest
    round-trip ``repr``, so a value kept in a report is never lost.
    """
    name = geom.geom_type.upper()
    z = " Z" if geom.has_z else ""
    return f"{name}{z} EMPTY" if geom.is_empty else f"{name}{z} {_wkt_body(geom)}"


def _wkt_number(v: float) -> str:
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def _wkt_body(geom: BaseGeometry) -> str:
    if geom.is_empty:
        return "EMPTY"
    kind = geom.geom_type
    if kind in ("Point", "LineString", "LinearRing"):
        parts = [" ".join(_wkt_number(v) for v in xy) for xy in geom.coords]
    elif kind == "Polygon":
        parts = [_wkt_body(ring) for ring in (geom.exterior, *geom.interiors)]
    elif kind == "GeometryCollection":
        parts = [geometry_wkt(g) for g in geom.geoms]
    else:  # Multi*
        parts = [_wkt_body(g) for g in geom.geoms]
    return "(" + ", ".join(parts) + ")"


def _json_value(value: Any) -> Any:
    if isinstance(value, BaseGeometry):
        return geometry_wkt(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is _NOT_THERE:
        return None
    return value


# --------------------------------------------------------------------------
# The pure core
# --------------------------------------------------------------------------

def same_value(a: Any, b: Any) -> bool:
    """True if two field values are equal; geometries compare by ISO WKB.

    Two NaN floats are equal; a geometry never equals a non-geometry.
    """
    if isinstance(a, BaseGeometry) or isinstance(b, BaseGeometry):
        if not (isinstance(a, BaseGeometry) and isinstance(b, BaseGeometry)):
            return False
        return shapely.to_wkb(a, flavor="iso", byte_order=1) == shapely.to_wkb(
            b, flavor="iso", byte_order=1)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if a is _NOT_THERE or b is _NOT_THERE:
        return a is b
    return a == b


def _fields(key: str, ignore: Iterable[str], *rows: Mapping | None) -> list[str]:
    """Field names to compare: union over *rows*, in first-seen order."""
    skip = {key, *ignore}
    names: dict[str, None] = {}
    for row in rows:
        if row:
            for name in row:
                if name not in skip:
                    names[name] = None
    return list(names)


def diff_rows(old: Mapping[Any, Mapping] | Iterable[Mapping],
              new: Mapping[Any, Mapping] | Iterable[Mapping],
              key: str, *, ignore: Iterable[str] = ()) -> RowDiff:
    """Two-way diff: the changes that turn *old* rows into *new* rows.

    Parameters
    ----------
    old, new : mapping of key to row dict, or iterable of row dicts
    key : str
        Column that identifies a row in both.
    ignore : iterable of str
        Columns never compared (e.g. the local fid when matching by uuid).

    Returns
    -------
    RowDiff
        Updated rows list only the fields whose values differ.
    """
    ignore = tuple(ignore)
    old_rows = _index(old, key, "old")
    new_rows = _index(new, key, "new")
    diff = RowDiff()
    for k, o in old_rows.items():
        n = new_rows.get(k)
        if n is None:
            diff.deleted.append(k)
            continue
        changed = {f: n.get(f) for f in _fields(key, ignore, o, n)
                   if not same_value(o.get(f), n.get(f))}
        if changed:
            diff.updated[k] = changed
    diff.inserted = [n for k, n in new_rows.items() if k not in old_rows]
    return diff


def _index(rows: Mapping[Any, Mapping] | Iterable[Mapping], key: str, side: str,
           layer: str | None = None) -> dict:
    """Rows by key; raise SyncError on a missing or repeated key."""
    if isinstance(rows, Mapping):
        return dict(rows)
    out: dict = {}
    where = f"layer {layer!r}, " if layer else ""
    for row in rows:
        k = row.get(key)
        if k is None:
            raise SyncError(f"{where}{side}: a row has no {key}")
        if k in out:
            raise SyncError(f"{where}{side}: {key} {k!r} appears twice")
        out[k] = row
    return out


def three_way(base: Mapping[Any, Mapping] | Iterable[Mapping],
              theirs: Mapping[Any, Mapping] | Iterable[Mapping],
              ours: Mapping[Any, Mapping] | Iterable[Mapping],
              key: str, *, policy: str = "theirs", ignore: Iterable[str] = (),
              renumber: bool = False, layer: str | None = None) -> ThreeWayResult:
    """Merge two descendants of a common set of rows, field by field.

    This is the rule book of Tongcheng's sync; it is pure (no I/O, inputs
    are not modified) and works on any rows: GeoPackage layers, SpatiaLite
    tables, change packages.

    Parameters
    ----------
    base : mapping of key to row, or iterable of rows
        The common ancestor: the rows as they were when the two sides
        parted (e.g. the checkout snapshot).
    theirs, ours : mapping of key to row, or iterable of rows
        The two descendants (e.g. the office master and the laptop).  A row
        is a dict of field name to value; geometries are shapely objects.
        All rows share their field names.
    key : str
        The field that identifies a feature in all three (``'uuid'``, or the
        primary key for tables without one).
    policy : {'theirs', 'ours', 'manual'}
        Who wins a conflict.  ``'manual'`` puts theirs in the result and marks
        the conflict ``'unresolved'``.
    ignore : iterable of str
        Fields never compared or merged, e.g. the local ``fid`` when matching
        by uuid: a merged feature keeps base's values for them, an inserted
        one those of the side that inserted it.
    renumber : bool
        True when *key* is a local integer primary key: then different
        features inserted on both sides under the same key are both kept and
        ours gets a new key (above every key seen).  False (uuid): an equal
        key is the same feature.
    layer : str, optional
        Layer name, copied into conflicts and error messages.

    Returns
    -------
    ThreeWayResult
        ``rows`` (the merged rows by key), ``inserted``, ``updated``,
        ``deleted`` (keys, relative to base), ``conflicts`` and ``renumbered``.

    Raises
    ------
    ValueError
        For an unknown policy.
    SyncError
        If a row lacks its key or a key repeats within one input.

    Notes
    -----
    Every case, for a feature with key *k*:

    ====================  ====================  =================================
    theirs                ours                  result
    ====================  ====================  =================================
    unchanged             unchanged             base row
    changed fields F      changed fields G      per field: F from theirs, G from
                                                ours; a field in both F and G with
                                                equal values is taken once; with
                                                different values it is an
                                                'update/update' conflict
    deleted               deleted               deleted
    deleted               unchanged             deleted (and vice versa)
    changed               deleted               'update/delete' conflict for each
                                                changed field; theirs wins: the
                                                changed row, ours wins: deleted
    deleted               changed               'delete/update', symmetrically
    inserted              absent                theirs' row (and vice versa)
    inserted              inserted              equal rows: one row; different,
                                                renumber: both rows, ours with a
                                                new key; different, not renumber:
                                                one feature, an 'insert/insert'
                                                conflict per differing field
    ====================  ====================  =================================

    Examples
    --------
    >>> base = [{"uuid": "a", "name": "toilet", "rating": 1}]
    >>> theirs = [{"uuid": "a", "name": "public toilet", "rating": 1}]
    >>> ours = [{"uuid": "a", "name": "toilet", "rating": 5}]
    >>> r = three_way(base, theirs, ours, "uuid")
    >>> r.rows["a"], r.conflicts
    ({'uuid': 'a', 'name': 'public toilet', 'rating': 5}, [])
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    ignore = tuple(ignore)
    b_rows = _index(base, key, "base", layer)
    t_rows = _index(theirs, key, "theirs", layer)
    o_rows = _index(ours, key, "ours", layer)
    winner = "ours" if policy == "ours" else "theirs"
    resolution = "unresolved" if policy == "manual" else policy
    result = ThreeWayResult()

    def conflict(k, name, kind, b, t, o):
        result.conflicts.append(Conflict(
            layer=layer, key_field=key, key=k, field=name, kind=kind,
            base=None if b is _NOT_THERE else b, theirs=t, ours=o,
            resolution=resolution))

    def merge_fields(k, b, t, o, kind):
        """Merge one feature present on both sides; *b* is {} for double inserts."""
        merged = dict(b) if b else dict(t)
        for name in _fields(key, ignore, b, t, o):
            bv = b.get(name) if b else _NOT_THERE
            tv, ov = t.get(name), o.get(name)
            if same_value(tv, ov) or same_value(ov, bv):
                merged[name] = tv
            elif same_value(tv, bv):
                merged[name] = ov
            else:
                conflict(k, name, kind, bv, tv, ov)
                merged[name] = tv if winner == "theirs" else ov
        return merged

    # Features of base: kept, merged or deleted.
    for k, b in b_rows.items():
        t, o = t_rows.get(k), o_rows.get(k)
        if t is None and o is None:
            result.deleted.append(k)
        elif t is not None and o is not None:
            merged = merge_fields(k, b, t, o, "update/update")
            result.rows[k] = merged
            if any(not same_value(b.get(f), merged.get(f))
                   for f in _fields(key, ignore, b, merged)):
                result.updated.append(k)
        else:
            survivor, side = (t, "theirs") if t is not None else (o, "ours")
            changed = [f for f in _fields(key, ignore, b, survivor)
                       if not same_value(b.get(f), survivor.get(f))]
            if not changed:
                result.deleted.append(k)
                continue
            kind = "update/delete" if side == "theirs" else "delete/update"
            for name in changed:
                conflict(k, name, kind, b.get(name),
                         t.get(name) if t is not None else None,
                         o.get(name) if o is not None else None)
            if winner == side:
                merged = dict(survivor)
                merged.update({f: b.get(f) for f in ignore if f in b})
                result.rows[k] = merged
                result.updated.append(k)
            else:
                result.deleted.append(k)

    # Features new on either side.
    for k, t in t_rows.items():
        if k not in b_rows:
            result.rows[k] = dict(t)
            result.inserted.append(k)
    next_key = None
    for k, o in o_rows.items():
        if k in b_rows:
            continue
        t = t_rows.get(k)
        if t is None:
            result.rows[k] = dict(o)
            result.inserted.append(k)
            continue
        same = all(same_value(t.get(f), o.get(f)) for f in _fields(key, ignore, t, o))
        if same:
            continue  # the same insert on both sides
        if renumber:
            if next_key is None:
                try:
                    next_key = max([*b_rows, *t_rows, *o_rows]) + 1
                except TypeError:
                    raise SyncError(
                        f"{'layer ' + repr(layer) + ': ' if layer else ''}cannot renumber "
                        f"{key} values that are not integers") from None
            new = dict(o)
            new[key] = next_key
            result.rows[next_key] = new
            result.inserted.append(next_key)
            result.renumbered[k] = next_key
            next_key += 1
        else:
            result.rows[k] = merge_fields(k, None, t, o, "insert/insert")
    return result


# --------------------------------------------------------------------------
# GeoPackages
# --------------------------------------------------------------------------

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
    for role, p in paths.items():
        if p.exists() and out.exists() and os.path.samefile(p, out):
            raise SyncError(f"{out}: the output cannot be the {role} input")
    result = MergeResult(base=paths["base"], theirs=paths["theirs"], ours=paths["ours"],
                         out=out, policy=policy)

    with ExitStack() as stack:
        gps = {role: stack.enter_context(open_geopackage(p)) for role, p in paths.items()}
        schemas = _common_schemas(gps)
        merged = {}
        for layer, schema in schemas.items():
            key = "uuid" if "uuid" in schema.column_names else schema.fid_column
            ignore = (schema.fid_column,) if key != schema.fid_column else ()
            rows = {role: _read_keyed(gp, layer, key) for role, gp in gps.items()}
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
        tmp_report = temporary_path(report) if report is not None else None
        try:
            with closing(sqlite3.connect(tmp)) as dst:
                gps["base"].connection.backup(dst)
            with GeoPackage(tmp, "a") as gp:
                for layer, (schema, key, base_rows, tw) in merged.items():
                    _write_layer(gp, schema, key, base_rows, tw, result)
            if tmp_report is not None:
                tmp_report.write_text(result.to_json() + "\n", encoding="utf-8")
            os.replace(tmp, out)
            if tmp_report is not None:
                os.replace(tmp_report, report)
        except BaseException:
            for p in (tmp, tmp_report):
                if p is not None and p.exists():
                    p.unlink()
            raise
    return result


def _common_schemas(gps: dict[str, GeoPackage]) -> dict[str, LayerSchema]:
    """Schemas of base's tables; SyncError if theirs or ours differ."""
    base = gps["base"]

    def tables(gp):
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


def _read_keyed(gp: GeoPackage, layer: str, key: str) -> dict:
    """A layer's rows by *key*; SyncError naming the file for a null or repeated key."""
    rows: dict = {}
    for row in gp.rows(layer):
        k = row[key]
        if k is None:
            raise SyncError(f"{gp.path}: layer {layer!r}: fid {row.get('fid')} has no {key}")
        if k in rows:
            raise SyncError(f"{gp.path}: layer {layer!r}: {key} {k!r} appears twice")
        rows[k] = row
    return rows


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
