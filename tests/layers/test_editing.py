"""The edit buffer: pending edits are seen through the session, saved in one transaction, or discarded."""

import itertools

import pytest
from shapely.geometry import Point

from layers.errors import FeatureNotFoundError, ValidationError
from layers.workspace.editing import EditSession


@pytest.fixture
def session(demo_workspace):
    return EditSession(demo_workspace)


def some_fids(session, n=3):
    return [f.fid for f in itertools.islice(session.workspace.features("toilets"), n)]


def test_nothing_reaches_the_workspace_before_save(session):
    ws = session.workspace
    fid = some_fids(session, 1)[0]
    before = ws.get("toilets", fid)
    new = session.add_feature("toilets", {"name": "新增公厕", "district": "锦江区"}, Point(410_000, 3_393_000))
    session.change_attributes("toilets", fid, {"name": "改名"})
    session.set_geometry("toilets", fid, Point(410_001, 3_393_001))
    assert new < 0 and session.is_dirty
    assert ws.get("toilets", fid).attributes["name"] == before.attributes["name"]
    assert ws.count("toilets") == 300 and session.count("toilets") == 301
    seen = session.feature("toilets", fid)
    assert seen.attributes["name"] == "改名" and seen.geometry.equals(Point(410_001, 3_393_001))
    assert all(v == {"insert": 0, "update": 0, "delete": 0} for v in ws.pending_changes().values())


def test_save_writes_everything_in_one_transaction_as_tracked_changes(session):
    ws = session.workspace
    changed, moved, deleted = some_fids(session)
    before = ws.get("toilets", moved).attributes
    new = session.add_feature("toilets", {"name": "新增公厕", "district": "锦江区"}, Point(410_000, 3_393_000))
    session.change_attributes("toilets", changed, {"name": "改名", "seats_male": 77})
    session.set_geometry("toilets", moved, Point(410_002, 3_393_002))
    session.delete_feature("toilets", deleted)
    mapping = session.save()
    assert not session.is_dirty
    real = mapping["toilets"][new]
    assert ws.get("toilets", real).attributes["name"] == "新增公厕"
    assert ws.get("toilets", changed).attributes["seats_male"] == 77
    with pytest.raises(FeatureNotFoundError):
        ws.get("toilets", deleted)
    ops = {c.fid: (c.op, c.changed_fields) for c in ws.changes("toilets")}
    assert ops[real][0] == "insert" and ops[deleted][0] == "delete"
    # a move takes the zone and unit grid cell of the new position (issue 14)
    located = tuple(n for n in ("zone", "grid_cell") if ws.get("toilets", moved).attributes[n] != before[n])
    assert ops[moved] == ("update", (*located, "geom"))
    assert set(ops[changed][1]) <= {"name", "seats_male"} and "name" in ops[changed][1]


def test_a_failed_save_writes_nothing_and_keeps_the_edits(session):
    ws = session.workspace
    fid = some_fids(session, 1)[0]
    session.change_attributes("toilets", fid, {"name": "会失败"})
    session.add_feature("kiosks", {"name": "报刊亭", "district": "锦江区"}, Point(0, 0))
    ws.connection.execute("DELETE FROM toilets WHERE fid = ?", (fid,))  # another program deleted it meanwhile
    ws.connection.execute("DELETE FROM tongcheng_changes")
    kiosks = ws.count("kiosks")
    with pytest.raises(FeatureNotFoundError):
        session.save()
    assert ws.count("kiosks") == kiosks and session.is_dirty


def test_invalid_edits_are_refused_and_leave_the_session_unchanged(session):
    fid = some_fids(session, 1)[0]
    with pytest.raises(ValidationError) as caught:
        session.change_attributes("toilets", fid, {"grade": "特级"})
    assert (caught.value.field, caught.value.value) == ("grade", "特级")
    with pytest.raises(ValidationError):
        session.add_feature("toilets", {"name": "缺区"}, Point(0, 0))
    assert not session.is_dirty


def test_undo_operations_restore_the_previous_state(session):
    fid = some_fids(session, 1)[0]
    original = session.feature("toilets", fid)
    previous = session.change_attributes("toilets", fid, {"name": "临时"})
    session.change_attributes("toilets", fid, previous)
    old_geometry = session.set_geometry("toilets", fid, Point(1, 1))
    session.set_geometry("toilets", fid, old_geometry)
    assert not session.is_dirty
    removed = session.delete_feature("toilets", fid)
    session.undelete("toilets", removed)
    new = session.add_feature("toilets", {"name": "撤销", "district": "锦江区"}, Point(2, 2))
    session.remove_added("toilets", new)
    assert not session.is_dirty
    assert session.feature("toilets", fid).attributes == original.attributes


def test_extent_queries_and_fids_show_pending_edits(session):
    moved, deleted = some_fids(session, 2)
    far = (0, 0, 100, 100)
    session.set_geometry("toilets", moved, Point(50, 50))
    new = session.add_feature("toilets", {"name": "角落", "district": "锦江区", "status": "停用"}, Point(10, 10))
    arrays = session.point_arrays_in_extent("toilets", far, fields=("status",))
    assert sorted(arrays["fid"].tolist()) == sorted([moved, new])
    assert "停用" in arrays["status"].tolist()
    session.delete_feature("toilets", deleted)
    full = session.workspace.extent("toilets")
    everywhere = session.point_arrays_in_extent("toilets", (0, 0, full[2], full[3]))
    assert deleted not in everywhere["fid"] and len(everywhere["fid"]) == 300
    fids = session.fids("toilets")
    assert len(fids) == 300 and fids[-1] == new and deleted not in fids
    assert session.fids("toilets", "status = ?", ("停用",)).tolist().count(new) == 1
    assert {f.fid for f in session.features_in_extent("toilets", far)} == {moved, new}


def test_discard_returns_to_the_last_save(session):
    fid = some_fids(session, 1)[0]
    name = session.feature("toilets", fid).attributes["name"]
    session.change_attributes("toilets", fid, {"name": "丢弃"})
    session.discard()
    assert session.feature("toilets", fid).attributes["name"] == name and not session.is_dirty


def test_derived_fields_follow_buffered_edits(session):
    sign = next(session.workspace.features("signboards"))
    session.change_attributes("signboards", sign.fid, {"width_m": 3.0, "height_m": 2.0})
    assert session.feature("signboards", sign.fid).attributes["area_m2"] == 6.0
    session.save()
    assert session.workspace.get("signboards", sign.fid).attributes["area_m2"] == 6.0


def test_features_by_fid_reads_a_window_in_order_with_edits(session):
    a, b, c = some_fids(session)
    session.change_attributes("toilets", b, {"name": "窗口"})
    session.delete_feature("toilets", c)
    new = session.add_feature("toilets", {"name": "新", "district": "锦江区"}, Point(0, 0))
    window = session.features_by_fid("toilets", [new, b, c, a])
    assert [f.fid for f in window] == [new, b, a]
    assert window[1].attributes["name"] == "窗口"


def test_field_values_reads_one_column_with_pending_edits(session):
    changed, deleted = some_fids(session, 2)
    new = session.add_feature("toilets", {"name": "新增公厕", "district": "锦江区"}, Point(410_000, 3_393_000))
    session.change_attributes("toilets", changed, {"name": "改名"})
    session.delete_feature("toilets", deleted)
    fids, values = session.field_values("toilets", "name")
    assert list(fids) == list(session.fids("toilets"))
    by_fid = dict(zip(fids.tolist(), values, strict=True))
    assert by_fid[changed] == "改名" and by_fid[new] == "新增公厕" and deleted not in by_fid
    with pytest.raises(Exception, match="no field"):
        session.field_values("toilets", "name; DROP TABLE toilets")



def test_a_session_follows_new_definitions_only_without_pending_edits(session):
    """Pending edits were made under the definitions of before: the session refuses to follow and keeps them (the
    editor settles them before an update; the following itself is tested through the window's Receive update)."""
    from layers.errors import WorkspaceError

    fid = some_fids(session, 1)[0]
    session.change_attributes("toilets", fid, {"name": "待保存"})
    with pytest.raises(WorkspaceError, match="edits were pending"):
        session.follow_definitions()
    assert session.edits("toilets").changed[fid] == {"name": "待保存"}
    session.discard()
    session.follow_definitions()
    assert set(session.pending_counts()) == set(session.workspace.definitions) and not session.is_dirty
