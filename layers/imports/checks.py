"""A source's rows through the mapping, a chunk at a time: every value converted and checked, the
geometry moved and checked, the key matched; what both passes of an import read.

``plan_import`` reads the source once to find every problem; ``apply_import``
reads it again to write, rebuilding the same rows with the same ``RowChecker``
(and comparing them with what the first pass found). Values are converted and
checked a column at a time (each distinct value once: a code column of a
million rows has a handful), a table's coordinates moved and checked against
the area of use all at once.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from layers.errors import ValidationError
from layers.imports.coordinates import Reprojector, SourceCrs
from layers.imports.mapping import Mapping
from layers.imports.problems import RowProblem
from layers.imports.sources import SourceChunk
from layers.schema.definitions import FieldDefinition, LayerDefinition, validate_value
from layers.schema.geometry import validate_geometry

__all__ = ["convert", "FieldCheck", "CheckedChunk", "RowChecker"]

_DATE = re.compile(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(?:[ T]0?0:00(?::00)?)?\s*")
_TRUE = {"true", "t", "yes", "y", "1", "是", "有", "√", "✓", "对"}
_FALSE = {"false", "f", "no", "n", "0", "否", "无", "×", "✗", "错"}
#: Distinct values of one column whose checks are remembered across chunks (a code column has a
#: handful; a name column has as many as rows, each checked once anyway).
_CACHE_LIMIT = 20_000
#: Classes whose values can share a dict key with a value of another class (1 == 1.0 == True).
_NUMBERS = (bool, int, float)


def convert(f: FieldDefinition, value: Any) -> Any:
    """A source value in the form the field's validation reads; values that cannot be converted
    are returned as they are (validation then names the rule they break)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    if f.type in ("text", "photo"):
        if isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
    elif f.type == "integer" and isinstance(value, str):
        number = value.replace(",", "")
        try:
            as_float = float(number)
        except ValueError:
            return value
        return int(as_float) if as_float.is_integer() else value
    elif f.type == "boolean":
        if isinstance(value, str):
            text = value.lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        elif isinstance(value, float) and value in (0.0, 1.0):
            return bool(value)
    elif f.type == "date":
        if isinstance(value, dt.datetime) and value.time() == dt.time(0):
            return value.date()
        if isinstance(value, str):
            match = _DATE.fullmatch(value)
            if match:
                try:
                    return dt.date(*map(int, match.groups()))
                except ValueError:
                    return value
    return value


class FieldCheck:
    """A mapped column's values through the value map, converted and checked for one field."""

    __slots__ = ("definition", "field", "name", "column", "value_map", "cache")

    def __init__(self, definition: LayerDefinition, name: str, column: str,
                 value_map: dict[str, Any] | None) -> None:
        self.definition = definition
        self.field = None if name == "uuid" else definition.field(name)
        self.name = name
        self.column = column
        self.value_map = value_map or None
        self.cache: dict[tuple[type, Any], tuple[Any, str | None]] = {}

    def check(self, raw: Any) -> tuple[Any, str | None]:
        """(the stored value, None) or (None, what is wrong); remembered per value."""
        try:
            key = (raw.__class__, raw)
            hit = self.cache.get(key)
        except TypeError:  # an unhashable value (a list from a vector file): checked every time
            key, hit = None, None
        if hit is not None:
            return hit
        value = raw
        if self.value_map is not None and raw is not None:
            text = str(raw).strip()
            if text in self.value_map:
                value = self.value_map[text]
        result: tuple[Any, str | None]
        if self.field is None:  # the uuid column
            if value is None or not str(value).strip():
                result = (None, None)
            else:
                try:
                    result = (str(uuid.UUID(str(value).strip())), None)
                except ValueError:
                    result = (None, f"{raw!r} is not a uuid")
        else:
            try:
                result = (validate_value(self.definition, self.field, convert(self.field, value)), None)
            except ValidationError as e:
                result = (None, str(e))
        if key is not None and len(self.cache) < _CACHE_LIMIT:
            self.cache[key] = result
        return result

    def check_column(self, raws: Sequence[Any]) -> tuple[list[Any], dict[int, str]]:
        """The stored values of a column (None where a value breaks a rule) and what is wrong, by index."""
        classes = set(map(type, raws))
        f = self.field
        if (f is not None and f.type == "text" and self.value_map is None and classes == {str}
                and f.pattern is None):
            # Plain text (a name column: as many values as rows), checked in sweeps over the list.
            stripped = list(map(str.strip, raws))
            if "" not in stripped and (f.max_length is None or max(map(len, stripped), default=0) <= f.max_length) \
                    and (not f.codes or f.code_set.issuperset(stripped)):
                return stripped, {}
        if len(classes.intersection(_NUMBERS)) <= 1:
            try:
                distinct = dict.fromkeys(raws)
            except TypeError:  # an unhashable value: one at a time below
                pass
            else:
                stored: dict[Any, Any] = {}
                broken: dict[Any, str] = {}
                for raw in distinct:
                    stored[raw], error = self.check(raw)
                    if error is not None:
                        broken[raw] = error
                errors: dict[int, str] = {}
                if broken:
                    for i, raw in enumerate(raws):
                        if raw in broken:
                            errors[i] = broken[raw]
                return list(map(stored.__getitem__, raws)), errors
        values: list[Any] = []
        errors = {}
        for i, raw in enumerate(raws):
            value, error = self.check(raw)
            values.append(value)
            if error is not None:
                errors[i] = error
        return values, errors


@dataclass
class CheckedChunk:
    """A chunk's rows through the mapping.

    Attributes
    ----------
    values : dict
        Field -> the stored value of each row (None where it broke a rule): the
        mapped fields (``uuid`` when a column gives it) and the constants.
    given : set of str
        The fields of ``values`` a row names even when its value is None (all but ``uuid``).
    geometries : array or None
        Each row's geometry in the target CRS (None where it has none or a bad
        one); made only when asked for.
    centres : array
        Each row's (x, y) centre in the target CRS (NaN where it has none).
    fids : list
        The existing feature each row updates (None: a new one).
    problems : dict
        Row index -> the row's problems, in the order found.
    """

    numbers: list[int]
    values: dict[str, list[Any]]
    given: set[str]
    geometries: np.ndarray | None
    centres: np.ndarray
    fids: list[int | None]
    problems: dict[int, list[RowProblem]] = field(default_factory=dict)

    #: Whether a row matched an existing feature (``fids`` holds one).
    matched: bool = False

    def passed(self) -> list[int]:
        """The indexes of the rows without a problem."""
        if not self.problems:
            return list(range(len(self.numbers)))
        return [i for i in range(len(self.numbers)) if i not in self.problems]

    def new_rows(self, rows: list[int]) -> list[int]:
        """Those of ``rows`` that match no feature."""
        return [i for i in rows if self.fids[i] is None] if self.matched else rows

    def attributes(self, i: int) -> dict[str, Any]:
        """Row ``i``'s values by field (a row names every mapped field; ``uuid`` only when it has one)."""
        return {name: column[i] for name, column in self.values.items()
                if name in self.given or column[i] is not None}

    def problem(self, i: int, problem: RowProblem) -> None:
        self.problems.setdefault(i, []).append(problem)


class RowChecker:
    """Checks the rows of a source for a layer, a chunk at a time (see the module's text).

    ``existing`` holds the features the key finds (key text -> fids); ``start``
    begins a pass (the keys seen so far are forgotten).
    """

    def __init__(self, definition: LayerDefinition, mapping: Mapping, kind: str, reproject: Reprojector,
                 crs: SourceCrs, existing: dict[str, list[int]], constants: dict[str, Any]) -> None:
        self.definition = definition
        self.mapping = mapping
        self.kind = kind
        self.reproject = reproject
        self.crs = crs
        self.existing = existing
        self.constants = constants
        self.checks = [FieldCheck(definition, name, column, mapping.values.get(name))
                       for name, column in mapping.fields.items()]
        named = set(mapping.fields) | set(constants)
        #: Fields a new feature needs that neither a column nor a constant gives (none without a key:
        #: plan_import refuses such a mapping).
        self.missing = [f for f in definition.fields
                        if f.required and f.default is None and not f.derived and f.name not in named]
        self.seen_keys: dict[str, int] = {}

    def start(self) -> None:
        self.seen_keys = {}

    def check(self, chunk: SourceChunk, *, geometries: bool) -> CheckedChunk:
        """The chunk's rows checked; their geometries made too when ``geometries`` is set."""
        n = len(chunk)
        numbers = chunk.numbers
        values: dict[str, list[Any]] = {}
        checked = CheckedChunk(numbers, values, {c.name for c in self.checks if c.field is not None} | set(
            self.constants), None, np.full((n, 2), np.nan), [None] * n)
        for check in self.checks:
            raws = chunk.columns[check.column]
            values[check.name], errors = check.check_column(raws)
            for i, error in errors.items():
                checked.problem(i, RowProblem(numbers[i], check.name, check.column, raws[i], error))
        for name, value in self.constants.items():
            values[name] = [value] * n
        if self.kind == "table":
            self._table_geometries(chunk, checked, geometries)
        else:
            self._vector_geometries(chunk, checked)
        if self.mapping.key is not None:
            self._match_keys(checked)
        if self.missing:
            layer = self.definition.name
            for i in range(n):
                if checked.fids[i] is None and i not in checked.problems:
                    for f in self.missing:
                        checked.problem(i, RowProblem(numbers[i], f.name, "", None,
                                                      f"{layer}.{f.name}: a value is required (a new feature)"))
        return checked

    # --- geometries ---------------------------------------------------------------------------

    def _table_geometries(self, chunk: SourceChunk, checked: CheckedChunk, make: bool) -> None:
        """Points from the coordinate columns, moved all at once; the points made if ``make``."""
        mapping = self.mapping
        assert mapping.x is not None and mapping.y is not None  # Mapping.check
        numbers = checked.numbers
        axes = []
        bad_rows: set[int] = set()
        for axis, column in (("x", mapping.x), ("y", mapping.y)):
            raws = chunk.columns[column]
            coordinates, bad = _numbers(raws)
            for i in bad:
                checked.problem(i, RowProblem(numbers[i], "geom", column, raws[i], f"{axis} is not a number"))
            bad_rows.update(bad)
            axes.append(coordinates)
        x, y = axes
        # Every row whose two coordinates are numbers is moved (NaN and infinities land outside the area).
        rows = np.ones(len(numbers), dtype=bool)
        for i in bad_rows:
            rows[i] = False
        rows = np.flatnonzero(rows)
        shapes = np.full(len(numbers), None, dtype=object) if make else None
        checked.geometries = shapes
        if not len(rows):
            return
        lon, lat, tx, ty = self.reproject.move(x[rows], y[rows])
        outside, unmoved = self.reproject.refused(lon, lat, tx, ty)
        refused = outside | unmoved
        if refused.any():
            for j in np.flatnonzero(refused).tolist():
                i = int(rows[j])
                checked.problem(i, RowProblem(numbers[i], "geom", "", _short_wkt(shapely.Point(x[i], y[i])),
                                              f"{self.reproject.why(bool(outside[j]))} (source CRS {self.crs.label})"))
            rows, tx, ty = rows[~refused], tx[~refused], ty[~refused]
        checked.centres[rows, 0] = tx
        checked.centres[rows, 1] = ty
        if shapes is not None:
            shapes[rows] = shapely.points(tx, ty)

    def _vector_geometries(self, chunk: SourceChunk, checked: CheckedChunk) -> None:
        """A vector file's geometries moved to the target CRS and checked (type, empty, valid)."""
        definition = self.definition
        numbers = checked.numbers
        shapes: list[Any] = [None] * len(numbers)
        for i, geometry in enumerate(chunk.geometries or [None] * len(numbers)):
            shapes[i] = self._source_geometry(i, geometry, checked)
        out = np.full(len(numbers), None, dtype=object)
        present = [i for i, g in enumerate(shapes) if g is not None]
        if present:
            moved, why = self.reproject.many(np.array([shapes[i] for i in present], dtype=object))
            type_ids = shapely.get_type_id(moved)
            good = np.isin(type_ids, _TYPE_IDS[definition.geometry_type]) & ~shapely.is_empty(moved)
            if definition.geometry_type != "POINT":
                good &= shapely.is_valid(moved)
            for j, i in enumerate(present):
                original = shapes[i]
                if why[j] is not None:
                    checked.problem(i, RowProblem(numbers[i], "geom", "", _short_wkt(original),
                                                  f"{why[j]} (source CRS {self.crs.label})"))
                    continue
                geometry = moved[j]
                if not good[j]:
                    try:
                        validate_geometry(definition, geometry)
                    except ValidationError as e:
                        checked.problem(i, RowProblem(numbers[i], "geom", "", _short_wkt(original), str(e)))
                        continue
                out[i] = geometry
            placed = [i for i in present if out[i] is not None]
            if placed:
                bounds = shapely.bounds(out[placed].astype(object))
                checked.centres[placed, 0] = (bounds[:, 0] + bounds[:, 2]) / 2
                checked.centres[placed, 1] = (bounds[:, 1] + bounds[:, 3]) / 2
        checked.geometries = out

    def _source_geometry(self, i: int, geometry: Any, checked: CheckedChunk) -> Any:
        """A vector row's geometry in the source CRS, single parts as the layer wants them; None with a problem."""
        number = checked.numbers[i]
        if geometry is None:
            checked.problem(i, RowProblem(number, "geom", "", None, "no geometry"))
            return None
        if geometry.is_empty:
            checked.problem(i, RowProblem(number, "geom", "", geometry.wkt, "the geometry is empty"))
            return None
        wanted = self.definition.geometry_type
        if wanted == "POINT" and geometry.geom_type == "MultiPoint" and len(geometry.geoms) == 1:
            geometry = geometry.geoms[0]
        if wanted == "LINESTRING" and geometry.geom_type == "MultiLineString" and len(geometry.geoms) == 1:
            geometry = geometry.geoms[0]
        return geometry

    # --- keys ---------------------------------------------------------------------------------

    def _match_keys(self, checked: CheckedChunk) -> None:
        """The existing feature of each row without a problem, found by its key (a problem if the key is
        empty, repeats an earlier row's, or finds more than one feature)."""
        key = self.mapping.key
        assert key is not None
        if key not in checked.values:
            return
        column = self.mapping.fields[key]
        layer = self.definition.name
        keys = checked.values[key]
        for i, number in enumerate(checked.numbers):
            if i in checked.problems:
                continue
            text = key_text(keys[i])
            if text is None:
                checked.problem(i, RowProblem(number, key, column, None, "the key is empty"))
            elif text in self.seen_keys:
                checked.problem(i, RowProblem(number, key, column, text, f"the same key as row {self.seen_keys[text]}"))
            else:
                self.seen_keys[text] = number
                fids = self.existing.get(text, [])
                if len(fids) > 1:
                    checked.problem(i, RowProblem(number, key, column, text,
                                                  f"the key matches {len(fids)} features of {layer}"))
                elif fids:
                    checked.fids[i] = fids[0]
                    checked.matched = True


def key_text(value: Any) -> str | None:
    """A key value as compared: text without surrounding spaces (None when empty)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


#: The shapely type ids a layer's geometry type takes (as ``validate_geometry`` allows them).
_TYPE_IDS = {"POINT": (0,), "MULTIPOINT": (0, 4), "LINESTRING": (1,), "MULTILINESTRING": (1, 5)}


def _numbers(raws: Sequence[Any]) -> tuple[np.ndarray, list[int]]:
    """A coordinate column as numbers (text with thousands separators read too); NaN and the index
    of each value that is not a number."""
    if set(map(type, raws)) <= {str, int, float}:
        try:
            return np.fromiter(map(float, raws), dtype=np.float64, count=len(raws)), []
        except (ValueError, OverflowError):  # a value float() does not read as it is: one at a time below
            pass
    out = np.empty(len(raws), dtype=np.float64)
    bad = []
    for i, raw in enumerate(raws):
        if raw is None:
            out[i] = np.nan
            bad.append(i)
            continue
        try:
            out[i] = raw if raw.__class__ is float else float(str(raw).strip().replace(",", ""))
        except ValueError:
            out[i] = np.nan
            bad.append(i)
    return out, bad


def _short_wkt(geometry: Any) -> str:
    text: str = shapely.to_wkt(geometry, rounding_precision=8, trim=True)
    return text if len(text) <= 120 else text[:119] + "…"
