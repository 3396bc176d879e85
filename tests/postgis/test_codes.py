"""Component codes on a PostGIS master (issue 14): checkout blocks, concurrent applies, the office's commands."""

import json
import os
import subprocess
import sys
from pathlib import Path

from shapely import Point

from layers.schema.components import split_code
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.codes import CodeBook
from layers.sync.postgis.create import create_postgis_master
from layers.sync.store import open_master
from layers.workspace.store import Workspace

ROOT = Path(__file__).resolve().parents[2]
COUNTS = {"toilets": 20, "signboards": 10, "kiosks": 5}


def codes_of(master):
    with open_master(master) as store:
        return [r["component_code"] for name in ("toilets", "signboards", "kiosks")
                for r in store.rows(store.info.definitions[name])]


def add_toilets(path, n, out):
    with Workspace.open(path) as ws:
        base = next(ws.features("toilets")).geometry
        for i in range(n):
            ws.insert("toilets", {"name": f"新{i}", "district": "锦江区"}, Point(base.x + i, base.y + 3))
        write_changes(ws, out)


def test_laptops_of_a_postgis_master_never_make_the_same_code(pg_url, tmp_path):
    create_postgis_master(pg_url, demo=True, counts=COUNTS)
    for name, n in (("a", 3), ("b", 5), ("c", 4)):  # blocks of 4: b runs out
        checkout(pg_url, tmp_path / f"{name}.sqlite", user=name, code_block=4)
        add_toilets(tmp_path / f"{name}.sqlite", n, tmp_path / f"{name}.gpkg")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "layers.cli.main", "apply", pg_url, str(tmp_path / f"{n}.gpkg"),
                               "--report", str(tmp_path / f"{n}.json")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for n in "abc"]  # the three applied at once
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    renumbered = [r for n in "abc" for r in json.loads((tmp_path / f"{n}.json").read_text("utf-8"))
                  .get("renumbered", [])]
    assert len(renumbered) == 1  # b's fifth toilet
    codes = codes_of(pg_url)
    assert None not in codes and len(codes) == len(set(codes)) == sum(COUNTS.values()) + 12
    with open_master(pg_url) as store:
        blocks = CodeBook(store).blocks()
    given = split_code(renumbered[0]["to"])[2]
    assert given > max(b["last_serial"] for b in blocks if b["component_class"] == "0301" and b["purpose"] != "apply")


def test_the_office_numbers_an_older_postgis_master(pg_url, tmp_path):
    create_postgis_master(pg_url)  # no district: no codes
    checkout(pg_url, tmp_path / "w.sqlite")
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        ws.insert("toilets", {"name": "公厕", "district": "锦江区"}, Point(410_000, 3_392_000))
        write_changes(ws, tmp_path / "w.gpkg")
    apply_package(pg_url, tmp_path / "w.gpkg")
    assert codes_of(pg_url) == [None]
    done = subprocess.run([sys.executable, "-m", "layers.cli.main", "codes", pg_url, "--district", "510104",
                           "--assign-missing"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "gave 1 features their codes" in done.stdout and codes_of(pg_url) == ["5101040301000001"]


def test_a_copy_of_the_master_keeps_the_serials_handed_out(pg_url, tmp_path):
    from layers.sync.copy import copy_master
    from tests.factories import make_master

    source = tmp_path / "m.gpkg"
    make_master(source, COUNTS)
    checkout(source, tmp_path / "w.sqlite", code_block=50)  # serials 21-70 of 0301 are this laptop's
    copy_master(source, pg_url)
    back = tmp_path / "back.gpkg"
    copy_master(pg_url, back)
    for master in (pg_url, back):
        with open_master(master) as store:
            book = CodeBook(store)
            assert book.district() == "510104" and book.next_serial("0301", "510104") == 71
