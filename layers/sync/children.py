"""Child layers in sync (records that belong to a feature of another layer, such as inspections):
which of them a checkout, an update or an export takes (those of the features it takes); at apply,
the records whose feature is missing (conflicts), and the facilities that follow their latest inspection.

A child layer (``[child_of]`` in its definition, ``layers.schema.children``) has
no geometry, so no area: a checkout or update by area takes the records of
the facilities in the workspace, and an export the records of the facilities
it exports.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import shapely

from layers.errors import SyncError
from layers.log import logger
from layers.schema.definitions import LayerDefinition
from layers.sync.merge import Conflict, LayerCounts, Side, same_value
from layers.sync.resolutions import Choice, Value
from layers.sync.results import SyncResult
from layers.sync.rows import geometries, quote

if TYPE_CHECKING:
    from layers.sync.store import MasterStore

__all__ = ["ParentKey", "PlanLike", "parent_key", "parent_layers", "master_parent_keys", "child_filter",
           "plan_children"]

log = logger(__name__)

#: (layer, uuid) of a parent feature.
ParentKey = tuple[str, str]


def parent_key(definition: LayerDefinition, row: Mapping[str, Any]) -> ParentKey:
    """The (layer, uuid) of the parent a child layer's record names."""
    link = definition.child_of
    assert link is not None, f"{definition.name} is not a child layer"
    return str(row.get(link.layer_field)), str(row.get(link.uuid_field))


def parent_layers(definition: LayerDefinition, layers: Iterable[str]) -> list[str]:
    """Of *layers*, those a child layer's records may name (the codes of its layer field; all if it has none)."""
    link = definition.child_of
    if link is None:
        return []
    codes = definition.field(link.layer_field).code_set
    return [name for name in layers if name != definition.name and (not codes or name in codes)]


def master_parent_keys(store: MasterStore, definitions: Mapping[str, LayerDefinition], layers: Sequence[str],
                       bbox: tuple[float, float, float, float] | None) -> set[ParentKey]:
    """(layer, uuid) of the master's features of *layers* (with geometry) whose geometry meets *bbox* (all if None)."""
    keys: set[ParentKey] = set()
    box = shapely.box(*bbox) if bbox else None
    for name in layers:
        definition = definitions[name]
        if not definition.has_geometry:
            continue
        rows = list(store.rows(definition, bbox))
        if box is None:
            keys.update((name, r["uuid"]) for r in rows)
            continue
        shapes = geometries([r["geom"] for r in rows])
        keys.update((name, r["uuid"]) for r, g in zip(rows, shapes, strict=True) if g is not None and g.intersects(box))
    return keys


def child_filter(definition: LayerDefinition, filters: Mapping[str, tuple[str, Sequence[Any]]],
                 chosen: Collection[str]) -> tuple[str, list[Any]] | None:
    """An export's condition on a child layer: its records of the exported features of its parent layers.

    Parameters
    ----------
    filters : mapping
        Per exported layer its SQL condition ("" for all) and parameters.
    chosen : collection of str
        The layers exported.

    Returns
    -------
    (str, list) or None
        None when no parent layer is exported (the child layer is then
        filtered like any layer, by its own fields).
    """
    parents = parent_layers(definition, chosen)
    link = definition.child_of
    if not parents or link is None:
        return None
    parts, parameters = [], []
    for name in parents:
        where, values = filters[name]
        parts.append(f"({quote(link.layer_field)} = ? AND {quote(link.uuid_field)} IN "
                     f"(SELECT uuid FROM {quote(name)}{f' WHERE {where}' if where else ''}))")
        parameters += [name, *values]
    return " OR ".join(parts), parameters


# -- apply: records of a missing feature, and facilities that follow their latest inspection -------------------


class PlanLike(Protocol):
    """What apply writes into one master layer (``layers.sync.apply._Plan``)."""

    inserts: list[dict[str, Any]]
    updates: dict[str, dict[str, Any]]
    deletes: list[tuple[str, Any, Any]]


P = TypeVar("P", bound=PlanLike)


def plan_children(store: MasterStore, definitions: Mapping[str, LayerDefinition], layers: Sequence[str],
                  plans: dict[str, P], make_plan: Callable[[], P], result: SyncResult, policy: str,
                  choices: Mapping[tuple[Any, Any, str], Choice] | None, source: str) -> None:
    """Complete an apply's plans: report the new child records whose parent is missing, and make the
    facilities that receive inspections follow their latest one.

    A record (an inspection) whose feature is not in the master after the
    apply (deleted at the office, or never there) is stored all the same
    and reported as a conflict of kind ``delete/insert`` on its uuid field:
    never dropped. A facility whose definition says so (``follows_inspections``)
    takes the values its latest inspection implies, whichever package
    brought that one, except in a field in conflict in this apply (the
    conflict's decision stands); every value set is listed in
    ``result.followed``.
    """
    present = _Presence(store, definitions, layers, plans)
    for name, plan in list(plans.items()):
        definition = definitions[name]
        if definition.child_of is None:
            continue
        for row in plan.inserts:
            key = parent_key(definition, row)
            if not present(*key):
                _missing_parent(store, definition, row, key, plans, result, policy, choices, source)
    received: dict[ParentKey, list[dict[str, Any]]] = {}
    for name in layers:
        rule = definitions[name].follow
        if rule is None or rule.layer not in plans or definitions.get(rule.layer) is None:
            continue
        child = definitions[rule.layer]
        for row in plans[rule.layer].inserts:
            key = parent_key(child, row)
            if key[0] == name and present(*key):
                received.setdefault(key, []).append(row)
    in_conflict = {c.key for c in result.conflicts}
    for (layer, uuid), rows in sorted(received.items()):
        if layer not in plans:
            plans[layer] = make_plan()
            result.layers.setdefault(layer, LayerCounts())
        _follow(store, definitions, plans, layer, uuid, rows, in_conflict, result)


class _Presence:
    """Whether a feature is in the master once the apply is written."""

    def __init__(self, store: MasterStore, definitions: Mapping[str, LayerDefinition], layers: Sequence[str],
                 plans: Mapping[str, PlanLike]) -> None:
        self.store, self.definitions, self.layers = store, definitions, set(layers)
        self.inserted = {name: {r["uuid"] for r in plan.inserts} for name, plan in plans.items()}
        self.deleted = {name: {k for k, _, _ in plan.deletes} for name, plan in plans.items()}

    def __call__(self, layer: str, uuid: str) -> bool:
        if layer not in self.layers or self.definitions[layer].child_of is not None:
            return False
        if uuid in self.inserted.get(layer, ()):
            return True
        if uuid in self.deleted.get(layer, ()):
            return False
        return bool(self.store.rows_by_uuid(self.definitions[layer], [uuid]))


def _missing_parent(store: MasterStore, definition: LayerDefinition, row: Mapping[str, Any], key: ParentKey,
                    plans: Mapping[str, PlanLike], result: SyncResult, policy: str,
                    choices: Mapping[tuple[Any, Any, str], Choice] | None, source: str) -> None:
    """Report a new record whose feature the master does not hold: a conflict; the record is stored all the same."""
    link = definition.child_of
    assert link is not None
    layer, uuid = key
    office = store.deleted_audit(layer, [uuid]).get(uuid)  # the latest deletion of it
    if office is None:  # deleted by this very package, or never in the master
        office = next(((by, at) for k, by, at in getattr(plans.get(layer), "deletes", ()) if k == uuid), (None, None))
    conflict = Conflict(definition.name, row["uuid"], link.uuid_field, "delete/insert", base_value=None,
                        office_value=None, field_value=uuid, office_editor=office[0], office_time=office[1],
                        field_editor=row.get("modified_by"), field_time=row.get("modified_at"),
                        resolution=None if policy == "manual" else Side.FIELD, kept=uuid)
    choice = (choices or {}).get(conflict.key)
    if isinstance(choice, Value):
        raise SyncError(f"{source}: the conflict {conflict.layer} {conflict.uuid} {conflict.field} is about a record "
                        f"of a {layer} feature the master does not have: the record is kept either way; choose "
                        "\"office\" or \"field\", not a value; nothing was changed")
    if choice is not None:
        conflict = replace(conflict, resolution=choice, choice=choice.value)
    log.info("%s %s: its %s %s is not in the master (deleted at the office?); stored all the same, reported",
             definition.name, row["uuid"], layer, uuid)
    result.conflicts.append(conflict)
    result.layers.setdefault(definition.name, LayerCounts()).conflicts += 1


def _follow(store: MasterStore, definitions: Mapping[str, LayerDefinition], plans: Mapping[str, PlanLike],
            layer: str, uuid: str, received: list[dict[str, Any]], in_conflict: Collection[tuple[Any, Any, str]],
            result: SyncResult) -> None:
    """Make one facility follow its latest inspection (master's and the package's), in its plan."""
    facility = definitions[layer]
    rule = facility.follow
    assert rule is not None
    child = definitions[rule.layer]
    link = child.child_of
    assert link is not None
    child_plan = plans[rule.layer]
    gone = {k for k, _, _ in child_plan.deletes}
    candidates: dict[str, tuple[Any, Any]] = {}
    for record in store.rows_where(child, {link.layer_field: layer, link.uuid_field: uuid}):
        k, time, condition = record["uuid"], record[rule.time_field], record[rule.condition_field]
        if k not in gone:
            changed = child_plan.updates.get(k, {})
            candidates[k] = (changed.get(rule.time_field, time), changed.get(rule.condition_field, condition))
    for row in received:
        candidates[row["uuid"]] = (row[rule.time_field], row[rule.condition_field])
    latest = max(candidates, key=lambda k: (str(candidates[k][0]), k))
    wanted = rule.values(candidates[latest][1], candidates[latest][0])
    plan = plans[layer]
    inserted = next((r for r in plan.inserts if r["uuid"] == uuid), None)
    office = store.rows_by_uuid(facility, [uuid]).get(uuid) if inserted is None else None
    current = inserted if inserted is not None else {**(office or {}), **plan.updates.get(uuid, {})}
    before = getattr(plan, "before", None)  # the office row before the apply (history, extents)
    if office is not None and before is not None:
        before.setdefault(uuid, office)
    author = max(received, key=lambda r: (str(r[rule.time_field]), r["uuid"]))
    for name, value in wanted.items():
        if same_value(current.get(name), value) or (layer, uuid, name) in in_conflict:
            continue
        if inserted is not None:
            inserted[name] = value
        else:
            if uuid not in plan.updates:
                result.layers[layer].updates += 1
                plan.updates[uuid] = {"modified_by": author.get("modified_by"),
                                      "modified_at": author.get("modified_at")}
            plan.updates[uuid][name] = value
        result.followed.append({"layer": layer, "uuid": uuid, "field": name, "before": current.get(name),
                                "after": value, "inspection": latest})
        log.info("%s %s: %s %r -> %r (follows its latest inspection %s)", layer, uuid, name, current.get(name),
                 value, latest)
