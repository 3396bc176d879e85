"""Waypoints to facilities: pair waypoints with the nearest facility, review as CSV, apply.

The review list is a CSV (UTF-8 with BOM, so spreadsheet programs on Chinese
Windows open it right) with one row per waypoint:

``layer, waypoint_uuid, waypoint_name, facility_uuid, facility_label, distance_m``

``facility_uuid`` is empty for a waypoint with no facility within the
distance. The user reviews it: a deleted row is not applied, an emptied
``facility_uuid`` turns a match into a new facility (with
``--create-unmatched``), an edited ``waypoint_name`` names the new facility.
Applying moves each matched facility onto its waypoint and can create
facilities from unmatched waypoints, all in one transaction, as tracked and
audited edits; each applied waypoint records the facility it placed
(``facility_layer``, ``facility_uuid``), so applying the same list twice
creates nothing twice.
"""

from __future__ import annotations

import csv
import functools
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import shapely

from layers.errors import FeatureNotFoundError, TongchengError, ValidationError
from layers.gps.clean import utm_epsg
from layers.gps.importer import WAYPOINTS_LAYER
from layers.sqlite.spatialite import point_blob_coordinates
from layers.workspace.identity import new_uuid

if TYPE_CHECKING:
    from layers.schema.definitions import LayerDefinition
    from layers.workspace.store import Workspace

__all__ = [
    "Match",
    "ApplySummary",
    "match_waypoints",
    "write_review",
    "read_review",
    "MatchPlan",
    "plan_matches",
    "apply_matches",
    "REVIEW_COLUMNS",
    "parse_assignments",
]

#: Columns of the review CSV, in order.
REVIEW_COLUMNS = ("layer", "waypoint_uuid", "waypoint_name", "facility_uuid", "facility_label", "distance_m")


@dataclass
class Match:
    """One waypoint and the facility paired with it (None when none is within the distance)."""

    layer: str | None  # None when read from a review list without a layer column
    waypoint_uuid: str
    waypoint_name: str | None
    facility_uuid: str | None = None
    facility_label: str | None = None
    distance_m: float | None = None
    line: int | None = None  # line of the review CSV, when read from one


@dataclass
class ApplySummary:
    """What :func:`apply_matches` did."""

    moved: list[str] = field(default_factory=list)     # facility uuids moved onto their waypoint
    unchanged: int = 0                              # matched facilities already at their waypoint
    created: list[str] = field(default_factory=list)   # uuids of facilities made from unmatched waypoints
    already_created: int = 0                        # unmatched rows whose facility was made before
    unmatched: int = 0                              # unmatched rows left alone (no create_unmatched)


def _facility_layer(workspace: Workspace, layer: str) -> LayerDefinition:
    definition = workspace.layer(layer)
    if definition.survey:
        raise TongchengError(f"{layer} is a survey layer, not a facility layer "
                             f"(facility layers: {', '.join(_facility_layers(workspace))})")
    if definition.geometry_type != "POINT":
        raise TongchengError(f"{layer} is a {definition.geometry_type} layer: waypoints match point layers only")
    return definition


def _facility_layers(workspace: Workspace) -> list[str]:
    return [n for n, d in workspace.definitions.items() if not d.survey and d.geometry_type == "POINT"]


def _label_field(definition: LayerDefinition) -> str | None:
    if definition.label_field:
        return definition.label_field
    return "name" if "name" in definition.known_names else None


def _waypoints(
    workspace: Workspace, source: str | None
) -> tuple[list[tuple[int, str, str | None]], np.ndarray, np.ndarray]:
    """fid, uuid, name arrays and x, y of the waypoints (of one source file or hash)."""
    where = ""
    parameters: tuple[str, ...] = ()
    if source:
        where = " WHERE source_file = ? OR source_hash = ?"
        parameters = (source, source.lower())
        if len(source) >= 6 and all(c in "0123456789abcdefABCDEF" for c in source):
            where += " OR source_hash LIKE ?"
            parameters += (source.lower() + "%",)
    rows = workspace.connection.execute(
        f"SELECT fid, uuid, name, geom FROM {WAYPOINTS_LAYER}{where} ORDER BY fid", parameters
    ).fetchall()
    if source and not rows:
        raise TongchengError(f"{WAYPOINTS_LAYER}: no waypoints from {source!r} (give a file name or a hash)")
    if not rows:
        return [], np.empty(0), np.empty(0)
    x, y = point_blob_coordinates([r[3] for r in rows])
    return [(r[0], r[1], r[2]) for r in rows], x, y


def _metric(
    workspace: Workspace, x: np.ndarray, y: np.ndarray, fx: np.ndarray, fy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates in metres: the workspace's own if it is projected in metres, else local UTM."""
    crs = pyproj.CRS.from_user_input(workspace.crs)
    if crs.is_projected and crs.axis_info and crs.axis_info[0].unit_name in ("metre", "meter"):
        return x, y, fx, fy
    to_lonlat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    lon, lat = to_lonlat.transform(x, y)
    epsg = utm_epsg(float(np.median(lon)), float(np.median(lat)))
    to_utm = pyproj.Transformer.from_crs(crs, epsg, always_xy=True)
    mx, my = to_utm.transform(x, y)
    mfx, mfy = to_utm.transform(fx, fy)
    return mx, my, mfx, mfy


def match_waypoints(
    workspace: Workspace, layer: str, max_distance: float, *, source: str | None = None
) -> list[Match]:
    """Pair each waypoint with the nearest facility of ``layer`` within ``max_distance`` metres.

    A facility is paired with at most one waypoint: all candidate pairs are
    taken nearest first, so a facility goes to its nearest waypoint and a
    waypoint whose nearest facility went to a nearer waypoint gets its next
    nearest within the distance, if any.

    Parameters
    ----------
    workspace : Workspace
    layer : str, a facility point layer (e.g. 'toilets').
    max_distance : float, metres (in the workspace CRS when it is projected
        in metres, else in the local UTM zone).
    source : str, optional; only waypoints imported from this file name or
        SHA-256 (or a prefix of at least 6 hex digits of it).

    Returns
    -------
    list of Match
        One per waypoint, in the waypoints' order; unmatched ones have
        ``facility_uuid`` None.
    """
    definition = _facility_layer(workspace, layer)
    if not (max_distance > 0 and math.isfinite(max_distance)):
        raise TongchengError(f"the maximum distance must be a positive number of metres, not {max_distance}")
    waypoints, x, y = _waypoints(workspace, source)
    matches = [Match(layer, uuid, name) for _, uuid, name in waypoints]
    if not waypoints:
        return matches
    label = _label_field(definition)
    crs = pyproj.CRS.from_user_input(workspace.crs)
    margin = max_distance if crs.is_projected else max_distance / 50_000.0 + 1e-6
    bbox = (x.min() - margin, y.min() - margin, x.max() + margin, y.max() + margin)
    facilities = workspace.point_arrays_in_extent(layer, bbox, fields=(label,) if label else ())
    if not len(facilities["fid"]):
        return matches
    mx, my, fx, fy = _metric(workspace, x, y, facilities["x"], facilities["y"])
    tree = shapely.STRtree(shapely.points(fx, fy))
    waypoint_index, facility_index = tree.query(shapely.points(mx, my), predicate="dwithin",
                                                distance=max_distance)
    distances = np.hypot(mx[waypoint_index] - fx[facility_index], my[waypoint_index] - fy[facility_index])
    order = np.lexsort((facility_index, waypoint_index, distances))
    taken_waypoints: set[int] = set()
    taken_facilities: set[int] = set()
    pairs: dict[int, tuple[int, float]] = {}
    for k in order.tolist():
        w, f = int(waypoint_index[k]), int(facility_index[k])
        if w in taken_waypoints or f in taken_facilities:
            continue
        taken_waypoints.add(w)
        taken_facilities.add(f)
        pairs[w] = (f, float(distances[k]))
    fids = [int(facilities["fid"][f]) for f, _ in pairs.values()]
    uuids: dict[int, str] = {}
    for start in range(0, len(fids), 500):
        chunk = fids[start:start + 500]
        uuids.update(workspace.connection.execute(
            f"SELECT fid, uuid FROM {layer} WHERE fid IN ({', '.join('?' * len(chunk))})", chunk).fetchall())
    for w, (f, distance) in pairs.items():
        match = matches[w]
        match.facility_uuid = uuids[int(facilities["fid"][f])]
        match.facility_label = facilities[label][f] if label else None
        match.distance_m = round(distance, 2)
    return matches


def write_review(matches: Iterable[Match], path: str | os.PathLike[str]) -> None:
    """Write the review list CSV (UTF-8 with BOM)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(REVIEW_COLUMNS)
        for m in matches:
            writer.writerow([m.layer, m.waypoint_uuid, m.waypoint_name or "", m.facility_uuid or "",
                             m.facility_label or "", "" if m.distance_m is None else f"{m.distance_m:.2f}"])


def read_review(path: str | os.PathLike[str]) -> list[Match]:
    """Read a review list CSV (UTF-8, with or without BOM, or GB18030 as Excel saves it).

    Returns
    -------
    list of Match, with ``line`` set to the CSV line of each row.

    Raises
    ------
    TongchengError
        If the file cannot be read or lacks the ``waypoint_uuid`` column.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise TongchengError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise TongchengError(f"{path}: not a UTF-8 or GB18030 text file") from None
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = columns
    if "waypoint_uuid" not in columns or "facility_uuid" not in columns:
        raise TongchengError(f"{path}: not a review list (needs the columns waypoint_uuid and facility_uuid; "
                             f"found: {', '.join(columns) or 'none'})")
    matches: list[Match] = []
    for row in reader:
        line = reader.line_num
        get = functools.partial(_cell, row)
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # a blank line
        uuid = get("waypoint_uuid")
        if uuid is None:
            raise TongchengError(f"{path}, line {line}: no waypoint_uuid")
        distance_text = get("distance_m")
        distance: float | None
        try:
            distance = float(distance_text) if distance_text is not None else None
        except ValueError:
            distance = None
        matches.append(Match(get("layer"), uuid, get("waypoint_name"), get("facility_uuid"),
                             get("facility_label"), distance, line))
    return matches


def parse_assignments(items: Iterable[str] | None) -> dict[str, str]:
    """``['field=value', ...]`` (the ``--set`` option) as a dict."""
    values: dict[str, str] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise TongchengError(f"--set {item!r}: expected FIELD=VALUE")
        values[name.strip()] = value.strip()
    return values


def _check_creation(definition: LayerDefinition, values: Mapping[str, Any], name_field: str | None) -> None:
    """Refuse, before writing anything, a creation that would lack a required value."""
    for name in values:
        if name not in definition.known_names:
            raise TongchengError(f"--set {name}=...: {definition.name} has no field {name!r} "
                                 f"(fields: {', '.join(definition.field_names)})")
    missing = [f for f in definition.fields
               if f.required and f.default is None and not f.derived and f.name not in values
               and f.name != name_field]
    if missing:
        hints = []
        for f in missing:
            codes = f" (one of: {', '.join(map(str, f.code_values))})" if f.codes else ""
            hints.append(f"--set {f.name}=VALUE{codes}")
        names = ", ".join(f"{f.name} ({f.label('zh_CN')})" for f in missing)
        raise TongchengError(f"{definition.name}: creating facilities needs a value for {names}, "
                             f"which have no default: give {' '.join(hints)}")


@dataclass
class MatchPlan:
    """The edits that applying reviewed matches makes, decided once for every caller.

    :func:`apply_matches` writes them to the workspace; the editor turns them
    into one undoable command. Geometries are the waypoints' (workspace CRS).
    """

    layer: str
    moves: list[tuple[int, str, Any]] = field(default_factory=list)       # (facility fid, uuid, geometry)
    creates: list[tuple[str, dict[str, Any], Any, int | None]] = field(default_factory=list)
    """(new uuid, attributes, geometry, CSV line) of each facility to create."""
    links: list[tuple[int, str]] = field(default_factory=list)            # (waypoint fid, facility uuid)
    summary: ApplySummary = field(default_factory=ApplySummary)


def plan_matches(
    workspace: Workspace,
    matches: Sequence[Match],
    *,
    layer: str | None = None,
    create_unmatched: bool = False,
    values: Mapping[str, Any] | None = None,
    where: str = "review list",
) -> MatchPlan:
    """Decide what applying reviewed matches does, reading the workspace and writing nothing.

    Matched facilities move onto their waypoints (unless already there);
    with ``create_unmatched`` a facility is made for each unmatched waypoint
    (unless the waypoint's facility exists already), with ``values``, named
    by ``values`` or else after the row's ``waypoint_name`` (else the
    waypoint's name); each waypoint is linked to its facility where the
    waypoint layer has the link fields. Parameters and errors as
    :func:`apply_matches`.
    """
    values = dict(values or {})
    layers = {m.layer for m in matches if m.layer}
    if layer is None:
        if len(layers) > 1:
            raise TongchengError(f"{where}: rows of several layers ({', '.join(sorted(layers))}): give --layer")
        if not layers:
            raise TongchengError(f"{where}: no layer column: give --layer")
        layer = layers.pop()
    elif layers - {layer}:
        raise TongchengError(f"{where}: rows are for {', '.join(sorted(layers))}, not {layer}")
    definition = _facility_layer(workspace, layer)
    name_field = _label_field(definition)
    links = {"facility_layer", "facility_uuid"} <= workspace.layer(WAYPOINTS_LAYER).known_names

    if create_unmatched and any(m.facility_uuid is None for m in matches):
        _check_creation(definition, values, name_field)

    seen_waypoints: dict[str, int | None] = {}
    seen_facilities: dict[str, int | None] = {}
    for m in matches:
        for seen, key, what in ((seen_waypoints, m.waypoint_uuid, "waypoint"),
                                (seen_facilities, m.facility_uuid, "facility")):
            if key is None:
                continue
            if key in seen:
                raise TongchengError(f"{where}, line {m.line}: {what} {key} is also on line {seen[key]}: "
                                     "keep one of the two rows")
            seen[key] = m.line

    plan = MatchPlan(layer)
    summary = plan.summary
    for m in matches:
        place = f"{where}, line {m.line}" if m.line else where
        try:
            waypoint = workspace.find(WAYPOINTS_LAYER, m.waypoint_uuid)
        except FeatureNotFoundError:
            raise TongchengError(f"{place}: no waypoint {m.waypoint_uuid} in the workspace") from None
        if m.facility_uuid is not None:
            try:
                facility = workspace.find(layer, m.facility_uuid)
            except FeatureNotFoundError:
                raise TongchengError(f"{place}: no facility {m.facility_uuid} in {layer}") from None
            if facility.geometry.equals_exact(waypoint.geometry, 0):
                summary.unchanged += 1
            else:
                plan.moves.append((facility.fid, facility.uuid, waypoint.geometry))
                summary.moved.append(facility.uuid)
            uuid = facility.uuid
        elif not create_unmatched:
            summary.unmatched += 1
            continue
        else:
            linked = waypoint.attributes.get("facility_uuid") if links else None
            if linked and waypoint.attributes.get("facility_layer") == layer and _exists(workspace, layer, linked):
                summary.already_created += 1
                continue
            attributes = dict(values)
            if name_field and not attributes.get(name_field):
                attributes[name_field] = m.waypoint_name or waypoint.attributes.get("name")
            uuid = new_uuid()
            plan.creates.append((uuid, attributes, waypoint.geometry, m.line))
            summary.created.append(uuid)
        if links:
            plan.links.append((waypoint.fid, uuid))
    return plan


def _exists(workspace: Workspace, layer: str, uuid: str) -> bool:
    try:
        workspace.find(layer, uuid)
    except FeatureNotFoundError:
        return False
    return True


def apply_matches(
    workspace: Workspace,
    matches: Sequence[Match],
    *,
    layer: str | None = None,
    create_unmatched: bool = False,
    values: Mapping[str, Any] | None = None,
    where: str = "review list",
) -> ApplySummary:
    """Move matched facilities onto their waypoints and, optionally, create the unmatched ones.

    Parameters
    ----------
    workspace : Workspace
    matches : list of Match (e.g. from :func:`read_review`): only these rows
        are applied.
    layer : str, optional; the facility layer (default: the rows' ``layer``;
        when both are given they must agree).
    create_unmatched : bool; create a facility for each row without a
        facility, named after the row's ``waypoint_name`` (else the
        waypoint's name), with the layer's defaults and ``values``.
    values : dict of field values for created facilities (``--set``).
    where : str, named in error messages (the CSV's path).

    Returns
    -------
    ApplySummary

    Raises
    ------
    TongchengError
        Naming the CSV line: unknown waypoint or facility, a facility or a
        waypoint in two rows, a value missing or invalid. Nothing is written.
    """
    plan = plan_matches(workspace, matches, layer=layer, create_unmatched=create_unmatched, values=values,
                        where=where)
    with workspace.session():
        for fid, _uuid, geometry in plan.moves:
            workspace.update(plan.layer, fid, geometry=geometry)
        for uuid, attributes, geometry, line in plan.creates:
            try:
                workspace.insert(plan.layer, attributes, geometry, uuid=uuid)
            except ValidationError as exc:
                place = f"{where}, line {line}" if line else where
                raise ValidationError(f"{place}: {exc}", layer=exc.layer, field=exc.field, value=exc.value,
                                      rule=exc.rule) from None
        for waypoint_fid, uuid in plan.links:
            workspace.update(WAYPOINTS_LAYER, waypoint_fid, attributes={"facility_layer": plan.layer,
                                                                      "facility_uuid": uuid})
    return plan.summary


def _cell(row: dict[str, str | None], key: str) -> str | None:
    """The stripped text of one cell of a CSV row; None when missing or blank."""
    return (row.get(key) or "").strip() or None
