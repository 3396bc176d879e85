"""Bulk loads into an empty layer: tracked like row-by-row inserts, in spatial order, all or nothing."""

import random

import numpy as np
import pytest
import shapely

from layers.errors import WorkspaceError
from layers.schema.columns import ABSENT
from layers.workspace import bulk
from layers.workspace.bulk import FeatureBatch
from layers.workspace.store import Workspace

STATUSES = ["在用", "停用", "在建"]


def toilets(count, seed=4):
    rng = random.Random(seed)
    return [({"name": f"公厕{i}", "district": "锦江区", "status": STATUSES[i % 3], "seats_male": i % 20,
              "remarks": "O'Brien's" if i % 7 else None},
             shapely.Point(rng.uniform(0, 10_000), rng.uniform(0, 10_000))) for i in range(count)]


def stored(ws):
    """Every stored row without its uuid and times, by fid; and the tracked changes (op by fid)."""
    con = ws.connection
    names = [f.name for f in ws.layer("toilets").fields]
    rows = {r[0]: r[1:] for r in con.execute(
        f"SELECT fid, {', '.join(f'{n}, typeof({n})' for n in names)}, created_by, modified_by, AsBinary(geom) "
        "FROM toilets")}
    changes = dict(con.execute("SELECT fid, op FROM tongcheng_changes WHERE layer = 'toilets'"))
    return rows, changes


def check_index(ws):
    con = ws.connection
    assert con.execute("SELECT rtreecheck('idx_toilets_geom')").fetchone()[0] == "ok"
    assert con.execute("SELECT CheckSpatialIndex('toilets', 'geom')").fetchone()[0] == 1


def test_a_bulk_load_stores_and_tracks_what_row_by_row_inserts_do(tmp_path):
    features = toilets(6000)
    with Workspace.create(tmp_path / "bulk.sqlite", user="张三") as big, \
            Workspace.create(tmp_path / "rows.sqlite", user="张三") as small:
        assert big.insert_many("toilets", features) == 6000                # one full batch: a bulk load
        for start in range(0, 6000, 1000):                                  # into a layer with rows: one by one
            small.insert_many("toilets", features[start:start + 1000], batch_size=2000)
        assert stored(big) == stored(small)
        assert big.pending_changes()["toilets"] == {"insert": 6000, "update": 0, "delete": 0}
        check_index(big)
        assert big.connection.execute("SELECT count(DISTINCT uuid) FROM toilets").fetchone()[0] == 6000
        # the triggers are back: a later edit is tracked and indexed as ever
        fid = big.insert("toilets", {"name": "新", "district": "锦江区"}, shapely.Point(5, 5)).fid
        big.update("toilets", 1, {"status": "停用"}, shapely.Point(6, 6))
        assert big.pending_changes()["toilets"] == {"insert": 6001, "update": 0, "delete": 0}
        assert [f.fid for f in big.features_in_extent("toilets", (4, 4, 7, 7))] == sorted([1, fid])
        check_index(big)


def test_an_untracked_bulk_load_records_nothing(tmp_path):
    with Workspace.create(tmp_path / "base.sqlite", user="张三") as ws:
        with ws.untracked():
            ws.insert_many("toilets", toilets(6000))
        assert ws.pending_changes()["toilets"] == {"insert": 0, "update": 0, "delete": 0}
        assert ws.connection.execute("SELECT count(*) FROM toilets WHERE created_by = '张三'").fetchone()[0] == 6000
        check_index(ws)


def batches(features, size, uuids=None):
    for start in range(0, len(features), size):
        part = features[start:start + size]
        names = dict.fromkeys(name for attributes, _ in part for name in attributes)
        identity = {"uuid": uuids[start:start + size]} if uuids else {}
        yield FeatureBatch({n: [a.get(n, ABSENT) for a, _ in part] for n in names}, [g for _, g in part], identity)


def centres(features):
    return (np.array([g.x for _, g in features]), np.array([g.y for _, g in features]))


def test_told_the_centres_a_load_writes_each_feature_at_its_place_in_spatial_order(tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "SPATIAL_ORDER_MIN", 1000)
    features = toilets(12_000)
    with Workspace.create(tmp_path / "staged.sqlite", user="张三") as staged, \
            Workspace.create(tmp_path / "ranked.sqlite", user="张三") as ranked:
        staged.insert_many("toilets", features)
        assert ranked.insert_batches("toilets", batches(features, 5000), centres=centres(features)) == 12_000
        assert stored(ranked) == stored(staged)   # the same fids along the curve, the same rows
        check_index(ranked)
        fids = [r[0] for r in ranked.connection.execute("SELECT fid FROM toilets ORDER BY fid")]
        assert fids == list(range(1, 12_001))
        x = np.array([g.x for _, g in features])
        by_fid = np.array([f.geometry.x for f in ranked.features("toilets")])
        assert not np.array_equal(by_fid, x)      # not the input order ...
        assert np.array_equal(np.sort(by_fid), np.sort(x))
        assert ranked.pending_changes()["toilets"]["insert"] == 12_000


def test_uuids_given_in_batches_are_kept_and_the_others_made(tmp_path):
    features = toilets(6000)
    given = [f"0190b6a2-0000-7000-8000-{i:012d}" if i % 2 else None for i in range(6000)]
    with Workspace.create(tmp_path / "ws.sqlite", user="张三") as ws:
        ws.insert_batches("toilets", batches(features, 3000, given), centres=centres(features))
        uuids = dict(ws.connection.execute("SELECT name, uuid FROM toilets"))
        assert all(uuids[f"公厕{i}"] == given[i] for i in range(1, 6000, 2))
        assert len(set(uuids.values())) == 6000


@pytest.mark.parametrize("brought", [5999, 6001])
def test_a_load_bringing_other_than_the_centres_it_announced_writes_nothing(tmp_path, brought):
    features = toilets(6001)
    with Workspace.create(tmp_path / "ws.sqlite", user="张三") as ws:
        with pytest.raises(WorkspaceError, match="announced; nothing was written"):
            ws.insert_batches("toilets", batches(features[:brought], 2000), centres=centres(features[:6000]))
        assert ws.count("toilets") == 0
        assert ws.pending_changes()["toilets"] == {"insert": 0, "update": 0, "delete": 0}
        ws.insert("toilets", {"name": "一", "district": "锦江区"}, shapely.Point(1, 1))  # triggers restored
        assert ws.pending_changes()["toilets"]["insert"] == 1
        check_index(ws)


def test_features_said_to_come_in_order_are_stored_as_they_come(tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "SPATIAL_ORDER_MIN", 1000)
    features = toilets(6000)
    x, y = centres(features)
    order = bulk.spatial_order(x, y)
    ordered = [features[i] for i in order]
    with Workspace.create(tmp_path / "told.sqlite", user="张三") as told, \
            Workspace.create(tmp_path / "worked_out.sqlite", user="张三") as worked_out:
        told.insert_batches("toilets", batches(ordered, 2500), centres=(x[order], y[order]), in_order=True)
        worked_out.insert_batches("toilets", batches(features, 2500), centres=(x, y))
        assert stored(told) == stored(worked_out)  # the same fids along the curve
        names = [r[0] for r in told.connection.execute("SELECT name FROM toilets ORDER BY fid")]
        assert names == [a["name"] for a, _ in ordered]
