"""Component codes on a PostGIS master (issue 14): blocks per district and class under a lock, renumbering on apply,
unique codes under concurrent applies, the office's commands, older masters, imports."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import shapely

from layers.geopackage import open_geopackage
from layers.schema.components import split_code
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.codes import CodeBook
from layers.sync.copy import copy_master
from layers.sync.postgis.create import create_postgis_master
from layers.sync.store import open_master
from layers.workspace.numbering import numbering
from layers.workspace.store import Workspace
from tests.factories import in_district, make_master, toilets_geojson
from tests.postgis.test_concurrency import _start_hanging_apply

ROOT = Path(__file__).resolve().parents[2]
COUNTS = {"toilets": 20, "signboards": 10, "kiosks": 5}
JINJIANG, CHENGHUA = "510104", "510108"


def tongcheng(*args):
    return subprocess.run([sys.executable, "-m", "layers.cli.main", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})


def start(*args):
    return subprocess.Popen([sys.executable, "-m", "layers.cli.main", *map(str, args)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def codes_of(master, layers=("toilets", "signboards", "kiosks")):
    with open_master(master) as store:
        return [r["component_code"] for name in layers for r in store.rows(store.info.definitions[name])]


def blocks_of(url, component_class="0301", district=JINJIANG):
    """(first, last, holder, purpose) of every block of a district and class, oldest first."""
    with psycopg.connect(url) as con:
        return con.execute("SELECT first_serial, last_serial, holder, purpose FROM tongcheng_code_blocks "
                           "WHERE component_class = %s AND district = %s ORDER BY fid",
                           (component_class, district)).fetchall()


def report(path):
    """The codes an apply gave or kept, from its report."""
    return json.loads(path.read_text("utf-8")).get("renumbered", [])


def disjoint(blocks):
    spans = sorted((first, last) for first, last, *_ in blocks)
    return all(a_last < b_first for (_, a_last), (b_first, _) in zip(spans, spans[1:], strict=False))


def add_toilets(ws, n, district=JINJIANG, start=0, **values):
    """Insert n toilets in a demo district; their codes (None where the workspace's block is used up)."""
    return [ws.insert("toilets", {"name": f"新公厕{i}", "district": "锦江区", **values},
                      in_district(district, start + i)).attributes["component_code"] for i in range(n)]


def demo(url):
    create_postgis_master(url, user="office", demo=True, counts=COUNTS)
    return url


def test_the_demo_master_in_postgis_numbers_each_feature_in_its_district(pg_url):
    demo(pg_url)
    with psycopg.connect(pg_url) as con:
        pairs = set(con.execute("SELECT district, left(component_code, 6) FROM toilets UNION "
                                "SELECT district, left(component_code, 6) FROM kiosks").fetchall())
    names = {"锦江区": "510104", "青羊区": "510105", "金牛区": "510106", "武侯区": "510107", "成华区": "510108"}
    assert ("成华区", CHENGHUA) in pairs and ("锦江区", JINJIANG) in pairs
    assert all(code == names[name] for name, code in pairs)


def test_laptops_of_a_postgis_master_never_make_the_same_code(pg_url, tmp_path):
    demo(pg_url)
    for name, n in (("a", 3), ("b", 5), ("c", 4)):  # blocks of 4: b runs out
        checkout(pg_url, tmp_path / f"{name}.sqlite", user=name, code_block=4)
        with Workspace.open(tmp_path / f"{name}.sqlite") as ws:
            add_toilets(ws, n)
            write_changes(ws, tmp_path / f"{name}.gpkg")
    procs = [start("apply", pg_url, tmp_path / f"{n}.gpkg", "--report", tmp_path / f"{n}.json") for n in "abc"]
    for proc in procs:  # the three applied at once
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    renumbered = [r for n in "abc" for r in report(tmp_path / f"{n}.json")]
    assert len(renumbered) == 1  # b's fifth toilet
    codes = codes_of(pg_url)
    assert None not in codes and len(codes) == len(set(codes)) == sum(COUNTS.values()) + 12
    district, _, given = split_code(renumbered[0]["to"])
    assert district == JINJIANG and given > max(b[1] for b in blocks_of(pg_url) if b[3] != "apply")


def test_a_checkout_waits_for_another_checkouts_block_and_never_overlaps_it(pg_url):
    url = demo(pg_url)
    holding, release, done = threading.Event(), threading.Event(), threading.Event()
    second = {}

    def reserve_and_hold(store):
        reserved = CodeBook(store).reserve_for_checkout("first", ["toilets"], 50, "甲",
                                                        bbox=_box(in_district(CHENGHUA)))
        holding.set()
        assert release.wait(30)  # the first checkout's transaction stays open, holding the pair's lock
        return reserved

    def reserve_alongside():
        with open_master(url, write=True) as store:
            second["blocks"] = store.run(lambda: CodeBook(store).reserve_for_checkout(
                "second", ["toilets"], 50, "乙", bbox=_box(in_district(CHENGHUA))))
        done.set()

    with open_master(url, write=True) as store:
        first = {}
        worker = threading.Thread(target=lambda: first.update(blocks=store.run(lambda: reserve_and_hold(store))))
        worker.start()
        other = threading.Thread(target=reserve_alongside)
        try:
            assert holding.wait(30)
            other.start()
            waited = not done.wait(1.0)  # the second waits while the first has not committed
        finally:
            release.set()
            worker.join(30)
        other.join(30)
    assert waited and done.is_set()
    (_, _, a_first, a_last), = first["blocks"][1]
    (_, _, b_first, b_last), = second["blocks"][1]
    assert a_last - a_first + 1 == b_last - b_first + 1 == 50
    assert b_first == a_last + 1  # the second saw the first's block: no overlap
    assert disjoint(blocks_of(url, district=CHENGHUA))


def _box(point, half=100):
    return (point.x - half, point.y - half, point.x + half, point.y + half)


def test_two_checkouts_at_once_from_a_postgis_master_never_collide(pg_url, tmp_path):
    url = demo(pg_url)
    procs = [start("checkout", url, tmp_path / f"{name}.sqlite", "--layers", "toilets", "--code-block", "30",
                   "--scope", f"district:{CHENGHUA}") for name in ("a", "b")]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    made = []
    for name in ("a", "b"):
        with Workspace.open(tmp_path / f"{name}.sqlite") as ws:
            state, workspace_id = numbering(ws), ws.id
            made += add_toilets(ws, 30, CHENGHUA)
        (block,) = state.blocks
        assert block.district == CHENGHUA
        assert (block.first, block.last, workspace_id, "checkout") in blocks_of(url, district=CHENGHUA)
    assert None not in made and len(set(made)) == 60  # offline on two laptops: no code twice
    assert {split_code(c)[0] for c in made} == {CHENGHUA}
    checkouts = [b for b in blocks_of(url, district=CHENGHUA) if b[3] == "checkout"]
    assert len(checkouts) == 2 and disjoint(blocks_of(url, district=CHENGHUA))
    demo_codes = [split_code(c) for c in codes_of(url, ("toilets",))]
    assert min(b[0] for b in checkouts) > max(s for d, _, s in demo_codes if d == CHENGHUA)  # after the demo's


def test_a_used_up_block_is_renumbered_on_apply_and_the_command_says_so(pg_url, tmp_path):
    url = demo(pg_url)
    out = tongcheng("checkout", url, tmp_path / "w.sqlite", "--layers", "toilets", "--code-block", "1",
                    "--scope", f"district:{CHENGHUA}")
    assert out.returncode == 0, out.stderr
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        kept, waiting = add_toilets(ws, 2, CHENGHUA)
        write_changes(ws, tmp_path / "w.gpkg")
        workspace_id = ws.id
    assert kept is not None and waiting is None
    before = blocks_of(url, district=CHENGHUA)
    dry = tongcheng("apply", url, tmp_path / "w.gpkg", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "renumbered  toilets" in dry.stderr and f"no code -> {CHENGHUA}0301" in dry.stderr
    assert blocks_of(url, district=CHENGHUA) == before  # a dry run hands out nothing
    out = tongcheng("apply", url, tmp_path / "w.gpkg", "--report", tmp_path / "r.json")
    assert out.returncode == 0, out.stderr
    line = next(line for line in out.stderr.splitlines() if line.startswith("renumbered"))
    assert "no code ->" in line and "block of codes was used up" in line
    given = line.split(" -> ")[1].split()[0]
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert [(r["from"], r["to"]) for r in report["renumbered"]] == [(None, given)]
    codes = codes_of(url, ("toilets",))
    assert kept in codes and given in codes and len(codes) == len(set(codes)) == COUNTS["toilets"] + 2
    office = blocks_of(url, district=CHENGHUA)[-1]
    # the office's serial for the package: held by its workspace
    assert office[2:] == (workspace_id, "apply") and office[0] == office[1] == split_code(given)[2]
    assert office[0] > max(b[1] for b in before)  # after every block handed out before
    assert tongcheng("update", tmp_path / "w.sqlite", url).returncode == 0
    with Workspace.open(tmp_path / "w.sqlite") as ws:  # the office's code came back with the update
        assert given in [f.attributes["component_code"] for f in ws.features("toilets")]


def test_codes_stay_unique_under_four_concurrent_applies(pg_url, tmp_path):
    """Four laptops whose blocks ran out, two of them bringing the same code (an imported one): applied at once."""
    url = demo(pg_url)
    shared = f"{JINJIANG}0301900000"
    packages = []
    for i in range(4):
        path = tmp_path / f"w{i}.sqlite"
        checkout(url, path, user=f"clerk{i}", layers=["toilets"], code_block=1, scope=f"district:{JINJIANG}")
        with Workspace.open(path) as ws:
            add_toilets(ws, 2, managing_unit=f"单位{i}")
            if i < 2:
                add_toilets(ws, 1, start=5, component_code=shared, managing_unit=f"导入{i}")
            packages.append(write_changes(ws, tmp_path / f"p{i}.gpkg").path)
    procs = [start("apply", url, p, "--report", tmp_path / f"r{i}.json") for i, p in enumerate(packages)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    codes = codes_of(url, ("toilets",))
    assert None not in codes and len(codes) == len(set(codes)) == COUNTS["toilets"] + 4 * 2 + 2
    renumbered = [r for i in range(4) for r in report(tmp_path / f"r{i}.json")]
    reasons = sorted(r["reason"] for r in renumbered)
    assert reasons == ["code already given to another feature"] + ["no code: the workspace's block of codes was "
                                                                    "used up"] * 4
    with psycopg.connect(url) as con:
        imported = dict(con.execute("SELECT managing_unit, component_code FROM toilets WHERE managing_unit LIKE "
                                    "'导入%'").fetchall())
    assert sorted(imported.values()).count(shared) == 1  # one kept it, the other was renumbered
    assert disjoint([b for b in blocks_of(url) if b[3] != "kept"])
    assert (900000, 900000) in [b[:2] for b in blocks_of(url) if b[3] == "kept"]  # nobody is handed it later


def test_an_apply_whose_code_a_concurrent_apply_just_gave_runs_again_and_renumbers(pg_url, tmp_path):
    """The second apply checks the code while the first has written it but not committed: the unique index stops
    the second's insert until the first commits, then it runs again, sees the code taken and renumbers."""
    url = demo(pg_url)
    shared = next(c for c in codes_of(url, ("toilets",)) if split_code(c)[0] == JINJIANG)  # within the handed out
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("UPDATE toilets SET component_code = NULL WHERE component_code = %s", (shared,))
    packages = []
    for i in range(2):
        checkout(url, tmp_path / f"w{i}.sqlite", layers=["toilets"], code_block=5)
        with Workspace.open(tmp_path / f"w{i}.sqlite") as ws:
            add_toilets(ws, 1, component_code=shared, managing_unit=f"导入{i}")
            packages.append(write_changes(ws, tmp_path / f"p{i}.gpkg").path)
    first, go = _start_hanging_apply(url, packages[0], tmp_path)  # written, not committed
    second = start("-v", "apply", url, packages[1], "--report", tmp_path / "r1.json")
    with psycopg.connect(url, autocommit=True) as con:
        deadline = time.monotonic() + 60
        while not con.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]:
            assert second.poll() is None, second.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.05)
    go.write_text("go")
    assert first.communicate(timeout=60)[1] == "" and first.returncode == 0
    err = second.communicate(timeout=60)[1]
    assert second.returncode == 0, err
    assert "a component code was given by a concurrent apply" in err and "attempt 1 again" in err
    (renumbered,) = json.loads((tmp_path / "r1.json").read_text("utf-8"))["renumbered"]
    assert renumbered["from"] == shared and renumbered["reason"] == "code already given to another feature"
    codes = codes_of(url, ("toilets",))
    assert codes.count(shared) == 1 and renumbered["to"] in codes
    assert len([c for c in codes if c]) == len({c for c in codes if c}) == COUNTS["toilets"] - 1 + 2


def test_master_copy_keeps_blocks_and_district_both_ways(pg_url, tmp_path):
    gpkg, back = tmp_path / "master.gpkg", tmp_path / "back.gpkg"
    make_master(gpkg, COUNTS)
    with open_master(gpkg) as store:
        first = CodeBook(store).next_serial(JINJIANG, "0301")
    checkout(gpkg, tmp_path / "w.sqlite", code_block=7)  # blocks of a checkout of the GeoPackage
    copy_master(gpkg, pg_url)
    copy_master(pg_url, back)
    shown = [json.loads(tongcheng("codes", m, "--json").stdout) for m in (gpkg, pg_url, back)]
    assert shown[0]["district"] == shown[1]["district"] == shown[2]["district"] == JINJIANG
    assert shown[0]["blocks"] == shown[1]["blocks"] == shown[2]["blocks"]
    assert {b["purpose"] for b in shown[1]["blocks"]} == {"new master", "checkout"}
    assert shown[1]["district_areas"] == ["510104", "510105", "510106", "510107", "510108"]
    with psycopg.connect(pg_url) as con:
        index = con.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'toilets_component_code'").fetchone()
    assert "UNIQUE" in index[0] and "WHERE" in index[0]
    for master in (pg_url, back):
        with open_master(master) as store:
            assert CodeBook(store).next_serial(JINJIANG, "0301") == first + 7  # after the laptop's block


def test_copy_of_a_master_with_a_code_held_twice_is_refused_whole(pg_url, tmp_path):
    gpkg = tmp_path / "master.gpkg"
    make_master(gpkg, COUNTS)
    with open_geopackage(gpkg, "a") as gp:  # e.g. codes typed twice by another tool
        con = gp.connection
        code = con.execute("SELECT component_code FROM toilets ORDER BY fid LIMIT 1").fetchone()[0]
        con.execute("UPDATE toilets SET component_code = ? WHERE fid = (SELECT max(fid) FROM toilets)", (code,))
    out = tongcheng("master", "copy", gpkg, pg_url)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and len(lines) == 1, out.stderr
    assert f"component code {code} is held by 2 features" in lines[0] and "--assign-missing" in lines[0]
    assert "not a Tongcheng master" in tongcheng("info", pg_url).stderr  # nothing was left behind


def test_the_office_numbers_an_older_postgis_master_by_district(pg_server, pg_database, pg_url, tmp_path):
    assert tongcheng("init", pg_url).returncode == 0  # no --district: numbers nothing
    checkout(pg_url, tmp_path / "w.sqlite", layers=["toilets"])
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        assert not numbering(ws).active and add_toilets(ws, 1) == [None]
        write_changes(ws, tmp_path / "w.gpkg")
    assert tongcheng("apply", pg_url, tmp_path / "w.gpkg").returncode == 0
    shown = tongcheng("codes", pg_url)
    assert "no district code" in shown.stdout and "toilets: 1 features without a component code" in shown.stdout
    given = tongcheng("codes", pg_url, "--district", "510104", "--assign-missing")
    assert given.returncode == 0, given.stderr
    assert "district 510104" in given.stdout and "toilets: gave 1 features their codes" in given.stdout
    assert codes_of(pg_url, ("toilets",)) == ["5101040301000001"]  # no areas: the master's own district
    again = tongcheng("codes", pg_url, "--district", "510105")
    assert again.returncode == 1 and "510104 already" in again.stderr
    assert json.loads(tongcheng("codes", pg_url, "--json").stdout)["blocks"][0]["purpose"] == "assign"
    city = pg_server.url(pg_database, schema="city")  # init --district on PostGIS, in a schema of its own
    made = tongcheng("init", city, "--district", "510105")
    assert made.returncode == 0, made.stderr
    shown = tongcheng("codes", city)
    assert "component codes of master" in shown.stdout and "district 510105" in shown.stdout


def test_a_street_account_checks_out_with_a_block_of_its_own_district(pg_server, pg_database, pg_url, tmp_path):
    url = demo(pg_url)
    assert pg_server.psql(pg_database, "CREATE ROLE street_codes LOGIN").returncode == 0  # roles are server-wide
    assert tongcheng("master", "grant", url, "street_codes", "510108001").returncode == 0
    out = tongcheng("checkout", pg_server.url(pg_database, user="street_codes"), tmp_path / "street.sqlite",
                    "--scope", "street:510108001", "--layers", "toilets")
    assert out.returncode == 0, out.stderr
    with Workspace.open(tmp_path / "street.sqlite") as ws:
        (block,) = numbering(ws).blocks
        workspace_id = ws.id
    assert block.district == CHENGHUA  # a street's checkout: its district's serials
    assert (block.first, block.last, workspace_id, "checkout") in blocks_of(url, district=CHENGHUA)


def test_a_postgis_master_made_before_blocks_takes_its_code_tables_at_first_use(pg_url, tmp_path):
    url = demo(pg_url)
    checkout(url, tmp_path / "old.sqlite", layers=["toilets"], code_block=1, scope=f"district:{JINJIANG}")
    with Workspace.open(tmp_path / "old.sqlite") as ws:
        assert add_toilets(ws, 2)[1] is None
        write_changes(ws, tmp_path / "old.gpkg")
    highest = max(split_code(c)[2] for c in codes_of(url, ("toilets",)) if split_code(c)[0] == JINJIANG)
    with psycopg.connect(url, autocommit=True) as con:  # as masters made before PostGIS numbered codes
        con.execute("DROP TABLE tongcheng_code_blocks; DROP INDEX toilets_component_code")
    dry = tongcheng("apply", url, tmp_path / "old.gpkg", "--dry-run")  # reads only: makes nothing
    assert dry.returncode == 0, dry.stderr
    assert f"no code -> {JINJIANG}0301{highest + 2:06d}" in dry.stderr, dry.stderr  # after the laptop's kept one
    with psycopg.connect(url) as con:
        assert con.execute("SELECT to_regclass('tongcheng_code_blocks')").fetchone()[0] is None
    checkout(url, tmp_path / "w.sqlite", layers=["toilets"], code_block=4, scope=f"district:{JINJIANG}")
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        (block,) = numbering(ws).blocks
        (again,) = add_toilets(ws, 1, start=9)
        write_changes(ws, tmp_path / "w.gpkg")
    # After the codes in the data; the old checkout's block went with the table, so its serial comes again ...
    assert (block.first, block.last) == (highest + 1, highest + 4)
    with psycopg.connect(url) as con:
        assert con.execute("SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%_component_code' "
                           "AND indexdef LIKE 'CREATE UNIQUE%'").fetchone()[0] == 3
    # ... and the apply sorts it out: the second to arrive is renumbered.
    assert apply_package(url, tmp_path / "old.gpkg").renumbered[0]["to"] == f"{JINJIANG}0301{highest + 5:06d}"
    (renumbered,) = apply_package(url, tmp_path / "w.gpkg").renumbered
    assert renumbered["from"] == again and renumbered["reason"] == "code already given to another feature"
    codes = codes_of(url, ("toilets",))
    assert None not in codes and len(codes) == len(set(codes)) == COUNTS["toilets"] + 3


def test_a_postgis_master_made_before_districts_is_brought_up_at_its_first_write(pg_url, tmp_path):
    """A master of the one-district kind: blocks without a district column, a plain code index."""
    url = demo(pg_url)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DROP POLICY tongcheng_area_insert ON tongcheng_code_blocks; "  # nor its row-level security
                    "ALTER TABLE tongcheng_code_blocks DROP COLUMN district; DROP INDEX toilets_component_code; "
                    "CREATE INDEX toilets_component_code ON toilets (component_code)")
        blocks = con.execute("SELECT count(*) FROM tongcheng_code_blocks").fetchone()[0]
    listed = json.loads(tongcheng("codes", url, "--json").stdout)["blocks"]  # read as they are
    assert len(listed) == blocks and {b["district"] for b in listed} == {JINJIANG}
    checkout(url, tmp_path / "w.sqlite", layers=["toilets"], code_block=3, scope=f"district:{CHENGHUA}")
    with psycopg.connect(url) as con:
        assert con.execute("SELECT count(*) FROM tongcheng_code_blocks WHERE district IS NULL").fetchone()[0] == 0
        index = con.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'toilets_component_code'").fetchone()
    assert "UNIQUE" in index[0]
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        (block,) = numbering(ws).blocks
    # the old blocks count as 锦江区's (they numbered every district there); 成华区's serials continue its codes
    assert block.district == CHENGHUA and block.first == 1 + max(
        split_code(c)[2] for c in codes_of(url, ("toilets",)) if split_code(c)[0] == CHENGHUA)


def test_import_into_a_postgis_master_gives_codes_by_district_and_zones(pg_url, tmp_path):
    url = demo(pg_url)
    points = {"成华": in_district(CHENGHUA, 1), "锦江": in_district(JINJIANG, 1)}
    source = toilets_geojson(tmp_path / "inventory.geojson",
                             [({"name": name, "district": f"{name}区"}, p) for name, p in points.items()])
    mapping = tmp_path / "map.toml"
    mapping.write_text('layer = "toilets"\n[fields]\nname = "name"\ndistrict = "district"\n', encoding="utf-8")
    out = tongcheng("import", source, url, "--layer", "toilets", "--mapping", mapping)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"component codes: 2 given by the master (district {JINJIANG}: 1, {CHENGHUA}: 1)" in out.stdout
    with psycopg.connect(url) as con:
        rows = {r[0]: r[1:] for r in con.execute(
            "SELECT name, component_code, zone, grid_cell FROM toilets WHERE name IN ('成华', '锦江')")}
        zones = [(shapely.from_wkb(bytes(g)), z) for g, z in con.execute(
            "SELECT ST_AsBinary(geom), zone FROM zones ORDER BY fid")]
        cells = [(shapely.from_wkb(bytes(g)), c) for g, c in con.execute(
            "SELECT ST_AsBinary(geom), code FROM grid_cells ORDER BY fid")]
    for name, point in points.items():
        code, zone, cell = rows[name]
        assert split_code(code)[0] == {"成华": CHENGHUA, "锦江": JINJIANG}[name]
        assert zone == next(z for g, z in zones if g.intersects(point))
        assert cell == next(c for g, c in cells if g.intersects(point))
    codes = codes_of(url)
    assert len(codes) == len(set(codes))
