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


def test_a_long_imported_track_is_stored_as_insert_many_stores_it(tmp_path):
    # the GPS import streams a long track's blob (issue 15): same row, blob, index entry and tracking
    import datetime as dt

    from layers.gps.importer import import_gps

    n = bulk.BIG_BLOB_BYTES // 16 + 5000
    start = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    lines = ['<?xml version="1.0"?>', '<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">',
             "<trk><name>long</name>"]
    for segment in range(2):
        lines.append("<trkseg>")
        for i in range(n // 2):
            t = start + dt.timedelta(seconds=segment * n + i)
            lat, lon = 30.5 + i * 1e-5 + segment * 0.01, 114.3 + np.sin(i / 40) * 1e-3
            lines.append(f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}">'
                         f"<ele>{20 + i % 7}</ele><time>{t:%Y-%m-%dT%H:%M:%SZ}</time></trkpt>")
        lines.append("</trkseg>")
    lines.append("</trk></gpx>")
    coordinates = [[(float(v.split('lon="')[1].split('"')[0]), float(v.split('lat="')[1].split('"')[0]))
                    for v in lines if v.startswith("<trkpt")]]
    lonlat = np.array(coordinates[0])
    path = tmp_path / "long.gpx"
    path.write_text("\n".join(lines))
    with Workspace.create(tmp_path / "ws.sqlite", crs="EPSG:4547") as ws:
        cache = ws.connection.execute("PRAGMA cache_size").fetchone()
        summary = import_gps(ws, [path])
        assert ws.connection.execute("PRAGMA cache_size").fetchone() == cache  # (smaller while the blob is written)
        assert summary.files[0].points == n
        c = ws.connection
        fid, blob, count = c.execute("SELECT fid, geom, point_count FROM gps_tracks").fetchone()
        assert count == n and len(blob) >= bulk.BIG_BLOB_BYTES
        # byte for byte SpatiaLite's own blob of the same geometry
        wkb = c.execute("SELECT AsBinary(geom) FROM gps_tracks").fetchone()[0]
        assert c.execute("SELECT GeomFromWKB(?, ?)", (wkb, ws.srid)).fetchone()[0] == blob
        geometry = shapely.from_wkb(wkb)
        assert shapely.get_num_geometries(geometry) == 2
        state = _state(ws, fid)
        assert state["geom"][1:] == (ws.srid, "MULTILINESTRING", 1) and state["change"] == ("insert",)
        # the spatial index entry is the one SpatiaLite's trigger makes of the same blob
        expected = c.execute("SELECT MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), MbrMaxY(geom) FROM gps_tracks "
                             "WHERE fid = ?", (fid,)).fetchone()
        c.execute("INSERT INTO idx_gps_tracks_geom (pkid, xmin, xmax, ymin, ymax) VALUES (-1, ?, ?, ?, ?)", expected)
        assert state["rtree"] == c.execute("SELECT xmin, xmax, ymin, ymax FROM idx_gps_tracks_geom "
                                           "WHERE pkid = -1").fetchone()
        c.execute("DELETE FROM idx_gps_tracks_geom WHERE pkid = -1")
        assert ws.pending_changes()["gps_tracks"]["insert"] == 1
        # the coordinates are pyproj's of every point (transformed in place), the length the geodesic one
        import pyproj

        transformer = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True)
        geod = pyproj.Geod(ellps="WGS84")
        halves = [lonlat[: n // 2], lonlat[n // 2:]]
        expected_xy = np.vstack([np.column_stack(transformer.transform(h[:, 0], h[:, 1])) for h in halves])
        assert np.array_equal(shapely.get_coordinates(geometry), expected_xy)
        (length,) = c.execute("SELECT length_m FROM gps_tracks").fetchone()
        assert length == round(sum(float(geod.line_length(h[:, 0], h[:, 1])) for h in halves), 3)
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
