"""Change capture by triggers: the editor, the CLI and raw SQL from another program are all seen."""

import itertools

import shapely
from shapely.geometry import Point

from layers.sqlite.spatialite import connect
from layers.workspace.store import Workspace


def pending(workspace, layer="toilets"):
    return workspace.pending_changes()[layer]


def first(workspace, layer="toilets"):
    return next(workspace.features(layer))


def test_demo_data_is_the_base_not_a_change(demo_workspace):
    assert all(
        counts == {"insert": 0, "update": 0, "delete": 0} for counts in demo_workspace.pending_changes().values()
    )
    assert demo_workspace.count("toilets") == 300


def test_update_keeps_the_base_values_and_names_the_changed_fields(demo_workspace):
    feature = first(demo_workspace)
    demo_workspace.update("toilets", feature.fid, {"name": "改名公厕", "seats_male": 9})
    changes = list(demo_workspace.changes("toilets"))
    assert len(changes) == 1
    change = changes[0]
    assert (change.op, change.uuid, change.fid) == ("update", feature.uuid, feature.fid)
    expected = {"name"} | ({"seats_male"} if feature.attributes["seats_male"] != 9 else set())
    assert set(change.changed_fields) == expected
    assert change.base["name"] == feature.attributes["name"]
    assert change.current["name"] == "改名公厕"
    assert pending(demo_workspace) == {"insert": 0, "update": 1, "delete": 0}


def test_base_is_the_state_before_the_first_edit_not_the_last(demo_workspace):
    feature = first(demo_workspace)
    for name in ("第一次", "第二次", "第三次"):
        demo_workspace.update("toilets", feature.fid, {"name": name})
    (change,) = demo_workspace.changes("toilets")
    assert change.base["name"] == feature.attributes["name"] and change.current["name"] == "第三次"


def test_an_edit_returned_to_the_base_value_is_no_change(demo_workspace):
    feature = first(demo_workspace)
    demo_workspace.update("toilets", feature.fid, {"name": "临时"}, Point(1, 1))
    demo_workspace.update("toilets", feature.fid, {"name": feature.attributes["name"]}, feature.geometry)
    assert pending(demo_workspace)["update"] == 0


def test_move_is_a_geometry_change_with_the_base_position(demo_workspace):
    feature = first(demo_workspace)
    demo_workspace.update("toilets", feature.fid, geometry=Point(feature.geometry.x + 5, feature.geometry.y))
    (change,) = demo_workspace.changes("toilets")
    assert change.changed_fields == ("geom",)
    assert shapely.from_wkb(change.base["geom"]).equals(feature.geometry)


def test_insert_then_delete_leaves_nothing(demo_workspace):
    added = demo_workspace.insert("toilets", {"name": "新公厕", "district": "锦江区"}, Point(0, 0))
    assert pending(demo_workspace) == {"insert": 1, "update": 0, "delete": 0}
    demo_workspace.update("toilets", added.fid, {"name": "新公厕二"})
    assert pending(demo_workspace) == {"insert": 1, "update": 0, "delete": 0}
    demo_workspace.delete("toilets", added.fid)
    assert pending(demo_workspace) == {"insert": 0, "update": 0, "delete": 0}


def test_delete_keeps_the_whole_base_row_and_undo_of_delete_is_no_change(demo_workspace):
    feature = first(demo_workspace)
    deleted = demo_workspace.delete("toilets", feature.fid)
    (change,) = demo_workspace.changes("toilets")
    assert change.op == "delete" and change.current is None
    assert change.base["name"] == feature.attributes["name"] and change.base["uuid"] == feature.uuid
    demo_workspace.restore(deleted)
    assert pending(demo_workspace) == {"insert": 0, "update": 0, "delete": 0}


def test_updated_then_deleted_feature_keeps_its_original_base(demo_workspace):
    feature = first(demo_workspace)
    demo_workspace.update("toilets", feature.fid, {"name": "先改"})
    demo_workspace.delete("toilets", feature.fid)
    (change,) = demo_workspace.changes("toilets")
    assert change.op == "delete" and change.base["name"] == feature.attributes["name"]


def test_raw_sql_from_another_program_is_tracked_and_audited(demo_workspace):
    path = demo_workspace.path
    victim, moved, removed = itertools.islice(demo_workspace.features("toilets"), 3)
    other = connect(path)  # another program: its own connection, plain SQL, no Tongcheng code
    try:
        other.execute("UPDATE toilets SET status = '停用' WHERE fid = ?", (victim.fid,))
        other.execute("UPDATE toilets SET geom = MakePoint(1, 2, 4544) WHERE fid = ?", (moved.fid,))
        other.execute("DELETE FROM toilets WHERE fid = ?", (removed.fid,))
        other.execute("INSERT INTO toilets (name, district, geom) VALUES ('外部新增', '青羊区', MakePoint(3, 4, 4544))")
    finally:
        other.close()
    changes = {c.fid: c for c in demo_workspace.changes("toilets")}
    assert changes[removed.fid].op == "delete"
    assert changes[moved.fid].changed_fields == ("geom",)
    if victim.attributes["status"] != "停用":
        assert changes[victim.fid].changed_fields == ("status",)
        assert changes[victim.fid].base["status"] == victim.attributes["status"]
    inserted = [c for c in changes.values() if c.op == "insert"]
    assert len(inserted) == 1 and inserted[0].current["name"] == "外部新增"
    edited = demo_workspace.get("toilets", moved.fid)
    assert edited.audit["modified_by"] == "demo" and edited.audit["modified_at"] > moved.audit["modified_at"]


def test_tracking_survives_reopening(demo_workspace):
    feature = first(demo_workspace)
    demo_workspace.update("toilets", feature.fid, {"name": "重开前"})
    path = demo_workspace.path
    demo_workspace.close()
    with Workspace.open(path) as reopened:
        (change,) = reopened.changes("toilets")
        assert change.base["name"] == feature.attributes["name"]


def test_rolled_back_edits_leave_no_trace(demo_workspace):
    feature = first(demo_workspace)
    try:
        with demo_workspace.session():
            demo_workspace.update("toilets", feature.fid, {"name": "回滚"})
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert list(demo_workspace.changes("toilets")) == []
    assert demo_workspace.connection.execute("SELECT count(*) FROM tongcheng_base_toilets").fetchone()[0] == 0


def test_untracked_session_writes_base_state(workspace):
    with workspace.untracked():
        workspace.insert("toilets", {"name": "基线", "district": "锦江区"}, Point(0, 0))
    assert pending(workspace)["insert"] == 0
    assert workspace.setting("tracking") == "1"
    workspace.insert("toilets", {"name": "之后", "district": "锦江区"}, Point(0, 0))
    assert pending(workspace)["insert"] == 1
