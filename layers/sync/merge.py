"""The merge vocabulary (Side, Conflict, LayerCounts) and the pure per-field three-way merge.

The heart is :func:`three_way`, a pure function over row dicts: given the
rows of a common ancestor (*base*) and of two descendants (the *office*,
also called *theirs*, and the *field*, also called *ours*) it returns the
merged rows, what changed and the conflicts.  It knows nothing of files:
the workspace sync (apply a change package to the office master, update a
workspace from the office) and the generic file merge
(``layers.sync.files.merge_geopackages``, ``tongcheng merge``) use it as it is.

Rules (Tongcheng's data model, DESIGN.md section 2)
---------------------------------------------------
* Features are matched by ``uuid`` where a table has that column, otherwise by
  the integer primary key.
* Per field: a field changed on one side only takes that change; a field
  changed on both sides to the same value (:func:`same_value`) is no
  conflict; a field changed on both sides to different values is a conflict.
* A feature deleted on one side and changed on the other is a conflict (one
  per field the other side changed); deleted on both sides, or deleted on one
  side and untouched on the other, it is deleted.
* Features inserted on both sides are all kept.  When matched by primary key,
  two different inserts under the same fid are two features: ours gets a new
  fid.  When matched by uuid, an equal uuid is the same feature and differing
  fields are conflicts.
* Geometries are compared by value (normalised WKB), never by their stored bytes.
* Conflicts are resolved by the policy -- the office (``'theirs'``) or the
  field (``'ours'``) wins, or ``'manual'``: the output holds the office's
  value and the conflict is unresolved -- and are *always* reported by key
  and field name with the base, office and field values, so the losing value
  is never lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shapely.geometry.base import BaseGeometry

from layers.errors import SyncError
from layers.workspace.values import same_value

__all__ = [
    "POLICIES",
    "POLICY_SIDES",
    "Side",
    "Conflict",
    "ThreeWayResult",
    "RowDiff",
    "LayerCounts",
    "same_value",
    "geometry_wkt",
    "json_value",
    "diff_rows",
    "three_way",
    "rows_by_key",
]


class Side(StrEnum):
    """The three versions a merge compares: the common ancestor, the office's, the field's."""

    BASE = "base"
    OFFICE = "office"
    FIELD = "field"


#: Policies of :func:`three_way` (the generic-file vocabulary of ``tongcheng merge``).
POLICIES = ("theirs", "ours", "manual")
#: The side each policy keeps: theirs is the office, ours the field; manual keeps the office's
#: value and leaves the conflict unresolved (None).
POLICY_SIDES: dict[str, Side | None] = {"theirs": Side.OFFICE, "ours": Side.FIELD, "manual": None}
_FILE_WORDS = {Side.OFFICE: "theirs", Side.FIELD: "ours"}

_NOT_THERE = object()  # the base value of a field of a feature inserted on both sides


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Conflict:
    """One field of one feature that the office and the field changed incompatibly.

    Attributes
    ----------
    layer : str or None
        Layer (table) name, when known.
    uuid : object
        The feature's key: its uuid (or fid, see *key_field*).
    field : str
        Name of the conflicting field (``'geom'`` for the geometry).
    kind : str
        ``'update/update'`` (both changed the field), ``'update/delete'``
        (the office changed it, the field deleted the feature),
        ``'delete/update'`` (the office deleted, the field changed) or
        ``'insert/insert'`` (both inserted the feature with different values).
    base_value, office_value, field_value : object
        The field's values (None on a side that deleted the feature, and the
        base None for an insert); geometries as shapely objects.
    office_editor, office_time, field_editor, field_time : str or None
        Who made each side's edit of the feature, and when (sync only).
    resolution : Side or None
        The side whose value (or deletion) is in the result; None when the
        conflict is unresolved (manual policy: the office's value stays).
    kept : object
        The value now in place.
    choice : object
        What a person chose in a resolutions file (``'office'``, ``'field'``
        or ``{'value': literal}``), or None when the policy decided.
    key_field : str
        Column the feature is matched by (``'uuid'``, or the fid column).
    """

    layer: str | None
    uuid: Any
    field: str
    kind: str
    base_value: Any = None
    office_value: Any = None
    field_value: Any = None
    office_editor: str | None = None
    office_time: str | None = None
    field_editor: str | None = None
    field_time: str | None = None
    resolution: Side | None = Side.OFFICE
    kept: Any = None
    choice: Any = None
    key_field: str = "uuid"

    @property
    def key(self) -> tuple[str | None, Any, str]:
        """``(layer, uuid, field)``: how a conflict is matched with a resolution."""
        return (self.layer, self.uuid, self.field)

    @property
    def resolution_text(self) -> str:
        """``'office'``, ``'field'`` or ``'unresolved'``."""
        return self.resolution.value if self.resolution is not None else "unresolved"

    @property
    def default_choice(self) -> str:
        """What a resolutions file starts with: the side kept (``'office'`` when unresolved)."""
        if self.choice is not None:
            return self.choice
        return self.resolution.value if self.resolution is not None else Side.OFFICE.value

    def to_dict(self) -> dict[str, Any]:
        """The sync report's form (JSON-ready: geometries as lossless WKT, bytes as hex)."""
        return {
            "layer": self.layer, "uuid": json_value(self.uuid), "field": self.field, "kind": self.kind,
            "base_value": json_value(self.base_value), "office_value": json_value(self.office_value),
            "field_value": json_value(self.field_value), "office_editor": self.office_editor,
            "office_time": self.office_time, "field_editor": self.field_editor,
            "field_time": self.field_time, "resolution": self.resolution_text,
            "kept": json_value(self.kept), "choice": json_value(self.default_choice),
        }

    def to_file_dict(self) -> dict[str, Any]:
        """The generic file merge's report form (theirs = office, ours = field)."""
        return {
            "layer": self.layer, "key_field": self.key_field, "key": json_value(self.uuid),
            "field": self.field, "kind": self.kind, "base": json_value(self.base_value),
            "theirs": json_value(self.office_value), "ours": json_value(self.field_value),
            "resolution": _FILE_WORDS[self.resolution] if self.resolution is not None else "unresolved",
        }


@dataclass
class LayerCounts:
    """Per-layer counts of a merge, apply or update: what it wrote, and the conflicts.

    *key_field* is what features are matched by (the file merge reports it).
    """

    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    conflicts: int = 0
    key_field: str = "uuid"

    def to_dict(self) -> dict[str, int]:
        """The counts for the JSON report of apply and update."""
        return {"inserts": self.inserts, "updates": self.updates, "deletes": self.deletes,
                "conflicts": self.conflicts}

    def add(self, other: LayerCounts) -> None:
        """Add *other*'s counts to these."""
        self.inserts += other.inserts
        self.updates += other.updates
        self.deletes += other.deletes
        self.conflicts += other.conflicts


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


def json_value(value: Any) -> Any:
    """A value for a JSON report: geometries as lossless WKT, bytes as hex, NaN and infinities as text."""
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
    """Rows by key (a mapping is taken as it is); raise SyncError on a missing or repeated key."""
    if isinstance(rows, Mapping):
        return dict(rows)
    return rows_by_key(rows, key, f"layer {layer!r}, {side}" if layer else side)


def rows_by_key(rows: Iterable[Mapping], key: str, where: str) -> dict:
    """Rows by their *key* value; SyncError starting with *where* for a missing or repeated key.

    A row with a ``fid`` is named by it when its key is missing.
    """
    out: dict = {}
    for row in rows:
        k = row.get(key)
        if k is None:
            fid = row.get("fid")
            raise SyncError(f"{where}: a row{'' if fid is None else f' (fid {fid})'} has no {key}")
        if k in out:
            raise SyncError(f"{where}: {key} {k!r} appears twice")
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
    kept_side = POLICY_SIDES[policy]
    winner = "ours" if kept_side is Side.FIELD else "theirs"
    result = ThreeWayResult()

    def conflict(k: Any, name: str, kind: str, b: Any, t: Any, o: Any) -> None:
        result.conflicts.append(Conflict(
            layer=layer, uuid=k, field=name, kind=kind,
            base_value=None if b is _NOT_THERE else b, office_value=t, field_value=o,
            resolution=kept_side, kept=o if kept_side is Side.FIELD else t, key_field=key))

    def merge_fields(k: Any, b: Mapping | None, t: Mapping, o: Mapping, kind: str) -> dict:
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
            assert survivor is not None  # exactly one side kept the feature
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
