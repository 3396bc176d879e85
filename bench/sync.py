"""Benchmark: change packages and apply vs GeoDiff; partner export vs ogr2ogr.

A master GeoPackage of N toilets (default 1,000,000) is checked out into a
workspace, where 10,000 updates, 1,000 inserts and 1,000 deletes are made.
Timed, in the same run:

* ours:    ``write_changes`` (the change package) + ``apply_package`` (to a copy of the master);
* GeoDiff: ``create_changeset(master, edited)`` + ``apply_changeset(copy of master)``, where
  ``edited`` is a copy of the master with the same edits made by SQL;
* ours:    ``export`` of the master to GeoPackage;
* GDAL:    ``ogr2ogr -f GPKG`` of the master.

With ``--master postgresql://user@host/db`` (or ``--master throwaway``: a
temporary server of Debian's PostgreSQL 15, as the tests start), also:

* the same package applied to a PostGIS copy of the master, against the GeoPackage apply (goal <= 1.5x);
* ``master copy`` of the master GeoPackage into PostGIS, against ``ogr2ogr -f PostgreSQL`` (goal <= 1.0x);
* 8 packages of 1,500 disjoint updates each, applied by 8 processes at once, against the same 8 applied one
  after another (goal: concurrent throughput >= 1.5x sequential).

    .venv/bin/python bench/sync.py [--features 1000000] [--keep DIR] [--master postgresql://...|throwaway]
    .venv/bin/python bench/sync.py --photos 2000 [--photo-mb 2]   (the photo case: bench/sync_photos.py)

Prints the times and the ratios (goals: ours / GeoDiff <= 1.0; ours / ogr2ogr <= 1.0).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fiona  # noqa: F401,E402  (before SpatiaLite; see layers/export.py)
import numpy as np  # noqa: E402
import shapely  # noqa: E402

EXTENT = (395_000.0, 3_380_000.0, 425_000.0, 3_410_000.0)
STATUSES = ["在用", "停用", "在建", "拆除"]
DISTRICTS = ["锦江区", "青羊区", "金牛区", "武侯区", "成华区"]
UPDATES, INSERTS, DELETES = 10_000, 1_000, 1_000


def make_master(path, count, seed=1):
    from layers.geopackage import open_geopackage
    from layers.sync.master import create_master
    from layers.workspace.identity import new_uuid

    create_master(path, user="office")
    rng = np.random.default_rng(seed)
    now = "2026-11-01T08:00:00.000Z"
    with open_geopackage(path, "a") as gp:
        step = 100_000
        for start in range(0, count, step):
            n = min(step, count - start)
            x = rng.uniform(EXTENT[0], EXTENT[2], n)
            y = rng.uniform(EXTENT[1], EXTENT[3], n)
            points = shapely.points(np.column_stack([x, y]))
            status = rng.integers(0, len(STATUSES), n)
            district = rng.integers(0, len(DISTRICTS), n)
            seats = rng.integers(0, 20, n)
            gp.write_rows("toilets", ({
                "uuid": new_uuid(), "geom": points[i], "name": f"公厕{start + i}", "structure": "独立式",
                "grade": "二类", "open_24h": False, "accessible": bool(i % 3 == 0), "third_restroom": False,
                "baby_care": False, "seats_male": int(seats[i]), "seats_female": int(seats[i]),
                "district": DISTRICTS[district[i]], "status": STATUSES[status[i]],
                "published_on_map": False, "created_by": "office", "created_at": now,
                "modified_by": "office", "modified_at": now,
            } for i in range(n)))


def edit_workspace(ws, seed=2):
    """The edits, by uuid: returns (updated {uuid: (name, x, y)}, inserted rows, deleted uuids)."""
    rng = np.random.default_rng(seed)
    fids = np.array([r[0] for r in ws.connection.execute("SELECT fid FROM toilets")])
    chosen = rng.choice(fids, UPDATES + DELETES, replace=False)
    updates, deletes = chosen[:UPDATES], chosen[UPDATES:]
    edits = {"update": {}, "insert": [], "delete": []}
    with ws.session():
        for i, fid in enumerate(updates):
            f = ws.get("toilets", int(fid))
            name = f"改名{i}"
            geometry = shapely.Point(f.geometry.x + 1.5, f.geometry.y) if i % 2 else None
            ws.update("toilets", int(fid), {"name": name, "status": "停用"}, geometry)
            edits["update"][f.uuid] = (name, geometry)
        for fid in deletes:
            edits["delete"].append(ws.delete("toilets", int(fid)).uuid)
        for i in range(INSERTS):
            p = shapely.Point(rng.uniform(EXTENT[0], EXTENT[2]), rng.uniform(EXTENT[1], EXTENT[3]))
            f = ws.insert("toilets", {"name": f"新建{i}", "district": "锦江区"}, p)
            edits["insert"].append(f)
    return edits


def edit_geopackage(path, edits):
    """The same edits made by SQL on a copy of the master (for GeoDiff)."""
    from layers.geopackage import encode_gpb, open_geopackage

    with open_geopackage(path, "a") as gp:
        con = gp.connection
        for uuid, (name, geometry) in edits["update"].items():
            if geometry is None:
                con.execute("UPDATE toilets SET name = ?, status = '停用' WHERE uuid = ?", (name, uuid))
            else:
                con.execute("UPDATE toilets SET name = ?, status = '停用', geom = ? WHERE uuid = ?",
                            (name, encode_gpb(geometry, 4544), uuid))
        con.executemany("DELETE FROM toilets WHERE uuid = ?", [(u,) for u in edits["delete"]])
        gp.write_rows("toilets", [{"uuid": f.uuid, "geom": f.geometry, **f.attributes, **f.audit}
                                  for f in edits["insert"]])


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return time.perf_counter() - start, value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--features", type=int, default=1_000_000)
    parser.add_argument("--keep", help="folder to keep the files in (default: a temporary one)")
    parser.add_argument("--photos", type=int, default=0,
                        help="run the photo case instead: a package of N photos (bench/sync_photos.py)")
    parser.add_argument("--photo-mb", type=float, default=2.0, help="size of each photo of the photo case")
    parser.add_argument("--master", help="also benchmark a PostGIS master: a postgresql:// database the user may "
                                         "create schemas in, or 'throwaway' for a temporary server")
    args = parser.parse_args(argv)
    if args.photos:
        from sync_photos import photo_case

        photo_case(args.photos, args.photo_mb, args.keep, args.master)
        return

    import pygeodiff

    from layers.sync.apply import apply_package
    from layers.sync.changes import write_changes
    from layers.sync.checkout import checkout
    from layers.sync.export import export
    from layers.workspace.store import Workspace

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="tongcheng-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    for p in folder.iterdir():
        if p.is_file():
            p.unlink()
    master = folder / "master.gpkg"
    print(f"{args.features:,} toilets in {folder}")
    t, _ = timed(make_master, master, args.features)
    print(f"make master                      {t:8.2f} s")
    t, _ = timed(checkout, master, folder / "ws.sqlite", user="张三")
    print(f"checkout (setup)                 {t:8.2f} s")
    with Workspace.open(folder / "ws.sqlite") as ws:
        t, edits = timed(edit_workspace, ws)
        print(f"edits in the workspace (setup)   {t:8.2f} s  "
              f"({UPDATES:,} updates, {INSERTS:,} inserts, {DELETES:,} deletes)")
        ours_master = folder / "ours.gpkg"
        shutil.copyfile(master, ours_master)
        t_changes, package = timed(write_changes, ws, folder / "package.gpkg")
    t_apply, result = timed(apply_package, ours_master, package.path, policy="office")
    assert result.layers["toilets"].to_dict() == {"inserts": INSERTS, "updates": UPDATES,
                                                  "deletes": DELETES, "conflicts": 0}, result.layers

    edited = folder / "edited.gpkg"
    shutil.copyfile(master, edited)
    t, _ = timed(edit_geopackage, edited, edits)
    print(f"same edits by SQL (setup)        {t:8.2f} s")
    theirs_master = folder / "geodiff.gpkg"
    shutil.copyfile(master, theirs_master)
    geodiff = pygeodiff.GeoDiff()
    changeset = str(folder / "changeset.bin")
    t_create, _ = timed(geodiff.create_changeset, str(master), str(edited), changeset)
    t_gd_apply, _ = timed(geodiff.apply_changeset, str(theirs_master), changeset)
    print(f"GeoDiff changes in changeset      {geodiff.changes_count(changeset):,}")

    ours = t_changes + t_apply
    theirs = t_create + t_gd_apply
    print()
    print(f"ours     changes {t_changes:7.2f} s + apply {t_apply:7.2f} s = {ours:7.2f} s")
    print(f"GeoDiff  create  {t_create:7.2f} s + apply {t_gd_apply:7.2f} s = {theirs:7.2f} s")
    print(f"ratio ours / GeoDiff                     {ours / theirs:7.2f}  (goal <= 1.0)")

    t_export, _ = timed(export, ours_master, folder / "export.gpkg")
    ogr_out = folder / "ogr2ogr.gpkg"
    t_ogr, proc = timed(subprocess.run, ["ogr2ogr", "-f", "GPKG", str(ogr_out), str(ours_master), "toilets"],
                        capture_output=True, text=True)
    if proc.returncode:
        print(proc.stderr)
    print(f"export ours {t_export:7.2f} s, ogr2ogr {t_ogr:7.2f} s, ratio {t_export / t_ogr:7.2f}  (goal <= 1.0)")
    sizes = {p.name: p.stat().st_size / 1e6 for p in (ours_master, folder / "export.gpkg", ogr_out, package.path)}
    print("sizes (MB): " + ", ".join(f"{k} {v:.1f}" for k, v in sizes.items()))
    if args.master:
        from bench.postgis import bench_postgis

        bench_postgis(args.master, master, package.path, t_apply, folder, t_gd_apply)
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
