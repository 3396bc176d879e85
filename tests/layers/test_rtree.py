"""Tests for layers.sqlite.rtree: packed rtrees on real SQLite, checked against row-by-row filled ones."""

import sqlite3

import numpy as np
import pytest

from layers.sqlite.rtree import bulk_load_rtree

QUERY = 'SELECT id FROM "{}" WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?'


@pytest.fixture
def connection(tmp_path):
    """A file database in autocommit mode; tests open their transactions explicitly."""
    connection = sqlite3.connect(tmp_path / "rtree.sqlite", isolation_level=None)
    yield connection
    connection.close()


def make_rtree(connection, name, module="rtree", columns="id, minx, maxx, miny, maxy"):
    connection.execute(f'CREATE VIRTUAL TABLE "{name}" USING {module}({columns})')


def fill_row_by_row(connection, name, ids, minx, maxx, miny, maxy):
    rows = zip(ids.tolist(), minx.tolist(), maxx.tolist(), miny.tolist(), maxy.tolist(), strict=True)
    connection.executemany(f'INSERT INTO "{name}" VALUES (?, ?, ?, ?, ?)', rows)


def bulk_and_reference(connection, columns):
    """Fill rtree 'bulk' with bulk_load_rtree and 'reference' row by row, in one transaction."""
    make_rtree(connection, "bulk")
    make_rtree(connection, "reference")
    connection.execute("BEGIN")
    bulk_load_rtree(connection, "bulk", *columns)
    fill_row_by_row(connection, "reference", *columns)
    connection.execute("COMMIT")


def rtreecheck(connection, name):
    return connection.execute("SELECT rtreecheck(?)", (name,)).fetchone()[0]


def query(connection, name, window):
    """Ids of entries whose box meets ``window`` = (x0, x1, y0, y1)."""
    x0, x1, y0, y1 = window
    return {row[0] for row in connection.execute(QUERY.format(name), (x1, x0, y1, y0))}


def brute_force(columns, window):
    """Ids whose float64 box meets the window."""
    ids, minx, maxx, miny, maxy = columns
    x0, x1, y0, y1 = window
    return set(ids[(minx <= x1) & (maxx >= x0) & (miny <= y1) & (maxy >= y0)].tolist())


def stored_boxes(connection, name):
    return connection.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall()


def root(connection, name):
    return connection.execute(f'SELECT data FROM "{name}_node" WHERE nodeno = 1').fetchone()[0]


def random_points(rng, n, centre=(0.0, 0.0), spread=1000.0):
    x = rng.uniform(centre[0] - spread, centre[0] + spread, n)
    y = rng.uniform(centre[1] - spread, centre[1] + spread, n)
    ids = rng.choice(10 * n + 10, size=n, replace=False).astype(np.int64) - 5 * n  # negative ids too
    return ids, x, x.copy(), y, y.copy()


def random_boxes(rng, n, centre=(0.0, 0.0), spread=1000.0):
    ids, x, _, y, _ = random_points(rng, n, centre, spread)
    width = rng.exponential(spread / 50, n)
    height = rng.exponential(spread / 50, n)
    width[::7] = 0.0                                        # degenerate: vertical segments
    height[::5] = 0.0                                       # and horizontal ones, and points
    return ids, x, x + width, y, y + height


def random_windows(rng, columns, count=40):
    """Windows around the data: small, large, degenerate (a point or line), and one holding everything."""
    _, minx, maxx, miny, maxy = columns
    lo_x, hi_x = (minx.min(), maxx.max()) if len(minx) else (-1.0, 1.0)
    lo_y, hi_y = (miny.min(), maxy.max()) if len(miny) else (-1.0, 1.0)
    windows = [(lo_x, hi_x, lo_y, hi_y)]
    for _ in range(count):
        x0 = rng.uniform(lo_x, hi_x)
        y0 = rng.uniform(lo_y, hi_y)
        size = (hi_x - lo_x) * rng.choice([0.0, 0.001, 0.02, 0.3])
        windows.append((x0, x0 + size, y0, y0 + size * rng.uniform(0, 2)))
    if len(minx):
        windows.append((minx[0], minx[0], miny[0], miny[0]))   # exactly on an entry's corner
    return windows


DATASETS = {
    "points": lambda rng, n: random_points(rng, n),
    "boxes": lambda rng, n: random_boxes(rng, n),
    "negative": lambda rng, n: random_boxes(rng, n, centre=(-5000.0, -30.0), spread=4000.0),
    # around 3.4e6 float32 keeps only 0.25: most bounds must be rounded outward
    "huge": lambda rng, n: random_boxes(rng, n, centre=(3.4e6, -3.4e6), spread=2000.0),
}


@pytest.mark.parametrize("n", [0, 1, 51, 52, 2601])
@pytest.mark.parametrize("kind", sorted(DATASETS))
def test_bulk_load_matches_row_by_row(connection, kind, n):
    rng = np.random.default_rng(n)
    columns = DATASETS[kind](rng, n)
    bulk_and_reference(connection, columns)

    assert rtreecheck(connection, "bulk") == "ok"
    assert stored_boxes(connection, "bulk") == stored_boxes(connection, "reference")
    stored = np.array(stored_boxes(connection, "bulk"), dtype=np.float64).reshape(n, 5).T
    stored = (stored[0].astype(np.int64), *stored[1:])     # the float32 boxes, as SQLite compares them
    for window in random_windows(rng, columns):
        found = query(connection, "bulk", window)
        assert found == query(connection, "reference", window)
        assert found >= brute_force(columns, window)
        assert found == brute_force(stored, window)         # extras only from float32 outward rounding


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["points", "huge"])
def test_bulk_load_100000(connection, kind):
    rng = np.random.default_rng(100_000)
    columns = DATASETS[kind](rng, 100_000)
    bulk_and_reference(connection, columns)

    assert rtreecheck(connection, "bulk") == "ok"
    assert stored_boxes(connection, "bulk") == stored_boxes(connection, "reference")
    assert root(connection, "bulk")[:2] == b"\x00\x02"          # 100,000 > 51 * 51: depth 2
    for window in random_windows(rng, columns, count=100):
        found = query(connection, "bulk", window)
        assert found == query(connection, "reference", window)
        assert found >= brute_force(columns, window)


@pytest.mark.parametrize("per_statement", [65_536, 1000])
@pytest.mark.parametrize("first", [1, -40, 7_000_000_000])
def test_consecutive_ids_in_any_order_are_indexed_as_any_others(connection, first, per_statement, monkeypatch):
    """A bulk load's fids are consecutive: their leaves go in as JSON arrays (not a row each)."""
    from layers.sqlite import rtree

    monkeypatch.setattr(rtree, "_JSON_ENTRIES", per_statement)
    rng = np.random.default_rng(abs(first))
    _, *bounds = random_boxes(rng, 3000)
    ids = first + rng.permutation(3000)
    bulk_and_reference(connection, (ids, *bounds))
    assert rtreecheck(connection, "bulk") == "ok"
    assert stored_boxes(connection, "bulk") == stored_boxes(connection, "reference")
    rows = connection.execute('SELECT rowid, nodeno FROM "bulk_rowid" ORDER BY rowid').fetchall()
    assert [r[0] for r in rows] == list(range(first, first + 3000))
    leaves = {r[0] for r in connection.execute('SELECT nodeno FROM "bulk_node"')} - {1}
    assert {r[1] for r in rows} <= leaves and len({r[1] for r in rows}) == -(-3000 // 51)
    for window in random_windows(rng, (ids, *bounds)):
        assert query(connection, "bulk", window) == query(connection, "reference", window)


def test_stored_float32_boxes_contain_the_float64_boxes(connection):
    rng = np.random.default_rng(7)
    ids, minx, maxx, miny, maxy = random_boxes(rng, 5000, centre=(3.4e6, -3.4e6), spread=1e5)
    make_rtree(connection, "bulk")
    connection.execute("BEGIN")
    bulk_load_rtree(connection, "bulk", ids, minx, maxx, miny, maxy)
    connection.execute("COMMIT")
    stored = np.array(stored_boxes(connection, "bulk"))
    source = np.column_stack([ids, minx, maxx, miny, maxy])[np.argsort(ids)]
    assert (stored[:, 0] == source[:, 0]).all()
    assert (stored[:, 1] <= source[:, 1]).all() and (stored[:, 2] >= source[:, 2]).all()
    assert (stored[:, 3] <= source[:, 3]).all() and (stored[:, 4] >= source[:, 4]).all()
    assert (stored[:, 1:] != source[:, 1:]).any()         # rounding really happened


def test_boxes_contained_even_where_rtree_rounding_is_not(connection):
    # rtree.c stores inf as the min of 1e300 and 1.4e-45 as the min of 1e-45
    values = np.array([1e300, -1e300, 1e-45, -1e-45, 3.4e38, 0.0])
    ids = np.arange(1, len(values) + 1)
    make_rtree(connection, "bulk")
    connection.execute("BEGIN")
    bulk_load_rtree(connection, "bulk", ids, values, values, values, values)
    connection.execute("COMMIT")
    assert rtreecheck(connection, "bulk") == "ok"
    stored = np.array(stored_boxes(connection, "bulk"))
    assert (stored[:, 1] <= values).all() and (stored[:, 2] >= values).all()
    assert (stored[:, 3] <= values).all() and (stored[:, 4] >= values).all()


def test_node_format(connection):
    make_rtree(connection, "bulk")
    make_rtree(connection, "reference")
    node_size = len(root(connection, "bulk"))
    assert node_size == 4 + 51 * 24                     # page size 4096: 51 cells of 24 bytes
    one = (np.array([7]), np.array([0.1]), np.array([2.5]), np.array([-3.0]), np.array([0.7]))
    connection.execute("BEGIN")
    bulk_load_rtree(connection, "bulk", *one)
    fill_row_by_row(connection, "reference", *one)
    connection.execute("COMMIT")

    blob = root(connection, "bulk")
    assert blob == root(connection, "reference")
    assert blob[:4] == b"\x00\x00\x00\x01"               # depth 0, one cell
    assert blob[4:12] == (7).to_bytes(8, "big")
    # float32(0.1) is above 0.1 and float32(0.7) below 0.7: rtree.c then takes the float32
    # nearest to d * (1 -/+ 2**-23), which here lies two float32 steps outward, not one
    assert float(np.float32(0.1)) > 0.1 and float(np.float32(0.7)) < 0.7
    min_x = np.float32(0.1 * (1 - 2**-23))
    max_y = np.float32(0.7 * (1 + 2**-23))
    assert min_x.view(np.uint32) == np.float32(0.1).view(np.uint32) - 2
    assert max_y.view(np.uint32) == np.float32(0.7).view(np.uint32) + 2
    assert blob[12:28] == np.array([min_x, 2.5, -3.0, max_y], dtype=">f4").tobytes()
    assert blob[28:] == bytes(node_size - 28)


@pytest.mark.parametrize("n, depth, nodes", [(51, 0, 1), (52, 1, 3), (2601, 1, 52), (2602, 2, 55)])
def test_tree_shape(connection, n, depth, nodes):
    columns = random_points(np.random.default_rng(n), n)
    make_rtree(connection, "bulk")
    connection.execute("BEGIN")
    bulk_load_rtree(connection, "bulk", *columns)
    connection.execute("COMMIT")
    blob = root(connection, "bulk")
    assert int.from_bytes(blob[:2], "big") == depth
    assert connection.execute('SELECT count(*) FROM "bulk_node"').fetchone()[0] == nodes
    assert connection.execute('SELECT count(*) FROM "bulk_parent"').fetchone()[0] == nodes - 1
    assert connection.execute('SELECT count(*) FROM "bulk_rowid"').fetchone()[0] == n
    lengths = {row[0] for row in connection.execute('SELECT length(data) FROM "bulk_node"')}
    assert lengths == {len(blob)}
    non_root_headers = {row[0] for row in connection.execute(
        'SELECT substr(data, 1, 2) FROM "bulk_node" WHERE nodeno != 1')}
    assert non_root_headers <= {b"\x00\x00"}
    assert rtreecheck(connection, "bulk") == "ok"


@pytest.mark.parametrize("page_size, capacity", [(512, 18), (1024, 39), (65536, 51)])
def test_node_size_follows_the_root_blob(tmp_path, page_size, capacity):
    connection = sqlite3.connect(tmp_path / "paged.sqlite", isolation_level=None)
    connection.execute(f"PRAGMA page_size = {page_size}")
    try:
        rng = np.random.default_rng(page_size)
        columns = random_boxes(rng, 3000)
        bulk_and_reference(connection, columns)
        assert (len(root(connection, "bulk")) - 4) // 24 == capacity
        assert rtreecheck(connection, "bulk") == "ok"
        most_cells = max(int.from_bytes(row[0][2:4], "big")
                         for row in connection.execute('SELECT data FROM "bulk_node"'))
        assert most_cells == capacity
        for window in random_windows(rng, columns):
            assert query(connection, "bulk", window) == query(connection, "reference", window)
    finally:
        connection.close()


def test_insert_update_delete_after_bulk_load(connection):
    rng = np.random.default_rng(3)
    columns = random_boxes(rng, 5000, centre=(-3.4e6, 3.4e6), spread=3000.0)
    bulk_and_reference(connection, columns)
    ids = columns[0]

    gone = [(i,) for i in ids[rng.permutation(len(ids))[:2500]].tolist()]
    new = random_boxes(rng, 1000, centre=(-3.4e6, 3.4e6), spread=3000.0)
    new = (new[0] + 10**9, *new[1:])
    connection.execute("BEGIN")
    for name in ("bulk", "reference"):
        connection.executemany(f'DELETE FROM "{name}" WHERE id = ?', gone)
        fill_row_by_row(connection, name, *new)
        connection.execute(f'UPDATE "{name}" SET minx = minx - 1, maxx = maxx + 1 WHERE id % 3 = 0')
    connection.execute("COMMIT")

    assert rtreecheck(connection, "bulk") == "ok"
    assert stored_boxes(connection, "bulk") == stored_boxes(connection, "reference")
    for window in random_windows(np.random.default_rng(5), columns):
        assert query(connection, "bulk", window) == query(connection, "reference", window)

    connection.execute('DELETE FROM "bulk"')
    assert rtreecheck(connection, "bulk") == "ok"
    assert connection.execute('SELECT count(*) FROM "bulk"').fetchone()[0] == 0


def test_loads_after_the_rtree_was_read_in_the_same_transaction(connection):
    make_rtree(connection, "bulk")
    connection.execute("BEGIN")
    assert query(connection, "bulk", (0, 1, 0, 1)) == set()   # the rtree module now holds a blob handle
    columns = random_points(np.random.default_rng(11), 500)
    bulk_load_rtree(connection, "bulk", *columns)
    window = (-100.0, 100.0, -100.0, 100.0)
    assert query(connection, "bulk", window) == brute_force(columns, window)
    connection.execute("INSERT INTO bulk VALUES (123456789, 0, 0, 0, 0)")
    connection.execute("COMMIT")
    assert 123456789 in query(connection, "bulk", window)
    assert rtreecheck(connection, "bulk") == "ok"


def test_auxiliary_columns_are_left_null(connection):
    make_rtree(connection, "bulk", columns="id, minx, maxx, miny, maxy, +label")
    columns = random_boxes(np.random.default_rng(12), 300)
    connection.execute("BEGIN")
    bulk_load_rtree(connection, "bulk", *columns)
    connection.execute("COMMIT")
    assert rtreecheck(connection, "bulk") == "ok"
    assert connection.execute("SELECT count(*) FROM bulk WHERE label IS NULL").fetchone()[0] == 300
    connection.execute("UPDATE bulk SET label = 'x' WHERE id = ?", (int(columns[0][0]),))
    assert connection.execute("SELECT label FROM bulk WHERE id = ?", (int(columns[0][0]),)).fetchone()[0] == "x"


def test_geopackage_rtree(connection):
    connection.execute("CREATE TABLE t (fid INTEGER PRIMARY KEY, geom BLOB)")
    make_rtree(connection, "rtree_t_geom")
    rng = np.random.default_rng(13)
    columns = random_points(rng, 2000, centre=(104.06, 30.66), spread=0.2)   # Chengdu, degrees
    connection.execute("BEGIN")
    bulk_load_rtree(connection, "rtree_t_geom", *columns)
    connection.execute("COMMIT")
    assert rtreecheck(connection, "rtree_t_geom") == "ok"
    for window in random_windows(rng, columns):
        assert query(connection, "rtree_t_geom", window) >= brute_force(columns, window)


def test_spatialite_spatial_index(tmp_path):
    from layers.sqlite.spatialite import connect

    connection = connect(tmp_path / "workspace.sqlite")
    try:
        connection.execute("SELECT InitSpatialMetadata(1)")
        connection.execute("CREATE TABLE toilets (fid INTEGER PRIMARY KEY, name TEXT)")
        assert connection.execute("SELECT AddGeometryColumn('toilets', 'geom', 4326, 'POINT', 'XY')").fetchone()[0] == 1
        assert connection.execute("SELECT CreateSpatialIndex('toilets', 'geom')").fetchone()[0] == 1
        insert_trigger = connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'gii_toilets_geom'").fetchone()[0]

        rng = np.random.default_rng(14)
        n = 3000
        fid = np.arange(1, n + 1)
        x = rng.uniform(103.9, 104.2, n)
        y = rng.uniform(30.5, 30.8, n)
        connection.execute("BEGIN")
        connection.execute("DROP TRIGGER gii_toilets_geom")          # keep the index empty while loading
        connection.executemany("INSERT INTO toilets (fid, name, geom) VALUES (?, ?, MakePoint(?, ?, 4326))",
                               zip(fid.tolist(), [f"厕所 {i}" for i in fid], x.tolist(), y.tolist(), strict=True))
        bulk_load_rtree(connection, "idx_toilets_geom", fid, x, x, y, y)
        connection.execute(insert_trigger)
        connection.execute("COMMIT")

        assert rtreecheck(connection, "idx_toilets_geom") == "ok"
        assert connection.execute("SELECT CheckSpatialIndex('toilets', 'geom')").fetchone()[0] == 1
        # CheckSpatialIndex only notices missing rows: compare with the boxes SpatiaLite's own trigger writes
        connection.execute("CREATE TABLE reference (fid INTEGER PRIMARY KEY)")
        connection.execute("SELECT AddGeometryColumn('reference', 'geom', 4326, 'POINT', 'XY')")
        connection.execute("SELECT CreateSpatialIndex('reference', 'geom')")
        connection.execute("INSERT INTO reference SELECT fid, geom FROM toilets")
        assert (connection.execute("SELECT * FROM idx_toilets_geom ORDER BY pkid").fetchall()
                == connection.execute("SELECT * FROM idx_reference_geom ORDER BY pkid").fetchall())
        point = connection.execute("SELECT ST_X(geom), ST_Y(geom) FROM toilets WHERE fid = 10").fetchone()
        assert point == (x[9], y[9])
        window = (104.0, 104.05, 30.6, 30.62)
        found = {row[0] for row in connection.execute(
            "SELECT fid FROM toilets WHERE fid IN (SELECT pkid FROM idx_toilets_geom "
            "WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?) "
            "AND MbrIntersects(geom, BuildMbr(?, ?, ?, ?))",
            (window[1], window[0], window[3], window[2], window[0], window[2], window[1], window[3]))}
        inside = (x >= window[0]) & (x <= window[1]) & (y >= window[2]) & (y <= window[3])
        assert found == set(fid[inside].tolist())

        # the restored trigger keeps the packed index up to date
        connection.execute("INSERT INTO toilets (fid, name, geom) VALUES (?, '新', MakePoint(104.01, 30.61, 4326))",
                           (n + 1,))
        connection.execute("DELETE FROM toilets WHERE fid <= 1000")
        connection.execute("UPDATE toilets SET geom = MakePoint(104.02, 30.615, 4326) WHERE fid = 2000")
        assert rtreecheck(connection, "idx_toilets_geom") == "ok"
        assert connection.execute("SELECT CheckSpatialIndex('toilets', 'geom')").fetchone()[0] == 1
        hits = {row[0] for row in connection.execute(
            "SELECT pkid FROM idx_toilets_geom WHERE xmin <= 104.05 AND xmax >= 104.0 "
            "AND ymin <= 30.62 AND ymax >= 30.6")}
        assert {n + 1, 2000} <= hits
    finally:
        connection.close()


# --- refusals ------------------------------------------------------------------------------


def test_refuses_a_non_empty_rtree_and_leaves_it_alone(connection):
    make_rtree(connection, "bulk")
    connection.execute("INSERT INTO bulk VALUES (1, 0, 1, 0, 1)")
    before = connection.execute("SELECT data FROM bulk_node").fetchall()
    connection.execute("BEGIN")
    with pytest.raises(ValueError, match="not empty"):
        bulk_load_rtree(connection, "bulk", *random_points(np.random.default_rng(1), 10))
    connection.execute("COMMIT")
    assert connection.execute("SELECT data FROM bulk_node").fetchall() == before
    assert connection.execute("SELECT count(*) FROM bulk_rowid").fetchone()[0] == 1


@pytest.mark.parametrize("module, columns, message", [
    ("rtree_i32", "id, minx, maxx, miny, maxy", "rtree_i32"),
    ("rtree", "id, minx, maxx", "1 dimension|2 coordinate"),
    ("rtree", "id, minx, maxx, miny, maxy, minz, maxz", "6 coordinate"),
    ("fts5", "name", "not an rtree"),
])
def test_refuses_other_virtual_tables(connection, module, columns, message):
    make_rtree(connection, "other", module=module, columns=columns)
    connection.execute("BEGIN")
    with pytest.raises(ValueError, match=message):
        bulk_load_rtree(connection, "other", *random_points(np.random.default_rng(1), 10))
    connection.execute("ROLLBACK")


def test_refuses_missing_and_ordinary_tables(connection):
    connection.execute("CREATE TABLE plain (id INTEGER PRIMARY KEY)")
    connection.execute("BEGIN")
    with pytest.raises(ValueError, match="no table"):
        bulk_load_rtree(connection, "missing", *random_points(np.random.default_rng(1), 10))
    with pytest.raises(ValueError, match="not a virtual table"):
        bulk_load_rtree(connection, "plain", *random_points(np.random.default_rng(1), 10))
    connection.execute("ROLLBACK")


def test_a_failed_write_leaves_the_rtree_empty_and_the_transaction_open(connection):
    make_rtree(connection, "bulk")
    connection.execute("CREATE TABLE other (x)")
    connection.execute("CREATE TRIGGER fail BEFORE INSERT ON bulk_rowid WHEN NEW.rowid = 4000 "
                       "BEGIN SELECT RAISE(ABORT, 'disk full, say'); END")
    connection.execute("BEGIN")
    connection.execute("INSERT INTO other VALUES (1)")
    _, minx, maxx, miny, maxy = random_boxes(np.random.default_rng(15), 5000)
    ids = np.arange(5000)                                   # so that id 4000 is among them
    with pytest.raises(sqlite3.IntegrityError, match="disk full, say"):
        bulk_load_rtree(connection, "bulk", ids, minx, maxx, miny, maxy)
    assert connection.in_transaction
    connection.execute("COMMIT")
    assert connection.execute("SELECT x FROM other").fetchall() == [(1,)]
    assert connection.execute("SELECT count(*) FROM bulk_node").fetchone()[0] == 1
    assert connection.execute("SELECT count(*) FROM bulk_rowid").fetchone()[0] == 0
    assert rtreecheck(connection, "bulk") == "ok"
    connection.execute("DROP TRIGGER fail")
    connection.execute("BEGIN")
    bulk_load_rtree(connection, "bulk", ids, minx, maxx, miny, maxy)    # still empty, so it loads
    connection.execute("COMMIT")
    assert rtreecheck(connection, "bulk") == "ok"


def test_refuses_to_run_outside_a_transaction(connection):
    make_rtree(connection, "bulk")
    with pytest.raises(ValueError, match="transaction"):
        bulk_load_rtree(connection, "bulk", *random_points(np.random.default_rng(1), 10))
    assert rtreecheck(connection, "bulk") == "ok"
    assert connection.execute("SELECT count(*) FROM bulk_rowid").fetchone()[0] == 0


@pytest.mark.parametrize("change, message", [
    (lambda c: (np.array([1, 2, 2]), *c[1:]), "unique; 2 repeats"),
    (lambda c: (c[0].astype(float), *c[1:]), "integers"),
    (lambda c: (c[0], c[1][:2], *c[2:]), "same length"),
    (lambda c: (c[0], np.array([0.0, np.nan, 0.0]), *c[2:]), "finite"),
    (lambda c: (c[0], c[1], c[2], np.array([0.0, np.inf, 0.0]), c[4]), "finite"),
    (lambda c: (c[0], c[1] + 1.0, *c[2:]), "minx <= maxx"),
    (lambda c: (c[0], c[1], c[2], c[3], c[4] - 1.0), "miny <= maxy"),
])
def test_refuses_bad_entries(connection, change, message):
    make_rtree(connection, "bulk")
    columns = (np.array([1, 2, 3]), np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3))
    connection.execute("BEGIN")
    with pytest.raises(ValueError, match=message):
        bulk_load_rtree(connection, "bulk", *change(columns))
    connection.execute("COMMIT")
    assert connection.execute("SELECT count(*) FROM bulk_node").fetchone()[0] == 1


def test_min_above_max_within_float32_rounding_is_accepted_like_sql(connection):
    # rtree.c checks the rounded values: 1.00000001 rounds down to 1.0, which equals max 1.0
    columns = (np.array([1]), np.array([1.00000001]), np.array([1.0]), np.zeros(1), np.zeros(1))
    bulk_and_reference(connection, columns)
    assert stored_boxes(connection, "bulk") == stored_boxes(connection, "reference") == [(1, 1.0, 1.0, 0.0, 0.0)]
