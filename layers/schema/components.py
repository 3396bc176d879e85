"""The component standard in a layer definition: classes and codes, located fields, conditional rules.

China's digital city-management standard (GB/T 30428, CJ/T 214) names every
street facility a *component* (部件) with a 16-digit code (部件标识码):
6-digit district code + 2-digit major class + 2-digit minor class + 6-digit
serial.  A definition says which class its features are in (``[component]``,
optionally by the value of a field: a kiosk's ``kind``), which fields the
core takes from reference polygons at the feature's position (``located_in``:
the management zone, the unit grid cell) and which fields become required
where other fields have given values (``required_if``: a billboard in a
strict zone needs its permit number).  Nothing here reads a file or a
database: this is the vocabulary; ``layers.workspace.numbering`` and
``layers.workspace.located`` act on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from layers.errors import DefinitionError, ValidationError

if TYPE_CHECKING:
    from layers.schema.definitions import LayerDefinition

__all__ = [
    "CODE_DIGITS",
    "DISTRICT_DIGITS",
    "SERIAL_MAX",
    "ClassRule",
    "ComponentSpec",
    "Located",
    "RequiredIf",
    "component_code",
    "split_code",
    "check_district",
    "parse_component",
    "parse_located",
    "parse_required_if",
    "parse_pattern",
    "check_conditions",
    "check_located",
    "check_update",
]

CODE_DIGITS = 16
DISTRICT_DIGITS = 6
SERIAL_MAX = 999_999
_CLASS = re.compile(r"^\d{4}$")
_DISTRICT = re.compile(r"^\d{6}$")
_CODE = re.compile(r"^(\d{6})(\d{4})(\d{6})$")

_Fail = Callable[[str], NoReturn]


@dataclass(frozen=True)
class ClassRule:
    """A feature whose ``field`` holds ``value`` is in ``component_class`` (major + minor, 4 digits)."""

    field: str
    value: str
    component_class: str


@dataclass(frozen=True)
class ComponentSpec:
    """What ``[component]`` of a definition says: the code field and the classes.

    Attributes
    ----------
    field : str
        The field holding the 16-digit code (``component_code``).
    default_class : str
        Major + minor class of a feature no rule matches (``0301`` public toilets).
    rules : tuple of ClassRule
        Tried in order; the first whose field holds its value gives the class.
    local_classes : tuple of str
        Classes the definition adds for its city (not in the national list),
        e.g. a class for 便民服务亭.
    """

    field: str
    default_class: str
    rules: tuple[ClassRule, ...] = ()
    local_classes: tuple[str, ...] = ()

    def component_class(self, attributes: Mapping[str, Any]) -> str:
        """The class (4 digits) of a feature with these attribute values."""
        for rule in self.rules:
            if attributes.get(rule.field) == rule.value:
                return rule.component_class
        return self.default_class

    @property
    def classes(self) -> tuple[str, ...]:
        """Every class a feature of the layer can be in (the default first), without repeats."""
        return tuple(dict.fromkeys([self.default_class, *(r.component_class for r in self.rules)]))


@dataclass(frozen=True)
class Located:
    """A field whose value is the ``field`` of the ``layer`` polygon the feature lies in."""

    layer: str
    field: str


@dataclass(frozen=True)
class RequiredIf:
    """A field is required where every named field holds one of its listed values."""

    conditions: tuple[tuple[str, tuple[str, ...]], ...]

    def applies(self, values: Mapping[str, Any]) -> bool:
        return all(values.get(name) in allowed for name, allowed in self.conditions)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.conditions)

    def describe(self) -> str:
        """``zone is 严管区 and kind is 户外广告`` (field names and stored values)."""
        return " and ".join(f"{name} is {' or '.join(allowed)}" for name, allowed in self.conditions)


def component_code(district: str, component_class: str, serial: int) -> str:
    """The 16-digit code: district (6) + class (4) + serial (6)."""
    if not _DISTRICT.match(district) or not _CLASS.match(component_class) or not 1 <= serial <= SERIAL_MAX:
        raise ValueError(f"no component code from district {district!r}, class {component_class!r}, "
                         f"serial {serial!r}")
    return f"{district}{component_class}{serial:06d}"


def split_code(code: object) -> tuple[str, str, int] | None:
    """(district, class, serial) of a well-formed code, else None."""
    match = _CODE.match(code) if isinstance(code, str) else None
    if match is None or int(match.group(3)) == 0:
        return None
    return match.group(1), match.group(2), int(match.group(3))


def check_district(text: object) -> str:
    """A 6-digit administrative district code (GB/T 2260), e.g. ``510104``; ValueError otherwise."""
    value = str(text).strip() if text is not None else ""
    if not _DISTRICT.match(value) or value.endswith("0000"):
        raise ValueError(f"district code {text!r} is not 6 digits naming a district (e.g. 510104)")
    return value


# --- reading the definition's tables -------------------------------------------------


def _component_class(value: object, where: str, fail: _Fail) -> str:
    text = str(value) if isinstance(value, (str, int)) else ""
    if not _CLASS.match(text):
        fail(f"{where}: class {value!r} is not 4 digits (major + minor class, e.g. \"0301\")")
    return text


def parse_component(raw: object, field_names: Iterable[str], fail: _Fail) -> ComponentSpec | None:
    """The ``[component]`` table of a definition (None when it has none)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        fail("[component] must be a table")
    names = set(field_names)
    field = raw.get("field", "component_code")
    if field not in names:
        fail(f"[component] field {field!r} is not a field of the layer")
    default = _component_class(raw.get("class"), "[component]", fail)
    rules = []
    for entry in raw.get("classes", []):
        if not isinstance(entry, Mapping) or not {"field", "value", "class"} <= set(entry):
            fail("[component] classes: every entry needs field, value and class")
        if entry["field"] not in names:
            fail(f"[component] classes: {entry['field']!r} is not a field of the layer")
        rules.append(ClassRule(str(entry["field"]), str(entry["value"]),
                               _component_class(entry["class"], "[component] classes", fail)))
    local = tuple(_component_class(c, "[component] local_classes", fail) for c in raw.get("local_classes", []))
    return ComponentSpec(field=str(field), default_class=default, rules=tuple(rules), local_classes=local)


def parse_located(raw: object, name: str, fail: _Fail) -> Located | None:
    """A field's ``located_in = { layer = "zones", field = "zone" }`` (None when absent)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("layer"), str) or not isinstance(raw.get("field"), str):
        fail(f"field {name!r}: located_in needs a layer and a field")
    return Located(raw["layer"], raw["field"])


def parse_required_if(raw: object, name: str, fail: _Fail) -> RequiredIf | None:
    """A field's ``required_if = { zone = ["严管区"] }`` (None when absent)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not raw:
        fail(f"field {name!r}: required_if must name fields and their values")
    conditions = []
    for other, values in raw.items():
        listed = [values] if isinstance(values, str) else values
        if not isinstance(listed, list) or not listed or not all(isinstance(v, str) for v in listed):
            fail(f"field {name!r}: required_if {other!r} must list text values")
        conditions.append((str(other), tuple(listed)))
    return RequiredIf(tuple(conditions))


def parse_pattern(raw: object, name: str, fail: _Fail) -> str | None:
    if raw is None:
        return None
    try:
        re.compile(str(raw))
    except re.error as e:
        fail(f"field {name!r}: pattern {raw!r} is not a regular expression ({e})")
    return str(raw)


def check_located(definitions: Iterable[LayerDefinition]) -> None:
    """Every ``located_in`` names a reference layer and one of its fields, where that layer is among *definitions*.

    A layer left out (a checkout of some layers) is no error: its located fields keep the values given.
    """
    by_name = {d.name: d for d in definitions}
    for d in by_name.values():
        for f in d.located_fields:
            assert f.located_in is not None
            target = by_name.get(f.located_in.layer)
            if target is None:
                continue
            if not target.reference or f.located_in.field not in target.known_names:
                raise DefinitionError(f"{d.source or d.name}: field {f.name!r}: located_in "
                                      f"{f.located_in.layer}.{f.located_in.field} is not a field of a reference layer")


def check_conditions(definition: LayerDefinition, values: Mapping[str, Any]) -> None:
    """Refuse a feature (all its values, stored form) that lacks a value ``required_if`` asks for here.

    Raises
    ------
    ValidationError
        With rule ``required where <field> is <value>``.
    """
    for f in definition.conditional_fields:
        assert f.required_if is not None
        value = values.get(f.name)
        if (value is None or value == "") and f.required_if.applies(values):
            rule = f"required where {f.required_if.describe()}"
            raise ValidationError(f"{definition.name}.{f.name}: a value is {rule}", layer=definition.name,
                                  field=f.name, value=value, rule=rule)


def check_update(definition: LayerDefinition, stored: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Refuse an update that changes a component code once given, or leaves out a value a zone requires."""
    spec = definition.component
    if spec is not None and spec.field in values and stored.get(spec.field) \
            and values[spec.field] != stored[spec.field]:
        raise ValidationError(f"{definition.name}.{spec.field}: a component code never changes "
                              f"({stored[spec.field]})", layer=definition.name, field=spec.field,
                              value=values[spec.field], rule="a component code never changes")
    check_conditions(definition, {**stored, **values})
