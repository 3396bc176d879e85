"""Component codes (部件标识码, issue 14): blocks per checkout, renumbering on apply, standalone workspaces."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest
from shapely.geometry import Point

from layers.errors import ValidationError
from layers.schema.components import split_code
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.codes import BLOCKS_TABLE
from layers.sync.master import create_master
from layers.sync.update import update_workspace
from layers.workspace.editing import EditSession
from layers.workspace.numbering import numbering
from layers.workspace.store import Workspace
from tests.factories import checked_out, copy_master, in_district

COUNTS = {"toilets": 20, "signboards": 20, "kiosks": 10}
TONGCHENG = [sys.executable, "-m", "layers.cli.main"]


def run(*args):
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run([*TONGCHENG, *map(str, args)], capture_output=True, text=True, env=env)


def master_codes(master):
    """Every component code in the master, all layers (None for a feature without one)."""
    with sqlite3.connect(master) as con:
        return [r[0] for layer in ("toilets", "signboards", "kiosks")
                for r in con.execute(f"SELECT component_code FROM {layer}")]


def blocks(master, holder=None, district="510104"):
    """(class, first, last, holder, purpose) of the blocks of one district (None: all), oldest first."""
    with sqlite3.connect(master) as con:
        rows = con.execute(f"SELECT component_class, first_serial, last_serial, holder, purpose, district "
                           f"FROM {BLOCKS_TABLE} ORDER BY fid").fetchall()
    return [r[:5] for r in rows if (holder is None or r[3] == holder) and (district is None or r[5] == district)]


def add(ws, layer, n, district="510104", **values):
    """Insert n features in a demo district (锦江区 by default); their codes."""
    required = {"toilets": {"name": "新公厕"}, "kiosks": {"name": "新亭"},
                "signboards": {"business_name": "新招牌", "kind": "店招牌匾", "owner_contact": "13800000000"}}[layer]
    return [ws.insert(layer, {**required, "district": "锦江区", **values}, in_district(district, i + 1))
            .attributes["component_code"] for i in range(n)]


def test_two_offline_laptops_never_make_the_same_code(master, tmp_path):
    a = checked_out(master, tmp_path / "a.sqlite", user="甲", code_block=5)
    b = checked_out(master, tmp_path / "b.sqlite", user="乙", code_block=5)
    with Workspace.open(a) as ws:
        a_toilets = add(ws, "toilets", 3)
        a_kiosks = add(ws, "kiosks", 2, kind="报刊亭") + add(ws, "kiosks", 1, kind="售货亭")
        a_id = ws.id
        write_changes(ws, tmp_path / "a.gpkg")
    with Workspace.open(b) as ws:
        b_toilets = add(ws, "toilets", 7)  # two more than its block holds
        b_id = ws.id
        write_changes(ws, tmp_path / "b.gpkg")
    made = [c for c in a_toilets + a_kiosks + b_toilets if c is not None]
    assert len(made) == len(set(made)) == 11  # offline, before any apply: already unique
    assert b_toilets[5:] == [None, None]  # block used up: waiting for the office
    assert [split_code(c)[1] for c in a_kiosks] == ["0121", "0121", "0125"]  # class by kind
    for holder, codes in ((a_id, a_toilets), (b_id, b_toilets[:5])):
        (cls, first, last, _, _), = [r for r in blocks(master, holder) if r[0] == "0301"]
        assert all(split_code(c)[0] == "510104" and first <= split_code(c)[2] <= last for c in codes)

    result_a = apply_package(master, tmp_path / "a.gpkg")
    result_b = apply_package(master, tmp_path / "b.gpkg", report=tmp_path / "b.json")
    assert result_a.renumbered == []
    assert sorted(r["reason"] for r in result_b.renumbered) == ["no code: the workspace's block of codes was "
                                                                 "used up"] * 2
    codes = master_codes(master)
    assert None not in codes and len(codes) == len(set(codes)) == 50 + 6 + 7
    assert set(made) <= set(codes)  # the laptops' codes are kept
    given = [r["to"] for r in result_b.renumbered]
    # the office's serials for b's package: held by b's workspace, handed out after every checkout block
    office = [r for r in blocks(master, b_id) if r[4] == "apply"]
    assert [(r[0], r[2] - r[1] + 1) for r in office] == [("0301", 2)]
    assert sorted(split_code(c)[2] for c in given) == list(range(office[0][1], office[0][2] + 1))
    assert office[0][1] > max(r[2] for r in blocks(master) if r[0] == "0301" and r[4] != "apply")
    report = json.loads((tmp_path / "b.json").read_text("utf-8"))
    assert [r["to"] for r in report["renumbered"]] == given
    with Workspace.open(b) as ws:  # the office's codes come back with the update
        update_workspace(ws, master)
        assert sorted(f.attributes["component_code"] for f in ws.features("toilets")
                      if f.attributes["component_code"] in given) == sorted(given)
        assert ws.pending_changes()["toilets"] == {"insert": 0, "update": 0, "delete": 0}


def test_apply_reports_the_codes_the_office_gave_on_the_command_line(master, tmp_path):
    ws_path = checked_out(master, tmp_path / "w.sqlite", code_block=1)
    with Workspace.open(ws_path) as ws:
        assert add(ws, "toilets", 2)[1] is None
        write_changes(ws, tmp_path / "w.gpkg")
    before = blocks(master)
    dry = run("apply", master, tmp_path / "w.gpkg", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "renumbered  toilets" in dry.stderr and "no code -> 510104030100" in dry.stderr
    assert blocks(master) == before  # a dry run hands out nothing
    result = run("apply", master, tmp_path / "w.gpkg", "--report", tmp_path / "r.json")
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if line.startswith("renumbered"))
    code = line.split(" -> ")[1].split()[0]
    assert code in master_codes(master)
    assert json.loads((tmp_path / "r.json").read_text("utf-8"))["renumbered"][0]["to"] == code


def test_a_code_already_in_the_master_is_renumbered_and_an_unused_one_is_kept(master, tmp_path):
    taken = master_codes(master)[0]
    district, cls, _ = split_code(taken)
    unused = f"{district}{cls}900000"
    ws_path = checked_out(master, tmp_path / "w.sqlite")
    with Workspace.open(ws_path) as ws:  # e.g. an imported inventory that brought its own codes
        add(ws, "toilets", 1, component_code=taken, name="旧编码公厕")
        add(ws, "toilets", 1, component_code=unused, name="外来编码公厕")
        write_changes(ws, tmp_path / "w.gpkg")
    result = apply_package(master, tmp_path / "w.gpkg")
    assert [(r["from"], r["reason"]) for r in result.renumbered] == [(taken, "code already given to another feature")]
    codes = master_codes(master)
    assert unused in codes and len(codes) == len(set(codes))
    assert ("0301", 900000, 900000) in [r[:3] for r in blocks(master, district=district)]  # nobody gets it later
    later = checked_out(master, tmp_path / "later.sqlite", code_block=3)
    with Workspace.open(later) as ws:
        block, = [b for b in numbering(ws).blocks if (b.district, b.component_class) == (district, "0301")]
        assert block.first > 900000


def test_an_update_never_changes_a_code(master, tmp_path):
    ws_path = checked_out(master, tmp_path / "w.sqlite")
    with Workspace.open(ws_path) as ws:
        feature = next(ws.features("toilets"))
        code = feature.attributes["component_code"]
        with pytest.raises(ValidationError, match="a component code never changes"):
            ws.update("toilets", feature.fid, {"component_code": code[:-1] + ("1" if code[-1] != "1" else "2")})
        session = EditSession(ws)
        with pytest.raises(ValidationError, match="never changes"):
            session.change_attributes("toilets", feature.fid, {"component_code": "5101040301999999"})
        assert not session.is_dirty
        ws.connection.execute("UPDATE toilets SET component_code = '5101040301999998' WHERE fid = ?", (feature.fid,))
        write_changes(ws, tmp_path / "w.gpkg")  # another tool changed it behind Tongcheng's back
    result = apply_package(master, tmp_path / "w.gpkg")
    assert result.renumbered[0]["from"] == "5101040301999998" and result.renumbered[0]["to"] is None
    assert code in master_codes(master) and "5101040301999998" not in master_codes(master)


def test_standalone_workspace_numbers_from_its_own_range(tmp_path):
    path = tmp_path / "own.sqlite"
    made = run("init", path, "--district", "510104", "--serials", "100-101")
    assert made.returncode == 0, made.stderr
    assert "standalone, district 510104, serials 000100-000101" in made.stdout
    with Workspace.open(path) as ws:
        point = Point(410_000, 3_392_000)
        codes = [ws.insert("toilets", {"name": f"公厕{i}", "district": "锦江区"}, point).attributes["component_code"]
                 for i in range(3)]
        kiosk = ws.insert("kiosks", {"name": "亭", "district": "锦江区", "kind": "信息亭"}, point)
    assert codes == ["5101040301000100", "5101040301000101", None]
    assert kiosk.attributes["component_code"] == "5101040124000100"  # each class has its own serials
    info = run("info", path)
    assert "standalone" in info.stdout and "toilets: 1 features without a component code" in info.stdout
    codes_json = json.loads(run("codes", path, "--json").stdout)
    assert codes_json["classes"]["0301"] == {"serials": 2, "given": 2, "left": 0}


def test_init_without_a_district_gives_no_codes_and_says_so(tmp_path):
    path = tmp_path / "plain.sqlite"
    made = run("init", path)
    assert made.returncode == 0 and "component codes: none given here" in made.stdout
    with Workspace.open(path) as ws:
        assert ws.insert("toilets", {"name": "公厕", "district": "锦江区"},
                         Point(410_000, 3_392_000)).attributes["component_code"] is None
    bad = run("init", tmp_path / "bad.sqlite", "--district", "51010")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "51010" in bad.stderr
    assert not (tmp_path / "bad.sqlite").exists()


def test_a_master_without_a_district_numbers_once_it_has_one(tmp_path):
    master = tmp_path / "m.gpkg"
    create_master(master)  # init without --district
    ws_path = checked_out(master, tmp_path / "w.sqlite")
    with Workspace.open(ws_path) as ws:
        assert not numbering(ws).active
        ws.insert("toilets", {"name": "公厕", "district": "锦江区"}, Point(410_000, 3_392_000))
        write_changes(ws, tmp_path / "w.gpkg")
    assert apply_package(master, tmp_path / "w.gpkg").renumbered == []
    assert master_codes(master) == [None]
    shown = run("codes", master)
    assert "no district code" in shown.stdout and "toilets: 1 features without a component code" in shown.stdout
    given = run("codes", master, "--district", "510104", "--assign-missing")
    assert given.returncode == 0, given.stderr
    assert "gave 1 features their codes" in given.stdout and master_codes(master) == ["5101040301000001"]
    again = run("codes", master, "--district", "510105")
    assert again.returncode == 1 and "510104 already" in again.stderr


def test_checkout_reserves_a_block_per_class_of_the_layers_taken(master_file, tmp_path):
    master = copy_master(master_file, tmp_path)
    checked_out(master, tmp_path / "k.sqlite", layers=["kiosks"], code_block=7)
    with Workspace.open(tmp_path / "k.sqlite") as ws:
        state, workspace_id = numbering(ws), ws.id
    assert state.district == "510104" and state.kind == "checkout"
    districts = ["510104", "510105", "510106", "510107", "510108"]  # the whole master: every district of it
    assert sorted((b.district, b.component_class) for b in state.blocks) == [
        (d, c) for d in districts for c in ["0121", "0124", "0125", "0190"]]
    assert all(b.last - b.first + 1 == 7 for b in state.blocks)
    assert {(b.district, b.component_class, b.first, b.last) for b in state.blocks} == {
        (d, r[0], r[1], r[2]) for d in districts for r in blocks(master, workspace_id, d)}


def test_a_master_that_lost_its_blocks_never_hands_out_a_serial_in_use(master, tmp_path):
    with sqlite3.connect(master) as con:  # as a copy of the master that did not carry the table would be
        con.execute(f"DELETE FROM {BLOCKS_TABLE}")
    checked_out(master, tmp_path / "w.sqlite", code_block=3)
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        block, = [b for b in numbering(ws).blocks if b.component_class == "0301" and b.district == "510104"]
    highest = max(split_code(c)[2] for c in master_codes(master) if split_code(c)[:2] == ("510104", "0301"))
    assert block.first == highest + 1
