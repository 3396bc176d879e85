"""The PostGIS part of bench/sync.py: apply, master copy vs ogr2ogr, concurrent vs sequential applies.

Fair on a shared machine:

* the GeoPackage apply it is compared with is timed again right before the
  PostGIS one (same package, a fresh copy of the master), so both meet the
  same load; the CPU time of this process is printed beside each;
* every apply process of the concurrency case starts in its own session,
  as clerks at separate terminals do.  Linux groups processes by session for
  CPU time (``/proc/sys/kernel/sched_autogroup_enabled``): 8 processes started
  from one shell share one session's CPU time, so "8 at once" could never beat
  "one after another" however little the database serialises them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PACKAGES, EDITS = 8, 1_500


def _url(base: str, schema: str) -> str:
    return base + ("&" if "?" in base else "?") + f"schema={schema}"


def _disjoint_packages(master: Path, folder: Path) -> list[Path]:
    """8 packages of 1,500 updates each, from 8 checkouts of disjoint strips of the master."""
    from layers.sync.changes import write_changes
    from layers.sync.checkout import checkout
    from layers.sync.store import open_master
    from layers.workspace.store import Workspace

    with open_master(master) as store:
        definition = store.info.definitions["toilets"]
        xs = np.array([r[0] for r in store.connection.execute("SELECT minx FROM rtree_toilets_geom")])
    del definition
    edges = np.quantile(xs, np.linspace(0, 1, PACKAGES + 1))
    packages = []
    for i in range(PACKAGES):
        ws_path = folder / f"strip{i}.sqlite"
        # Strips half-open in x, narrowed a little so no point lies in two.
        checkout(master, ws_path, user=f"clerk{i}", bbox=(edges[i] + 0.01, 0, edges[i + 1] - 0.01, 1e8),
                 layers=["toilets"])
        with Workspace.open(ws_path) as ws, ws.session():
            fids = [r[0] for r in ws.connection.execute("SELECT fid FROM toilets LIMIT ?", (EDITS,))]
            for n, fid in enumerate(fids):
                ws.update("toilets", fid, {"name": f"并发{i}-{n}"}, None)
        with Workspace.open(ws_path) as ws:
            packages.append(write_changes(ws, folder / f"strip{i}.gpkg").path)
    return packages


def bench_postgis(target: str, master: Path, package: Path, t_first_apply: float, folder: Path,
                  t_geodiff_apply: float | None = None) -> None:
    import psycopg

    from layers.postgres.connection import parse_location
    from layers.sync.apply import apply_package
    from layers.sync.copy import copy_master

    server = None
    if target == "throwaway":
        from tests.postgis.server import start_server

        server = start_server()
        with psycopg.connect(server.url(), autocommit=True) as con:
            con.execute("CREATE DATABASE bench")
        target = server.url("bench")
        with psycopg.connect(target, autocommit=True) as con:
            con.execute("CREATE EXTENSION postgis")
    try:
        stamp = time.strftime("%H%M%S")
        print()
        location = parse_location(target)
        with psycopg.connect(location.conninfo) as con:
            dbname, host, port, user = con.info.dbname, con.info.host, con.info.port, con.info.user
        # Each side twice, taking turns, best of two: the machine is shared, and a turn of bad luck
        # should not decide the ratio.  The first copy of ours is the master the applies below use.
        copies, ogrs = [], []
        for turn in range(2):
            start = time.perf_counter()
            copy_master(master, _url(target, f"tc_{stamp}" if turn == 0 else f"tc_{stamp}_{turn}"))
            copies.append(time.perf_counter() - start)
            schema = f"ogr_{stamp}_{turn}"
            with psycopg.connect(location.conninfo, autocommit=True) as con:
                con.execute(f"CREATE SCHEMA {schema}")
            pg = f"PG:dbname={dbname} host={host} port={port} user={user} active_schema={schema}"
            start = time.perf_counter()
            proc = subprocess.run(["ogr2ogr", "-f", "PostgreSQL", pg, str(master), "-lco", f"SCHEMA={schema}",
                                   "--config", "PG_USE_COPY", "YES"], capture_output=True, text=True)
            ogrs.append(time.perf_counter() - start)
            if proc.returncode:
                print(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "ogr2ogr failed")
        t_copy, t_ogr = min(copies), min(ogrs)
        print(f"master copy into PostGIS {t_copy:7.2f} s, ogr2ogr -f PostgreSQL {t_ogr:7.2f} s, "
              f"ratio {t_copy / t_ogr:7.2f}  (goal <= 1.0; best of 2 each: "
              f"{', '.join(f'{t:.2f}' for t in copies)} / {', '.join(f'{t:.2f}' for t in ogrs)} s)")

        pg_master = _url(target, f"tc_{stamp}")
        reference = folder / "reference.gpkg"
        shutil.copyfile(master, reference)
        start, cpu = time.perf_counter(), time.process_time()
        apply_package(reference, package)
        t_gpkg_apply, cpu_gpkg = time.perf_counter() - start, time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        result = apply_package(pg_master, package)
        t_pg_apply, cpu_pg = time.perf_counter() - start, time.process_time() - cpu
        assert not result.already_applied
        print(f"apply into PostGIS {t_pg_apply:7.2f} s (cpu here {cpu_pg:.2f} s), into GeoPackage just before "
              f"{t_gpkg_apply:7.2f} s (cpu {cpu_gpkg:.2f} s; {t_first_apply:.2f} s earlier in this run), "
              f"ratio {t_pg_apply / t_gpkg_apply:7.2f}  (goal <= 1.5)")
        if t_geodiff_apply:
            print(f"apply into PostGIS {t_pg_apply:7.2f} s against GeoDiff's apply_changeset of the same edits "
                  f"{t_geodiff_apply:7.2f} s (GeoPackage), ratio {t_pg_apply / t_geodiff_apply:7.2f}")

        packages = _disjoint_packages(master, folder)
        for name in ("seq", "con", "one"):
            copy_master(master, _url(target, f"{name}_{stamp}"))
        command = [sys.executable, "-m", "layers.cli.main", "apply"]
        start = time.perf_counter()
        for p in packages:
            subprocess.run([*command, _url(target, f"seq_{stamp}"), str(p)], cwd=ROOT, check=True,
                           capture_output=True, start_new_session=True)
        t_seq = time.perf_counter() - start

        def at_once(name: str, sessions: bool) -> float:
            start = time.perf_counter()
            procs = [subprocess.Popen([*command, _url(target, f"{name}_{stamp}"), str(p)], cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=sessions) for p in packages]
            codes = [p.wait() for p in procs]
            assert codes == [0] * len(packages), codes
            return time.perf_counter() - start

        t_con = at_once("con", True)
        t_one = at_once("one", False)
        print(f"{PACKAGES} applies of {EDITS:,} disjoint updates: one after another {t_seq:7.2f} s, "
              f"at once {t_con:7.2f} s, throughput ratio {t_seq / t_con:7.2f}  (goal >= 1.5)")
        print(f"   (at once but all in this benchmark's session, sharing one session's CPU time: {t_one:7.2f} s, "
              f"ratio {t_seq / t_one:7.2f})")
    finally:
        if server is not None:
            server.stop()
