"""Inspections listed: of a workspace or a master (``tongcheng inspections``; a ``.gpkg`` file or a PostGIS
database, read through its store), or of the editor's session
(the case list), filtered by case status and age, oldest first, each with its facility's label."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layers.errors import TongchengError, ValidationError
from layers.inspections.cases import CLOSED, INSPECTIONS, STEPS, age, code_value, is_open
from layers.media.tables import mapping_table, media_layers
from layers.postgres.urls import is_postgres
from layers.schema.definitions import LayerDefinition
from layers.workspace.editing import EditSession
from layers.workspace.store import Workspace

__all__ = ["OPEN", "InspectionRow", "parse_statuses", "list_inspections", "session_inspections"]

#: The word for every case that is not closed, in ``--status``.
OPEN = "open"


@dataclass(frozen=True)
class InspectionRow:
    """One inspection as listed: its values, its facility (fid None if the file does not hold it), its age."""

    uuid: str
    fid: int
    values: dict[str, Any]
    facility_fid: int | None
    facility_label: Any
    age: dt.timedelta
    photos: int = 0
    step_times: dict[str, Any] = field(default_factory=dict)

    @property
    def layer(self) -> str:
        return str(self.values["facility_layer"])

    @property
    def facility_uuid(self) -> str:
        return str(self.values["facility_uuid"])

    @property
    def case_status(self) -> str | None:
        return self.values.get("case_status")

    @property
    def is_open(self) -> bool:
        return is_open(self.values)


def parse_statuses(definition: LayerDefinition, words: Iterable[str]) -> set[str]:
    """Stored case statuses from words a user typed (``立案``, ``filed``, ``open`` for every open step, commas too)."""
    out: set[str] = set()
    for word in (w.strip() for text in words for w in text.split(",")):
        if not word:
            continue
        if word.casefold() == OPEN:
            out.update(s.value for s in STEPS if s.value != CLOSED)
            continue
        try:
            out.add(code_value(definition.field("case_status"), word))
        except ValidationError as exc:
            raise ValidationError(f"--status {str(exc).split(': ', 1)[-1]}, or {OPEN}", field="case_status",
                                  value=word, rule="is not in the code list") from None
    return out


def _keep(values: Mapping[str, Any], statuses: set[str] | None, older_than: dt.timedelta | None,
          now: dt.datetime) -> bool:
    if statuses is not None and values.get("case_status") not in statuses:
        return False
    return older_than is None or age(values, now) >= older_than


def _photo_counts(con: sqlite3.Connection) -> dict[str, int]:
    if INSPECTIONS not in media_layers(con):
        return {}
    return dict(con.execute(f'SELECT base_uuid, count(*) FROM "{mapping_table(INSPECTIONS)}" GROUP BY base_uuid'))


def _facilities(con: sqlite3.Connection, definitions: Mapping[str, LayerDefinition],
                wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, Any]]:
    """(layer, uuid) -> (fid, label) of the facilities this file holds."""
    by_layer: dict[str, list[str]] = {}
    for layer, uuid in wanted:
        by_layer.setdefault(layer, []).append(uuid)
    out: dict[tuple[str, str], tuple[int, Any]] = {}
    for layer, uuids in by_layer.items():
        definition = definitions.get(layer)
        if definition is None:
            continue
        label = definition.label_field or "uuid"
        for i in range(0, len(uuids), 500):
            part = uuids[i:i + 500]
            for fid, uuid, text in con.execute(f'SELECT fid, uuid, "{label}" FROM "{layer}" WHERE uuid IN '
                                               f"({', '.join('?' * len(part))})", part):
                out[(layer, uuid)] = (fid, text)
    return out


#: (layer, uuid) of facilities -> (fid, label) of those the source holds.
Facilities = Callable[[set[tuple[str, str]]], dict[tuple[str, str], tuple[int, Any]]]


def _rows(facilities: Facilities, photos: Mapping[str, int], records: Iterable[tuple[int, str, dict[str, Any]]],
          statuses: set[str] | None, older_than: dt.timedelta | None, now: dt.datetime) -> list[InspectionRow]:
    kept = [(fid, uuid, values) for fid, uuid, values in records if _keep(values, statuses, older_than, now)]
    found = facilities({(v["facility_layer"], v["facility_uuid"]) for _, _, v in kept})
    rows = []
    for fid, uuid, values in kept:
        facility_fid, label = found.get((values["facility_layer"], values["facility_uuid"]), (None, None))
        rows.append(InspectionRow(uuid, fid, values, facility_fid, label, age(values, now), photos.get(uuid, 0),
                                  {s.value: values.get(s.time_field) for s in STEPS}))
    rows.sort(key=lambda r: (str(r.values["inspected_at"]), r.uuid))
    return rows


def _master_inspections(source: str | os.PathLike[str], statuses: Iterable[str] | None,
                        older_than: dt.timedelta | None, now: dt.datetime) -> list[InspectionRow]:
    """The inspections of a master, GeoPackage or PostGIS, read through its store."""
    from layers.sync.store import open_master

    with open_master(source) as store:
        definitions = store.info.definitions
        definition = definitions.get(INSPECTIONS)
        if definition is None or INSPECTIONS not in store.info.layers:
            raise TongchengError(f"{store.location}: has no {INSPECTIONS!r} layer (made before inspection records)")
        wanted = parse_statuses(definition, statuses) if statuses is not None else None
        names = definition.field_names
        records = ((r["fid"], r["uuid"], {n: r[n] for n in names}) for r in store.rows(definition))

        def facilities(keys: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, Any]]:
            by_layer: dict[str, list[str]] = {}
            for layer, uuid in keys:
                by_layer.setdefault(layer, []).append(uuid)
            out: dict[tuple[str, str], tuple[int, Any]] = {}
            for layer, uuids in by_layer.items():
                facility = definitions.get(layer)
                if facility is None or layer not in store.info.layers:
                    continue
                label = facility.label_field or "uuid"
                for uuid, row in store.rows_by_uuid(facility, uuids).items():
                    out[(layer, uuid)] = (row["fid"], row[label])
            return out

        return _rows(facilities, store.photo_counts(INSPECTIONS), records, wanted, older_than, now)


def list_inspections(source: str | os.PathLike[str], *, statuses: Iterable[str] | None = None,
                     older_than: dt.timedelta | None = None, now: dt.datetime | None = None) -> list[InspectionRow]:
    """The inspections of a workspace or master, oldest first.

    Parameters
    ----------
    source : path-like or str
        A workspace (``.sqlite``), or a master: a ``.gpkg`` file or a ``postgresql://`` connection string.
    statuses : iterable of str, optional
        Case statuses to keep (words as :func:`parse_statuses` reads them).
    older_than : timedelta, optional
        Keep those inspected at least this long ago.
    """
    now = now or dt.datetime.now(dt.UTC)
    if is_postgres(source) or Path(source).suffix.lower() == ".gpkg":
        if not is_postgres(source) and not Path(source).is_file():
            raise TongchengError(f"{source}: no such file")
        return _master_inspections(source, statuses, older_than, now)
    path = Path(source)
    if not path.is_file():
        raise TongchengError(f"{path}: no such file")
    with Workspace.open(path) as ws, ws.reader() as con:
        definitions = ws.definitions
        definition = definitions.get(INSPECTIONS)
        if definition is None:
            raise TongchengError(f"{path}: has no {INSPECTIONS!r} layer (made before inspection records)")
        wanted = parse_statuses(definition, statuses) if statuses is not None else None
        names = definition.field_names
        cursor = con.execute(f"SELECT fid, uuid, {', '.join(names)} FROM {INSPECTIONS} ORDER BY fid")
        records = ((row[0], row[1], dict(zip(names, row[2:], strict=True))) for row in cursor)
        return _rows(lambda keys: _facilities(con, definitions, keys), _photo_counts(con), records, wanted,
                     older_than, now)


def session_inspections(session: EditSession, *, statuses: Sequence[str] | None = None,
                        older_than: dt.timedelta | None = None, layer: str | None = None,
                        uuid: str | None = None, now: dt.datetime | None = None) -> list[InspectionRow]:
    """The inspections the editor's session shows (pending edits applied), as :func:`list_inspections`.

    *layer* and *uuid* narrow them to one facility's; *statuses* are stored values.
    """
    ws = session.workspace
    if INSPECTIONS not in ws.definitions:
        return []
    where, parameters = ("facility_layer = ? AND facility_uuid = ?", [layer, uuid]) if uuid else (None, [])
    features = session.features_by_fid(INSPECTIONS, list(session.fids(INSPECTIONS, where, parameters)))
    records = ((f.fid, f.uuid, dict(f.attributes)) for f in features)
    wanted = set(statuses) if statuses is not None else None
    rows = _rows(lambda keys: _facilities(ws.connection, ws.definitions, keys), _photo_counts(ws.connection), records,
                 wanted, older_than, now or dt.datetime.now(dt.UTC))
    return [_with_session_facility(session, r) for r in rows]


def _with_session_facility(session: EditSession, row: InspectionRow) -> InspectionRow:
    """The facility's fid and label as the session shows them (a pending rename, a deletion)."""
    if row.facility_fid is None:
        return row
    try:
        feature = session.feature(row.layer, row.facility_fid)
    except TongchengError:
        return InspectionRow(row.uuid, row.fid, row.values, None, None, row.age, row.photos, row.step_times)
    label_field = session.workspace.layer(row.layer).label_field
    label = feature.attributes.get(label_field) if label_field else row.facility_label
    return InspectionRow(row.uuid, row.fid, row.values, row.facility_fid, label, row.age, row.photos, row.step_times)
