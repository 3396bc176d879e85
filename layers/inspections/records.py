"""Recording an inspection in a workspace (or in the editor's edit session), with its photos, and the
facility values that follow it when it is the facility's latest."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from layers.errors import FeatureNotFoundError, WorkspaceError
from layers.inspections.cases import INSPECTIONS, code_value, new_case_status, stored_time
from layers.log import logger
from layers.media import DEFAULT_MAX_BYTES, Photo, add_photos
from layers.schema.definitions import LayerDefinition, validate_feature
from layers.workspace.editing import EditSession
from layers.workspace.store import Workspace
from layers.workspace.values import same_value

__all__ = ["Followed", "InspectionPlan", "InspectionAdded", "facility_layers", "inspection_values",
           "follow_changes", "is_latest", "plan_inspection", "add_inspection"]

log = logger(__name__)


@dataclass(frozen=True)
class Followed:
    """A facility value set because it follows the facility's latest inspection."""

    layer: str
    uuid: str
    field: str
    before: Any
    after: Any
    inspection: str

    def text(self) -> str:
        """``toilets <uuid>: status 在用 -> 停用 (follows inspection <uuid>)``."""
        return (f"{self.layer} {self.uuid}: {self.field} {self.before if self.before is not None else '(empty)'} -> "
                f"{self.after} (follows its latest inspection {self.inspection})")


@dataclass
class InspectionPlan:
    """What recording one inspection does: the inspection's values, and the facility's values that follow it.

    Attributes
    ----------
    values : dict
        The inspection's values, checked (stored form).
    facility_changes : dict
        Field -> new value of the facility (empty when the inspection is not
        the facility's latest, or the facility already says so).
    followed : list of Followed
        The same changes, with the values before, to tell the user.
    latest : bool
        False when the facility has a later inspection (then nothing follows).
    case_opened : str or None
        The case status the inspection was given because none was asked for
        (发现 for a facility that is not intact).
    """

    values: dict[str, Any]
    facility_changes: dict[str, Any] = field(default_factory=dict)
    followed: list[Followed] = field(default_factory=list)
    latest: bool = True
    case_opened: str | None = None


@dataclass
class InspectionAdded(InspectionPlan):
    """An inspection recorded in a workspace (:func:`add_inspection`)."""

    uuid: str = ""
    fid: int = 0
    photos: list[Photo] = field(default_factory=list)


def facility_layers(definitions: Mapping[str, LayerDefinition]) -> list[str]:
    """The layers whose features may be inspected: the codes of the inspections' layer field."""
    inspections = definitions.get(INSPECTIONS)
    if inspections is None or inspections.child_of is None:
        return []
    return [name for name in inspections.field(inspections.child_of.layer_field).code_values if name in definitions]


def inspection_values(definitions: Mapping[str, LayerDefinition], layer: str, uuid: str, *, condition: str,
                      defect: str | None = None, description: str | None = None,
                      inspected_at: dt.datetime | str | None = None, inspector: str | None = None,
                      case_status: str | None = None) -> tuple[dict[str, Any], str | None]:
    """An inspection's values from what a user gave, checked; and the case status given by default (or None).

    *condition*, *defect* and *case_status* may be the stored code or its
    Chinese or English label (``破损``, ``damaged``). The time defaults to now.
    """
    if INSPECTIONS not in definitions:
        raise WorkspaceError(f"no {INSPECTIONS!r} layer here (a workspace made before inspection records); "
                             "make a new checkout to record inspections")
    definition = definitions[INSPECTIONS]
    if layer not in facility_layers(definitions):
        raise WorkspaceError(f"{layer!r} is not a layer whose facilities are inspected "
                             f"({', '.join(facility_layers(definitions))})")
    condition_value = code_value(definition.field("condition"), condition)
    defect_value = code_value(definition.field("defect"), defect, selector=layer) if defect else None
    given = code_value(definition.field("case_status"), case_status) if case_status else None
    opened = None if given else new_case_status(condition_value)
    when = inspected_at or dt.datetime.now(dt.UTC)
    values = {
        "facility_layer": layer, "facility_uuid": uuid,
        "inspected_at": stored_time(when) if isinstance(when, dt.datetime) else when,
        "inspector": inspector, "condition": condition_value, "defect": defect_value,
        "description": description, "case_status": given or opened,
    }
    return validate_feature(definition, values), opened


def follow_changes(facility: LayerDefinition, attributes: Mapping[str, Any],
                   inspection: Mapping[str, Any]) -> dict[str, Any]:
    """The facility values that differ from what its latest *inspection* implies (its ``follows_inspections``)."""
    rule = facility.follow
    if rule is None:
        return {}
    wanted = rule.values(inspection.get(rule.condition_field), inspection.get(rule.time_field))
    return {name: value for name, value in wanted.items() if not same_value(attributes.get(name), value)}


def is_latest(inspection: Mapping[str, Any], uuid: str | None, others: Iterable[tuple[Any, Any]]) -> bool:
    """Whether an inspection is later than each other (inspected_at, uuid) of its facility (ties by uuid; a new
    record without a uuid yet wins a tie)."""
    key = (str(inspection["inspected_at"]), uuid or "\uffff")
    return all(key >= (str(time), str(other or "")) for time, other in others)


def _followed(layer: str, uuid: str, attributes: Mapping[str, Any], changes: Mapping[str, Any],
              inspection: str) -> list[Followed]:
    return [Followed(layer, uuid, name, attributes.get(name), value, inspection) for name, value in changes.items()]


def plan_inspection(session: EditSession, layer: str, fid: int, *, condition: str, defect: str | None = None,
                    description: str | None = None, inspected_at: dt.datetime | str | None = None,
                    inspector: str | None = None, case_status: str | None = None) -> InspectionPlan:
    """What recording an inspection of the feature *fid* of *layer* does, with the session's pending edits seen.

    The editor turns the plan into undoable commands: add the inspection,
    change the facility's ``facility_changes``.
    """
    ws = session.workspace
    facility = session.feature(layer, fid)
    if facility.uuid is None:
        raise WorkspaceError(f"{layer}: save the new feature before recording an inspection of it")
    values, opened = inspection_values(ws.definitions, layer, facility.uuid, condition=condition, defect=defect,
                                       description=description, inspected_at=inspected_at,
                                       inspector=inspector or ws.user, case_status=case_status)
    fids = session.fids(INSPECTIONS, "facility_layer = ? AND facility_uuid = ?", [layer, facility.uuid])
    others = [(f.attributes["inspected_at"], f.uuid) for f in session.features_by_fid(INSPECTIONS, list(fids))]
    plan = InspectionPlan(values, case_opened=opened, latest=is_latest(values, None, others))
    if plan.latest:
        plan.facility_changes = follow_changes(ws.layer(layer), facility.attributes, values)
        plan.followed = _followed(layer, facility.uuid, facility.attributes, plan.facility_changes, "(new)")
    return plan


def add_inspection(ws: Workspace, layer: str, uuid: str, *, condition: str, defect: str | None = None,
                   description: str | None = None, photos: Sequence[str | os.PathLike[str]] = (),
                   inspected_at: dt.datetime | str | None = None, inspector: str | None = None,
                   case_status: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> InspectionAdded:
    """Record an inspection of the facility *uuid* of *layer*, with its photos, all or nothing.

    When it is the facility's latest inspection, the facility's fields that
    follow inspections (its definition's ``follows_inspections``) take the
    values it implies: a tracked edit, returned in ``followed``.

    Raises
    ------
    WorkspaceError
        The workspace has no inspections layer, or *layer* is not inspected.
    FeatureNotFoundError
        No facility with this uuid.
    ValidationError
        A condition, defect or status that is not in its list, a text too long.
    MediaError
        A photo that is missing, empty, too big, not an image or given twice.
    """
    ws.layer(layer)
    try:
        facility = ws.find(layer, uuid)
    except FeatureNotFoundError:
        raise FeatureNotFoundError(f"{ws.path}: {layer} has no feature with uuid {uuid}") from None
    values, opened = inspection_values(ws.definitions, layer, uuid, condition=condition, defect=defect,
                                       description=description, inspected_at=inspected_at,
                                       inspector=inspector or ws.user, case_status=case_status)
    with ws.session() as con:
        others = con.execute(f"SELECT inspected_at, uuid FROM {INSPECTIONS} WHERE facility_layer = ? AND "
                             "facility_uuid = ?", (layer, uuid)).fetchall()
        record = ws.insert(INSPECTIONS, values, None)
        added = InspectionAdded(values, case_opened=opened, latest=is_latest(values, record.uuid, others),
                                uuid=record.uuid, fid=record.fid)
        if photos:
            added.photos = add_photos(ws, INSPECTIONS, record.uuid, photos, max_bytes=max_bytes)
        if added.latest:
            added.facility_changes = follow_changes(ws.layer(layer), facility.attributes, values)
            if added.facility_changes:
                ws.update(layer, facility.fid, added.facility_changes)
            added.followed = _followed(layer, uuid, facility.attributes, added.facility_changes, record.uuid)
    for change in added.followed:
        log.info("%s: %s", ws.path, change.text())
    return added


