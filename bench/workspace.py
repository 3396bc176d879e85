"""Benchmark: load 1,000,000 facility points into a workspace and query viewports.

Compares, in the same run and on the same CSV, our load (validated, tracked
layer with uuid, audit and spatial index) against
``ogr2ogr -f SQLite -dsco SPATIALITE=YES``; prints times, peak memory and ratios.

    .venv/bin/python bench/workspace.py [--points 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run  # noqa: E402  (bench/measure.py)

EXTENT = (395_000.0, 3_380_000.0, 425_000.0, 3_410_000.0)  # 30 km square around central Chengdu, EPSG:4544
STATUSES = ["在用", "停用", "在建", "拆除"]
ZONES = ["严管区", "管控区", "规范区"]
DISTRICTS = ["锦江区", "青羊区", "金牛区", "武侯区", "成华区"]


def make_csv(path, count, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(EXTENT[0], EXTENT[2], count)
    y = rng.uniform(EXTENT[1], EXTENT[3], count)
    status = rng.integers(0, len(STATUSES), count)
    zone = rng.integers(0, len(ZONES), count)
    district = rng.integers(0, len(DISTRICTS), count)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("x,y,name,district,status,zone\n")
        for i in range(count):
            f.write(f"{x[i]:.3f},{y[i]:.3f},公厕{i},{DISTRICTS[district[i]]},{STATUSES[status[i]]},{ZONES[zone[i]]}\n")


def load_ours(csv_path, workspace_path):
    """Read the CSV and load it into the toilets layer of a new workspace (run in a child process)."""
    import shapely

    from layers.workspace.store import Workspace

    def features():
        with open(csv_path, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            while True:
                chunk = [row for _, row in zip(range(10_000), reader, strict=False)]
                if not chunk:
                    return
                xy = np.array([(float(r[0]), float(r[1])) for r in chunk])
                points = shapely.points(xy)
                for row, point in zip(chunk, points, strict=True):
                    yield {"name": row[2], "district": row[3], "status": row[4], "zone": row[5]}, point

    with Workspace.create(workspace_path, user="bench") as workspace:
        with workspace.untracked():
            workspace.insert_many("toilets", features())


def query_viewports(workspace_path, count, hits=20_000, repeats=30, seed=2):
    from layers.workspace.store import Workspace

    side = (EXTENT[2] - EXTENT[0]) * (hits / count) ** 0.5
    rng = np.random.default_rng(seed)
    timings, found = [], []
    with Workspace.open(workspace_path) as workspace:
        for _ in range(repeats):
            minx = rng.uniform(EXTENT[0], EXTENT[2] - side)
            miny = rng.uniform(EXTENT[1], EXTENT[3] - side)
            start = time.perf_counter()
            extent = (minx, miny, minx + side, miny + side)
            arrays = workspace.point_arrays_in_extent("toilets", extent, fields=("status",))
            timings.append(time.perf_counter() - start)
            found.append(len(arrays["fid"]))
    return timings, found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--keep", help="folder to keep the files in (default: a temporary one)")
    args = parser.parse_args()
    if not shutil.which("ogr2ogr"):
        raise SystemExit("ogr2ogr not found: install gdal-bin (./setup.sh does)")

    folder = Path(args.keep or tempfile.mkdtemp(prefix="tongcheng-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "points.csv"
    print(f"generating {args.points:,} points -> {csv_path}")
    make_csv(csv_path, args.points)

    ours_path, ogr_path = folder / "ours.sqlite", folder / "ogr2ogr.sqlite"
    for path in (ours_path, ogr_path):
        path.unlink(missing_ok=True)
    ogr_seconds, ogr_memory, _ = run([
        "ogr2ogr", "-f", "SQLite", "-dsco", "SPATIALITE=YES", str(ogr_path), str(csv_path),
        "-oo", "X_POSSIBLE_NAMES=x", "-oo", "Y_POSSIBLE_NAMES=y", "-a_srs", "EPSG:4544", "-nln", "toilets",
    ], folder)
    ours_seconds, ours_memory, _ = run([sys.executable, __file__, "--load-ours", str(csv_path), str(ours_path)], folder)

    timings, found = query_viewports(ours_path, args.points)
    print()
    print(f"load {args.points:,} points")
    print(f"  ogr2ogr -f SQLite SPATIALITE=YES  {ogr_seconds:8.2f} s  peak {ogr_memory:7.1f} MB")
    print(f"  tongcheng insert_many             {ours_seconds:8.2f} s  peak {ours_memory:7.1f} MB")
    print(f"  ratio (ours / ogr2ogr)            {ours_seconds / ogr_seconds:8.2f} x   (goal <= 1.0)")
    print(f"viewport query, ~{int(statistics.mean(found)):,} features each ({len(timings)} viewports)")
    print(f"  median {statistics.median(timings) * 1000:6.1f} ms   max {max(timings) * 1000:6.1f} ms   (goal < 50 ms)")
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--load-ours":
        load_ours(sys.argv[2], sys.argv[3])
    else:
        main()
