"""Child layers (records that belong to a feature of another layer, 1:N) and what a definition says about them.

Three things a layer definition may declare besides its fields:

``[child_of]``
    The layer is a table of records that each belong to one feature of
    another layer (inspections of facilities): ``layer_field`` holds the
    parent's layer name, ``uuid_field`` its uuid. Such a layer usually has
    ``geometry = "NONE"`` (a GeoPackage attributes table); a checkout takes
    the records of the features it takes.
``codes_by`` / ``[fields.codes_for]`` on a field
    The field's code list depends on another field's value (the defect
    types of an inspection depend on the facility's layer). The field's
    ``codes`` are the union of the lists (labels, drop-downs); a value is
    checked against the list of its record's selector value.
``[follows_inspections]``
    On a facility layer: some of the facility's fields follow its latest
    inspection (``date_field`` takes the inspection's local date,
    ``status_field`` the value ``status`` maps the inspection's condition to;
    a condition not listed leaves the status as it is). The core applies the
    rule when an inspection is added and says so (``layers.inspections``).

Nothing here names a particular layer: the data files do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from layers.errors import ValidationError

if TYPE_CHECKING:
    from layers.schema.definitions import FieldDefinition, LayerDefinition

__all__ = ["NO_GEOMETRY", "ChildLink", "FollowRule", "parse_child_of", "parse_follow", "check_codes_for"]

#: The ``geometry`` of a layer without one (a GeoPackage attributes table).
NO_GEOMETRY = "NONE"

_OFFSET = re.compile(r"^[+-](?:[01]\d|2[0-3]):[0-5]\d$")
_Fail = Callable[[str], NoReturn]


@dataclass(frozen=True)
class ChildLink:
    """How a child layer's records name their parent feature: its layer and its uuid."""

    layer_field: str
    uuid_field: str


@dataclass(frozen=True)
class FollowRule:
    """Which fields of a facility follow its latest inspection, and how.

    Attributes
    ----------
    layer, time_field, condition_field : str
        The layer of inspections (default ``inspections``) and its fields
        read: when (``inspected_at``) and what was found (``condition``).
    date_field : str or None
        Takes the inspection's date in local time (``utc_offset``).
    status_field : str or None
        Takes ``status[condition]`` of the inspection (unchanged for a
        condition not listed).
    status : dict
        Inspection condition -> status value.
    utc_offset : str
        The local time of the city, e.g. ``+08:00``: the same date whether
        the rule runs on a laptop or at the office.
    """

    date_field: str | None
    status_field: str | None
    status: Mapping[str, str]
    utc_offset: str = "+08:00"
    #: The child layer of inspections, and its fields read: the time and the condition.
    layer: str = "inspections"
    time_field: str = "inspected_at"
    condition_field: str = "condition"

    def values(self, condition: Any, inspected_at: Any) -> dict[str, Any]:
        """The facility values an inspection of this *condition* made at *inspected_at* (stored text) implies."""
        out: dict[str, Any] = {}
        if self.date_field and inspected_at:
            out[self.date_field] = local_date(str(inspected_at), self.utc_offset)
        if self.status_field and condition in self.status:
            out[self.status_field] = self.status[condition]
        return out


def local_date(stored: str, utc_offset: str) -> str:
    """The ISO date of a stored UTC time (``2026-05-01T02:00:00.000Z``) at a UTC offset (``+08:00``)."""
    moment = dt.datetime.fromisoformat(stored.replace("Z", "+00:00"))
    sign = -1 if utc_offset.startswith("-") else 1
    hours, minutes = (int(part) for part in utc_offset[1:].split(":"))
    zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    return moment.astimezone(zone).date().isoformat()


def parse_child_of(raw: Any, fields: Mapping[str, FieldDefinition], fail: _Fail) -> ChildLink | None:
    """The ``[child_of]`` table of a definition (None if absent); its fields must be required text fields."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        fail("child_of must be a table with layer_field and uuid_field")
    link = ChildLink(layer_field=raw.get("layer_field", ""), uuid_field=raw.get("uuid_field", ""))
    for name in (link.layer_field, link.uuid_field):
        f = fields.get(name)
        if f is None:
            fail(f"child_of: {name!r} is not a field")
        if f.type != "text" or not f.required:
            fail(f"child_of: field {name!r} must be a required text field")
    return link


def parse_follow(raw: Any, fields: Mapping[str, FieldDefinition], fail: _Fail) -> FollowRule | None:
    """The ``[follows_inspections]`` table of a facility definition (None if absent)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        fail("follows_inspections must be a table")
    date_field, status_field = raw.get("date_field"), raw.get("status_field")
    status = raw.get("status", {})
    utc_offset = raw.get("utc_offset", "+08:00")
    if date_field is not None and (date_field not in fields or fields[date_field].type != "date"):
        fail(f"follows_inspections: date_field {date_field!r} is not a date field")
    if status_field is not None and status_field not in fields:
        fail(f"follows_inspections: status_field {status_field!r} is not a field")
    if not isinstance(status, dict) or (status and status_field is None):
        fail("follows_inspections: status must be a table of condition = status value, with a status_field")
    if status_field is not None:
        codes = fields[status_field].code_set
        for condition, value in status.items():
            if codes and value not in codes:
                fail(f"follows_inspections: status {value!r} (for {condition!r}) is not in the code list of "
                     f"{status_field!r}")
    if not isinstance(utc_offset, str) or not _OFFSET.match(utc_offset):
        fail(f"follows_inspections: utc_offset {utc_offset!r} is not like +08:00")
    names = {key: raw.get(key, default) for key, default in
             (("layer", "inspections"), ("time_field", "inspected_at"), ("condition_field", "condition"))}
    if not all(isinstance(v, str) and v for v in names.values()):
        fail("follows_inspections: layer, time_field and condition_field must be names")
    return FollowRule(date_field=date_field, status_field=status_field, status=dict(status), utc_offset=utc_offset,
                      **names)


def check_codes_for(definition: LayerDefinition, clean: Mapping[str, Any], attributes: Mapping[str, Any]) -> None:
    """Check the fields whose code list depends on another field (``codes_by``) against their record's list.

    *clean* holds the values checked so far (stored form); the selector's
    value is taken from it, else from *attributes*; a field or selector that
    is absent or empty is not checked.
    """
    for f in definition.fields:
        if not f.codes_by:
            continue
        value = clean.get(f.name)
        selector = clean.get(f.codes_by, attributes.get(f.codes_by))
        if value is None or selector not in f.codes_for:
            continue
        allowed = f.codes_for[selector]
        if value not in {code.value for code in allowed}:
            rule = f"is not in the code list for {selector} ({', '.join(code.value for code in allowed)})"
            raise ValidationError(f"{definition.name}.{f.name}: {value!r} {rule}", layer=definition.name,
                                  field=f.name, value=value, rule=rule)
