"""User filter expressions compile to parameterised SQL that selects the right features."""

import pytest

from layers.errors import ExpressionError
from layers.schema.expressions import compile_filter


def select(workspace, text):
    compiled = compile_filter(text, ("fid", *workspace.layer("toilets").field_names))
    sql = f"SELECT fid FROM toilets WHERE {compiled.sql} ORDER BY fid"
    return [row[0] for row in workspace.connection.execute(sql, compiled.parameters)]


def expected(workspace, condition):
    return [f.fid for f in workspace.features("toilets") if condition(f.attributes)]


@pytest.mark.parametrize(
    "text, condition",
    [
        ("status = '停用'", lambda a: a["status"] == "停用"),
        ("status != '在用' AND seats_male >= 8", lambda a: a["status"] != "在用" and a["seats_male"] >= 8),
        ("grade IN ('一类', '三类') OR open_24h", lambda a: a["grade"] in ("一类", "三类") or a["open_24h"]),
        ("NOT (zone = '严管区') and accessible = true", lambda a: a["zone"] != "严管区" and a["accessible"] == 1),
        ("seats_female BETWEEN 5 AND 9", lambda a: 5 <= a["seats_female"] <= 9),
        ("name LIKE '%人民%'", lambda a: "人民" in a["name"]),
        (
            "photo IS NULL AND last_inspected > '2026-06-01'",
            lambda a: a["photo"] is None and a["last_inspected"] > "2026-06-01",
        ),
        ('"district" NOT IN (\'锦江区\')', lambda a: a["district"] != "锦江区"),
    ],
)
def test_expressions_select_what_they_say(demo_workspace, text, condition):
    found = select(demo_workspace, text)
    assert found == expected(demo_workspace, condition)


def test_values_are_parameters_never_sql(demo_workspace):
    hostile = "name = 'x'' OR 1=1; DROP TABLE toilets; --'"
    compiled = compile_filter(hostile, demo_workspace.layer("toilets").field_names)
    assert "DROP" not in compiled.sql and compiled.parameters == ("x' OR 1=1; DROP TABLE toilets; --",)
    assert select(demo_workspace, hostile) == []
    assert demo_workspace.count("toilets") == 300
    assert compiled.fields == {"name"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("colour = 'red'", "unknown field 'colour' at character 1"),
        ("status = ", "expected a value at character 10, found the end"),
        ("status = '停用' AND", "expected a value"),
        ("(status = '停用'", "expected ) at character"),
        ("status ~ 3", "cannot read the expression at character 8"),
        ("1; DROP TABLE toilets", "cannot read the expression at character 2"),
        ("", "the expression is empty"),
        ("status NOT = 1", "expected IN, LIKE or BETWEEN after NOT"),
    ],
)
def test_bad_expressions_say_where(demo_workspace, text, message):
    with pytest.raises(ExpressionError) as caught:
        compile_filter(text, demo_workspace.layer("toilets").field_names)
    assert message in str(caught.value)
