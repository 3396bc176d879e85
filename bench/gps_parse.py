"""Benchmark: read a 1,000,000-point GPX with layers.gps, against ogr2ogr and gpxpy.

Generates a GPX track (elevation and time on every point, ~130 MB) in a
temporary folder, then runs each reader in its own process and reports wall
time and peak resident memory (``ru_maxrss`` of that process, from
``os.wait4``), with ratios to our reader:

* ``layers.gps.read_gps`` (streaming expat reader, numpy columns);
* ``ogr2ogr -f GPKG out.gpkg in.gpx`` (GDAL's GPX driver, writing a GeoPackage);
* ``gpxpy.parse`` (pure Python DOM), only if gpxpy is installed.

Usage: ``python bench/gps_parse.py [--points N] [--keep]``
"""

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run  # noqa: E402  (bench/measure.py)

__all__ = ["write_gpx", "main"]

ROOT = Path(__file__).resolve().parent.parent
START = 1714552200      # 2024-05-01T08:30:00Z

OURS = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from layers.gps import read_gps
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
reader = read_gps(sys.argv[1])
points = sum(r.n_points for r in reader)
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "points": points, "base_kb": base,
                  "segments": reader.stats.segments, "naive": reader.stats.naive_times}))
"""

GPXPY = """
import json, sys, time
import gpxpy
t = time.perf_counter()
with open(sys.argv[1], encoding="utf-8") as f:
    gpx = gpxpy.parse(f)
points = sum(len(s.points) for trk in gpx.tracks for s in trk.segments)
print(json.dumps({"seconds": time.perf_counter() - t, "points": points}))
"""


def write_gpx(path, n_points, per_segment=10_000):
    """Write a GPX 1.1 track of ``n_points`` points (ele and time on each) in Chengdu."""
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<gpx version="1.1" creator="tongcheng bench" '
                'xmlns="http://www.topografix.com/GPX/1/1">\n<trk><name>成都 bench</name>\n')
        for i in range(n_points):
            if i % per_segment == 0:
                f.write("</trkseg>\n<trkseg>\n" if i else "<trkseg>\n")
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START + i))
            f.write(f'      <trkpt lat="{30.6598720 + i * 1e-7:.7f}" lon="{104.0633170 + i * 1e-7:.7f}">\n'
                    f'        <ele>{500 + (i % 100) / 10:.1f}</ele>\n'
                    f'        <time>{stamp}</time>\n'
                    '      </trkpt>\n')
        f.write("</trkseg>\n</trk>\n</gpx>\n")


def main(argv=None):
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="gps_bench_"))
    try:
        gpx = folder / "in.gpx"
        t = time.perf_counter()
        write_gpx(gpx, args.points)
        size_mb = gpx.stat().st_size / 1e6
        print(f"generated {gpx} : {args.points:,} points, {size_mb:.0f} MB "
              f"in {time.perf_counter() - t:.1f} s")

        rows = []
        seconds, rss, out = run([sys.executable, "-c", OURS, str(gpx), str(ROOT)], folder)
        ours = json.loads(out)
        assert ours["points"] == args.points, ours
        rows.append(("layers.gps.read_gps", ours["seconds"], seconds, rss))
        print(f"  ours: {ours['points']:,} points, {ours['segments']} segments, "
              f"interpreter + imports before reading: {ours['base_kb'] / 1024:.0f} MB")

        ogr2ogr = shutil.which("ogr2ogr")
        if ogr2ogr:
            seconds, rss, _ = run([ogr2ogr, "-f", "GPKG", "out.gpkg", "in.gpx"], folder)
            rows.append(("ogr2ogr -f GPKG", seconds, seconds, rss))
        else:
            print("  note: ogr2ogr not found (apt install gdal-bin): comparison skipped")

        try:
            import gpxpy  # noqa: F401  (only to know whether it is installed)
        except ImportError:
            print("  note: gpxpy is not installed (pip install gpxpy): comparison skipped")
        else:
            seconds, rss, out = run([sys.executable, "-c", GPXPY, str(gpx)], folder)
            result = json.loads(out)
            assert result["points"] == args.points, result
            rows.append(("gpxpy.parse", result["seconds"], seconds, rss))

        base = rows[0]
        print(f"\n{'reader':<22}{'parse s':>9}{'process s':>11}{'peak MB':>9}"
              f"{'time x ours':>13}{'memory x ours':>15}")
        for name, parse_s, wall_s, rss in rows:
            print(f"{name:<22}{parse_s:>9.2f}{wall_s:>11.2f}{rss:>9.0f}"
                  f"{wall_s / base[2]:>13.2f}{rss / base[3]:>15.2f}")
        print(f"\nthroughput (ours): {args.points / base[1] / 1e6:.2f} M points/s, "
              f"{size_mb / base[1]:.0f} MB/s; target: under ogr2ogr's time, peak < 200 MB: "
              f"{'met' if base[3] < 200 and (len(rows) < 2 or base[2] < rows[1][2]) else 'NOT met'}")
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
