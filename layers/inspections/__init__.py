"""Inspection records: what an inspector found at a facility, and the case it opens (1:N per facility).

The ``inspections`` layer (``layers/definitions/inspections.toml``) is a
table without geometry whose records name their facility by layer and uuid
(``[child_of]``); each has its own uuid, so inspections added offline by
several people never collide, and they travel with change packages,
apply, update, checkout and export like any layer. Their photos are the
media tables' photos of the inspection's uuid (``layers.media``).

Modules
-------
* ``cases``: the case's steps (发现 → 立案 → 派遣 → 处理 → 核查 → 结案) and their
  times; the words users type for conditions, defects and steps.
* ``records``: recording an inspection (workspace, or the editor's session),
  and the facility values that follow its latest inspection.
* ``listing``: inspections listed and filtered by status and age.
"""

from __future__ import annotations

from layers.inspections.cases import CLOSED, INSPECTIONS, INTACT, STEPS, advance, is_open, parse_age
from layers.inspections.listing import InspectionRow, list_inspections, parse_statuses, session_inspections
from layers.inspections.records import (
    Followed,
    InspectionAdded,
    InspectionPlan,
    add_inspection,
    facility_layers,
    follow_changes,
    plan_inspection,
)

__all__ = ["CLOSED", "INSPECTIONS", "INTACT", "STEPS", "Followed", "InspectionAdded", "InspectionPlan",
           "InspectionRow", "add_inspection", "advance", "facility_layers", "follow_changes", "is_open",
           "list_inspections", "parse_age", "parse_statuses", "plan_inspection", "session_inspections"]
