"""Benchmark: ``tongcheng gps import`` of a 1,000,000-point GPX, against ogr2ogr and gpxpy.

Generates a GPX track (elevation and time on every point, ~130 MB; the
generator of ``bench/gps_parse.py``) in a temporary folder and a fresh
workspace, then runs each tool in its own process and reports wall time and
peak resident memory (``ru_maxrss`` of that very process, from ``os.wait4``):

* ``tongcheng gps import ws.sqlite in.gpx``: read, transform to EPSG:4544,
  measure, store in the workspace (one transaction, tracked);
* ``ogr2ogr -f GPKG out.gpkg in.gpx`` (GDAL's GPX driver to a GeoPackage);
* ``gpxpy.parse`` (pure Python DOM, parsing only), if gpxpy is installed.

Goal: at most 1.0x ogr2ogr's time, peak memory under 150 MB (issue 15); our peak is printed next
to ogr2ogr's. (ogr2ogr writes GDAL's ``track_points`` layer too, a row per point; we keep the
track's line and keep fixes as points only for stationary sessions.)

Then a stationary session (``--stationary N`` fixes of an NMEA log held over one spot, default
3,600: an hour at 1 Hz) is imported into a fresh workspace: every fix becomes a point of
``gps_track_points`` (issue 15); its time and peak memory are printed.

Usage: ``python bench/gps.py [--points N] [--stationary N] [--keep]``
"""

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gps_parse import GPXPY, ROOT, write_gpx  # noqa: E402  (the sibling benchmark's generator)
from measure import run  # noqa: E402

__all__ = ["main"]

#: Peak resident memory allowed for the import of the default 1,000,000 points, MB.
GOAL_MB = 150

COUNT = """
import json, sys
sys.path.insert(0, sys.argv[2])
from layers.workspace.store import Workspace
with Workspace.open(sys.argv[1]) as ws:
    (points,) = ws.connection.execute("SELECT sum(point_count) FROM gps_tracks").fetchone()
    print(json.dumps({"tracks": ws.count("gps_tracks"), "points": points,
                      "pending": ws.pending_changes()["gps_tracks"]["insert"]}))
"""


def main(argv=None):
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--stationary", type=int, default=3_600, help="fixes of the stationary session (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="gps_import_bench_"))
    python = sys.executable
    try:
        gpx = folder / "in.gpx"
        t = time.perf_counter()
        write_gpx(gpx, args.points)
        size_mb = gpx.stat().st_size / 1e6
        print(f"generated {gpx}: {args.points:,} points, {size_mb:.0f} MB in {time.perf_counter() - t:.1f} s")
        run([python, "-m", "layers.cli.main", "init", str(folder / "ws.sqlite")], ROOT)
        imports = "import layers.cli.main, layers.gps.importer, layers.workspace.store"
        idle_s, idle_mb, _ = run([python, "-c", imports], ROOT)

        rows = []
        seconds, rss, out = run([python, "-m", "layers.cli.main", "gps", "import", str(folder / "ws.sqlite"), str(gpx)],
                                ROOT)
        rows.append(("tongcheng gps import", seconds, rss))
        check = json.loads(run([python, "-c", COUNT, str(folder / "ws.sqlite"), str(ROOT)], ROOT)[2])
        assert check["points"] == args.points and check["tracks"] == check["pending"] == 1, check
        print(f"  tongcheng: {check['tracks']} track, {check['points']:,} points stored as a tracked insert; "
              f"interpreter + imports alone: {idle_s:.2f} s, {idle_mb:.0f} MB; "
              f"workspace {(folder / 'ws.sqlite').stat().st_size / 1e6:.0f} MB")

        ogr2ogr = shutil.which("ogr2ogr")
        if ogr2ogr:
            seconds, rss, _ = run([ogr2ogr, "-f", "GPKG", "out.gpkg", "in.gpx"], folder)
            rows.append(("ogr2ogr -f GPKG", seconds, rss))
        else:
            print("  note: ogr2ogr not found (apt install gdal-bin): comparison skipped")

        try:
            import gpxpy  # noqa: F401  (only to know whether it is installed)
        except ImportError:
            print("  note: gpxpy is not installed (pip install gpxpy): comparison skipped")
        else:
            seconds, rss, out = run([python, "-c", GPXPY, str(gpx)], folder)
            result = json.loads(out)
            assert result["points"] == args.points, result
            rows.append(("gpxpy.parse (parse only)", seconds, rss))

        ours = rows[0]
        ogr_peak = next((f"{r[2]:.0f} MB" for r in rows if r[0].startswith("ogr2ogr")), "n/a")
        print(f"\npeak memory: tongcheng {ours[2]:.0f} MB, ogr2ogr {ogr_peak} (goal: ours under {GOAL_MB} MB)")
        print(f"\n{'tool':<26}{'seconds':>9}{'peak MB':>9}{'time / ours':>13}{'ours / tool':>13}{'memory / ours':>15}")
        for name, seconds, rss in rows:
            print(f"{name:<26}{seconds:>9.2f}{rss:>9.0f}{seconds / ours[1]:>13.2f}{ours[1] / seconds:>13.2f}"
                  f"{rss / ours[2]:>15.2f}")
        ogr = next((r for r in rows if r[0].startswith("ogr2ogr")), None)
        met_time = ogr is None or ours[1] <= ogr[1]
        met_memory = ours[2] < GOAL_MB
        ratio = f"{ours[1] / ogr[1]:.2f}x ogr2ogr's time" if ogr else "no ogr2ogr to compare"
        print(f"\nthroughput: {args.points / ours[1] / 1e6:.2f} M points/s, {size_mb / ours[1]:.0f} MB/s; "
              f"goal (<= 1.0x ogr2ogr's time, peak < {GOAL_MB} MB): {ratio}, peak {ours[2]:.0f} MB: "
              f"{'met' if met_time and met_memory else 'NOT met'}")
        if args.stationary:
            _stationary(folder, args.stationary)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


STATIONARY_COUNT = """
import json, sys
sys.path.insert(0, sys.argv[2])
from layers.workspace.store import Workspace
with Workspace.open(sys.argv[1]) as ws:
    print(json.dumps({"points": ws.count("gps_track_points"), "waypoints": ws.count("gps_waypoints")}))
"""


def _write_held_log(path, fixes):
    """An NMEA log of a receiver held over one spot: one GGA a second, all at one place, one RMC for the date."""
    def sentence(body):
        checksum = 0
        for byte in body.encode("ascii"):
            checksum ^= byte
        return f"${body}*{checksum:02X}\r\n"

    with open(path, "w", encoding="ascii", newline="") as f:
        for i in range(fixes):
            second = 2 * 3600 + i
            hhmmss = f"{second // 3600 % 24:02d}{second // 60 % 60:02d}{second % 60:02d}.00"
            if i == 0:
                f.write(sentence(f"GNRMC,{hhmmss},A,3039.6000,N,10404.2000,E,0.0,0.0,010524,,,A"))
            f.write(sentence(f"GNGGA,{hhmmss},3039.6000,N,10404.2000,E,1,{10 + i % 5},0.{i % 9 + 1},"
                             f"500.{i % 10},M,-31.9,M,,"))


def _stationary(folder, fixes):
    log = folder / "held.nmea"
    _write_held_log(log, fixes)
    workspace = folder / "held.sqlite"
    run([sys.executable, "-m", "layers.cli.main", "init", str(workspace)], ROOT)
    seconds, rss, _ = run([sys.executable, "-m", "layers.cli.main", "gps", "import", str(workspace), str(log)], ROOT)
    check = json.loads(run([sys.executable, "-c", STATIONARY_COUNT, str(workspace), str(ROOT)], ROOT)[2])
    assert check == {"points": fixes, "waypoints": 1}, check
    print(f"\nstationary session: {fixes:,} fixes -> 1 waypoint + {check['points']:,} points of gps_track_points "
          f"in {seconds:.2f} s ({fixes / seconds:,.0f} fixes/s with start-up), peak {rss:.0f} MB")


if __name__ == "__main__":
    main()
