"""Component codes at update (issue 14), on a GeoPackage master and on PostGIS: a checkout whose serials ran low gets
a new block from the master it was checked out from (not from a copy the office sent), a layer the update brings
gets blocks of its classes, district areas the office added or redrew after the checkout reach the workspace."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import fiona
import psycopg
import pytest
from shapely.geometry import MultiPolygon, mapping

from layers.demo import demo_areas
from layers.geopackage import open_geopackage
from layers.schema.components import split_code
from layers.schema.definitions import DEFINITIONS_FOLDER
from layers.sync.apply import apply_package
from layers.sync.areas import add_areas
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.codes import CodeBook
from layers.sync.copy import copy_master
from layers.sync.definition_changes import add_layer
from layers.sync.master import AREAS_TABLE
from layers.sync.store import open_master
from layers.sync.update import update_workspace
from layers.workspace.districts import read_districts
from layers.workspace.numbering import numbering
from layers.workspace.store import Workspace
from tests.factories import in_district, make_master

ROOT = Path(__file__).resolve().parents[2]
COUNTS = {"toilets": 20, "signboards": 10, "kiosks": 6}
JINJIANG, CHENGHUA, WUHOU = "510104", "510108", "510107"
KIOSK_CLASSES = ["0121", "0124", "0125", "0190"]


@pytest.fixture(params=["gpkg", "postgis"])
def office(request, tmp_path):
    """A demo master (GeoPackage, or its copy in PostGIS) and a folder for the laptops."""
    gpkg = tmp_path / "master.gpkg"
    make_master(gpkg, COUNTS)
    master = gpkg
    if request.param == "postgis":
        master = request.getfixturevalue("pg_url")
        copy_master(gpkg, master)
    return {"kind": request.param, "master": master, "folder": tmp_path}


def tongcheng(*args):
    return subprocess.run([sys.executable, "-m", "layers.cli.main", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})


def master_blocks(master, holder=None):
    """(district, class, first, last, purpose) of the master's blocks (of *holder*), oldest first."""
    with open_master(master) as store:
        return [(b["district"], b["component_class"], b["first_serial"], b["last_serial"], b["purpose"])
                for b in CodeBook(store).blocks() if holder is None or b["holder"] == holder]


def add_toilets(ws, n, district=CHENGHUA, start=0):
    return [ws.insert("toilets", {"name": f"新公厕{i}", "district": "成华区"},
                      in_district(district, start + i)).attributes["component_code"] for i in range(n)]


def send(master, ws, folder, name):
    write_changes(ws, folder / f"{name}.gpkg")
    apply_package(master, folder / f"{name}.gpkg")


def areas_file(path, codes, shrink=None):
    """The demo's areas of *codes* as a GeoJSON file for ``tongcheng areas --add`` (*shrink*: metres taken off
    each polygon's edge, a redrawn area)."""
    schema = {"geometry": "MultiPolygon", "properties": {"code": "str", "level": "str", "name": "str",
                                                          "parent": "str"}}
    with fiona.open(path, "w", driver="GeoJSON", crs="EPSG:4544", schema=schema) as out:
        for a in demo_areas():
            if a["code"] in codes:
                geom = a["geom"] if shrink is None else a["geom"].buffer(-shrink)
                if geom.geom_type == "Polygon":
                    geom = MultiPolygon([geom])
                out.write({"geometry": mapping(geom), "properties": {
                    "code": a["code"], "level": a["level"], "name": a["name"], "parent": a["parent"]}})
    return path


def drop_area(office, code):
    if office["kind"] == "postgis":
        with psycopg.connect(office["master"], autocommit=True) as con:
            con.execute(f"DELETE FROM {AREAS_TABLE} WHERE code = %s", (code,))
    else:
        with open_geopackage(office["master"], "a") as gp:
            gp.delete_rows(AREAS_TABLE, "code", [code])


def test_a_used_up_block_is_topped_up_at_the_next_update_and_the_report_says_so(office):
    master, folder = office["master"], office["folder"]
    path = folder / "w.sqlite"
    checkout(master, path, layers=["toilets"], scope=f"district:{CHENGHUA}", code_block=5, user="张三")
    with Workspace.open(path) as ws:
        workspace_id = ws.id
        (block,) = numbering(ws).blocks
        assert None not in add_toilets(ws, 4)  # one serial of five left: 20 %, not below it
        send(master, ws, folder, "p1")
    out = tongcheng("update", path, master, "--report", folder / "r1.json")
    assert out.returncode == 0, out.stderr
    assert "component codes" not in out.stdout + out.stderr  # enough left: nothing asked for
    assert master_blocks(master, workspace_id) == [(CHENGHUA, "0301", block.first, block.last, "checkout")]
    with Workspace.open(path) as ws:
        assert add_toilets(ws, 2, start=4)[1] is None  # the last serial, then none
        send(master, ws, folder, "p2")
    before = master_blocks(master)
    dry = tongcheng("update", path, master, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"component codes: would reserve 5 serials of class 0301 in district {CHENGHUA}" in dry.stdout
    assert master_blocks(master) == before  # a dry run reserves nothing
    out = tongcheng("update", path, master, "--report", folder / "r2.json")
    assert out.returncode == 0, out.stderr
    highest = max(last for d, c, _, last, _ in before if (d, c) == (CHENGHUA, "0301"))
    new = (CHENGHUA, "0301", highest + 1, highest + 5, "update")
    assert master_blocks(master, workspace_id)[-1] == new  # after every serial handed out before
    assert f"component codes: new block {CHENGHUA} 0301 {highest + 1:06d}-{highest + 5:06d} (5 serials)" \
        in out.stdout, out.stdout
    report = json.loads((folder / "r2.json").read_text("utf-8"))
    assert report["code_blocks_added"] == [{"district": CHENGHUA, "component_class": "0301", "serials": 5,
                                            "first": highest + 1, "last": highest + 5}]
    with Workspace.open(path) as ws:  # the next toilet numbers from the new block, offline
        assert [b.district for b in numbering(ws).blocks] == [CHENGHUA, CHENGHUA]
        assert add_toilets(ws, 1, start=9) == [f"{CHENGHUA}0301{highest + 1:06d}"]
        send(master, ws, folder, "p3")
    assert tongcheng("update", path, master).returncode == 0
    with open_master(master) as store:
        codes = [r["component_code"] for r in store.rows(store.info.definitions["toilets"])]
    assert f"{CHENGHUA}0301{highest + 1:06d}" in codes and None not in codes and len(codes) == len(set(codes))


def test_an_update_from_a_master_file_the_office_sent_reserves_nothing_and_says_so(master_file, tmp_path):
    master = shutil.copy2(master_file, tmp_path / "master.gpkg")
    path = tmp_path / "w.sqlite"
    checkout(master, path, layers=["toilets"], scope=f"district:{CHENGHUA}", code_block=1, user="张三")
    with Workspace.open(path) as ws:
        add_toilets(ws, 2)
        send(master, ws, tmp_path, "p")
    sent = tmp_path / "from the office" / "master.gpkg"
    sent.parent.mkdir()
    shutil.copy2(master, sent)
    before, copy_before = master_blocks(master), sent.read_bytes()
    out = tongcheng("update", path, sent, "--report", tmp_path / "r.json")
    assert out.returncode == 0, out.stderr
    (line,) = [x for x in out.stderr.splitlines() if "component codes" in x]
    assert line.startswith("component codes: no new block: ") and "not the master file" in line
    assert "codes at apply" in line
    assert master_blocks(master) == before and sent.read_bytes() == copy_before
    assert "cannot record a reservation" in json.loads((tmp_path / "r.json").read_text("utf-8"))["codes_note"]
    with Workspace.open(path) as ws:
        assert len(numbering(ws).blocks) == 1


def test_a_layer_received_at_update_gets_blocks_of_its_classes(office):
    master, folder = office["master"], office["folder"]
    path = folder / "w.sqlite"
    checkout(master, path, layers=["toilets"], scope=f"district:{CHENGHUA}", code_block=7, user="张三")
    text = (DEFINITIONS_FOLDER / "kiosks.toml").read_text("utf-8").replace('name = "kiosks"', 'name = "stalls"', 1)
    text = text.replace('title = { zh_CN = "便民服务亭", en = "Kiosks" }',
                        'title = { zh_CN = "摊亭", en = "Stalls" }', 1)
    (folder / "stalls.toml").write_text(text, "utf-8")
    add_layer(master, folder / "stalls.toml", user="科长")
    with Workspace.open(path) as ws:
        workspace_id = ws.id
        result = update_workspace(ws, master)
        assert "stalls" in ws.definitions
        code = ws.insert("stalls", {"name": "新摊亭", "district": "成华区", "kind": "售货亭"},
                         in_district(CHENGHUA)).attributes["component_code"]
    assert [(b["district"], b["component_class"], b["serials"]) for b in result.code_blocks] == [
        (CHENGHUA, c, 7) for c in KIOSK_CLASSES]
    assert [b[:2] + b[4:] for b in master_blocks(master, workspace_id)] == [
        (CHENGHUA, "0301", "checkout"), *((CHENGHUA, c, "update") for c in KIOSK_CLASSES)]
    first = next(b["first"] for b in result.code_blocks if b["component_class"] == "0125")
    assert code == f"{CHENGHUA}0125{first:06d}"


def test_district_areas_added_or_redrawn_after_checkout_reach_the_workspace(office, tmp_path):
    master, folder = office["master"], office["folder"]
    drop_area(office, CHENGHUA)  # the office had not drawn 成华区 yet
    path = folder / "w.sqlite"
    checkout(master, path, code_block=5, user="张三")  # the whole master
    with Workspace.open(path) as ws:
        assert CHENGHUA not in [d.code for d in read_districts(ws.connection)]
        assert CHENGHUA not in {b.district for b in numbering(ws).blocks}
        (numbered,) = add_toilets(ws, 1)  # in 成华区, which it does not know: the master's own district
        assert split_code(numbered)[0] == JINJIANG
        workspace_id = ws.id
    add_areas(master, areas_file(tmp_path / "chenghua.geojson", {CHENGHUA}))
    add_areas(master, areas_file(tmp_path / "jinjiang.geojson", {JINJIANG}, shrink=10))
    out = tongcheng("update", path, master, "--report", folder / "r.json")
    assert out.returncode == 0, out.stderr
    assert f"district areas: added {CHENGHUA}; changed {JINJIANG} (new features are numbered by them)" in out.stdout
    report = json.loads((folder / "r.json").read_text("utf-8"))
    assert report["district_areas"] == {"added": [CHENGHUA], "changed": [JINJIANG]}
    classes = ["0121", "0124", "0125", "0190", "0301", "0303", "0306", "0307"]
    assert sorted((b["district"], b["component_class"]) for b in report["code_blocks_added"]) == [
        (CHENGHUA, c) for c in classes]
    assert sorted(b[:2] for b in master_blocks(master, workspace_id) if b[4] == "update") == [
        (CHENGHUA, c) for c in classes]
    chenghua = next(a["geom"] for a in demo_areas() if a["code"] == CHENGHUA)
    with Workspace.open(path) as ws:
        held = {d.code: d.shape for d in read_districts(ws.connection)}
        assert held[CHENGHUA].equals(chenghua)
        assert held[JINJIANG].area < next(a["geom"] for a in demo_areas() if a["code"] == JINJIANG).area
        assert numbered in [f.attributes["component_code"] for f in ws.features("toilets")]  # codes are kept
        (code,) = add_toilets(ws, 1, start=3)
        first = next(b["first"] for b in report["code_blocks_added"] if b["component_class"] == "0301")
        assert code == f"{CHENGHUA}0301{first:06d}"
    again = tongcheng("update", path, master)  # nothing new: nothing said, nothing reserved
    assert again.returncode == 0 and "district areas" not in again.stdout and "component codes" not in again.stdout


# --- who may reserve serials on PostGIS (row-level security of the blocks table) ------------------------------------


def _refused(out):
    return out.returncode != 0 and ("row-level security" in out.stderr or "permission denied" in out.stderr)


def test_a_street_account_reserves_only_its_districts_blocks_for_its_own_workspaces(pg_server, pg_database, pg_url,
                                                                                    tmp_path):
    url = pg_url
    make_master(tmp_path / "demo.gpkg", COUNTS)
    copy_master(tmp_path / "demo.gpkg", url)
    assert tongcheng("checkout", url, tmp_path / "office.sqlite", "--layers", "toilets").returncode == 0
    with Workspace.open(tmp_path / "office.sqlite") as ws:
        office_workspace = ws.id
    assert pg_server.psql(pg_database, "CREATE ROLE street_blocks LOGIN").returncode == 0  # roles are server-wide
    granted = tongcheng("master", "grant", url, "street_blocks", f"{CHENGHUA}001")
    assert granted.returncode == 0, granted.stderr
    street = pg_server.url(pg_database, user="street_blocks")
    path = tmp_path / "street.sqlite"
    out = tongcheng("checkout", street, path, "--scope", f"street:{CHENGHUA}001", "--layers", "toilets",
                    "--code-block", "2")
    assert out.returncode == 0, out.stderr  # its own checkout reserves as before
    with Workspace.open(path) as ws:
        mine = ws.id
        (block,) = numbering(ws).blocks
    assert block.district == CHENGHUA
    with psycopg.connect(url) as con:
        assert con.execute("SELECT reserved_role FROM tongcheng_code_blocks WHERE holder = %s", (mine,)
                           ).fetchall() == [("street_blocks",)]

    def insert(district, holder, extra=""):
        columns = "district, component_class, first_serial, last_serial, holder" + (", reserved_role" if extra else "")
        values = f"'{district}', '0301', 900000, 999999, '{holder}'" + (f", '{extra}'" if extra else "")
        return pg_server.psql(pg_database, f"INSERT INTO tongcheng_code_blocks ({columns}) VALUES ({values})",
                              user="street_blocks")

    before = master_blocks(url)
    assert _refused(insert(WUHOU, mine))  # a district its street does not reach
    assert _refused(insert(CHENGHUA, "office"))  # the office's name
    assert _refused(insert(CHENGHUA, office_workspace))  # the office's workspace
    assert _refused(insert(CHENGHUA, "someone", extra="postgres"))  # in another role's name
    assert _refused(pg_server.psql(pg_database, "UPDATE tongcheng_code_blocks SET last_serial = 999999",
                                   user="street_blocks"))
    assert _refused(pg_server.psql(pg_database, "DELETE FROM tongcheng_code_blocks", user="street_blocks"))
    assert master_blocks(url) == before
    with Workspace.open(path) as ws:  # its serials run out; its update, as itself, tops them up
        add_toilets(ws, 2)
    out = tongcheng("update", path, street)
    assert out.returncode == 0, out.stderr
    assert f"component codes: new block {CHENGHUA} 0301" in out.stdout, out.stdout + out.stderr
    assert [b[4] for b in master_blocks(url, mine)] == ["checkout", "update"]
    fresh = insert(CHENGHUA, mine)  # a block of its own district for its own workspace: allowed
    assert fresh.returncode == 0, fresh.stderr


def test_a_master_whose_blocks_had_no_policies_takes_them_at_the_offices_next_write(pg_url, tmp_path):
    make_master(tmp_path / "demo.gpkg", COUNTS)
    copy_master(tmp_path / "demo.gpkg", pg_url)
    with psycopg.connect(pg_url, autocommit=True) as con:  # as masters made before
        con.execute("ALTER TABLE tongcheng_code_blocks DISABLE ROW LEVEL SECURITY; "
                    "DROP POLICY tongcheng_read ON tongcheng_code_blocks; "
                    "DROP POLICY tongcheng_area_insert ON tongcheng_code_blocks; "
                    "ALTER TABLE tongcheng_code_blocks DROP COLUMN reserved_role; DROP FUNCTION tongcheng_may_number")
    checkout(pg_url, tmp_path / "w.sqlite", layers=["toilets"], user="张三")
    with psycopg.connect(pg_url) as con:
        secured = con.execute("SELECT relrowsecurity FROM pg_class WHERE relname = 'tongcheng_code_blocks'").fetchone()
        policies = con.execute("SELECT count(*) FROM pg_policies WHERE tablename = 'tongcheng_code_blocks'").fetchone()
    assert secured == (True,) and policies == (2,)
