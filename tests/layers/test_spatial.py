"""Reading the points of a view: streamed in chunks, equal values shared; bulk loads stored in spatial order."""

import numpy as np

from layers.workspace.spatial import points_in_extent


def test_view_is_read_in_chunks_with_the_same_result(demo_workspace):
    bbox = demo_workspace.extent("signboards")
    whole = points_in_extent(demo_workspace.connection, "signboards", bbox, ("approval", "business_name"), chunk=10**9)
    chunked = points_in_extent(demo_workspace.connection, "signboards", bbox, ("approval", "business_name"), chunk=7)
    assert len(whole["fid"]) == 2000
    for name in ("fid", "x", "y", "approval", "business_name"):
        assert np.array_equal(whole[name], chunked[name])


def test_equal_values_of_a_field_are_one_object(demo_workspace):
    bbox = demo_workspace.extent("signboards")
    status = points_in_extent(demo_workspace.connection, "signboards", bbox, ("approval",), chunk=50)["approval"]
    distinct = set(status.tolist())
    assert 1 < len(distinct) < 20
    # One object per distinct value, however many rows and chunks: a dense
    # view costs a pointer per feature, not a string per feature.
    assert len({id(v) for v in status.tolist()}) == len(distinct)


def test_big_bulk_loads_are_stored_in_spatial_order(workspace, monkeypatch):
    import random

    from shapely.geometry import Point

    from layers.workspace import bulk

    monkeypatch.setattr(bulk, "SPATIAL_ORDER_MIN", 1000)
    rng = random.Random(4)
    points = [(rng.uniform(0, 10_000), rng.uniform(0, 10_000)) for _ in range(3000)]
    features = [({"name": f"公厕{i}", "district": "锦江区"}, Point(x, y)) for i, (x, y) in enumerate(points)]
    workspace.insert_many("toilets", features, batch_size=500)
    connection = workspace.connection
    assert connection.execute("SELECT rtreecheck('idx_toilets_geom')").fetchone()[0] == "ok"
    assert connection.execute("SELECT CheckSpatialIndex('toilets', 'geom')").fetchone()[0] == 1
    stored = points_in_extent(connection, "toilets", (-1, -1, 10_001, 10_001), ("name",))
    order = np.argsort(stored["fid"])
    fid, x, y, name = (stored[k][order] for k in ("fid", "x", "y", "name"))
    assert fid.tolist() == list(range(1, 3001))
    # every feature kept its own attributes and geometry
    assert sorted(zip(name.tolist(), x.tolist(), y.tolist(), strict=True)) == sorted(
        (f"公厕{i}", px, py) for i, (px, py) in enumerate(points))
    # neighbouring fids are near in space: steps along the fids are short,
    # where in input order they average half the area's width
    steps = np.hypot(np.diff(x), np.diff(y))
    assert np.median(steps) < 300
    assert np.mean(steps) < 500
    # a small view reads a few runs of consecutive fids, not one per feature
    view = points_in_extent(connection, "toilets", (2000, 2000, 3000, 3000))["fid"]
    runs = 1 + np.count_nonzero(np.diff(np.sort(view)) > 1)
    assert len(view) > 10 and runs <= len(view) / 3


def test_small_bulk_loads_keep_input_order(workspace):
    from shapely.geometry import Point

    features = [({"name": f"公厕{i}", "district": "锦江区"}, Point(i * 7 % 100, i)) for i in range(600)]
    workspace.insert_many("toilets", features, batch_size=100)
    stored = points_in_extent(workspace.connection, "toilets", (-1, -1, 1000, 1000), ("name",))
    order = np.argsort(stored["fid"])
    assert stored["name"][order].tolist() == [f"公厕{i}" for i in range(600)]
