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

Goal: at most 1.0x ogr2ogr's time. Prints both figures and the ratio.

    .venv/bin/python bench/imports.py [--csv-rows 1000000] [--xlsx-rows 200000] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run  # noqa: E402  (bench/measure.py)

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


def compare(folder: Path, source: Path, rows: int, ogr_args: list[str]) -> tuple[float, float]:
    """Import ``source`` with both tools; print the figures; return (ours, ogr2ogr) seconds."""
    python = sys.executable
    workspace = folder / f"{source.name}.sqlite"
    run([python, "-m", "layers.cli.main", "init", str(workspace)], ROOT)
    ours_s, ours_mb, _ = run([python, "-m", "layers.cli.main", "import", str(source), str(workspace),
                              "--layer", "toilets", "--mapping", str(folder / "map.toml")], ROOT)
    assert _count(workspace, "toilets") == rows
    out = folder / f"{source.name}.gpkg"
    ogr_s, ogr_mb, _ = run(["ogr2ogr", "-f", "GPKG", str(out), str(source), *ogr_args, "-t_srs", "EPSG:4544",
                            "-nln", "toilets"], folder)
    assert _count(out, "toilets") == rows
    print(f"{source.name}: {rows:,} rows")
    print(f"  tongcheng import  {ours_s:8.2f} s  {ours_mb:6.0f} MB peak  ({rows / ours_s:,.0f} rows/s)")
    print(f"  ogr2ogr -f GPKG   {ogr_s:8.2f} s  {ogr_mb:6.0f} MB peak  ({rows / ogr_s:,.0f} rows/s)")
    print(f"  ratio: {ours_s / ogr_s:.2f}x ogr2ogr's time (goal at most 1.0x): "
          f"{'met' if ours_s <= ogr_s else 'NOT met'}")
    return ours_s, ogr_s


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
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
                     "-s_srs", "EPSG:4326"])
        if args.xlsx_rows:
            started = time.perf_counter()
            write_xlsx(folder / "toilets.xlsx", args.xlsx_rows)
            print(f"generated toilets.xlsx ({(folder / 'toilets.xlsx').stat().st_size / 1e6:.0f} MB) in "
                  f"{time.perf_counter() - started:.1f} s")
            compare(folder, folder / "toilets.xlsx", args.xlsx_rows,
                    ["-dialect", "SQLite", "-sql", SQL.format(table="公厕")])
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
