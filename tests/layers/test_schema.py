"""Layer definitions load from data files; features are checked against them."""

import datetime as dt
import shutil

import pytest
from shapely.geometry import LineString, Point, Polygon

from layers.errors import DefinitionError, ValidationError
from layers.schema.definitions import DEFINITIONS_FOLDER, FIELD_TYPES, load_definitions, validate_feature

#: The component standard's attributes on every component layer (issue 14), after the layer's own.
STANDARD_FIELDS = (" component_code department owner_unit maintainer grid_cell initial_date change_date data_source "
                   "remarks")
REQUIRED_FIELDS = {
    "toilets": "name structure grade open_24h accessible third_restroom baby_care seats_male seats_female "
    "opening_hours managing_unit district street community zone status published_on_map last_inspected photo"
    + STANDARD_FIELDS,
    "signboards": "business_name kind carrier lighting width_m height_m area_m2 permit_no permit_expiry approval "
    "hazard supervision_level owner_contact district street community zone status last_inspected photo"
    + STANDARD_FIELDS,
    "kiosks": "name kind operator license_no license_expiry goods area_m2 opening_hours district street community "
    "zone status last_inspected photo" + STANDARD_FIELDS,
}


@pytest.fixture(scope="module")
def definitions():
    return load_definitions()


def test_shipped_layers_have_the_fields_of_the_standard(definitions):
    assert list(definitions)[:3] == ["toilets", "signboards", "kiosks"]
    assert {"gps_tracks", "gps_waypoints"} <= set(definitions)
    for layer, names in REQUIRED_FIELDS.items():
        assert list(definitions[layer].field_names) == names.split()
    assert definitions["gps_tracks"].geometry_type == "MULTILINESTRING"
    assert definitions["gps_waypoints"].geometry_type == "POINT"


def test_every_field_has_chinese_and_english_labels_and_codes(definitions):
    for definition in definitions.values():
        assert definition.title("zh_CN") != definition.title("en")
        for f in definition.fields:
            assert f.type in FIELD_TYPES
            assert f.labels.get("zh_CN") and f.labels.get("en"), (definition.name, f.name)
            for code in f.codes:
                assert code.labels.get("zh_CN") and code.labels.get("en"), (definition.name, f.name, code.value)


def test_code_lists_of_the_standard(definitions):
    toilets = definitions["toilets"]
    assert toilets.field("structure").code_values == ("独立式", "附建式", "移动式")
    assert toilets.field("grade").code_values == ("一类", "二类", "三类")
    assert toilets.field("zone").code_values == ("严管区", "管控区", "规范区")
    assert toilets.field("status").code_values == (
        "在用", "停用", "在建", "拆除", "完好", "破损", "丢失", "废弃", "移除")  # + the standard's states (issue 14)
    assert toilets.field("zone").code_label("严管区", "en") == "Strict"
    signboards = definitions["signboards"]
    assert signboards.field("carrier").code_values == ("墙面", "屋顶", "立柱", "落地", "悬挑")
    assert signboards.field("approval").code_values == ("已审批", "未审批", "违规")
    assert signboards.field("supervision_level").code_values == ("市", "区", "街道")
    assert definitions["kiosks"].field("kind").code_values == (
        "报刊亭", "便民服务点", "售货亭", "疏导服务点", "社区城管工作站", "信息亭")


def test_style_classes_name_code_values(definitions):
    for definition in definitions.values():
        style = definition.style
        if style.get("field"):
            values = set(definition.field(style["field"]).code_values)
            assert {c["value"] for c in style["classes"]} <= values


def toilet(**changes):
    return {"name": "春熙路公厕", "district": "锦江区", **changes}


def test_valid_feature_gets_defaults_and_stored_forms(definitions):
    clean = validate_feature(definitions["toilets"], toilet(open_24h=True, last_inspected=dt.date(2026, 3, 1)),
                             Point(409000, 3393000))
    assert clean["structure"] == "独立式" and clean["status"] == "在用"
    assert clean["open_24h"] == 1 and clean["accessible"] == 0
    assert clean["last_inspected"] == "2026-03-01"


@pytest.mark.parametrize(
    "changes, field, rule_part",
    [
        ({"grade": "四类"}, "grade", "code list"),
        ({"seats_male": -1}, "seats_male", "minimum"),
        ({"seats_female": 500}, "seats_female", "maximum"),
        ({"seats_male": "many"}, "seats_male", "whole number"),
        ({"open_24h": "perhaps"}, "open_24h", "true or false"),
        ({"last_inspected": "2026-13-01"}, "last_inspected", "date"),
        ({"name": ""}, "name", "required"),
        ({"name": "x" * 101}, "name", "longer than 100"),
        ({"colour": "red"}, "colour", "unknown field"),
    ],
)
def test_invalid_values_are_refused_naming_layer_field_value_and_rule(definitions, changes, field, rule_part):
    with pytest.raises(ValidationError) as caught:
        validate_feature(definitions["toilets"], toilet(**changes))
    error = caught.value
    assert error.layer == "toilets" and error.field == field and rule_part in error.rule
    assert f"toilets.{field}" in str(error) or f"{field!r}" in str(error)
    if field != "colour":
        assert repr(changes[field]) in str(error) or rule_part == "required"


def test_required_field_missing_is_refused(definitions):
    with pytest.raises(ValidationError, match="toilets.district: a value is required"):
        validate_feature(definitions["toilets"], {"name": "公厕"})


def test_geometry_type_and_validity_are_checked(definitions):
    toilets, tracks = definitions["toilets"], definitions["gps_tracks"]
    with pytest.raises(ValidationError, match="LineString cannot go in a POINT layer"):
        validate_feature(toilets, toilet(), LineString([(0, 0), (1, 1)]))
    with pytest.raises(ValidationError, match="not finite"):
        validate_feature(toilets, toilet(), Point(float("nan"), 1))
    with pytest.raises(ValidationError, match="empty"):
        validate_feature(toilets, toilet(), Point())
    with pytest.raises(ValidationError, match="Polygon cannot go"):
        validate_feature(tracks, {}, Polygon([(0, 0), (1, 0), (1, 1)]))
    validate_feature(tracks, {}, LineString([(0, 0), (1, 1)]))


def test_derived_area_is_computed_from_width_and_height(definitions):
    signboards = definitions["signboards"]
    shop = {"business_name": "张记面馆", "district": "锦江区"}
    clean = validate_feature(signboards, {**shop, "width_m": 2.5, "height_m": 1.2})
    assert clean["area_m2"] == pytest.approx(3.0)
    clean = validate_feature(signboards, {**shop, "width_m": 2.5})
    assert clean["area_m2"] is None
    assert signboards.field("area_m2").derived_inputs == {"width_m", "height_m"}


def test_a_new_layer_needs_only_a_definition_file(tmp_path):
    folder = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS_FOLDER, folder)
    (folder / "benches.toml").write_text(
        """name = "benches"
title = { zh_CN = "座椅", en = "Benches" }
geometry = "POINT"
[[fields]]
name = "material"
type = "text"
label = { zh_CN = "材质", en = "Material" }
codes = [ { value = "木", zh_CN = "木", en = "Wood" }, { value = "石", zh_CN = "石", en = "Stone" } ]
""",
        "utf-8",
    )
    definitions = load_definitions(folder)
    assert definitions["benches"].field("material").code_values == ("木", "石")
    with pytest.raises(ValidationError, match="benches.material"):
        validate_feature(definitions["benches"], {"material": "铁"})


@pytest.mark.parametrize(
    "text, message",
    [
        ('name = "bad"\ngeometry = "POINT"\n[[fields]]\nname = "a"\ntype = "text"', "differs from the file name"),
        ('geometry = "CIRCLE"\n[[fields]]\nname = "a"\ntype = "text"', "geometry 'CIRCLE'"),
        ('geometry = "POINT"\n[[fields]]\nname = "a"\ntype = "colour"', "type 'colour'"),
        ('geometry = "POINT"\n[[fields]]\nname = "uuid"\ntype = "text"', "system column"),
        ('geometry = "POINT"\n[[fields]]\nname = "a"\ntype = "text"\ncodelist = "nope"', "unknown codelist"),
        ('geometry = "POINT"\n[[fields]]\nname = "a"\ntype = "integer"\ndefault = "x"', "default is invalid"),
        ('geometry = "POINT"\n[[fields]]\nname = "a"\ntype = "real"\nderived = "b * 2"', "unknown field 'b'"),
        ('geometry = "POINT"\n[[fields]]\nname = "a"\ntype = "real"\nderived = "__import__(1)"', "only + - * /"),
        ("geometry = [", "not valid TOML"),
    ],
)
def test_bad_definition_files_name_the_file_and_the_problem(tmp_path, text, message):
    (tmp_path / "things.toml").write_text(text, "utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_definitions(tmp_path)
    assert "things.toml" in str(caught.value) and message in str(caught.value)
