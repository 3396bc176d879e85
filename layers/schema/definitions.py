"""Layer definitions: load them from their data files and check feature values against them.

A layer is described by one TOML file in ``layers/definitions/`` (fields, types,
labels in zh_CN and en, code lists, ranges, geometry type, default style).
Adding a layer needs only a new file; nothing here names a particular layer.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

from layers.errors import DefinitionError, ValidationError
from layers.schema.children import NO_GEOMETRY, ChildLink, FollowRule, check_codes_for, parse_child_of, parse_follow
from layers.schema.components import (
    ComponentSpec,
    Located,
    RequiredIf,
    check_conditions,
    check_located,
    parse_component,
    parse_located,
    parse_pattern,
    parse_required_if,
)
from layers.schema.derived import evaluate, expression_names
from layers.schema.geometry import validate_geometry

__all__ = [
    "DEFINITIONS_FOLDER",
    "DEFAULT_PRECISION",
    "FIELD_TYPES",
    "GEOMETRY_TYPES",
    "SYSTEM_COLUMNS",
    "Code",
    "FieldDefinition",
    "LayerDefinition",
    "load_definitions",
    "load_definition",
    "parse_codelists",
    "parse_definition",
    "validate_feature",
    "validate_value",
    "check_conditions",
    "derive",
]

DEFINITIONS_FOLDER = Path(__file__).resolve().parents[1] / "definitions"
CODELISTS_FILE = "_codelists.toml"

#: Field type -> SQLite declared column type. The declared types are the ones
#: GDAL/QGIS recognise (BOOLEAN, DATE, DATETIME), so other tools read them right.
FIELD_TYPES = {
    "text": "TEXT",
    "integer": "INTEGER",
    "real": "REAL",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "DATETIME",
    "photo": "TEXT",  # a path relative to the workspace's folder (the file is in its attachment folder)
    "json": "TEXT",  # a JSON object, for attributes without a column of their own
}

GEOMETRY_TYPES = ("POINT", "LINESTRING", "MULTILINESTRING", "MULTIPOINT", "POLYGON", "MULTIPOLYGON")

#: Columns every layer table has besides its fields; definitions may not reuse them.
SYSTEM_COLUMNS = ("fid", "uuid", "geom", "created_by", "created_at", "modified_by", "modified_at")

LANGUAGES = ("zh_CN", "en")

#: Default coordinate precision of a layer (the grid its exports round to): metres in a projected CRS,
#: degrees in a geographic one. A definition may set its own in ``[precision]``.
DEFAULT_PRECISION = {"projected": 0.01, "geographic": 1e-7}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

#: Raises a DefinitionError naming where the definition came from.
_Fail = Callable[[str], NoReturn]


@dataclass(frozen=True)
class Code:
    """One entry of a code list: the stored value and its labels per language."""

    value: str
    labels: dict[str, str]

    def label(self, language: str = "zh_CN") -> str:
        return self.labels.get(language) or self.labels.get("en") or self.value


@dataclass(frozen=True)
class FieldDefinition:
    """One attribute of a layer, as its definition file describes it."""

    name: str
    type: str
    labels: dict[str, str]
    required: bool = False
    default: object = None
    codes: tuple[Code, ...] = ()
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    derived: str | None = None
    #: A regular expression the whole text must match (e.g. 16 digits for a component code).
    pattern: str | None = None
    #: Taken by the core from the reference polygon the feature lies in (zone, unit grid cell).
    located_in: Located | None = None
    #: Required where other fields hold given values (see ``layers.schema.components``).
    required_if: RequiredIf | None = None
    #: The field whose value chooses this field's code list in ``codes_for`` (``layers.schema.children``).
    codes_by: str | None = None
    codes_for: dict[str, tuple[Code, ...]] = field(default_factory=dict)

    @property
    def sql_type(self) -> str:
        return FIELD_TYPES[self.type]

    @property
    def code_values(self) -> tuple[str, ...]:
        return tuple(code.value for code in self.codes)

    @cached_property
    def code_set(self) -> frozenset[str]:
        return frozenset(code.value for code in self.codes)

    @cached_property
    def derived_inputs(self) -> frozenset[str]:
        """Names of the fields a derived field is computed from."""
        return frozenset(expression_names(self.derived, _raise_definition)) if self.derived else frozenset()

    @cached_property
    def derived_tree(self) -> ast.Expression | None:
        return ast.parse(self.derived, mode="eval") if self.derived else None

    def label(self, language: str = "zh_CN") -> str:
        return self.labels.get(language) or self.labels.get("en") or self.name

    def code_label(self, value: Any, language: str = "zh_CN") -> Any:
        """The label of a code-list value, or the value itself if it has none."""
        for code in self.codes:
            if code.value == value:
                return code.label(language)
        return value


@dataclass(frozen=True)
class LayerDefinition:
    """A layer: its table name, titles, geometry type, fields and default style."""

    name: str
    titles: dict[str, str]
    geometry_type: str
    fields: tuple[FieldDefinition, ...]
    style: dict[str, Any] = field(default_factory=dict)
    label_field: str | None = None
    survey: bool = False
    order: int = 100
    source: Path | None = None
    #: A read-only polygon layer others take values from (management zones, unit grid cells).
    reference: bool = False
    #: The component standard's class and code field (``[component]``), if the layer has one.
    component: ComponentSpec | None = None
    #: Raised by the office with every change of the definition (``tongcheng definitions update``).
    version: int = 1
    #: The grid exports round coordinates to: ``projected`` (metres) and ``geographic`` (degrees).
    precision: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PRECISION))
    #: A child layer: how its records name their parent feature (``layers.schema.children``).
    child_of: ChildLink | None = None
    #: A facility layer: the fields that follow its latest inspection.
    follow: FollowRule | None = None

    @property
    def has_geometry(self) -> bool:
        """False for a layer without geometry (``geometry = "NONE"``: an attributes table)."""
        return self.geometry_type != NO_GEOMETRY

    def title(self, language: str = "zh_CN") -> str:
        return self.titles.get(language) or self.titles.get("en") or self.name

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def coordinate_precision(self, geographic: bool) -> float:
        """The grid size coordinates are rounded to in exports (degrees if *geographic*, else metres)."""
        return self.precision["geographic" if geographic else "projected"]

    def field(self, name: str) -> FieldDefinition:
        for f in self.fields:
            if f.name == name:
                return f
        raise DefinitionError(f"layer {self.name!r} has no field {name!r}")

    @cached_property
    def known_names(self) -> frozenset[str]:
        return frozenset(self.field_names)

    @cached_property
    def coded_by_fields(self) -> tuple[FieldDefinition, ...]:
        """The fields whose code list depends on another field's value (``codes_by``)."""
        return tuple(f for f in self.fields if f.codes_by)

    @cached_property
    def derived_fields(self) -> tuple[FieldDefinition, ...]:
        return tuple(f for f in self.fields if f.derived)

    @cached_property
    def given_names(self) -> frozenset[str]:
        """Fields the core gives a value (the component code, located fields): shown, never typed."""
        names = {f.name for f in self.fields if f.located_in is not None}
        if self.component is not None:
            names.add(self.component.field)
        return frozenset(names)

    @cached_property
    def located_fields(self) -> tuple[FieldDefinition, ...]:
        return tuple(f for f in self.fields if f.located_in is not None)

    @cached_property
    def conditional_fields(self) -> tuple[FieldDefinition, ...]:
        """Fields that are required only where other fields hold given values."""
        return tuple(f for f in self.fields if f.required_if is not None)

    @cached_property
    def stored_defaults(self) -> dict[str, Any]:
        """Default values already converted to their stored form."""
        return {
            f.name: _check_value(self.name, f, f.default)
            for f in self.fields
            if f.default is not None and not f.derived
        }

    @cached_property
    def editable_names(self) -> tuple[str, ...]:
        """Names of the fields a user can set (derived fields are computed, not set)."""
        return tuple(f.name for f in self.fields if not f.derived)

    def editable_values(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """The values a user can set, from a feature's attributes."""
        return {name: attributes.get(name) for name in self.editable_names}

    def defaults(self) -> dict[str, Any]:
        """Default attribute values for a new feature (derived fields excluded)."""
        return {f.name: f.default for f in self.fields if f.default is not None and not f.derived}


def load_definitions(folder: str | os.PathLike[str] | None = None) -> dict[str, LayerDefinition]:
    """Load every layer definition in a folder.

    Parameters
    ----------
    folder : path-like, optional
        Folder of ``<layer>.toml`` files (and an optional ``_codelists.toml``).
        Defaults to the definitions shipped with Tongcheng.

    Returns
    -------
    dict
        Layer name -> LayerDefinition, facility layers first, then survey layers.
    """
    folder = Path(folder) if folder else DEFINITIONS_FOLDER
    if not folder.is_dir():
        raise DefinitionError(f"{folder}: no such folder of layer definitions")
    codelists = _load_codelists(folder / CODELISTS_FILE)
    definitions = [
        load_definition(path, codelists)
        for path in sorted(folder.glob("*.toml"))
        if not path.name.startswith("_")
    ]
    definitions.sort(key=lambda d: (d.reference, d.survey, d.order, d.name))
    check_located(definitions)
    return {d.name: d for d in definitions}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise DefinitionError(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise DefinitionError(f"{path}: cannot be read: {e.strerror}") from None


def _load_codelists(path: Path) -> dict[str, tuple[Code, ...]]:
    if not path.exists():
        return {}
    return parse_codelists(_read_toml(path), path)


def parse_codelists(data: Mapping[str, Any], where: str | Path) -> dict[str, tuple[Code, ...]]:
    """Code lists from the parsed content of a ``_codelists.toml`` file."""
    return {name: _parse_codes(entry.get("codes", []), where, name) for name, entry in data.items()}


def _parse_codes(raw: Iterable[Any], path: str | Path, where: str) -> tuple[Code, ...]:
    codes: list[Code] = []
    for entry in raw:
        if not isinstance(entry, dict) or "value" not in entry:
            raise DefinitionError(f"{path}: {where}: every code needs a 'value'")
        labels = {lang: str(entry[lang]) for lang in LANGUAGES if lang in entry}
        codes.append(Code(value=entry["value"], labels=labels))
    values = [c.value for c in codes]
    if len(set(values)) != len(values):
        raise DefinitionError(f"{path}: {where}: code values repeat")
    return tuple(codes)


def load_definition(
    path: str | os.PathLike[str], codelists: Mapping[str, tuple[Code, ...]] | None = None
) -> LayerDefinition:
    """Load and check one layer definition file."""
    path = Path(path)
    definition = parse_definition(_read_toml(path), codelists or {}, path, expected_name=path.stem)
    return definition


def parse_definition(
    data: Mapping[str, Any],
    codelists: Mapping[str, tuple[Code, ...]],
    where: str | Path,
    expected_name: str | None = None,
) -> LayerDefinition:
    """Check the parsed content of a layer definition and build its LayerDefinition.

    Parameters
    ----------
    data : dict
        The parsed TOML.
    codelists : dict
        Code lists the fields may refer to (``parse_codelists``).
    where : str or Path
        Where the text came from, for error messages.
    expected_name : str, optional
        The name the layer must have (its file name).
    """

    def fail(message: str) -> NoReturn:
        raise DefinitionError(f"{where}: {message}")

    name = data.get("name", expected_name)
    if expected_name is not None and name != expected_name:
        fail(f"name {name!r} differs from the file name {expected_name!r}")
    if not isinstance(name, str) or not _NAME.match(name):
        fail(f"layer name {name!r} must be lower-case letters, digits and _")
    geometry_type = str(data.get("geometry", "")).upper()
    if geometry_type not in (*GEOMETRY_TYPES, NO_GEOMETRY):
        fail(f"geometry {data.get('geometry')!r} is not one of {', '.join((*GEOMETRY_TYPES, NO_GEOMETRY))}")

    fields = [_parse_field(raw, codelists, fail) for raw in data.get("fields", [])]
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        fail("field names repeat")
    if not fields:
        fail("a layer needs at least one field")
    for f in fields:
        if f.derived:
            for used in expression_names(f.derived, fail):
                if used not in names:
                    fail(f"field {f.name!r}: derived from unknown field {used!r}")
        if f.codes_by and f.codes_by not in names:
            fail(f"field {f.name!r}: codes_by names unknown field {f.codes_by!r}")
    by_name = {f.name: f for f in fields}

    for f in fields:
        for other in f.required_if.fields if f.required_if else ():
            if other not in names:
                fail(f"field {f.name!r}: required_if names unknown field {other!r}")
    component = parse_component(data.get("component"), names, fail)
    label_field = data.get("label_field")
    if label_field is not None and label_field not in names:
        fail(f"label_field {label_field!r} is not a field")
    style = dict(data.get("style", {}))
    if style.get("field") and style["field"] not in names:
        fail(f"style field {style['field']!r} is not a field")
    titles = data.get("title", {})
    if not isinstance(titles, dict):
        titles = {"en": str(titles)}
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        fail(f"version {version!r} must be a whole number of at least 1")
    return LayerDefinition(
        name=name,
        titles=titles,
        geometry_type=geometry_type,
        fields=tuple(fields),
        style=style,
        label_field=label_field,
        survey=bool(data.get("survey", False)),
        order=int(data.get("order", 100)),
        source=Path(where) if isinstance(where, Path) else None,
        reference=bool(data.get("reference", False)),
        component=component,
        version=version,
        precision=_parse_precision(data.get("precision", {}), fail),
        child_of=parse_child_of(data.get("child_of"), by_name, fail),
        follow=parse_follow(data.get("follows_inspections"), by_name, fail),
    )


def _parse_precision(raw: Any, fail: _Fail) -> dict[str, float]:
    """``[precision]``: the grid of ``projected`` (metres) and ``geographic`` (degrees) coordinates."""
    if not isinstance(raw, dict) or set(raw) - set(DEFAULT_PRECISION):
        fail(f"precision must be a table of {' and '.join(DEFAULT_PRECISION)} grid sizes")
    out = dict(DEFAULT_PRECISION)
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1000:
            fail(f"precision {key} = {value!r} must be a grid size above 0 (e.g. 0.01)")
        out[key] = float(value)
    return out


def _parse_field(raw: Mapping[str, Any], codelists: Mapping[str, tuple[Code, ...]], fail: _Fail) -> FieldDefinition:
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        fail(f"field name {name!r} must be lower-case letters, digits and _")
    if name in SYSTEM_COLUMNS:
        fail(f"field {name!r} is a system column name")
    type_ = raw.get("type")
    if type_ not in FIELD_TYPES:
        fail(f"field {name!r}: type {type_!r} is not one of {', '.join(FIELD_TYPES)}")
    codes: tuple[Code, ...] = ()
    if "codelist" in raw:
        if raw["codelist"] not in codelists:
            fail(f"field {name!r}: unknown codelist {raw['codelist']!r}")
        codes = codelists[raw["codelist"]]
    elif "codes" in raw:
        codes = _parse_codes(raw["codes"], "", name)
    codes_for = {str(key): _parse_codes(entries, "", f"{name} for {key}")
                 for key, entries in dict(raw.get("codes_for", {})).items()}
    if codes_for:
        if codes or not raw.get("codes_by"):
            fail(f"field {name!r}: codes_for needs codes_by and no other code list")
        union = {code.value: code for entries in codes_for.values() for code in entries}
        codes = tuple(union.values())
    labels = raw.get("label", {})
    if not isinstance(labels, dict):
        labels = {"en": str(labels)}
    definition = FieldDefinition(
        name=name,
        type=type_,
        labels=labels,
        required=bool(raw.get("required", False)),
        default=raw.get("default"),
        codes=codes,
        min=raw.get("min"),
        max=raw.get("max"),
        max_length=raw.get("max_length"),
        derived=raw.get("derived"),
        pattern=parse_pattern(raw.get("pattern"), name, fail),
        located_in=parse_located(raw.get("located_in"), name, fail),
        required_if=parse_required_if(raw.get("required_if"), name, fail),
        codes_by=raw.get("codes_by"),
        codes_for=codes_for,
    )
    if definition.default is not None:
        try:
            _check_value("", definition, definition.default)
        except ValidationError as e:
            fail(f"field {name!r}: default is invalid: {e}")
    return definition


# --- derived fields: arithmetic on other fields, nothing else -----------------

def derive(field: FieldDefinition, values: Mapping[str, Any]) -> float | None:
    """The value of a derived field computed from the other fields' values (None when an input is missing).

    Parameters
    ----------
    field : FieldDefinition
        A field with a ``derived`` expression, e.g. ``width_m * height_m``.
    values : dict
        Field name -> number (or None).
    """
    tree = field.derived_tree
    assert tree is not None, f"{field.name} is not a derived field"
    result = evaluate(tree, values)
    return None if result is None else round(float(result), 6)


# --- feature validation -----------------------------------------------------------


def validate_feature(
    definition: LayerDefinition,
    attributes: Mapping[str, Any],
    geometry: Any = None,
    *,
    partial: bool = False,
) -> dict[str, Any]:
    """Check a feature against its layer definition and return clean values.

    Parameters
    ----------
    definition : LayerDefinition
    attributes : dict
        Field name -> value. Unknown names are refused.
    geometry : shapely geometry, optional
        Checked for type and validity when given.
    partial : bool
        True for an update that sets only some fields: required fields that
        are absent are not reported (the stored values stay), defaults are
        not applied and derived fields are not computed.

    Returns
    -------
    dict
        The values converted to their stored form (dates as ISO text,
        booleans as 0/1). Unless ``partial``, every field is present, in the
        definition's order, derived fields computed.

    Raises
    ------
    ValidationError
        Naming the layer, the field, the value and the rule.
    """
    layer = definition.name
    known = definition.known_names
    for name in attributes:
        if name not in known:
            raise ValidationError(
                f"{layer}: unknown field {name!r}", layer=layer, field=name, rule="unknown field"
            )
    defaults = definition.stored_defaults
    clean: dict[str, Any] = {}
    for f in definition.fields:
        name = f.name
        if f.derived:
            if not partial:
                clean[name] = None  # keeps the definition's order; computed below
            continue
        if name not in attributes:
            if partial:
                continue
            if name in defaults:
                clean[name] = defaults[name]
            elif f.required:
                raise ValidationError(f"{layer}.{name}: a value is required", layer=layer, field=name, rule="required")
            else:
                clean[name] = None
            continue
        value = attributes[name]
        if value is None or (value.__class__ is str and not value.strip()):
            if f.required:
                raise ValidationError(
                    f"{layer}.{name}: a value is required", layer=layer, field=name, value=value, rule="required"
                )
            clean[name] = None
            continue
        clean[name] = _check_value(layer, f, value)
    if not partial:  # an update computes derived fields from the stored values (Workspace.update)
        for f in definition.derived_fields:
            clean[f.name] = derive(f, clean)
        check_conditions(definition, clean)
    if definition.coded_by_fields:
        check_codes_for(definition, clean, attributes)
    if geometry is not None:
        validate_geometry(definition, geometry)
    return clean


def validate_value(definition: LayerDefinition, f: FieldDefinition, value: Any) -> Any:
    """One field's value in its stored form (None when empty), as ``validate_feature(..., partial=True)``
    checks it; ValidationError naming the rule otherwise. For callers that check many values of one field."""
    if value is None or (value.__class__ is str and not value.strip()):
        if f.required:
            raise ValidationError(f"{definition.name}.{f.name}: a value is required", layer=definition.name,
                                  field=f.name, value=value, rule="required")
        return None
    return _check_value(definition.name, f, value)


def _raise_definition(message: str) -> NoReturn:
    raise DefinitionError(message)


def _check_value(layer: str, f: FieldDefinition, value: Any) -> Any:
    """A value in its stored form, or ValidationError. The common cases take a short path."""
    kind = value.__class__
    if kind is str and f.type == "text":
        value = value.strip()
        if (not f.codes or value in f.code_set) and (f.max_length is None or len(value) <= f.max_length) \
                and f.pattern is None:
            return value
    elif kind is int and f.type == "integer" or kind is float and f.type == "real":
        if (f.min is None or value >= f.min) and (f.max is None or value <= f.max) and value == value and not f.codes:
            return value
    return _check_value_fully(layer, f, value)


def _check_value_fully(layer: str, f: FieldDefinition, value: Any) -> Any:
    def refuse(rule: str) -> NoReturn:
        raise ValidationError(
            f"{layer}.{f.name}: {value!r} {rule}", layer=layer, field=f.name, value=value, rule=rule
        )

    if f.type in ("text", "photo"):
        if not isinstance(value, str):
            refuse("is not text")
        value = value.strip()
        if f.max_length is not None and len(value) > f.max_length:
            refuse(f"is longer than {f.max_length} characters")
        if f.pattern is not None and not re.fullmatch(f.pattern, value):
            refuse(f"does not have the form {f.pattern}")
    elif f.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            elif isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
                value = int(value)
            else:
                refuse("is not a whole number")
    elif f.type == "real":
        if isinstance(value, bool):
            refuse("is not a number")
        try:
            value = float(value)
        except (TypeError, ValueError):
            refuse("is not a number")
        if not math.isfinite(value):
            refuse("is not a finite number")
    elif f.type == "boolean":
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "是"):
            value = True
        elif isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "否"):
            value = False
        if value not in (True, False, 0, 1) or isinstance(value, float):
            refuse("is not true or false")
        return int(bool(value))
    elif f.type == "date":
        if isinstance(value, dt.datetime):
            refuse("is a date and time, not a date")
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                refuse("is not a date (YYYY-MM-DD)")
        if not isinstance(value, dt.date):
            refuse("is not a date (YYYY-MM-DD)")
        return value.isoformat()
    elif f.type == "datetime":
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                refuse("is not a date and time (ISO 8601)")
        if not isinstance(value, dt.datetime):
            refuse("is not a date and time (ISO 8601)")
        if value.tzinfo is None:
            refuse("has no time zone")
        return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    elif f.type == "json":
        if isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                refuse("is not JSON")
            return value
        try:
            return json.dumps(value, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError):
            refuse("cannot be written as JSON")

    if f.codes and value not in f.code_set:
        refuse(f"is not in the code list ({', '.join(map(str, f.code_values))})")
    if f.min is not None and value < f.min:
        refuse(f"is below the minimum {f.min}")
    if f.max is not None and value > f.max:
        refuse(f"is above the maximum {f.max}")
    return value
