"""Row values as they are stored: BOOLEAN, DATE and DATETIME converters, geometries checked and encoded.

BOOLEAN takes ``bool`` (stored 0/1, read back as ``bool``); DATE takes
``datetime.date`` or ``'YYYY-MM-DD'``; DATETIME takes ``datetime.datetime``
(naive values are taken as UTC) or an ISO text ending in ``Z``; DATE and
DATETIME read back as the stored text.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.errors import GeoPackageError
from layers.geopackage.codec import encode_gpb_many
from layers.geopackage.schema import GEOMETRY_TYPES, SHAPELY_TYPE_NAMES, LayerSchema

__all__ = ["Row", "row_lists", "to_boolean", "to_date", "to_datetime", "WRITERS", "check_geometries", "convert_rows"]

_DATE_RE = re.compile(r"^\d{4}-[01]\d-[0-3]\d$")
_DATETIME_RE = re.compile(
    r"^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d(:[0-5]\d(\.\d{3})?)?Z$"
)

#: A row as given to ``GeoPackage.write_rows``: a dict by column name, or a tuple in ``field_names`` order.
Row = Mapping[str, Any] | Sequence[Any]


def row_lists(where: str, names: list[str], rows: list[Row], start: int) -> list[list[Any]]:
    """One list of values per row, in *names* order (the fid column first).

    Parameters
    ----------
    where : str
        The file and layer, for error messages.
    names : list of str
        The fid column, then the layer's ``field_names``.
    rows : list of dict or tuple
        A dict maps column names to values (missing ones are NULL); a tuple
        holds every value but the fid, which is left NULL for SQLite to assign.
    start : int
        Number of the first row, for error messages.

    Raises
    ------
    GeoPackageError
        For a tuple of the wrong length or a dict naming an unknown column.
    """
    known = set(names)
    values = []
    for n, row in enumerate(rows, start):
        if isinstance(row, tuple | list):
            if len(row) != len(names) - 1:
                raise GeoPackageError(
                    f"{where}, row {n}: {len(row)} values "
                    f"for {len(names) - 1} fields ({', '.join(names[1:])})")
            values.append([None, *row])
        else:
            mapping = cast(Mapping[str, Any], row)
            unknown = set(mapping) - known
            if unknown:
                raise GeoPackageError(
                    f"{where}, row {n}: no column "
                    f"{', '.join(repr(u) for u in sorted(unknown))}")
            values.append([mapping.get(name) for name in names])
    return values


def to_boolean(value: Any) -> int:
    """0 or 1 for a bool (or 0/1); ValueError otherwise."""
    if isinstance(value, bool | np.bool_) or value in (0, 1):
        return int(bool(value))
    raise ValueError("expected a boolean")


def to_date(value: Any) -> str:
    """``'YYYY-MM-DD'`` for a date or such a text; ValueError otherwise (a datetime too)."""
    if isinstance(value, _dt.datetime):
        raise ValueError("expected a date, got a datetime")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str) and _DATE_RE.match(value):
        return value
    raise ValueError("expected a date or 'YYYY-MM-DD'")


def to_datetime(value: Any) -> str:
    """``'YYYY-MM-DDTHH:MM:SS.sssZ'`` in UTC for a datetime (naive is UTC) or such a text."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, str) and _DATETIME_RE.match(value):
        return value
    raise ValueError("expected a datetime or ISO text like 'YYYY-MM-DDTHH:MM:SS.sssZ'")


#: Converter of each column type whose values need one before they are stored.
WRITERS: dict[str, Callable[[Any], Any]] = {"BOOLEAN": to_boolean, "DATE": to_date, "DATETIME": to_datetime}


def convert_rows(where: str, schema: LayerSchema, names: list[str], values: list[list[Any]], start: int) -> None:
    """Turn row values into what is stored, in place.

    Parameters
    ----------
    where : str
        The file and layer, for error messages (``'<path>: layer 'x''``).
    schema : LayerSchema
    names : list of str
        The column of each value: the fid column, then ``schema.field_names``
        (so the geometry, if any, is at index 1).
    values : list of list
        The rows; converted values and encoded geometries replace the given ones.
    start : int
        Number of the first row, for error messages.

    Raises
    ------
    GeoPackageError
        Naming the row and column of a value that cannot be stored.
    """
    types = {c.name: c.type.upper() for c in schema.columns}
    for i, name in enumerate(names):
        writer = WRITERS.get(types.get(name, ""))
        if writer is None:
            continue
        for n, v in enumerate(values):
            if v[i] is not None:
                try:
                    v[i] = writer(v[i])
                except ValueError as exc:
                    raise GeoPackageError(
                        f"{where}, row {start + n}, column {name!r}: {v[i]!r}: {exc}"
                    ) from None
    if schema.is_spatial:
        geoms = [v[1] for v in values]
        check_geometries(where, schema, geoms, start)
        for v, blob in zip(values, encode_gpb_many(geoms, schema.srs_id), strict=True):
            v[1] = blob


def check_geometries(where: str, schema: LayerSchema, geoms: list[Any], start: int) -> None:
    """Raise GeoPackageError unless every geometry is None or a shapely geometry the layer takes."""
    for n, g in enumerate(geoms):
        if g is not None and not isinstance(g, BaseGeometry):
            raise GeoPackageError(
                f"{where}, row {start + n}: geometry must be a shapely geometry, "
                f"not {type(g).__name__}")
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    type_ids = shapely.get_type_id(arr)
    has_z = shapely.has_z(arr)
    empty = shapely.is_empty(arr)
    accepted = GEOMETRY_TYPES[schema.geometry_type or "GEOMETRY"]
    for n, g in enumerate(geoms):
        if g is None:
            continue
        if type_ids[n] not in accepted:
            raise GeoPackageError(
                f"{where}, row {start + n}: geometry is "
                f"{SHAPELY_TYPE_NAMES.get(int(type_ids[n]), '?')}, the layer takes "
                f"{schema.geometry_type}")
        if has_z[n] and schema.z == 0:
            raise GeoPackageError(
                f"{where}, row {start + n}: geometry has Z values, the layer has none")
        if not has_z[n] and not empty[n] and schema.z == 1:
            raise GeoPackageError(
                f"{where}, row {start + n}: geometry has no Z values, the layer needs them")
