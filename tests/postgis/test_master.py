"""A PostGIS master does what a GeoPackage master does: the office workflow, copy both ways, history, scopes."""

import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from shapely import Point

from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.copy import copy_master
from layers.sync.store import open_master
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.factories import make_master
from tests.layers.test_gpkg import assert_valid

ROOT = Path(__file__).resolve().parents[2]
COUNTS = {"toilets": 40, "signboards": 30, "kiosks": 10}


def rows_of(master, layer="toilets"):
    """Every feature of a master layer by uuid (fid left out: values, geometry WKB, audit)."""
    with open_master(master) as store:
        definition = store.info.definitions[layer]
        return {r["uuid"]: {k: v for k, v in r.items() if k != "fid"} for r in store.rows(definition)}


def edit(ws, uuid, layer="toilets", geometry=None, **attributes):
    ws.update(layer, ws.find(layer, uuid).fid, attributes or None, geometry)


def tongcheng(*args, env=None):
    return subprocess.run([sys.executable, "-m", "layers.cli.main", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, env=env, check=False)


@pytest.fixture
def twin(pg_url, tmp_path):
    """The same master twice: a GeoPackage and its copy in PostGIS."""
    gpkg = tmp_path / "master.gpkg"
    make_master(gpkg, COUNTS)
    copy_master(gpkg, pg_url)
    return gpkg, pg_url


def test_postgis_tables_are_plain_postgis_tables_with_comments(twin):
    _, url = twin
    with psycopg.connect(url.replace("postgresql://", "postgresql://")) as con:
        con.execute("SET search_path TO public")
        geometry = con.execute("SELECT type, srid FROM geometry_columns WHERE f_table_name = 'toilets'").fetchone()
        assert geometry == ("POINT", 4544)
        assert con.execute("SELECT obj_description('toilets'::regclass)").fetchone()[0] == "公厕 / Public toilets"
        assert con.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'toilets' AND indexdef LIKE "
                           "'%gist%'").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM toilets").fetchone()[0] == COUNTS["toilets"]


def test_copy_is_lossless_both_ways(twin, tmp_path):
    gpkg, url = twin
    back = tmp_path / "back.gpkg"
    copy_master(url, back)
    assert_valid(back)
    for layer in COUNTS:
        assert rows_of(gpkg, layer) == rows_of(url, layer) == rows_of(back, layer)
    with open_master(gpkg) as a, open_master(url) as b, open_master(back) as c:
        assert a.info.master_id == b.info.master_id == c.info.master_id
        with open_master(gpkg) as g:
            definition = g.info.definitions["toilets"]
            fids = {r["uuid"]: r["fid"] for r in g.rows(definition)}
        assert {r["uuid"]: r["fid"] for r in b.rows(definition)} == fids


def test_office_workflow_gives_the_same_master_in_postgis_and_geopackage(twin, tmp_path):
    """Two staff check out from PostGIS, edit, send; both packages go to both masters: the same result."""
    gpkg, url = twin
    u = list(rows_of(url))
    checkout(url, tmp_path / "a.sqlite", user="张三")
    checkout(url, tmp_path / "b.sqlite", user="李四")
    with Workspace.open(tmp_path / "a.sqlite") as a, Workspace.open(tmp_path / "b.sqlite") as b:
        edit(a, u[0], name="A名")
        edit(a, u[1], seats_male=9)
        a.delete("toilets", a.find("toilets", u[2]).fid)
        p3 = a.find("toilets", u[3]).geometry
        edit(a, u[3], geometry=Point(p3.x + 5, p3.y))
        a.insert("toilets", {"name": "甲新建", "district": "锦江区"}, Point(401000, 3391000))
        time.sleep(0.01)
        edit(b, u[0], name="B名")           # conflict with A
        edit(b, u[1], status="停用")         # merges with A
        edit(b, u[2], name="B改名")          # A deleted it
        edit(b, u[3], opening_hours="全天")
        write_changes(a, tmp_path / "pa.gpkg")
        write_changes(b, tmp_path / "pb.gpkg")
    for master in (gpkg, url):
        assert not apply_package(master, tmp_path / "pa.gpkg").has_conflicts
        result = apply_package(master, tmp_path / "pb.gpkg", report=tmp_path / "r.json")
        assert {(c.uuid, c.field) for c in result.conflicts} == {(u[0], "name"), (u[2], "name")}
        assert apply_package(master, tmp_path / "pb.gpkg").already_applied
    pg_rows, gpkg_rows = rows_of(url), rows_of(gpkg)
    assert pg_rows.keys() == gpkg_rows.keys()
    for k in pg_rows:
        assert {n: v for n, v in pg_rows[k].items() if n != "modified_at"} == \
               {n: v for n, v in gpkg_rows[k].items() if n != "modified_at"}
    assert pg_rows[u[0]]["name"] == "A名" and pg_rows[u[1]]["status"] == "停用" and u[2] not in pg_rows
    with open_master(url) as store:
        assert store.info.version == 3
    with Workspace.open(tmp_path / "a.sqlite") as a:
        result = update_workspace(a, url)
        assert result.version_after == 3
        assert a.find("toilets", u[1]).attributes["status"] == "停用"


def test_cli_demo_info_checkout_by_scope_apply_log_and_export_as_of(pg_url, tmp_path):
    out = tongcheng("demo", pg_url, "--user", "office")
    assert out.returncode == 0, out.stderr
    assert "version     1" in out.stdout and "areas" in out.stdout
    areas = tongcheng("areas", pg_url)
    assert "510104001" in areas.stdout and "锦江区" in areas.stdout
    ws = tmp_path / "street.sqlite"
    out = tongcheng("checkout", pg_url, ws, "--scope", "street:510104001", "--layers", "toilets")
    assert out.returncode == 0, out.stderr
    assert "scope street:510104001" in out.stdout
    with Workspace.open(ws) as w:
        inside = [r["uuid"] for r in w.raw_rows("toilets")]
        assert inside and all(r["street"] == "春熙路街道" for r in w.raw_rows("toilets"))
        edit(w, inside[0], name="春熙路改名")
        w.insert("toilets", {"name": "外面新建", "district": "青羊区"}, Point(380000, 3390000))  # far outside
        write_changes(w, tmp_path / "p.gpkg")
    out = tongcheng("apply", pg_url, tmp_path / "p.gpkg", "--strict")
    assert out.returncode == 1 and "outside its scope" in out.stderr
    out = tongcheng("apply", pg_url, tmp_path / "p.gpkg", "--report", tmp_path / "r.json")
    assert out.returncode == 2, out.stderr
    assert "outside the package's scope street:510104001" in out.stderr
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert report["layers"]["toilets"]["updates"] == 1 and report["layers"]["toilets"]["inserts"] == 0
    log = tongcheng("log", pg_url, "--uuid", inside[0])
    assert "version 2" in log.stdout and "name:" in log.stdout and "春熙路改名" in log.stdout, log.stdout
    now, then = tmp_path / "now.gpkg", tmp_path / "then.gpkg"
    assert tongcheng("export", pg_url, now, "--layers", "toilets").returncode == 0
    out = tongcheng("export", pg_url, then, "--layers", "toilets", "--as-of", "1")
    assert out.returncode == 0, out.stderr
    assert_valid(then)
    import fiona
    with fiona.open(now) as a, fiona.open(then) as b:
        names_now = {f.properties["uuid"]: f.properties["name"] for f in a}
        names_then = {f.properties["uuid"]: f.properties["name"] for f in b}
    assert names_now[inside[0]] == "春熙路改名" and names_then[inside[0]] != "春熙路改名"
    assert names_now.keys() == names_then.keys()


def test_geopackage_master_keeps_history_too(master, tmp_path):
    checkout(master, tmp_path / "w.sqlite")
    with Workspace.open(tmp_path / "w.sqlite") as w:
        k = next(iter(w.raw_rows("toilets")))["uuid"]
        edit(w, k, name="改一")
        write_changes(w, tmp_path / "1.gpkg")
        edit(w, k, name="改二")
        write_changes(w, tmp_path / "2.gpkg")
    apply_package(master, tmp_path / "1.gpkg")
    apply_package(master, tmp_path / "2.gpkg")
    log = tongcheng("log", master, "--uuid", k)
    assert log.returncode == 0 and "version 2" in log.stdout and "version 3" in log.stdout
    assert '"改一" -> "改二"' in log.stdout
    out = tongcheng("export", master, tmp_path / "v2.gpkg", "--as-of", "2", "--layers", "toilets")
    assert out.returncode == 0, out.stderr
    import fiona
    with fiona.open(tmp_path / "v2.gpkg") as src:
        assert {f.properties["uuid"]: f.properties["name"] for f in src}[k] == "改一"
