"""Who wins a conflict in apply and update: the policies, per-conflict choices (resolutions), the office/field merge.

Apply (office side) and update (field side) are the same per-field three-way
merge (:func:`layers.sync.merge.three_way`): base = the workspace's base,
office = the master, field = the workspace (or the package).  Conflicts are
resolved by a policy -- ``office`` or ``field`` wins, ``newest`` (the side
whose edit of the feature is later wins; an unknown time loses), ``manual``
(the office value stays and the conflict is left unresolved) -- or, per
conflict, by a :class:`Resolution`: ``office``, ``field`` or a literal value.

A resolutions file is the JSON report of a dry run (``--dry-run --report
r.json``) whose conflicts each carry a ``"choice"``: ``"office"``,
``"field"`` or ``{"value": literal}`` (geometries as WKT).  It must match the
conflicts of now exactly (:func:`check_resolutions`), or nothing is changed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import shapely

from layers.errors import SyncError, ValidationError
from layers.log import logger
from layers.schema.definitions import LayerDefinition, validate_feature
from layers.schema.geometry import validate_geometry
from layers.sync.merge import Conflict, Side, json_value, same_value, three_way
from layers.sync.rows import canonical, newer

__all__ = [
    "POLICIES",
    "Value",
    "Choice",
    "Resolution",
    "SideRows",
    "check_row",
    "load_resolutions",
    "resolutions_from",
    "reviewed",
    "check_resolutions",
    "policy_choice",
    "merge_layer",
    "merge_row",
    "complete",
    "row_diff",
]

log = logger(__name__)

#: Conflict policies of apply and update.
POLICIES = ("office", "field", "newest", "manual")
_THREE_WAY_POLICY = {"office": "theirs", "field": "ours", "manual": "manual"}
_DELETE_KINDS = ("update/delete", "delete/update")


@dataclass(frozen=True)
class Value:
    """A literal value chosen for a conflict (a geometry as a shapely object or WKT text)."""

    value: Any


#: A choice: keep the office's value, the field's, or a literal :class:`Value`.
Choice = Side | Value


@dataclass(frozen=True)
class Resolution:
    """The choice for one conflict, matched by ``(layer, uuid, field)``.

    Attributes
    ----------
    layer, uuid, field : str
    choice : Side or Value
        ``Side.OFFICE``, ``Side.FIELD`` or ``Value(literal)``; the strings
        ``'office'``/``'field'`` and ``{'value': literal}`` are accepted too.
    expected : dict or None
        From a file: the conflict's ``base_value``, ``office_value`` and
        ``field_value`` as the dry run reported them (checked against now).
    """

    layer: str
    uuid: str
    field: str
    choice: Any
    expected: dict[str, Any] | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """``(layer, uuid, field)``."""
        return (self.layer, self.uuid, self.field)


def _normalise_choice(choice: Any, where: str) -> Choice:
    """A choice as Side.OFFICE, Side.FIELD or Value; SyncError naming *where* if it is none of them."""
    if isinstance(choice, Value):
        return choice
    if isinstance(choice, Side) and choice is not Side.BASE:
        return choice
    if choice in ("office", "field"):
        return Side(choice)
    if isinstance(choice, dict) and set(choice) == {"value"}:
        return Value(choice["value"])
    raise SyncError(f"{where}: unknown choice {choice!r} (expected \"office\", \"field\" or "
                    "{\"value\": ...})")


def policy_choice(conflict: Conflict, policy: str) -> Side:
    """The side a policy keeps for one conflict: what a review starts each choice at.

    ``field`` keeps the field's value; ``newest`` the side whose edit of the
    feature is later (an unknown time is the oldest); ``office`` and
    ``manual`` (which leaves the office's value in place) the office's.
    """
    if policy not in POLICIES:
        raise SyncError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    if policy == "field":
        return Side.FIELD
    if policy == "newest":
        return Side.OFFICE if newer(conflict.office_time, conflict.field_time) else Side.FIELD
    return Side.OFFICE


def load_resolutions(path: str | os.PathLike) -> list[Resolution]:
    """Read a resolutions file: a dry run's JSON report with a ``choice`` per conflict.

    Raises
    ------
    SyncError
        One line naming the file and the first problem: unreadable, not a
        report, a conflict without layer/uuid/field, an unknown choice.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise SyncError(f"{path}: cannot read the resolutions: {exc.strerror}") from None
    except ValueError as exc:
        raise SyncError(f"{path}: not a JSON resolutions file ({exc})") from None
    entries = data.get("conflicts") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise SyncError(f"{path}: not a conflict report (no list of conflicts)")
    out = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("layer", "uuid", "field")):
            raise SyncError(f"{path}: conflict {number} has no layer, uuid and field")
        where = f"{path}: conflict {number} ({entry['layer']} {entry['uuid']} {entry['field']})"
        if "choice" not in entry:
            raise SyncError(f"{where}: no choice")
        choice = _normalise_choice(entry["choice"], where)
        expected = {k: entry.get(k) for k in ("base_value", "office_value", "field_value")}
        out.append(Resolution(entry["layer"], entry["uuid"], entry["field"], choice, expected))
    return out


def resolutions_from(resolutions: str | os.PathLike | Iterable[Resolution] | None
                     ) -> tuple[list[Resolution] | None, str, Path | None]:
    """Resolutions from a path or typed objects: (the list or None, a name for messages, the path or None)."""
    if resolutions is None:
        return None, "", None
    if isinstance(resolutions, (str, os.PathLike)):
        return load_resolutions(resolutions), str(resolutions), Path(resolutions)
    items = []
    for r in resolutions:
        where = f"resolution {r.layer} {r.uuid} {r.field}"
        items.append(replace(r, choice=_normalise_choice(r.choice, where)))
    return items, "the resolutions", None


def reviewed(conflict: Conflict, choice: Any) -> Resolution:
    """The choice a person made for *conflict* in a review, with the values they saw: a later apply refuses it
    if the conflict's base, office or field value is no longer the one shown (the master changed meanwhile)."""
    shown = conflict.to_dict()
    return Resolution(str(conflict.layer), conflict.uuid, conflict.field, choice,
                      expected={name: shown[name] for name in ("base_value", "office_value", "field_value")})


def check_resolutions(conflicts: Sequence[Conflict], resolutions: Sequence[Resolution], source: str) -> None:
    """Refuse resolutions that do not match the conflicts of now exactly; names the first mismatch.

    Raises
    ------
    SyncError
        A conflict has no resolution; a resolution names no current conflict;
        or a conflict's base, office or field value differs from the one in
        the file (the master or the workspace changed since the dry run).
    """
    given: dict[tuple[Any, Any, str], Resolution] = {r.key: r for r in resolutions}
    now: dict[tuple[Any, Any, str], Conflict] = {c.key: c for c in conflicts}
    for c in conflicts:
        if c.key not in given:
            raise SyncError(f"{source}: no choice for the conflict {c.layer} {c.uuid} {c.field} "
                            "(make a new dry-run report); nothing was changed")
    for r in resolutions:
        found = now.get(r.key)
        if found is None:
            raise SyncError(f"{source}: the conflict {r.layer} {r.uuid} {r.field} no longer exists "
                            "(make a new dry-run report); nothing was changed")
        if r.expected is not None:
            reported = found.to_dict()
            for name in ("base_value", "office_value", "field_value"):
                if not same_value(r.expected.get(name), reported[name]):
                    raise SyncError(f"{source}: the conflict {r.layer} {r.uuid} {r.field} has {name} "
                                    f"{reported[name]!r} now, not {r.expected.get(name)!r} "
                                    "(make a new dry-run report); nothing was changed")


@dataclass
class SideRows:
    """One side's merge rows of the features concerned, and who edited each feature when."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)      # uuid -> {uuid, fields..., geom}
    audit: dict[str, tuple[Any, Any]] = field(default_factory=dict)     # uuid -> (editor, time)


def merge_layer(definition: LayerDefinition, base: dict[str, dict[str, Any]], office: SideRows,
                field_side: SideRows, policy: str, layer: str,
                choices: Mapping[tuple[Any, Any, str], Choice] | None = None,
                source: str = "") -> tuple[dict[str, dict[str, Any]], list[Conflict]]:
    """Three-way merge of the features concerned, then the per-conflict *choices*.

    Parameters
    ----------
    definition : LayerDefinition
    base : dict
        Base merge rows by uuid.
    office, field_side : SideRows
    policy : {'office', 'field', 'newest', 'manual'}
    layer : str
    choices : mapping of (layer, uuid, field) to Side or Value, optional
        Overrides of the policy, conflict by conflict.
    source : str
        The resolutions' name, for messages.

    Returns
    -------
    (dict, list of Conflict)
        The merged rows by uuid, and every conflict (geometry values as shapely objects).
    """
    if policy == "newest":
        office_newer = {k for k in set(office.rows) | set(base) | set(field_side.rows)
                        if newer(office.audit.get(k, (None, None))[1], field_side.audit.get(k, (None, None))[1])}
        groups: list[tuple[str, set[str] | None]] = [("theirs", office_newer), ("ours", None)]
    else:
        groups = [(_THREE_WAY_POLICY[policy], None)]
    merged: dict[str, dict[str, Any]] = {}
    conflicts: list[Conflict] = []
    # Most features changed on one side only: take that side's row as it is.
    done = set()
    for k in set(base) | set(office.rows) | set(field_side.rows):
        b, t, o = base.get(k), office.rows.get(k), field_side.rows.get(k)
        if b is not None and t is not None and t == b:      # untouched at the office
            if o is not None:
                merged[k] = o
        elif b is not None and o is not None and o == b:    # untouched in the field
            if t is not None:
                merged[k] = t
        elif b is None and t is None and o is not None:     # inserted in the field
            merged[k] = o
        elif b is None and o is None and t is not None:     # inserted at the office
            merged[k] = t
        elif b is not None and t is None and o is None:     # deleted on both sides
            pass
        else:
            continue
        done.add(k)
    for tw_policy, keys in groups:
        bp, tp, op = (_pick(rows, keys, done) for rows in (base, office.rows, field_side.rows))
        result = three_way(bp, tp, op, "uuid", policy=tw_policy, layer=layer)
        merged.update(result.rows)
        for c in result.conflicts:
            office_editor, office_time = office.audit.get(c.uuid, (None, None))
            field_editor, field_time = field_side.audit.get(c.uuid, (None, None))
            conflicts.append(replace(c, office_editor=office_editor, office_time=office_time,
                                     field_editor=field_editor, field_time=field_time))
        done |= set(bp) | set(tp) | set(op)
    if choices:
        conflicts = _apply_choices(definition, merged, office, field_side, conflicts, choices, source)
    return merged, [_shown(c) for c in conflicts]


def _pick(rows: dict[str, dict[str, Any]], keys: set[str] | None, done: set[str]) -> dict[str, dict[str, Any]]:
    """The rows of one policy group (all if ``keys`` is None) not merged yet."""
    return {k: v for k, v in rows.items() if k not in done and (keys is None or k in keys)}


def _apply_choices(definition: LayerDefinition, merged: dict[str, dict[str, Any]], office: SideRows,
                   field_side: SideRows, conflicts: list[Conflict],
                   choices: Mapping[tuple[Any, Any, str], Choice], source: str) -> list[Conflict]:
    """Put each chosen value (or the chosen side's feature, or its deletion) into *merged*."""
    out = []
    feature_choice: dict[str, Choice] = {}
    for c in conflicts:
        choice = choices.get(c.key)
        if choice is None:
            out.append(c)
            continue
        where = f"{source}: the conflict {c.layer} {c.uuid} {c.field}"
        k = c.uuid
        if c.kind in _DELETE_KINDS:
            if isinstance(choice, Value):
                raise SyncError(f"{where} is about a feature deleted on one side: choose \"office\" or "
                                "\"field\", not a value; nothing was changed")
            if feature_choice.setdefault(k, choice) is not choice:
                raise SyncError(f"{where}: the feature was deleted on one side, so all its conflicts "
                                "need the same choice; nothing was changed")
            row = (office.rows if choice is Side.OFFICE else field_side.rows).get(k)
            if row is None:
                merged.pop(k, None)
            else:
                merged[k] = dict(row)
            out.append(replace(c, resolution=choice, kept=None if row is None else row.get(c.field),
                               choice=choice.value))
            continue
        text: Any
        if isinstance(choice, Value):
            value = _literal(definition, c.field, choice.value, where)
            resolution, text = Side.FIELD, {"value": json_value(choice.value)}
        else:
            value = c.office_value if choice is Side.OFFICE else c.field_value
            resolution, text = choice, choice.value
        merged[k] = {**merged[k], c.field: value}
        out.append(replace(c, resolution=resolution, kept=value, choice=text))
    return out


def _literal(definition: LayerDefinition, name: str, value: Any, where: str) -> Any:
    """A literal choice as a merge value (geometry: canonical WKB), checked against the definition."""
    try:
        if name == "geom":
            geometry = shapely.from_wkt(value) if isinstance(value, str) else value
            validate_geometry(definition, geometry)
            return canonical([geometry])[0]
        return validate_feature(definition, {name: value}, partial=True)[name]
    except (ValidationError, shapely.errors.GEOSException, TypeError, KeyError) as exc:
        raise SyncError(f"{where}: the value {value!r} is not valid ({exc}); nothing was changed") from None


def _shown(c: Conflict) -> Conflict:
    """A conflict with its geometry values (merge rows hold WKB) as shapely objects."""
    if c.field != "geom":
        return c

    def geometry(value: Any) -> Any:
        return shapely.from_wkb(bytes(value)) if isinstance(value, (bytes, bytearray)) else value

    return replace(c, base_value=geometry(c.base_value), office_value=geometry(c.office_value),
                   field_value=geometry(c.field_value), kept=geometry(c.kept))


def merge_row(definition: LayerDefinition, values: Mapping[str, Any], geom: Any) -> dict[str, Any]:
    """A merge row: the non-derived fields and geom."""
    row = definition.editable_values(values)
    row["geom"] = geom
    return row


def complete(definition: LayerDefinition, row: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A merged row (non-derived fields, geom) with its derived fields computed."""
    if not definition.derived_fields:
        return dict(row)
    attributes = definition.editable_values(row)
    try:
        values = validate_feature(definition, attributes)
    except ValidationError as exc:
        raise SyncError(f"{where}: {exc}") from None
    return {**row, **{f.name: values[f.name] for f in definition.fields if f.derived}}


def check_row(definition: LayerDefinition, row: Mapping[str, Any]) -> str | None:
    """Why a full row about to be written (fields, ``geom`` as WKB) breaks its layer's rules, or None.

    Apply and update call this on every row they write, whatever the policy:
    a row that fails goes to the report (``SyncResult.rejected``), not into
    the file.
    """
    try:
        validate_feature(definition, definition.editable_values(row))
        if not definition.has_geometry:  # an attributes table
            return None
        geom = row.get("geom")
        if geom is None:
            return f"{definition.name}.geom: a geometry is required"
        try:
            shape = shapely.from_wkb(geom)
        except shapely.errors.GEOSException as exc:
            return f"{definition.name}.geom: unreadable geometry ({exc})"
        validate_geometry(definition, shape)
    except ValidationError as exc:
        return str(exc)
    return None


def row_diff(definition: LayerDefinition, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Fields (and geom, as WKB) whose values differ between two full rows."""
    return {name: new.get(name) for name in (*definition.field_names, "geom")
            if not same_value(old.get(name), new.get(name))}
