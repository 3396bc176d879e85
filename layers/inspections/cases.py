"""The case an inspection opens: its steps (发现 found → 立案 filed → 派遣 dispatched → 处理 in hand → 核查 checked →
结案 closed), the time of each step, and the words users may type for conditions, defects and steps.

Pure functions over an inspection's values (stored form); nothing here reads a file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from layers.errors import ValidationError
from layers.schema.definitions import FieldDefinition, LayerDefinition

__all__ = ["INSPECTIONS", "INTACT", "CLOSED", "STEPS", "Step", "step", "code_value", "new_case_status",
           "is_open", "advance", "age", "parse_age", "stored_time"]

#: The layer of inspection records (``layers/definitions/inspections.toml``).
INSPECTIONS = "inspections"
#: The condition that opens no case.
INTACT = "完好"
#: The last step of a case.
CLOSED = "结案"


@dataclass(frozen=True)
class Step:
    """One step of a case: its stored value, English name and the field holding when it was reached."""

    value: str
    name: str
    time_field: str


#: The steps of a case, in order. The first step's time is the inspection's own time.
STEPS = (
    Step("发现", "found", "inspected_at"),
    Step("立案", "filed", "filed_at"),
    Step("派遣", "dispatched", "dispatched_at"),
    Step("处理", "in hand", "handled_at"),
    Step("核查", "checked", "checked_at"),
    Step(CLOSED, "closed", "closed_at"),
)
_BY_VALUE = {s.value: s for s in STEPS}


def step(value: str) -> Step:
    """The step of a stored case status."""
    return _BY_VALUE[value]


def code_value(field: FieldDefinition, text: str, *, selector: str | None = None) -> str:
    """The stored code a user means by *text*: the value itself, or its Chinese or English label (any case).

    Parameters
    ----------
    field : FieldDefinition
        A field with a code list.
    selector : str, optional
        For a field whose list depends on another field (``codes_by``): that field's value.

    Raises
    ------
    ValidationError
        Naming the field and the accepted words.
    """
    codes = field.codes_for.get(selector, field.codes) if selector is not None and field.codes_by else field.codes
    wanted = text.strip().casefold()
    for code in codes:
        if wanted in (code.value.casefold(), *(label.casefold() for label in code.labels.values())):
            return code.value
    words = ", ".join(f"{c.value}/{c.label('en').lower()}" if c.label("en") != c.value else c.value for c in codes)
    if len(words) > 160:  # a long list: its values only (the English labels are accepted all the same)
        words = ", ".join(c.value for c in codes) + " (or their English names)"
    where = f" for {selector}" if selector and field.codes_by else ""
    raise ValidationError(f"{field.name}: {text!r} is not one of {words}{where}", field=field.name, value=text,
                          rule="is not in the code list")


def new_case_status(condition: str | None) -> str | None:
    """The case status a new inspection starts with: none for an intact facility, else 发现 (found)."""
    return None if condition in (None, INTACT) else STEPS[0].value


def is_open(values: Mapping[str, Any]) -> bool:
    """True for an inspection with a case that is not closed."""
    status = values.get("case_status")
    return status is not None and status != CLOSED


def stored_time(moment: dt.datetime) -> str:
    """A time as stored in a datetime field (UTC, milliseconds, ``Z``)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def advance(definition: LayerDefinition, values: Mapping[str, Any], to: str,
            when: dt.datetime | None = None) -> dict[str, Any]:
    """The changes that move an inspection's case to step *to*, stamping that step's time.

    A case goes forward only; a step's time already set is kept. Moving an
    intact inspection (no case) opens its case at *to*.

    Returns
    -------
    dict
        ``case_status`` and the step's time field (when it was empty).

    Raises
    ------
    ValidationError
        *to* is not a step, or lies before the case's current step.
    """
    target = _BY_VALUE.get(to)
    if target is None:
        raise ValidationError(f"{definition.name}.case_status: {to!r} is not a case step "
                              f"({', '.join(s.value for s in STEPS)})", layer=definition.name, field="case_status",
                              value=to, rule="is not in the code list")
    current = values.get("case_status")
    if current is not None and STEPS.index(_BY_VALUE[current]) > STEPS.index(target):
        raise ValidationError(f"{definition.name}.case_status: the case is at {current}; it cannot go back to {to}",
                              layer=definition.name, field="case_status", value=to, rule="a case goes forward only")
    changes: dict[str, Any] = {"case_status": target.value}
    if not values.get(target.time_field):
        changes[target.time_field] = stored_time(when or dt.datetime.now(dt.UTC))
    return changes


def age(values: Mapping[str, Any], now: dt.datetime | None = None) -> dt.timedelta:
    """How long ago the inspection was made (its case found)."""
    moment = dt.datetime.fromisoformat(str(values["inspected_at"]).replace("Z", "+00:00"))
    return (now or dt.datetime.now(dt.UTC)) - moment


_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([wdhm])\s*$", re.IGNORECASE)
_UNITS = {"w": dt.timedelta(weeks=1), "d": dt.timedelta(days=1), "h": dt.timedelta(hours=1),
          "m": dt.timedelta(minutes=1)}


def parse_age(text: str) -> dt.timedelta:
    """An age like ``3d``, ``12h``, ``2w`` or ``90m``; ValueError otherwise."""
    match = _AGE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not an age like 3d, 12h, 2w or 90m")
    return float(match.group(1)) * _UNITS[match.group(2).lower()]
