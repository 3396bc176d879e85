"""The photo case of ``bench/sync.py``: a change package of N photos of M MB, written and applied.

A master of 1,000 toilets is checked out; N distinct JPEGs of about M MB
(default 2,000 of 2 MB: 4 GB) are linked to its toilets, two per toilet. Each
step runs as its own process, measured with ``bench/measure.run`` (wall time,
peak resident memory of that process):

* ``tongcheng changes``: the package (every photo's bytes, verified on the way);
* ``tongcheng apply``: the package checked (every photo hashed) and merged into a copy of the master;
* reference, same run: ``ogr2ogr -f GPKG`` copying the package's ``media`` table (the same bytes) into a
  new GeoPackage.

The same is done with a quarter of the photos: the peak memory must not grow with the photos' total size
(the bytes move a piece at a time: ``layers/media/blobs.py``).

With ``--master postgresql://...`` (or ``throwaway``), also, into a PostGIS copy of the master:
``tongcheng apply`` of the same package (bytes streamed into ``bytea`` by a binary COPY) and a
``tongcheng checkout`` that brings every photo back (read a piece at a time).

    .venv/bin/python bench/sync.py --photos 2000 [--photo-mb 2] [--keep DIR] [--master throwaway]
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOILETS = 1000

__all__ = ["photo_case"]


def _base_jpeg(megabytes: float) -> bytes:
    """A noisy JPEG of about *megabytes* (noise does not compress)."""
    import numpy as np
    from PIL import Image

    side = int((megabytes * 1024 * 1024 / 1.05) ** 0.5 / 1.0)  # ~1 byte per pixel at quality 92
    noise = np.random.default_rng(7).integers(0, 255, (side * 3 // 4, side * 4 // 3, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, "JPEG", quality=92)
    return out.getvalue()


def _photos(count: int, megabytes: float):
    """*count* distinct JPEGs: the same picture, each with its own comment segment (so its own hash)."""
    from layers.media.content import Photo, sha256_hex

    base = _base_jpeg(megabytes)
    for i in range(count):
        comment = f"bench photo {i}".encode()
        data = base[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + base[2:]
        yield Photo(data, sha256_hex(data), "image/jpeg", f"IMG_{i:05d}.jpg", "2026-05-01T10:20:30", "张三")


def _setup(folder: Path, count: int, megabytes: float) -> tuple[Path, Path]:
    """A master and a checked-out workspace whose toilets have *count* new photos; returns both paths."""
    from sync import make_master  # the sibling benchmark's master

    from layers.media.tables import ensure_tables, link_photo, store_media
    from layers.sync.checkout import checkout
    from layers.workspace.store import Workspace

    master = folder / "master.gpkg"
    make_master(master, TOILETS)
    checkout(master, folder / "ws.sqlite", user="张三")
    with Workspace.open(folder / "ws.sqlite") as ws:
        uuids = [f.uuid for f in ws.features("toilets")]
        batch = []
        for i, photo in enumerate(_photos(count, megabytes)):
            batch.append((uuids[i // 2 % len(uuids)], photo))
            if len(batch) == 50 or i == count - 1:
                with ws.session() as con:
                    ensure_tables(con, list(ws.definitions), geopackage=False, pending=True)
                    for uuid, p in batch:
                        store_media(con, p)
                        link_photo(con, "toilets", uuid, p.sha256, added_by="张三", pending=True)
                batch = []
        ws.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return master, folder / "ws.sqlite"


def _case(folder: Path, count: int, megabytes: float, pg: str | None = None) -> dict[str, tuple[float, float]]:
    folder.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    # The setup in a process of its own: a measured child starts from this process's size (Linux keeps
    # the parent's resident size at fork as the child's peak), so this one stays small.
    run([python, str(Path(__file__)), "--setup", str(folder), str(count), str(megabytes)], ROOT)
    master, workspace = folder / "master.gpkg", folder / "ws.sqlite"
    tongcheng = [python, "-m", "layers.cli.main"]
    figures = {}
    package = folder / "package.gpkg"
    seconds, rss, out = run([*tongcheng, "changes", str(workspace), str(package)], ROOT)
    figures["changes"] = (seconds, rss)
    print("    " + out.splitlines()[0])
    shutil.rmtree(folder / "ws.sqlite.sent")  # the copy kept beside the workspace: not needed here
    workspace.unlink()
    applied = folder / "applied.gpkg"
    shutil.copyfile(master, applied)
    seconds, rss, out = run([*tongcheng, "apply", str(applied), str(package)], ROOT)
    figures["apply"] = (seconds, rss)
    print("    " + next(line for line in out.splitlines() if line.startswith("photos:")))
    applied.unlink()
    if pg is not None:
        copy = "import sys; from layers.sync.copy import copy_master; copy_master(sys.argv[1], sys.argv[2])"
        run([python, "-c", copy, str(master), pg], ROOT)
        seconds, rss, out = run([*tongcheng, "apply", pg, str(package)], ROOT)
        figures["apply_pg"] = (seconds, rss)
        print("    PostGIS " + next(line for line in out.splitlines() if line.startswith("photos:")))
        seconds, rss, _ = run([*tongcheng, "checkout", pg, str(folder / "back.sqlite")], ROOT)
        figures["checkout_pg"] = (seconds, rss)
        (folder / "back.sqlite").unlink()
    if shutil.which("ogr2ogr"):
        seconds, rss, _ = run(["ogr2ogr", "-f", "GPKG", str(folder / "ogr2ogr.gpkg"), str(package), "media"], ROOT)
        figures["ogr2ogr"] = (seconds, rss)
    idle = run([python, "-c", "import layers.cli.main, layers.sync.apply, layers.sync.changes"], ROOT)
    figures["imports"] = (idle[0], idle[1])
    figures["package"] = (package.stat().st_size / 1e6, 0.0)
    return figures


def photo_case(count: int, megabytes: float, keep: str | None, master: str | None = None) -> None:
    """Run the photo case in a small process of its own (see ``_case``)."""
    import subprocess

    subprocess.run([sys.executable, str(Path(__file__)), str(count), str(megabytes), keep or "", master or ""],
                   check=True)


def _pg_target(master: str | None):
    """The PostGIS database to benchmark (``throwaway``: a temporary server), and the server to stop after."""
    if not master:
        return None, None
    if master != "throwaway":
        return master, None
    import psycopg

    from tests.postgis.server import start_server

    server = start_server()
    with psycopg.connect(server.url(), autocommit=True) as con:
        con.execute("CREATE DATABASE bench")
    with psycopg.connect(server.url("bench"), autocommit=True) as con:
        con.execute("CREATE EXTENSION postgis")
    return server.url("bench"), server


def _photo_case(count: int, megabytes: float, keep: str | None, master: str | None = None) -> None:
    """Run the photo case with *count* photos and with a quarter of them; print the figures."""
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="tongcheng-photo-bench-"))
    target, server = _pg_target(master)
    try:
        results = {}
        for n in (count // 4, count):
            total_gb = n * megabytes / 1024
            print(f"{n:,} photos of {megabytes:g} MB ({total_gb:.1f} GB) on {TOILETS:,} toilets, in {folder}")
            pg = None
            if target is not None:
                pg = target + ("&" if "?" in target else "?") + f"schema=photos_{n}_{int(time.time())}"
            results[n] = _case(folder / f"n{n}", n, megabytes, pg)
            shutil.rmtree(folder / f"n{n}")
        print()
        print(f"{'photos':>8} {'package MB':>11} {'changes s':>10} {'MB peak':>8} {'apply s':>8} {'MB peak':>8} "
              f"{'ogr2ogr s':>10} {'MB peak':>8}")
        for n, f in results.items():
            ogr = f.get("ogr2ogr", (float("nan"), float("nan")))
            print(f"{n:>8,} {f['package'][0]:>11,.0f} {f['changes'][0]:>10.1f} {f['changes'][1]:>8.0f} "
                  f"{f['apply'][0]:>8.1f} {f['apply'][1]:>8.0f} {ogr[0]:>10.1f} {ogr[1]:>8.0f}")
        small, big = results[count // 4], results[count]
        print(f"interpreter + imports alone: {big['imports'][1]:.0f} MB; peak growth from {count // 4:,} to "
              f"{count:,} photos: changes {big['changes'][1] - small['changes'][1]:+.0f} MB, "
              f"apply {big['apply'][1] - small['apply'][1]:+.0f} MB (goal: none, the bytes stream)")
        if target is not None:
            for n, f in results.items():
                print(f"PostGIS, {n:,} photos: apply {f['apply_pg'][0]:.1f} s, {f['apply_pg'][1]:.0f} MB peak "
                      f"(GeoPackage {f['apply'][0]:.1f} s, {f['apply'][1]:.0f} MB); checkout bringing them back "
                      f"{f['checkout_pg'][0]:.1f} s, {f['checkout_pg'][1]:.0f} MB peak")
            print(f"PostGIS peak growth from {count // 4:,} to {count:,} photos: apply "
                  f"{big['apply_pg'][1] - small['apply_pg'][1]:+.0f} MB, checkout "
                  f"{big['checkout_pg'][1] - small['checkout_pg'][1]:+.0f} MB (goal: none)")
    finally:
        if server is not None:
            server.stop()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1] == "--setup":
        _setup(Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        _photo_case(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] or None,
                    sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None)
