"""Definitions that evolve on a PostGIS master: ``definitions update`` checks against the data, migrates the master's
table (ALTER TABLE, value mappings) and records the version in one transaction that applies respect; a workspace
checked out from PostGIS under the old version is migrated at its next update (pending edits kept); a package made
under the older version still applies, one made under a newer one is refused; ``info`` shows the versions."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from layers.errors import SyncError
from layers.geopackage import open_geopackage
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.copy import copy_master
from layers.sync.definition_changes import update_definition
from layers.sync.postgis.definitions import DEFINITIONS_LOCK
from layers.sync.postgis.store import PostgisMaster
from layers.sync.store import open_master
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.factories import make_master
from tests.layers.test_definition_changes import MAPPINGS, field_edits, version_two

ROOT = Path(__file__).resolve().parents[2]
COUNTS = {"toilets": 30, "signboards": 5, "kiosks": 5}


@pytest.fixture
def office(pg_url, tmp_path):
    """A PostGIS master (copied from a GeoPackage) with one mobile toilet and one toilet with a community."""
    gpkg = tmp_path / "master.gpkg"
    make_master(gpkg, COUNTS)
    with open_geopackage(gpkg, "a") as gp:
        fids = [r[0] for r in gp.connection.execute("SELECT fid FROM toilets ORDER BY fid LIMIT 2")]
        gp.connection.execute("UPDATE toilets SET structure = '移动式' WHERE fid = ?", (fids[0],))
        gp.connection.execute("UPDATE toilets SET community = '玉林社区' WHERE fid = ?", (fids[1],))
    copy_master(gpkg, pg_url)
    return {"master": pg_url, "gpkg": gpkg, "v2": version_two(tmp_path), "folder": tmp_path}


def rows(master):
    with open_master(master) as store:
        return {r["uuid"]: r for r in store.rows(store.info.definitions["toilets"])}


def columns(url, table="toilets"):
    with psycopg.connect(url) as con:
        return {name: (kind, comment) for name, kind, comment in con.execute(
            "SELECT column_name, data_type, col_description(%s::regclass, ordinal_position::int) "
            "FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s", (table, table))}


def tongcheng(*args):
    return subprocess.run([sys.executable, "-m", "layers.cli.main", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, check=False)


def test_removing_a_field_or_code_that_holds_data_needs_a_mapping_and_changes_nothing(office):
    url = office["master"]
    before, table = rows(url), columns(url)
    with pytest.raises(SyncError, match=r"field 'community' holds values in \d+ feature\(s\).*--map community="):
        update_definition(url, office["v2"])
    with pytest.raises(SyncError, match=r"code '移动式' of 'structure' is used by \d+ feature"):
        update_definition(url, office["v2"], mappings={"community": "neighbourhood"})
    dry = update_definition(url, office["v2"], mappings=MAPPINGS, dry_run=True)
    assert dry.dry_run and "field 'cleaner' added (text)" in dry.changes
    assert columns(url) == table and rows(url) == before  # the ALTER TABLE of the dry run was rolled back
    with open_master(url) as store:
        assert store.info.version == 1 and store.info.definitions["toilets"].version == 1
        assert store.definition_history("toilets") == []


def test_the_postgis_master_migrates_its_table_and_records_the_new_version(office):
    url = office["master"]
    before = rows(url)
    result = update_definition(url, office["v2"], mappings=MAPPINGS, user="科长")
    assert (result.old_version, result.new_version, result.master_version) == (1, 2, 2)
    after = rows(url)
    assert set(after) == set(before)
    for uuid, row in after.items():
        assert "community" not in row and row["neighbourhood"] == before[uuid]["community"]
        assert row["has_water"] == 1 and row["cleaner"] is None
        assert row["structure"] == ("附建式" if before[uuid]["structure"] == "移动式" else before[uuid]["structure"])
        assert row["name"] == before[uuid]["name"] and row["geom"] == before[uuid]["geom"]
    table = columns(url)
    assert "community" not in table and table["has_water"][0] == "boolean" and table["cleaner"][0] == "text"
    assert table["name"][1] == "公厕名称 / Toilet name" and table["cleaner"][1] == "保洁单位 / Cleaning company"
    with psycopg.connect(url) as con:  # still a plain PostGIS layer QGIS opens
        assert con.execute("SELECT type, srid FROM geometry_columns WHERE f_table_name = 'toilets'").fetchone() == (
            "POINT", 4544)
        history = con.execute("SELECT version, changed_by, mappings IS NOT NULL FROM tongcheng_definition_changes "
                              "WHERE layer = 'toilets' ORDER BY version").fetchall()
    assert history == [(1, None, False), (2, "科长", True)]
    with open_master(url) as store:
        assert store.info.version == 2 and store.info.definitions["toilets"].version == 2
    with pytest.raises(SyncError, match="version 2 of layer 'toilets' is not above the master's version 2"):
        update_definition(url, office["v2"], mappings=MAPPINGS)


def test_a_workspace_checked_out_from_postgis_gets_the_migration_and_keeps_its_pending_edits(office):
    url, workspace = office["master"], office["folder"] / "ws.sqlite"
    checkout(url, workspace, user="张三")
    ids = field_edits(workspace)
    update_definition(url, office["v2"], mappings=MAPPINGS)
    with Workspace.open(workspace) as ws:
        pending = ws.pending_changes()["toilets"]
        dry = update_workspace(ws, url, dry_run=True)
        assert dry.definitions == ["layer toilets definition version 1 -> 2"]
        assert ws.layer("toilets").version == 1 and "community" in ws.layer("toilets").field_names  # rolled back
        result = update_workspace(ws, url)
        assert result.definitions == ["layer toilets definition version 1 -> 2"] and result.conflicts == []
        assert ws.layer("toilets").version == 2 and ws.layer("toilets").field("name").label() == "公厕名称"
        assert ws.pending_changes()["toilets"] == pending == {"insert": 1, "update": 1, "delete": 1}
        edited = ws.find("toilets", ids["edited"]).attributes
        assert edited["name"] == "玉林公厕" and edited["neighbourhood"] == "芳草社区" and edited["has_water"] == 1
        assert ws.find("toilets", ids["new"]).attributes["structure"] == "附建式"
        ws.update("toilets", ws.find("toilets", ids["new"]).fid, {"seats_male": 350})  # the wider range
        package = write_changes(ws, office["folder"] / "p.gpkg")
    result = apply_package(url, package.path)
    assert result.layers["toilets"].to_dict() == {"inserts": 1, "updates": 1, "deletes": 1, "conflicts": 0}
    after = rows(url)
    assert after[ids["edited"]]["neighbourhood"] == "芳草社区" and after[ids["edited"]]["name"] == "玉林公厕"
    assert after[ids["new"]]["seats_male"] == 350 and after[ids["new"]]["has_water"] == 1
    assert ids["gone"] not in after


def test_a_package_made_under_the_older_definition_still_applies_to_postgis(office):
    url, workspace = office["master"], office["folder"] / "ws.sqlite"
    checkout(url, workspace, user="张三")
    ids = field_edits(workspace)
    with Workspace.open(workspace) as ws:
        package = write_changes(ws, office["folder"] / "old.gpkg")
    update_definition(url, office["v2"], mappings=MAPPINGS)
    before = package.path.read_bytes()
    result = apply_package(url, package.path)
    assert result.layers["toilets"].to_dict() == {"inserts": 1, "updates": 1, "deletes": 1, "conflicts": 0}
    assert package.path.read_bytes() == before  # a migrated copy was applied
    after = rows(url)
    assert after[ids["edited"]]["name"] == "玉林公厕" and after[ids["edited"]]["neighbourhood"] == "芳草社区"
    assert after[ids["new"]]["structure"] == "附建式" and after[ids["new"]]["has_water"] == 1
    assert ids["gone"] not in after


def test_a_package_made_under_a_newer_definition_is_refused_by_postgis(office):
    """The GeoPackage twin moves on to version 2; a package made there is refused by the PostGIS copy at 1."""
    gpkg, url, workspace = office["gpkg"], office["master"], office["folder"] / "ws.sqlite"
    checkout(gpkg, workspace)
    update_definition(gpkg, office["v2"], mappings=MAPPINGS)
    with Workspace.open(workspace) as ws:
        update_workspace(ws, gpkg)
        ws.update("toilets", next(ws.features("toilets")).fid, {"cleaner": "洁美公司"})
        package = write_changes(ws, office["folder"] / "new.gpkg")
    before = rows(url)
    with pytest.raises(SyncError, match=r"made under version 2 of layer 'toilets'.*has version 1; update the "
                                        r"master's definition first"):
        apply_package(url, package.path)
    assert rows(url) == before
    with open_master(url) as store:
        assert store.info.version == 1 and not store.in_ledger(package.package_uuid)


def test_a_definition_change_waits_for_an_apply_under_way_and_applies_after_it_read_the_new_definitions(office):
    url = office["master"]
    with psycopg.connect(url, autocommit=True) as apply_under_way:  # holds what an apply holds from its start
        apply_under_way.execute("BEGIN")
        apply_under_way.execute("SELECT pg_advisory_xact_lock_shared(%s, hashtext(current_schema()))",
                                (DEFINITIONS_LOCK,))
        done = []
        change = threading.Thread(target=lambda: done.append(update_definition(url, office["v2"],
                                                                               mappings=MAPPINGS)))
        change.start()
        time.sleep(1.5)
        assert not done and columns(url)["community"]  # waiting: nothing migrated under the apply
        apply_under_way.execute("COMMIT")
        change.join(30)
    assert done and done[0].master_version == 2 and "community" not in columns(url)


def test_an_apply_and_a_definition_change_at_once_give_the_same_master_whichever_goes_first(office):
    url, workspace = office["master"], office["folder"] / "ws.sqlite"
    checkout(url, workspace, user="张三")
    ids = field_edits(workspace)
    with Workspace.open(workspace) as ws:
        package = write_changes(ws, office["folder"] / "old.gpkg")
    store = PostgisMaster(url, write=True)  # an apply's store, opened before the change
    try:
        update_definition(url, office["v2"], mappings=MAPPINGS)
        info = store.run(store.refresh)  # its transaction reads the definitions as they are now
        assert info.definitions["toilets"].version == 2 and "neighbourhood" in info.definitions["toilets"].field_names
    finally:
        store.close()
    results = {}
    barrier = threading.Barrier(2)

    def run(name, work):
        barrier.wait()
        results[name] = work()

    # A second definition change (version 3: one more field) races the apply of the package made under version 1.
    v3 = office["folder"] / "v3.toml"
    v3.write_text(office["v2"].read_text("utf-8").replace("version = 2", "version = 3")
                  + '\n[[fields]]\nname = "remark3"\ntype = "text"\nlabel = { zh_CN = "备注三", en = "Remark 3" }\n',
                  "utf-8")
    threads = [threading.Thread(target=run, args=("apply", lambda: apply_package(url, package.path))),
               threading.Thread(target=run, args=("change", lambda: update_definition(url, v3)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results["apply"].layers["toilets"].to_dict() == {"inserts": 1, "updates": 1, "deletes": 1, "conflicts": 0}
    assert results["change"].new_version == 3
    after = rows(url)
    assert after[ids["edited"]]["neighbourhood"] == "芳草社区" and after[ids["new"]]["structure"] == "附建式"
    assert "remark3" in after[ids["new"]] and ids["gone"] not in after
    with open_master(url) as store:
        assert store.info.version == 4  # 2 (change to v2), then the apply and the change to v3 in either order


def test_cli_definitions_update_and_info_on_a_postgis_master(office):
    url = office["master"]
    refused = tongcheng("definitions", "update", url, office["v2"])
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
    assert "--map community=" in refused.stderr
    done = tongcheng("definitions", "update", url, office["v2"], "--map", "community=neighbourhood",
                     "--map", "structure.移动式=附建式")
    assert done.returncode == 0, done.stderr
    assert "changed layer toilets definition version 1 -> 2" in done.stdout
    info = tongcheng("info", url)
    assert info.returncode == 0, info.stderr
    assert "version     2" in info.stdout
    toilets = next(line for line in info.stdout.splitlines() if line.startswith("toilets"))
    assert toilets.split()[1:3] == ["v2", str(COUNTS["toilets"])]
    assert next(line for line in info.stdout.splitlines() if line.startswith("kiosks")).split()[1] == "v1"


def test_master_copy_carries_the_definition_versions_both_ways(office, tmp_path):
    url = office["master"]
    update_definition(url, office["v2"], mappings=MAPPINGS)
    back = tmp_path / "back.gpkg"
    copy_master(url, back)
    with open_master(back) as store:
        assert [v.version for v in store.definition_history("toilets")] == [1, 2]
        assert store.info.definitions["toilets"].version == 2
    workspace = tmp_path / "old.sqlite"
    checkout(office["gpkg"], workspace)  # the GeoPackage this master was copied from, still at version 1
    with Workspace.open(workspace) as ws:
        assert update_workspace(ws, back).definitions == ["layer toilets definition version 1 -> 2"]


def test_the_editors_batch_apply_migrates_a_package_made_under_the_older_definition(office):
    """Sync > Apply change packages (``layers.sync.batch``) brings an old package to the master's definitions
    inside its transaction, as a single apply does: its check and its apply."""
    from layers.sync.batch import apply_packages

    url, workspace = office["master"], office["folder"] / "ws.sqlite"
    checkout(url, workspace, user="张三")
    ids = field_edits(workspace)
    with Workspace.open(workspace) as ws:
        package = write_changes(ws, office["folder"] / "old.gpkg")
    update_definition(url, office["v2"], mappings=MAPPINGS)
    checked = apply_packages(url, [package.path], dry_run=True)
    assert checked.results[0].layers["toilets"].to_dict() == {"inserts": 1, "updates": 1, "deletes": 1,
                                                              "conflicts": 0}
    assert ids["new"] not in rows(url)  # the check wrote nothing
    applied = apply_packages(url, [package.path])
    assert applied.results[0].layers["toilets"].inserts == 1
    after = rows(url)
    assert after[ids["edited"]]["neighbourhood"] == "芳草社区" and after[ids["new"]]["has_water"] == 1
