"""Many features checked a field at a time, by the rules of ``validate_feature`` (for bulk loads).

A column of a million values is checked once per distinct value (a code-list
column has a handful), a column of plain text in a few sweeps over the list;
the rules that read a whole feature (derived fields, ``required_if``,
``codes_by``) run feature by feature only for the layers that have them. What
breaks a rule is reported as ``validate_feature`` reports it, for the first
feature (in order) that breaks one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from layers.errors import ValidationError
from layers.schema.children import check_codes_for
from layers.schema.components import check_conditions
from layers.schema.definitions import FieldDefinition, LayerDefinition, derive, validate_feature, validate_value

__all__ = ["ABSENT", "validate_columns"]


class _Absent:
    """The value of a field a feature does not name (``validate_feature`` then takes the default)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


#: In a column: this feature does not name the field (as a key missing from its attributes).
ABSENT: Any = _Absent()

#: Classes whose values are checked once per distinct value without mixing them up: values of
#: two different numeric classes can be equal (1 == 1.0 == True) yet be checked differently.
_PLAIN = frozenset({str, type(None), _Absent})


def validate_columns(definition: LayerDefinition, columns: Mapping[str, Sequence[Any]], count: int, *,
                     first_number: int = 1, checked: Collection[str] = ()) -> dict[str, list[Any]]:
    """Check ``count`` features given by field and return their values in stored form, by field.

    Parameters
    ----------
    columns : mapping of field name to values
        One value per feature; ``ABSENT`` where a feature does not name the
        field, and a field left out of ``columns`` is named by none.
    first_number : int
        The number of the first feature in messages (``feature N: ...``).
    checked : field names
        Columns whose every value is already in stored form, each the result of
        ``validate_value`` for this layer (an import's checked rows): taken as
        they are. The rules that read whole features still run.

    Returns
    -------
    dict
        Every field of the layer in the definition's order, one stored value
        per feature: what ``validate_feature`` returns for each feature.

    Raises
    ------
    ValidationError
        For the first feature that breaks a rule, with ``validate_feature``'s
        message prefixed by ``feature N:``.
    """
    known = definition.known_names
    defaults = definition.stored_defaults
    first_bad = count  # the first feature found to break a rule (count: none)
    for name, column in columns.items():
        if name not in known:
            named = next((i for i, v in enumerate(column) if v is not ABSENT), None)
            if named is not None:
                first_bad = min(first_bad, named)
    clean: dict[str, list[Any]] = {}
    for f in definition.fields:
        if f.derived:
            clean[f.name] = [None] * count
            continue
        given = columns.get(f.name)
        if given is None:
            value, broken = _checked(definition, f, defaults, ABSENT)
            clean[f.name] = [value] * count
            if broken and count:
                first_bad = 0
            continue
        if f.name in checked:
            clean[f.name] = list(given)
            continue
        values, bad = _checked_column(definition, f, defaults, given)
        clean[f.name] = values
        if bad is not None:
            first_bad = min(first_bad, bad)
    if definition.derived_fields or definition.conditional_fields or definition.coded_by_fields:
        first_bad = _check_features(definition, clean, count, first_bad)
    if first_bad < count:
        _raise_for(definition, columns, first_bad, first_number)
    return clean


def _checked(definition: LayerDefinition, f: FieldDefinition, defaults: Mapping[str, Any],
             value: Any) -> tuple[Any, bool]:
    """(stored value, whether it breaks a rule) of one value of a field, as ``validate_feature`` has it."""
    if value is ABSENT:
        if f.name in defaults:
            return defaults[f.name], False
        return None, f.required
    try:
        return validate_value(definition, f, value), False
    except ValidationError:
        return None, True


def _checked_column(definition: LayerDefinition, f: FieldDefinition, defaults: Mapping[str, Any],
                    column: Sequence[Any]) -> tuple[list[Any], int | None]:
    """The stored values of a column and the index of the first that breaks a rule (None: none does)."""
    classes = set(map(type, column))
    if classes == {str} and f.type == "text" and f.pattern is None:
        stripped = list(map(str.strip, column))
        if "" not in stripped and (f.max_length is None or max(map(len, stripped), default=0) <= f.max_length) \
                and (not f.codes or f.code_set.issuperset(stripped)):
            return stripped, None
    if len(classes - _PLAIN) <= 1:
        try:
            distinct = dict.fromkeys(column)
        except TypeError:  # an unhashable value (a list): checked one by one below
            pass
        else:
            stored: dict[Any, Any] = {}
            broken: set[Any] = set()
            for value in distinct:
                stored[value], bad = _checked(definition, f, defaults, value)
                if bad:
                    broken.add(value)
            first = next((i for i, v in enumerate(column) if v in broken), None) if broken else None
            return list(map(stored.__getitem__, column)), first
    values: list[Any] = []
    first_bad: int | None = None
    for i, value in enumerate(column):
        checked, bad = _checked(definition, f, defaults, value)
        values.append(checked)
        if bad and first_bad is None:
            first_bad = i
    return values, first_bad


def _check_features(definition: LayerDefinition, clean: dict[str, list[Any]], count: int, first_bad: int) -> int:
    """Compute the derived fields and check the rules that read whole features, up to ``first_bad``;
    the first feature that breaks a rule (``first_bad`` if none before it)."""
    names = list(clean)
    for i, values in enumerate(zip(*clean.values(), strict=True)):
        if i >= first_bad:
            break
        feature = dict(zip(names, values, strict=True))
        for f in definition.derived_fields:
            feature[f.name] = clean[f.name][i] = derive(f, feature)
        try:
            check_conditions(definition, feature)
            if definition.coded_by_fields:
                check_codes_for(definition, feature, feature)
        except ValidationError:
            return i
    return first_bad


def _raise_for(definition: LayerDefinition, columns: Mapping[str, Sequence[Any]], index: int,
               first_number: int) -> None:
    """Raise ``validate_feature``'s error for feature ``index``, numbered."""
    attributes = {name: column[index] for name, column in columns.items() if column[index] is not ABSENT}
    try:
        validate_feature(definition, attributes)
    except ValidationError as e:
        raise ValidationError(f"feature {first_number + index}: {e}", layer=e.layer, field=e.field, value=e.value,
                              rule=e.rule) from None
    raise AssertionError(f"feature {first_number + index} of {definition.name} was found to break a rule "
                         "that validate_feature does not see")
