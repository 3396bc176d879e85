"""SpatiaLite connections and the geometry blobs we build for bulk writes."""

import uuid
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)

from layers.sqlite.spatialite import (
    connect,
    geometry_blob,
    geometry_blobs,
    multilinestring_blob_pieces,
    multilinestring_blob_size,
    point_blobs,
)
from layers.workspace.identity import new_uuid

GEOMETRIES = [
    Point(410_520.25, 3_393_260.5),
    LineString([(0, 0), (1, 1), (2, -3.5)]),
    MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 3), (4, 5)]]),
    Polygon([(0, 0), (4, 0), (4, 4), (0, 0)]),
    MultiPoint([(1, 1), (2, 2), (-3, 7)]),
    Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(1, 1), (2, 1), (2, 2)], [(5, 5), (6, 5), (6, 7)]]),
    MultiPolygon([Polygon([(0, 0), (4, 0), (4, 4)]),
                  Polygon([(10, 10), (20, 10), (20, 20), (10, 20)], [[(11, 11), (12, 11), (12, 12)]])]),
    MultiLineString([[(0, 0), (1, 1)]]),
    LineString([(0, 0, 5), (1, 1, 6)]),  # Z is dropped
    MultiPoint([(1, 1)]),
    GeometryCollection([Point(1, 2), LineString([(0, 0), (3, 4)])]),  # the WKB path
]


@pytest.fixture
def memory():
    connection = connect(":memory:")
    yield connection
    connection.close()


def test_memory_database_makes_no_file(memory, tmp_path, monkeypatch):
    assert not Path(":memory:").exists()


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: g.geom_type)
def test_our_blobs_are_what_spatialite_reads(memory, geometry):
    blob = geometry_blob(geometry, 4544)
    wkb, srid, kind, minx, maxy = memory.execute(
        "SELECT AsBinary(?1), ST_SRID(?1), GeometryType(?1), MbrMinX(?1), MbrMaxY(?1)", (blob,)
    ).fetchone()
    assert shapely.from_wkb(wkb).equals_exact(shapely.force_2d(geometry), 0)
    assert srid == 4544 and kind == geometry.geom_type.upper()
    assert (minx, maxy) == (geometry.bounds[0], geometry.bounds[3])
    # and SpatiaLite's own blob is byte for byte the same
    assert memory.execute("SELECT GeomFromWKB(?, 4544)", (shapely.force_2d(geometry).wkb,)).fetchone()[0] == blob


def test_a_long_track_blob_is_one_buffer_of_its_final_size(memory):
    # one preallocated buffer: no WKB copy, no slices, no join (issue 15, memory of a GPS import)
    x = np.linspace(400_000, 410_000, 200_000)
    track = shapely.multilinestrings([shapely.linestrings(x[i::4], x[i::4] * 8) for i in range(4)])
    blob = geometry_blob(track, 4544)
    assert isinstance(blob, bytearray) and len(blob) == 39 + len(track.wkb) and blob[-1] == 0xFE
    assert memory.execute("SELECT GeomFromWKB(?, 4544)", (track.wkb,)).fetchone()[0] == blob


def test_vectorised_point_blobs_equal_single_ones(memory):
    x, y = np.array([1.5, -2.0, 3e6]), np.array([0.0, 7.25, -4e5])
    blobs = point_blobs(x, y, 4326)
    assert blobs == [geometry_blob(Point(a, b), 4326) for a, b in zip(x, y, strict=True)]
    assert geometry_blobs(shapely.points(x, y), 4326) == blobs


def test_new_uuids_are_version_7_unique_and_increasing():
    values = [new_uuid() for _ in range(20_000)]
    assert len(set(values)) == len(values)
    assert values == sorted(values)
    assert {uuid.UUID(v).version for v in values} == {7}


def test_fiona_works_after_spatialite_is_loaded(tmp_path):
    # mod_spatialite's PROJ becomes global when SQLite loads it; fiona's GDAL must not bind to it.
    import subprocess
    import sys

    code = (
        "from layers.sqlite.spatialite import connect; c = connect(':memory:');"
        "import fiona.transform;"
        "print(fiona.transform.transform('EPSG:4326', 'EPSG:4544', [104.0657], [30.6574]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr  # -11 (segfault) when the load order is wrong
    import ast

    import pyproj

    (x,), (y,) = ast.literal_eval(result.stdout)
    expected = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True).transform(104.0657, 30.6574)
    assert (x, y) == pytest.approx(expected, abs=0.01)


def test_pyproj_in_a_thread_after_spatialite_and_a_clean_exit():
    # pyproj first used after mod_spatialite was loaded: in a worker thread, and at exit
    # (its PROJ's C++ statics were freed twice when it bound to the system PROJ).
    import subprocess
    import sys

    code = (
        "import threading; from layers.sqlite.spatialite import connect; c = connect(':memory:');"
        "import pyproj;"
        "f = lambda: print(pyproj.Transformer.from_crs('EPSG:4326', 'EPSG:4544', always_xy=True)"
        ".transform(104.0657, 30.6574));"
        "t = threading.Thread(target=f); t.start(); t.join(); f()"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr  # -6 (abort at exit) when the load order is wrong
    assert result.stdout.count("(410451.0") == 2


@pytest.mark.parametrize("counts", [[2], [3, 70_000, 2], [200_000, 5]])
def test_multilinestring_blob_pieces_are_the_blob_of_the_geometry(memory, counts):
    # a long track's blob written piece by piece from its lines' columns (issue 15, memory of a GPS import)
    rng = np.random.default_rng(len(counts))
    parts = [(400_000 + rng.random(n) * 1e4, 3_390_000 - rng.random(n) * 1e4) for n in counts]
    track = shapely.multilinestrings([shapely.linestrings(x, y) for x, y in parts])
    size = multilinestring_blob_size(counts)
    pieces = multilinestring_blob_pieces(list(parts), 4544)
    blob = b"".join(bytes(piece) for piece in pieces)
    assert len(blob) == size
    assert blob == geometry_blob(track, 4544)
    assert memory.execute("SELECT GeomFromWKB(?, 4544)", (track.wkb,)).fetchone()[0] == blob


def test_multilinestring_blob_pieces_let_go_of_each_line_once_written():
    parts = [(np.arange(3.0), np.arange(3.0)), (np.arange(4.0), -np.arange(4.0))]
    pieces = multilinestring_blob_pieces(parts, 4544)
    next(pieces), next(pieces), next(pieces)  # header, first line's count, its coordinates
    assert parts[0] is None and parts[1] is not None
    for _ in pieces:
        pass
    assert parts == [None, None]
