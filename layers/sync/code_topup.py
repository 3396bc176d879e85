"""Component codes at update: a checkout's blocks topped up where its serials run low, its district areas renewed.

A checkout reserves blocks of serials per district and class
(``layers.sync.codes``).  At each update (``layers.sync.update``):

* the district polygons the workspace numbers by (``tongcheng_code_districts``)
  become the master's district areas as they are now, so a district the
  office added or redrew after the checkout counts from then on
  (:func:`district_changes`);
* for each district of the checkout's scope (as :meth:`CodeBook.checkout_districts`
  finds them in today's areas) and each class of its component layers
  (with a layer the update brought), a pair whose serials are used up or run
  low (``layers.workspace.numbering.blocks_wanted``) gets a new block from the
  master (:func:`top_up`).

A block is recorded in the master itself.  So the master must be the one the
workspace was checked out from and writable: a PostGIS master, or the very
master file reached directly (a shared drive).  A master file the office
sent (a copy) cannot record a reservation: nothing is reserved then, the
update says so in one line, and the office numbers the new features at
apply.  The master's reservation is committed before the workspace records
it: should the workspace not take it, the serials are lost, never given twice.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely

from layers.log import logger
from layers.postgres.urls import is_postgres
from layers.sync.checkout import SETTINGS
from layers.sync.codes import CodeBook
from layers.workspace.districts import District, read_districts
from layers.workspace.numbering import add_checkout_blocks, blocks_wanted
from layers.workspace.store import Workspace

if TYPE_CHECKING:
    from layers.sync.areas import Scope
    from layers.sync.master import MasterInfo
    from layers.sync.store import MasterLocation, MasterStore

__all__ = ["CodePlan", "plan_codes", "district_changes", "copy_reason", "top_up"]

log = logger(__name__)

Wanted = tuple[str, str, int]  # (district, class, serials)


@dataclass
class CodePlan:
    """What an update does to a workspace's component codes (see the module's text).

    Attributes
    ----------
    master_district : str or None
        The master's own district code (None: the master numbers nothing).
    districts : list of District
        The master's district areas now (what the workspace will number by).
    changes : dict
        ``added``, ``changed``, ``removed``: district codes whose area differs from the workspace's.
    wanted : list of (district, class, serials)
        The blocks to ask for.
    """

    master_district: str | None
    districts: list[District]
    changes: dict[str, list[str]]
    wanted: list[Wanted]


def district_changes(before: Sequence[District], after: Sequence[District]) -> dict[str, list[str]]:
    """The district codes added, whose area or name changed, and removed, between two sets of district polygons
    (empty lists left out)."""
    old = {d.code: d for d in before}
    new = {d.code: d for d in after}
    changes = {
        "added": sorted(set(new) - set(old)),
        "changed": sorted(c for c in set(new) & set(old) if old[c].name != new[c].name
                          or not shapely.equals(old[c].shape, new[c].shape)),
        "removed": sorted(set(old) - set(new)),
    }
    return {k: v for k, v in changes.items() if v}


def plan_codes(ws: Workspace, store: MasterStore, minfo: MasterInfo, layers: Sequence[str], scope: Scope | None,
               bbox: tuple[float, float, float, float] | None) -> CodePlan:
    """The district areas to renew and the blocks to ask for, read from the master (*layers*: the workspace's
    layers after the update, *scope* and *bbox*: its checkout's)."""
    book = CodeBook(store)
    district = book.district()
    if district is None:
        return CodePlan(None, [], {}, [])
    districts = book.district_map().districts
    changes = district_changes(read_districts(ws.connection), districts)
    classes = list(dict.fromkeys(c for name in layers if (spec := minfo.definitions[name].component)
                                 for c in spec.classes))
    pairs = [(d, c) for d in book.checkout_districts(scope, bbox) for c in classes] if classes else []
    return CodePlan(district, list(districts), changes, blocks_wanted(ws, pairs))


def copy_reason(ws: Workspace, master: MasterLocation) -> str | None:
    """Why no block can be reserved in *master* for *ws* (a copy, read-only), or None where it can."""
    if isinstance(master, str) and is_postgres(master):
        return None
    recorded = ws.setting(SETTINGS["path"])
    path = Path(master)
    if not recorded or is_postgres(recorded) or Path(recorded).resolve() != path.resolve():
        return (f"{path} is not the master file {ws.path.name} was checked out from"
                f"{f' ({recorded})' if recorded else ''}, so it cannot record a reservation; the office gives the "
                "new features their codes at apply")
    if not (os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)):
        return f"{path} is read-only here, so it cannot record a reservation; the office gives the new features " \
               "their codes at apply"
    return None


def top_up(ws: Workspace, master: MasterLocation, plan: CodePlan, user: str | None) -> list[dict[str, Any]]:
    """Reserve *plan*'s blocks in the master (committed at once), then record them in the workspace.

    Returns the blocks (``district``, ``component_class``, ``serials``,
    ``first``, ``last``); SyncError (one line) if the master refuses.
    """
    from layers.sync.store import open_master

    if not plan.wanted or plan.master_district is None:
        return []
    wanted = sorted(plan.wanted)  # in one order: two reservations never wait for each other in a ring
    with open_master(master, write=True) as writable:
        def work() -> list[tuple[str, str, int, int]]:
            book = CodeBook(writable)
            book.ensure_tables()
            return [(d, c, *book.reserve(d, c, size, ws.id, "update", user=user)) for d, c, size in wanted]

        reserved = writable.run(work)
    add_checkout_blocks(ws, plan.master_district, reserved)
    log.info("%s: new blocks of component codes from %s: %s", ws.path, writable.location,
             ", ".join(f"{d} {c} {a:06d}-{b:06d}" for d, c, a, b in reserved))
    return [{"district": d, "component_class": c, "serials": b - a + 1, "first": a, "last": b}
            for d, c, a, b in reserved]

