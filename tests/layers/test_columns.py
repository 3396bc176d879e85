"""Features checked a field at a time (bulk loads) give what validate_feature gives feature by feature."""

import datetime as dt
import random

import pytest

from layers.errors import ValidationError
from layers.schema.columns import ABSENT, validate_columns
from layers.schema.definitions import load_definitions, validate_feature

DEFINITIONS = load_definitions()

#: Values tried in every field: good ones of each type, and some that break rules.
VALUES = [None, "", "  ", "在用", " 在用 ", "停用", "锦江区", "青羊区", "北京", "严管区", "户外广告", "门头招牌",
          "toilets", "门窗损坏", "异味", "x" * 120, "2024-05-01", "2024-13-01", dt.date(2024, 5, 1),
          dt.datetime(2024, 5, 1, 8, 0), "是", "否", "true", 0, 1, 2, -3, 250, 7, 1.0, 2.5, True, False,
          float("nan"), "12", "abc", [1, 2], "公厕一", "公厕一", "0301", "完好"]


def good_value(f, rng):
    """A value that passes the field's own rules (as text or as its type)."""
    if f.codes:
        return rng.choice(f.code_values)
    return {"text": lambda: rng.choice(["公厕一", " 春熙路 ", "abc"]), "integer": lambda: rng.choice([0, 3, "7"]),
            "real": lambda: rng.choice([0.0, 2.5, 3]), "boolean": lambda: rng.choice([True, False, 0, "是"]),
            "date": lambda: rng.choice(["2024-05-01", dt.date(2024, 5, 2)]),
            "datetime": lambda: "2024-05-01T08:00:00+08:00", "json": lambda: {"a": 1},
            "photo": lambda: "photo.jpg"}.get(f.type, lambda: None)()


def features(definition, count, rng, bad=0.05):
    """Features naming some fields, mostly with good values, now and then a value from VALUES."""
    fields = [f for f in definition.fields]
    rows = []
    for _ in range(count):
        row = {}
        for f in fields:
            if f.required and f.default is None or rng.random() < 0.5:
                row[f.name] = rng.choice(VALUES) if rng.random() < bad else good_value(f, rng)
        rows.append(row)
    return rows


def expected(definition, rows):
    """What validate_feature gives feature by feature: the values by field, or the first error's message."""
    out = {f.name: [] for f in definition.fields}
    for number, row in enumerate(rows, start=1):
        try:
            clean = validate_feature(definition, row)
        except ValidationError as e:
            return f"feature {number}: {e}"
        for name, value in clean.items():
            out[name].append(value)
    return out


def by_columns(definition, rows):
    names = dict.fromkeys(name for row in rows for name in row)
    columns = {name: [row.get(name, ABSENT) for row in rows] for name in names}
    try:
        return validate_columns(definition, columns, len(rows))
    except ValidationError as e:
        return str(e)


def same(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a.keys() == b.keys() and all(
        len(a[k]) == len(b[k]) and all(x == y or (x != x and y != y) for x, y in zip(a[k], b[k], strict=True))
        for k in a)


@pytest.mark.parametrize("layer", ["toilets", "signboards", "kiosks", "inspections"])
def test_columns_check_as_validate_feature_does(layer):
    definition = DEFINITIONS[layer]
    rng = random.Random(layer)
    outcomes = set()
    for _ in range(300):
        rows = features(definition, rng.choice([1, 3, 20, 60]), rng, bad=rng.choice([0.0, 0.002, 0.01, 0.05]))
        want, got = expected(definition, rows), by_columns(definition, rows)
        assert same(want, got), (rows, want, got)
        outcomes.add(want.split(":")[0] if isinstance(want, str) else "passed")
    # both outcomes, and features other than the first found breaking a rule
    assert "passed" in outcomes and len(outcomes - {"passed", "feature 1"}) >= 2


@pytest.mark.parametrize("layer", ["toilets", "signboards"])
def test_good_features_give_the_same_stored_values(layer):
    definition = DEFINITIONS[layer]
    rows = [{"name": f"公厕{i}", "business_name": f"店{i}", "district": "锦江区", "status": "在用",
             "seats_male": i % 20, "width_m": 2.0 + i % 3, "height_m": 1.5, "open_24h": i % 2 == 0,
             "last_inspected": "2024-05-01"} for i in range(500)]
    rows = [{k: v for k, v in row.items() if k in definition.known_names} for row in rows]
    want, got = expected(definition, rows), by_columns(definition, rows)
    assert not isinstance(want, str) and same(want, got)


def test_the_first_feature_breaking_a_rule_is_named_with_its_message():
    definition = DEFINITIONS["toilets"]
    rows = [{"name": "一", "district": "锦江区"}] * 5 + [{"name": "二", "district": "北京"}, {"nom": "x"}]
    with pytest.raises(ValidationError, match=r"^feature 6: toilets\.district: '北京' is not in the code list"):
        validate_columns(definition, {"name": [r.get("name", ABSENT) for r in rows],
                                      "district": [r.get("district", ABSENT) for r in rows]}, 7)
    with pytest.raises(ValidationError, match=r"^feature 3: toilets: unknown field 'nom'"):
        validate_columns(definition, {"name": ["一"] * 3, "district": ["锦江区"] * 3, "nom": [ABSENT, ABSENT, "x"]},
                         3)
    with pytest.raises(ValidationError, match=r"^feature 11: toilets\.name: a value is required"):
        validate_columns(definition, {"district": ["锦江区"] * 2}, 2, first_number=11)


def test_equal_values_of_different_types_are_checked_each_by_its_own_type():
    definition = DEFINITIONS["toilets"]
    base = {"name": ["一", "二"], "district": ["锦江区", "锦江区"]}
    with pytest.raises(ValidationError, match=r"^feature 2: toilets\.seats_male: True is not a whole number"):
        validate_columns(definition, {**base, "seats_male": [1, True]}, 2)
    with pytest.raises(ValidationError, match=r"^feature 1: toilets\.open_24h: 1\.0 is not true or false"):
        validate_columns(definition, {**base, "open_24h": [1.0, True]}, 2)
    stored = validate_columns(definition, {**base, "seats_male": [2, 2.0]}, 2)["seats_male"]
    assert stored == [2, 2] and [type(v) for v in stored] == [int, int]  # 2.0 is a whole number, stored as one


def test_columns_checked_before_are_taken_as_they_are_and_whole_feature_rules_still_run():
    definition = DEFINITIONS["signboards"]
    rows = [{"business_name": f"店{i}", "district": "锦江区", "width_m": 2.0, "height_m": 1.5} for i in range(30)]
    rows = [{k: v for k, v in row.items() if k in definition.known_names} for row in rows]
    names = dict.fromkeys(name for row in rows for name in row)
    columns = {name: [row.get(name, ABSENT) for row in rows] for name in names}
    assert validate_columns(definition, columns, 30, checked=set(names)) == validate_columns(definition, columns, 30)
    assert validate_columns(definition, columns, 30, checked=set(names))["area_m2"] == [3.0] * 30  # derived
    strict = {**columns, "zone": ["严管区"] * 30}  # required_if: owner_contact where the zone is strict
    with pytest.raises(ValidationError, match=r"^feature 1: signboards\.owner_contact: a value is required where"):
        validate_columns(definition, strict, 30, checked=set(strict))
