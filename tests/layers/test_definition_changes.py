"""Definitions that evolve: the office records a new version of a layer definition in the master; an old workspace
receives it with its next update (pending edits kept); a package made under the older version still applies, one
made under a newer version is refused; removing a field or code that holds data needs a mapping."""

import shutil
import subprocess
import sys

import pytest

from layers.errors import SyncError
from layers.geopackage import open_geopackage
from layers.schema.definitions import DEFINITIONS_FOLDER
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.definition_changes import update_definition
from layers.sync.master import create_master, read_master
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.layers.test_gpkg import assert_valid

TONGCHENG = [sys.executable, "-m", "layers.cli.main"]
COUNTS = {"toilets": 30, "signboards": 5, "kiosks": 5}
MAPPINGS = {"community": "neighbourhood", "structure.移动式": "附建式"}


def version_two(folder):
    """toilets.toml, version 2: a new field, a required new field with a default, a new code, a removed code,
    a wider range, a renamed label, and ``community`` renamed ``neighbourhood`` (removed + added)."""
    text = (DEFINITIONS_FOLDER / "toilets.toml").read_text("utf-8")
    text = text.replace('label_field = "name"', 'label_field = "name"\nversion = 2', 1)
    text = text.replace('label = { zh_CN = "名称", en = "Name" }',
                        'label = { zh_CN = "公厕名称", en = "Toilet name" }', 1)
    text = text.replace('  { value = "移动式", zh_CN = "移动式", en = "Mobile" },\n',
                        '  { value = "装配式", zh_CN = "装配式", en = "Prefabricated" },\n', 1)
    text = text.replace("max = 200\ndefault = 0", "max = 500\ndefault = 0", 1)
    text = text.replace('name = "community"\ntype = "text"\nlabel = { zh_CN = "社区", en = "Community" }',
                        'name = "neighbourhood"\ntype = "text"\nlabel = { zh_CN = "社区", en = "Neighbourhood" }', 1)
    text += ('\n[[fields]]\nname = "cleaner"\ntype = "text"\nlabel = { zh_CN = "保洁单位", en = "Cleaning company" }\n'
             '\n[[fields]]\nname = "has_water"\ntype = "boolean"\nlabel = { zh_CN = "有水", en = "Running water" }\n'
             'required = true\ndefault = true\n')
    path = folder / "toilets.toml"
    path.write_text(text, "utf-8")
    return path


@pytest.fixture
def office(tmp_path):
    master = tmp_path / "master.gpkg"
    create_master(master, user="office", demo=True, counts=COUNTS)
    with open_geopackage(master, "a") as gp:  # one toilet of each case the new version has to place
        fids = [r[0] for r in gp.connection.execute("SELECT fid FROM toilets ORDER BY fid LIMIT 2")]
        gp.connection.execute("UPDATE toilets SET structure = '移动式' WHERE fid = ?", (fids[0],))
        gp.connection.execute("UPDATE toilets SET community = '玉林社区' WHERE fid = ?", (fids[1],))
    return {"master": master, "v2": version_two(tmp_path), "folder": tmp_path}


def rows(master):
    with open_geopackage(master) as gp:
        return {r["uuid"]: r for r in gp.rows("toilets")}


def field_edits(workspace):
    """An update (name, community), an insert (a mobile toilet) and a delete, pending in the workspace."""
    with Workspace.open(workspace) as ws:
        features = list(ws.features("toilets"))
        edited = next(f for f in features if f.attributes["community"] == "玉林社区")
        ws.update("toilets", edited.fid, {"name": "玉林公厕", "community": "芳草社区"})
        mobile = next(f for f in features if f.attributes["structure"] == "移动式")
        gone = next(f for f in features if f.fid not in (edited.fid, mobile.fid))
        ws.delete("toilets", gone.fid)
        attributes = {**edited.attributes, "name": "新公厕", "structure": "移动式", "community": "新社区"}
        new = ws.insert("toilets", attributes, edited.geometry)
        return {"edited": edited.uuid, "mobile": mobile.uuid, "gone": gone.uuid, "new": new.uuid}


def test_removing_a_field_or_code_that_holds_data_needs_a_mapping(office):
    before = office["master"].read_bytes()
    with pytest.raises(SyncError, match=r"field 'community' holds values in \d+ feature\(s\).*--map community="):
        update_definition(office["master"], office["v2"])
    with pytest.raises(SyncError, match=r"code '移动式' of 'structure' is used by \d+ feature"):
        update_definition(office["master"], office["v2"], mappings={"community": "neighbourhood"})
    with pytest.raises(SyncError, match="'zone' is not a field the new version adds"):
        update_definition(office["master"], office["v2"], mappings={**MAPPINGS, "community": "zone"})
    assert office["master"].read_bytes() == before
    dry = update_definition(office["master"], office["v2"], mappings=MAPPINGS, dry_run=True)
    assert dry.dry_run and "field 'cleaner' added (text)" in dry.changes
    assert office["master"].read_bytes() == before
    lower = office["folder"] / "lower.toml"
    lower.write_text(office["v2"].read_text("utf-8").replace("version = 2", "version = 1"), "utf-8")
    with pytest.raises(SyncError, match="version 1 of layer 'toilets' is not above the master's version 1"):
        update_definition(office["master"], lower, mappings=MAPPINGS)


def test_the_master_records_the_new_version(office):
    before = rows(office["master"])
    result = update_definition(office["master"], office["v2"], mappings=MAPPINGS, user="科长")
    assert (result.old_version, result.new_version, result.master_version) == (1, 2, 2)
    assert_valid(office["master"])
    info = read_master(office["master"])
    assert info.version == 2 and info.definitions["toilets"].version == 2
    after = rows(office["master"])
    assert set(after) == set(before)
    for uuid, row in after.items():
        assert "community" not in row and row["neighbourhood"] == before[uuid]["community"]
        assert row["has_water"] == 1 and row["cleaner"] is None
        assert row["structure"] == ("附建式" if before[uuid]["structure"] == "移动式" else before[uuid]["structure"])
        assert row["name"] == before[uuid]["name"] and row["geom"].equals(before[uuid]["geom"])
    with open_geopackage(office["master"]) as gp:
        assert 'name="公厕名称"' in gp.styles("toilets")[0]["styleQML"]
        history = gp.connection.execute("SELECT version, changed_by FROM tongcheng_definition_changes "
                                        "ORDER BY version").fetchall()
    assert history == [(1, None), (2, "科长")]


def test_a_definition_change_reaches_an_old_workspace_and_its_pending_edits_survive(office):
    workspace = office["folder"] / "ws.sqlite"
    checkout(office["master"], workspace, user="张三")
    ids = field_edits(workspace)
    update_definition(office["master"], office["v2"], mappings=MAPPINGS)
    with Workspace.open(workspace) as ws:
        pending = ws.pending_changes()["toilets"]
        dry = update_workspace(ws, office["master"], dry_run=True)
        assert dry.conflicts == [] and ws.layer("toilets").version == 1  # the dry run migrated and rolled back
        assert "community" in ws.layer("toilets").field_names
        update_workspace(ws, office["master"])
        definition = ws.layer("toilets")
        assert definition.version == 2 and definition.field("name").label() == "公厕名称"
        assert ws.pending_changes()["toilets"] == pending == {"insert": 1, "update": 1, "delete": 1}
        edited = ws.find("toilets", ids["edited"]).attributes
        assert edited["name"] == "玉林公厕" and edited["neighbourhood"] == "芳草社区" and edited["has_water"] == 1
        new = ws.find("toilets", ids["new"]).attributes
        assert new["structure"] == "附建式" and new["neighbourhood"] == "新社区"
        assert ws.find("toilets", ids["mobile"]).attributes["structure"] == "附建式"
        (change,) = [c for c in ws.changes("toilets") if c.uuid == ids["edited"]]
        assert set(change.changed_fields) == {"name", "neighbourhood"}  # not has_water: the office set it too
        ws.update("toilets", ws.find("toilets", ids["new"]).fid, {"seats_male": 350})  # the wider range
        package = write_changes(ws, office["folder"] / "p.gpkg")
    result = apply_package(office["master"], package.path)
    assert result.layers["toilets"].to_dict() == {"inserts": 1, "updates": 1, "deletes": 1, "conflicts": 0}
    after = rows(office["master"])
    assert after[ids["edited"]]["neighbourhood"] == "芳草社区" and after[ids["edited"]]["name"] == "玉林公厕"
    assert after[ids["new"]]["seats_male"] == 350 and ids["gone"] not in after


def test_a_package_made_under_the_older_definition_still_applies(office):
    workspace = office["folder"] / "ws.sqlite"
    checkout(office["master"], workspace, user="张三")
    ids = field_edits(workspace)
    with Workspace.open(workspace) as ws:
        package = write_changes(ws, office["folder"] / "old.gpkg")
    update_definition(office["master"], office["v2"], mappings=MAPPINGS)
    before = office["folder"].joinpath("old.gpkg").read_bytes()
    result = apply_package(office["master"], package.path)
    assert result.layers["toilets"].to_dict() == {"inserts": 1, "updates": 1, "deletes": 1, "conflicts": 0}
    assert office["folder"].joinpath("old.gpkg").read_bytes() == before  # a migrated copy was applied
    after = rows(office["master"])
    assert after[ids["edited"]]["name"] == "玉林公厕" and after[ids["edited"]]["neighbourhood"] == "芳草社区"
    assert after[ids["new"]]["structure"] == "附建式" and after[ids["new"]]["has_water"] == 1
    assert ids["gone"] not in after
    assert_valid(office["master"])


def test_a_package_made_under_a_newer_definition_is_refused(office):
    backup = office["folder"] / "backup.gpkg"
    shutil.copyfile(office["master"], backup)
    workspace = office["folder"] / "ws.sqlite"
    checkout(office["master"], workspace)
    update_definition(office["master"], office["v2"], mappings=MAPPINGS)
    with Workspace.open(workspace) as ws:
        update_workspace(ws, office["master"])
        ws.update("toilets", next(ws.features("toilets")).fid, {"cleaner": "洁美公司"})
        package = write_changes(ws, office["folder"] / "new.gpkg")
    before = backup.read_bytes()
    with pytest.raises(SyncError, match=r"made under version 2 of layer 'toilets'.*has version 1; update the "
                                        r"master's definition first"):
        apply_package(backup, package.path)
    assert backup.read_bytes() == before


def test_cli_definitions_update_and_info_on_a_master(office):
    master = str(office["master"])

    def run(*args):
        return subprocess.run([*TONGCHENG, *map(str, args)], capture_output=True, text=True)

    refused = run("definitions", "update", master, office["v2"])
    assert refused.returncode == 1 and "--map community=" in refused.stderr and len(refused.stderr.splitlines()) == 1
    done = run("definitions", "update", master, office["v2"], "--map", "community=neighbourhood",
               "--map", "structure.移动式=附建式")
    assert done.returncode == 0, done.stderr
    assert "changed layer toilets definition version 1 -> 2" in done.stdout and "field 'cleaner' added" in done.stdout
    info = run("info", master)
    assert info.returncode == 0, info.stderr
    assert "version     2" in info.stdout
    toilets = next(line for line in info.stdout.splitlines() if line.startswith("toilets"))
    assert toilets.split()[1:3] == ["v2", str(COUNTS["toilets"])]
    assert next(line for line in info.stdout.splitlines() if line.startswith("kiosks")).split()[1] == "v1"


def test_an_update_that_fails_after_the_migration_leaves_the_workspace_as_it_was(office):
    """The migration and the rebase are one transaction: an update refused late (resolutions that no longer match)
    keeps neither the new definition nor the added layer, so the next update brings both, the layer filled."""
    from layers.sync.checkout import SETTINGS
    from layers.sync.definition_changes import add_layer
    from layers.sync.resolutions import Resolution

    workspace = office["folder"] / "ws.sqlite"
    checkout(office["master"], workspace, user="张三")
    update_definition(office["master"], office["v2"], mappings=MAPPINGS)
    booths = office["folder"] / "booths.toml"
    booths.write_text('name = "booths"\ntitle = { zh_CN = "岗亭", en = "Booths" }\ngeometry = "POINT"\n\n'
                      '[[fields]]\nname = "name"\ntype = "text"\nlabel = { zh_CN = "名称", en = "Name" }\n', "utf-8")
    add_layer(office["master"], booths)
    with Workspace.open(workspace) as ws:
        with pytest.raises(SyncError, match="no longer exists"):
            update_workspace(ws, office["master"], resolutions=[Resolution("toilets", "nope", "name", "office")])
        assert ws.layer("toilets").version == 1 and "booths" not in ws.definitions  # the object's, and the file's
        columns = [r[1] for r in ws.connection.execute("PRAGMA table_info(toilets)")]
        assert "community" in columns and "cleaner" not in columns
        assert ws.connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'booths'").fetchone() is None
    with Workspace.open(workspace) as ws:
        result = update_workspace(ws, office["master"])
        assert result.definitions == ["layer toilets definition version 1 -> 2",
                                      "layer booths added (definition version 1)"]
        assert "booths" in ws.setting(SETTINGS["layers"]) and ws.layer("toilets").version == 2
