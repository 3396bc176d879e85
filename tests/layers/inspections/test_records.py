"""Recording inspections in a workspace: the inspections layer (a table without geometry), defect codes per facility
type, the case's steps, the facility following its latest inspection, photos, all or nothing."""

import datetime as dt

import pytest
from shapely import Point

from layers.errors import DefinitionError, FeatureNotFoundError, ValidationError, WorkspaceError
from layers.inspections import add_inspection, advance, list_inspections, parse_age, plan_inspection
from layers.media.content import MediaError
from layers.media.tables import photo_links
from layers.schema.definitions import load_definitions, parse_codelists, parse_definition
from layers.workspace.editing import EditSession
from tests.layers.media.images import jpeg


def _toilet(ws, status="在用"):
    return ws.insert("toilets", {"name": "春熙路公厕", "district": "锦江区", "status": status}, Point(500000, 3400000))


def test_the_inspections_layer_is_a_table_of_records_of_facilities():
    definitions = load_definitions()
    inspections = definitions["inspections"]
    assert not inspections.has_geometry and inspections.geometry_type == "NONE"
    assert (inspections.child_of.layer_field, inspections.child_of.uuid_field) == ("facility_layer", "facility_uuid")
    assert inspections.title("zh_CN") == "巡查记录" and inspections.field("condition").label("en") == "Condition"
    assert inspections.field("condition").code_values == ("完好", "破损", "丢失", "废弃", "移除")
    assert inspections.field("case_status").code_values == ("发现", "立案", "派遣", "处理", "核查", "结案")
    defect = inspections.field("defect")
    assert defect.codes_by == "facility_layer" and set(defect.codes_for) == {"toilets", "signboards", "kiosks"}
    assert "面板破损" in defect.code_set and "面板破损" not in {c.value for c in defect.codes_for["toilets"]}
    for name in ("toilets", "signboards", "kiosks"):
        rule = definitions[name].follow
        assert rule.date_field == "last_inspected" and rule.status_field == "status" and rule.utc_offset == "+08:00"
    assert definitions["toilets"].follow.status["破损"] == "停用" and "破损" not in definitions["kiosks"].follow.status


@pytest.mark.parametrize("text, message", [
    ('name = "x"\ngeometry = "NONE"\n[child_of]\nlayer_field = "a"\nuuid_field = "b"\n'
     '[[fields]]\nname = "a"\ntype = "text"\nrequired = true\n', "'b' is not a field"),
    ('name = "x"\ngeometry = "NONE"\n[[fields]]\nname = "a"\ntype = "text"\ncodes_by = "c"\n'
     '[fields.codes_for]\nt = [{ value = "v" }]\n', "codes_by names unknown field 'c'"),
    ('name = "x"\ngeometry = "POINT"\n[follows_inspections]\nstatus_field = "s"\nstatus = { "破损" = "坏" }\n'
     '[[fields]]\nname = "s"\ntype = "text"\ncodes = [{ value = "好" }]\n', "'坏' .* not in the code list of 's'"),
    ('name = "x"\ngeometry = "POINT"\n[follows_inspections]\nutc_offset = "8h"\n'
     '[[fields]]\nname = "s"\ntype = "text"\n', "utc_offset '8h' is not like"),
    ('name = "x"\ngeometry = "AREA"\n[[fields]]\nname = "s"\ntype = "text"\n', "is not one of .*NONE"),
])
def test_bad_definitions_are_refused_naming_the_problem(text, message):
    import tomllib

    with pytest.raises(DefinitionError, match=message):
        parse_definition(tomllib.loads(text), parse_codelists({}, "x"), "x.toml", "x")


def test_an_inspection_is_recorded_with_photos_and_the_facility_follows_it(workspace, tmp_path):
    (tmp_path / "door.jpg").write_bytes(jpeg())
    toilet = _toilet(workspace)
    added = add_inspection(workspace, "toilets", toilet.uuid, condition="Damaged", defect="door or window broken",
                           description="门锁坏了", photos=[tmp_path / "door.jpg"],
                           inspected_at="2026-05-01T23:30:00+08:00")
    record = workspace.find("inspections", added.uuid)
    assert record.geometry is None and record.attributes["condition"] == "破损"
    assert record.attributes["defect"] == "门窗损坏" and record.attributes["inspector"] == "张三"
    assert record.attributes["inspected_at"] == "2026-05-01T15:30:00.000Z"
    assert added.case_opened == "发现" and record.attributes["case_status"] == "发现"
    assert [(p.uuid, p.layer) for p in photo_links(workspace.connection)] == [(added.uuid, "inspections")]
    facility = workspace.find("toilets", toilet.uuid).attributes
    assert facility["status"] == "停用" and facility["last_inspected"] == "2026-05-01"  # Beijing date, not UTC's
    assert [(f.field, f.before, f.after) for f in added.followed] == [
        ("last_inspected", None, "2026-05-01"), ("status", "在用", "停用")]
    assert workspace.pending_changes()["inspections"]["insert"] == 1

    older = add_inspection(workspace, "toilets", toilet.uuid, condition="完好", inspected_at="2026-04-01T08:00:00Z")
    assert not older.latest and not older.followed and older.case_opened is None
    assert workspace.find("toilets", toilet.uuid).attributes["status"] == "停用"
    later = add_inspection(workspace, "toilets", toilet.uuid, condition="intact", inspected_at="2026-05-03T08:00:00Z")
    assert later.latest and workspace.find("toilets", toilet.uuid).attributes["status"] == "在用"


@pytest.mark.parametrize("kwargs, error, message", [
    ({"layer": "benches"}, WorkspaceError, "no layer 'benches'"),
    ({"uuid": "nope"}, FeatureNotFoundError, "no feature with uuid nope"),
    ({"condition": "broken"}, ValidationError, "'broken' is not one of 完好/intact"),
    ({"defect": "面板破损"}, ValidationError, "'面板破损' is not one of .* for toilets"),
    ({"description": "长" * 501}, ValidationError, "longer than 500"),
    ({"photos": ["missing.jpg"]}, MediaError, "missing.jpg"),
])
def test_bad_input_records_nothing(workspace, kwargs, error, message):
    toilet = _toilet(workspace)
    arguments = {"layer": "toilets", "uuid": toilet.uuid, "condition": "破损", **kwargs}
    layer, uuid = arguments.pop("layer"), arguments.pop("uuid")
    with pytest.raises(error, match=message):
        add_inspection(workspace, layer, uuid, **arguments)
    assert workspace.count("inspections") == 0
    assert workspace.find("toilets", toilet.uuid).attributes["status"] == "在用"


def test_a_case_goes_forward_and_stamps_each_step():
    definition = load_definitions()["inspections"]
    values = {"case_status": "发现", "inspected_at": "2026-05-01T00:00:00.000Z"}
    when = dt.datetime(2026, 5, 2, 8, 0, tzinfo=dt.UTC)
    changes = advance(definition, values, "派遣", when)
    assert changes == {"case_status": "派遣", "dispatched_at": "2026-05-02T08:00:00.000Z"}
    with pytest.raises(ValidationError, match="cannot go back"):
        advance(definition, {**values, **changes}, "立案")
    assert advance(definition, {"case_status": "派遣", "dispatched_at": "x"}, "派遣") == {"case_status": "派遣"}
    assert parse_age("3d") == dt.timedelta(days=3) and parse_age("12H") == dt.timedelta(hours=12)
    with pytest.raises(ValueError):
        parse_age("soon")


def test_listing_filters_by_status_and_age(workspace):
    toilet = _toilet(workspace)
    now = dt.datetime(2026, 5, 10, tzinfo=dt.UTC)
    old = add_inspection(workspace, "toilets", toilet.uuid, condition="破损", inspected_at="2026-05-01T00:00:00Z")
    new = add_inspection(workspace, "toilets", toilet.uuid, condition="丢失", inspected_at="2026-05-09T00:00:00Z",
                         case_status="filed")
    add_inspection(workspace, "toilets", toilet.uuid, condition="完好", inspected_at="2026-05-09T12:00:00Z")
    path = workspace.path
    every = list_inspections(path, now=now)
    assert [r.values["condition"] for r in every] == ["破损", "丢失", "完好"]  # oldest first
    assert every[0].facility_label == "春熙路公厕" and every[0].age == dt.timedelta(days=9)
    assert [r.uuid for r in list_inspections(path, statuses=["open"], now=now)] == [old.uuid, new.uuid]
    assert [r.uuid for r in list_inspections(path, statuses=["立案"], now=now)] == [new.uuid]
    assert [r.uuid for r in list_inspections(path, statuses=["open"], older_than=parse_age("3d"), now=now)] == [
        old.uuid]
    with pytest.raises(ValidationError, match="--status 'later' is not one of"):
        list_inspections(path, statuses=["later"])


def test_the_editor_plan_sees_pending_edits(workspace):
    toilet = _toilet(workspace)
    session = EditSession(workspace)
    plan = plan_inspection(session, "toilets", toilet.fid, condition="废弃", inspected_at="2026-05-01T00:00:00Z")
    assert plan.latest and plan.facility_changes == {"last_inspected": "2026-05-01", "status": "停用"}
    session.add_feature("inspections", {**plan.values, "inspected_at": "2026-06-01T00:00:00Z"}, None)
    later = plan_inspection(session, "toilets", toilet.fid, condition="完好", inspected_at="2026-05-15T00:00:00Z")
    assert not later.latest and later.facility_changes == {}  # a pending inspection is later
    session.save()
    assert workspace.count("inspections") == 1
