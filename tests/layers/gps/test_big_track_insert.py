"""A long track's blob is written in place (bulk._insert_big) with the same effects as SpatiaLite's triggers."""

import numpy as np
import pytest
import shapely

from layers.errors import WorkspaceError
from layers.workspace import bulk
from layers.workspace.store import Workspace


def _track(n, shift=0.0):
    x = 400_000 + np.cumsum(np.full(n, 0.37)) + shift
    y = 3_390_000 + np.sin(np.arange(n) / 50.0) * 100.7
    half = n // 2
    return shapely.multilinestrings([shapely.linestrings(x[:half], y[:half]), shapely.linestrings(x[half:], y[half:])])


def _state(ws, fid):
    c = ws.connection
    return {
        "rtree": c.execute("SELECT xmin, xmax, ymin, ymax FROM idx_gps_tracks_geom WHERE pkid = ?", (fid,)).fetchone(),
        "geom": c.execute("SELECT AsBinary(geom), ST_SRID(geom), GeometryType(geom), IsValid(geom) FROM gps_tracks "
                          "WHERE fid = ?", (fid,)).fetchone(),
        "change": c.execute("SELECT op FROM tongcheng_changes WHERE layer = 'gps_tracks' AND fid = ?",
                            (fid,)).fetchone(),
    }


def test_a_big_blob_is_written_in_place_with_the_triggers_effects(tmp_path):
    n = bulk.BIG_BLOB_BYTES // 16 + 1000
    with Workspace.create(tmp_path / "ws.sqlite", user="张三") as ws:
        c = ws.connection
        triggers = c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall()
        c.execute("UPDATE geometry_columns_time SET last_insert = '2000-01-01' WHERE f_table_name = 'gps_tracks'")
        small = ws.insert("gps_tracks", {"name": "through the triggers"}, _track(n, shift=5000.0)).fid
        assert len(c.execute("SELECT geom FROM gps_tracks WHERE fid = ?", (small,)).fetchone()[0]) >= \
            bulk.BIG_BLOB_BYTES  # (ws.insert binds it: SpatiaLite's triggers run)
        c.execute("UPDATE geometry_columns_time SET last_insert = '2000-01-01' WHERE f_table_name = 'gps_tracks'")
        ws.insert_many("gps_tracks", [({"name": "in place"}, _track(n))])
        (big,) = c.execute("SELECT fid FROM gps_tracks WHERE name = 'in place'").fetchone()
        through, in_place = _state(ws, small), _state(ws, big)
        # the spatial index entry is the one RTreeAlign makes (same float32 rounding), shifted by 5000 m
        expected = c.execute("SELECT MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), MbrMaxY(geom) FROM gps_tracks "
                             "WHERE fid = ?", (big,)).fetchone()
        c.execute("INSERT INTO idx_gps_tracks_geom (pkid, xmin, xmax, ymin, ymax) VALUES (-1, ?, ?, ?, ?)", expected)
        assert in_place["rtree"] == c.execute("SELECT xmin, xmax, ymin, ymax FROM idx_gps_tracks_geom "
                                              "WHERE pkid = -1").fetchone()
        assert through["rtree"] is not None
        assert shapely.from_wkb(in_place["geom"][0]).equals_exact(_track(n), 0)
        assert in_place["geom"][1:] == through["geom"][1:] == (ws.srid, "MULTILINESTRING", 1)
        assert in_place["change"] == through["change"] == ("insert",)
        stamp = c.execute("SELECT last_insert FROM geometry_columns_time WHERE f_table_name = 'gps_tracks'").fetchone()
        assert stamp[0] > "2000-01-01"
        c.execute("DELETE FROM idx_gps_tracks_geom WHERE pkid = -1")
        # SpatiaLite's triggers are back, unchanged
        assert c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall() == \
            triggers
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        hits = c.execute("SELECT pkid FROM idx_gps_tracks_geom WHERE xmin <= ? AND xmax >= ? ORDER BY pkid",
                         (400_010, 400_010)).fetchall()
        assert hits == [(big,)]


def test_a_big_blob_of_the_wrong_srid_is_refused_and_nothing_is_left(tmp_path):
    with Workspace.create(tmp_path / "ws.sqlite") as ws:
        c = ws.connection
        triggers = c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall()
        from layers.sqlite.spatialite import geometry_blob

        blob = geometry_blob(_track(bulk.BIG_BLOB_BYTES // 16 + 10), 4326)
        with pytest.raises(WorkspaceError, match="violates Geometry constraint"), ws.session() as connection:
            bulk._insert_big(connection, "gps_tracks", "uuid, name, geom", ws.srid, ("u-1", "wrong", blob))
        assert ws.count("gps_tracks") == 0
        assert c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall() == \
            triggers
