"""Benchmark: ``tongcheng import`` of an inventory table against ogr2ogr on the same file (issue 14).

Writes, in a temporary folder, a CSV of 1,000,000 toilets and an XLSX of
200,000 (openpyxl, write-only), Chinese headers (名称, 状态, 区县, 男厕位, 经度,
纬度), WGS84 coordinates in Chengdu. Then, each in its own process, wall time
and peak memory (``bench/measure.py``):

* ``tongcheng import FILE ws.sqlite --layer toilets --mapping map.toml``: read,
  map, check every value against the layer's rules and every point against the
  area of use, move to EPSG:4544, store as tracked new features (uuid, audit,
  spatial index) in one transaction;
* ``ogr2ogr -f GPKG out.gpkg FILE`` with the same points reprojected to
  EPSG:4544 (CSV: ``X_POSSIBLE_NAMES``; XLSX: GDAL's SQLite dialect,
  ``MakePoint``), the four columns copied without any check.

Goal: at most 1.0x ogr2ogr's time. Each tool imports each file ``--repeat``
times (3), taking turns with the other, and its best wall time counts: on a
machine shared with other work, a run's time says as much about the others'
load at that moment as about the tool. Prints both figures (with the CPU time,
user + system, of that run, and the highest memory peak) and the ratio.

Tongcheng runs as installed: its modules compiled to bytecode once (here into the
temporary folder, ``PYTHONPYCACHEPREFIX``) instead of from source at every start,
which ``PYTHONDONTWRITEBYTECODE`` in the environment would otherwise make it do.

    .venv/bin/python bench/imports.py [--csv-rows 1000000] [--xlsx-rows 200000] [--repeat 3] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run, run_usage  # noqa: E402  (bench/measure.py)

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["名称", "状态", "区县", "男厕位", "经度", "纬度"]
STATUSES = ["在用", "停用", "在建"]
DISTRICTS = ["锦江区", "青羊区", "金牛区", "武侯区", "成华区"]
MAPPING = """layer = "toilets"
source_crs = "EPSG:4326"
x = "经度"
y = "纬度"

[fields]
name = "名称"
status = "状态"
district = "区县"
seats_male = "男厕位"
"""
SQL = ('SELECT "名称", "状态", "区县", "男厕位", MakePoint(CAST("经度" AS REAL), CAST("纬度" AS REAL), 4326) '
       'AS geometry FROM "{table}"')


def _columns(count: int, seed: int):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(103.95, 104.20, count)
    lat = rng.uniform(30.55, 30.75, count)
    status = rng.integers(0, len(STATUSES), count)
    district = rng.integers(0, len(DISTRICTS), count)
    seats = rng.integers(0, 20, count)
    return lon, lat, status, district, seats


def write_csv(path: Path, count: int) -> None:
    lon, lat, status, district, seats = _columns(count, 14)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(HEADER) + "\n")
        for i in range(count):
            f.write(f"公厕{i},{STATUSES[status[i]]},{DISTRICTS[district[i]]},{seats[i]},{lon[i]:.7f},{lat[i]:.7f}\n")


def write_xlsx(path: Path, count: int) -> None:
    import openpyxl

    lon, lat, status, district, seats = _columns(count, 15)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("公厕")
    sheet.append(HEADER)
    for i in range(count):
        sheet.append([f"公厕{i}", STATUSES[status[i]], DISTRICTS[district[i]], int(seats[i]), round(float(lon[i]), 7),
                      round(float(lat[i]), 7)])
    workbook.save(path)


def _count(path: Path, table: str) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def compiled(folder: Path) -> dict[str, str]:
    """The environment of Tongcheng's runs: its modules compiled once into ``folder`` (see the module's text)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "layers")], env=env, check=True)
    return env


def compare(folder: Path, source: Path, rows: int, ogr_args: list[str], repeat: int) -> tuple[float, float]:
    """Import ``source`` with both tools, ``repeat`` times each, taking turns; print the best wall time of each
    (and its CPU time: user + system), the highest memory peak, the ratio; return the (ours, ogr2ogr) best times."""
    python = sys.executable
    env = compiled(folder)
    ours: list[tuple[float, float, float]] = []
    theirs: list[tuple[float, float, float]] = []
    for turn in range(repeat):
        workspace = folder / f"{source.name}.{turn}.sqlite"
        run([python, "-m", "layers.cli.main", "init", str(workspace)], ROOT, env)
        seconds, cpu, peak, _ = run_usage([python, "-m", "layers.cli.main", "import", str(source), str(workspace),
                                           "--layer", "toilets", "--mapping", str(folder / "map.toml")], ROOT, env)
        assert _count(workspace, "toilets") == rows
        ours.append((seconds, cpu, peak))
        workspace.unlink()
        out = folder / f"{source.name}.{turn}.gpkg"
        seconds, cpu, peak, _ = run_usage(["ogr2ogr", "-f", "GPKG", str(out), str(source), *ogr_args, "-t_srs",
                                           "EPSG:4544", "-nln", "toilets"], folder)
        assert _count(out, "toilets") == rows
        theirs.append((seconds, cpu, peak))
        out.unlink()
    print(f"{source.name}: {rows:,} rows (best of {repeat} turns each; wall times of every turn in brackets)")
    for name, runs in (("tongcheng import", ours), ("ogr2ogr -f GPKG ", theirs)):
        best = min(runs)
        every = ", ".join(f"{r[0]:.2f}" for r in runs)
        print(f"  {name}  {best[0]:8.2f} s ({every})  CPU {best[1]:6.2f} s  {max(r[2] for r in runs):6.0f} MB peak"
              f"  ({rows / best[0]:,.0f} rows/s)")
    ours_s, ogr_s = min(ours)[0], min(theirs)[0]
    print(f"  ratio: {ours_s / ogr_s:.2f}x ogr2ogr's time (goal at most 1.0x): "
          f"{'met' if ours_s <= ogr_s else 'NOT met'}")
    return ours_s, ogr_s


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="turns of each tool on each file (the best counts)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if shutil.which("ogr2ogr") is None:
        sys.exit("bench/imports.py: ogr2ogr not found (apt install gdal-bin)")
    folder = Path(tempfile.mkdtemp(prefix="import_bench_"))
    try:
        (folder / "map.toml").write_text(MAPPING, encoding="utf-8")
        if args.csv_rows:
            started = time.perf_counter()
            write_csv(folder / "toilets.csv", args.csv_rows)
            print(f"generated toilets.csv ({(folder / 'toilets.csv').stat().st_size / 1e6:.0f} MB) in "
                  f"{time.perf_counter() - started:.1f} s")
            compare(folder, folder / "toilets.csv", args.csv_rows,
                    ["-oo", "X_POSSIBLE_NAMES=经度", "-oo", "Y_POSSIBLE_NAMES=纬度", "-oo", "KEEP_GEOM_COLUMNS=NO",
                     "-s_srs", "EPSG:4326"], args.repeat)
        if args.xlsx_rows:
            started = time.perf_counter()
            write_xlsx(folder / "toilets.xlsx", args.xlsx_rows)
            print(f"generated toilets.xlsx ({(folder / 'toilets.xlsx').stat().st_size / 1e6:.0f} MB) in "
                  f"{time.perf_counter() - started:.1f} s")
            compare(folder, folder / "toilets.xlsx", args.xlsx_rows,
                    ["-dialect", "SQLite", "-sql", SQL.format(table="公厕")], args.repeat)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
