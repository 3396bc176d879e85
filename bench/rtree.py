"""Benchmark: fill an SQLite rtree with 1,000,000 points row by row vs layers.sqlite.rtree.bulk_load_rtree.

Both trees live in one SpatiaLite-free SQLite file in a temporary folder (the
same page size, the same data, the same run). Reported, for each tree:

* the load time: ``executemany`` of ``INSERT INTO rt VALUES (?, ?, ?, ?, ?)``
  versus ``bulk_load_rtree``, each in its own transaction, COMMIT included;
* the ratio row-by-row / bulk;
* the shape of the tree (depth, nodes) and ``rtreecheck``;
* the time of a window query returning about 20,000 ids: the median, over
  windows at random places, of the best of 3 runs (the trees take turns to
  go first), and whether both trees return the same ids.

Usage: ``python bench/rtree.py [--points N] [--hits N] [--windows N] [--seed N]``
"""

import argparse
import math
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from layers.sqlite.rtree import bulk_load_rtree  # noqa: E402

__all__ = ["main"]

SIDE = 1000.0           # points are uniform in [0, SIDE)^2
QUERY = "SELECT id FROM {} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?"


def _timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _load_row_by_row(connection, ids, x, y):
    connection.execute("BEGIN")
    rows = zip(ids.tolist(), x.tolist(), x.tolist(), y.tolist(), y.tolist(), strict=True)
    connection.executemany("INSERT INTO row_by_row VALUES (?, ?, ?, ?, ?)", rows)
    connection.execute("COMMIT")


def _load_bulk(connection, ids, x, y):
    connection.execute("BEGIN")
    bulk_load_rtree(connection, "bulk", ids, x, x, y, y)
    connection.execute("COMMIT")


def _query(connection, name, window, repeats=3):
    """Best time of ``repeats`` runs of the window query, and the ids found."""
    x0, x1, y0, y1 = window
    best, ids = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        ids = connection.execute(QUERY.format(name), (x1, x0, y1, y0)).fetchall()
        best = min(best, time.perf_counter() - start)
    return best, {row[0] for row in ids}


def _query_windows(connection, windows):
    """Per tree: median query time over the windows, mean hits, and whether both trees agree on every window."""
    times = {"row_by_row": [], "bulk": []}
    hits = []
    agree = True
    for i, window in enumerate(windows):
        found = {}
        for name in ("row_by_row", "bulk") if i % 2 else ("bulk", "row_by_row"):   # alternate who goes first
            seconds, found[name] = _query(connection, name, window)
            times[name].append(seconds)
        agree = agree and found["row_by_row"] == found["bulk"]
        hits.append(len(found["bulk"]))
    return {name: float(np.median(t)) for name, t in times.items()}, float(np.mean(hits)), agree


def _shape(connection, name):
    depth = int.from_bytes(connection.execute(f"SELECT substr(data, 1, 2) FROM {name}_node WHERE nodeno = 1")
                           .fetchone()[0], "big")
    nodes = connection.execute(f"SELECT count(*) FROM {name}_node").fetchone()[0]
    check = connection.execute("SELECT rtreecheck(?)", (name,)).fetchone()[0]
    return depth, nodes, check


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--hits", type=int, default=20_000, help="expected ids returned by the window query")
    parser.add_argument("--windows", type=int, default=20, help="window queries, at random places")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    x = rng.uniform(0, SIDE, args.points)
    y = rng.uniform(0, SIDE, args.points)
    ids = np.arange(1, args.points + 1, dtype=np.int64)
    half = SIDE * math.sqrt(args.hits / args.points) / 2
    centres = rng.uniform(half, SIDE - half, (args.windows, 2))
    windows = [(cx - half, cx + half, cy - half, cy + half) for cx, cy in centres]

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rtree.sqlite"
        connection = sqlite3.connect(path, isolation_level=None)
        for name in ("row_by_row", "bulk"):
            connection.execute(f"CREATE VIRTUAL TABLE {name} USING rtree(id, minx, maxx, miny, maxy)")

        print(f"{args.points:,} random points, SQLite {sqlite3.sqlite_version}, "
              f"page size {connection.execute('PRAGMA page_size').fetchone()[0]}")
        row_seconds = _timed(lambda: _load_row_by_row(connection, ids, x, y))
        bulk_seconds = _timed(lambda: _load_bulk(connection, ids, x, y))
        print(f"  load, row by row (executemany): {row_seconds:8.2f} s "
              f"({row_seconds / args.points * 1e6:.1f} µs per entry)")
        print(f"  load, bulk_load_rtree (STR):    {bulk_seconds:8.2f} s "
              f"({bulk_seconds / args.points * 1e6:.1f} µs per entry)")
        print(f"  ratio row by row / bulk:        {row_seconds / bulk_seconds:8.1f} x")

        query_seconds, mean_hits, agree = _query_windows(connection, windows)
        print(f"  window queries: {len(windows)} windows, {mean_hits:,.0f} hits on average, "
              f"median of the best of 3 runs each")
        for name in ("row_by_row", "bulk"):
            depth, nodes, check = _shape(connection, name)
            print(f"  {name:<10} depth {depth}, {nodes:,} nodes, rtreecheck {check}; "
                  f"query {query_seconds[name] * 1e3:.1f} ms")
        print(f"  same ids from both trees in every window: {agree}")
        connection.close()


if __name__ == "__main__":
    main()
