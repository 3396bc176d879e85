"""Sources read a chunk at a time: the same rows as read whole, every chunk checked before anything is
written, the checked rows written as checked (in spatial order for a big load)."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import openpyxl
import pytest

from layers.imports import sources
from layers.imports.importer import apply_import, plan_import
from layers.imports.mapping import parse_mapping
from layers.imports.sources import open_source
from layers.workspace import bulk
from layers.workspace.store import Workspace

TONGCHENG = [sys.executable, "-m", "layers.cli.main"]
HEADER = ["名称", "状态", "区县", "男厕位", "经度", "纬度"]
MAPPING = {"source_crs": "EPSG:4326", "x": "经度", "y": "纬度",
           "fields": {"name": "名称", "status": "状态", "district": "区县", "seats_male": "男厕位"}}


def rows(count, seed=3):
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(103.95, 104.2, count), rng.uniform(30.55, 30.75, count)
    return [[f"公厕{i}", ["在用", "停用", "在建"][i % 3], ["锦江区", "青羊区"][i % 2], str(i % 20),
             f"{lon[i]:.7f}", f"{lat[i]:.7f}"] for i in range(count)]


def write_csv(path, records, blank_every=0):
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i, record in enumerate(records):
            if blank_every and i % blank_every == 0:
                f.write(",,,,,\n")  # a row with no value: left out, its number kept
            writer.writerow(record)
    return path


def stored(ws):
    names = ", ".join(f.name for f in ws.layer("toilets").fields)
    return ws.connection.execute(f"SELECT fid, {names}, created_by, AsText(geom) FROM toilets ORDER BY fid").fetchall()


def import_with_chunks(tmp_path, name, source_path, size, monkeypatch, **apply_args):
    monkeypatch.setattr(sources, "CHUNK_ROWS", size)
    with Workspace.create(tmp_path / name, user="张三") as ws:
        plan = plan_import(ws, "toilets", open_source(source_path), parse_mapping(MAPPING), keep_rows=False)
        problems = [(p.row, p.field, p.message) for p in plan.problems]
        result = apply_import(ws, plan, **apply_args)
        return problems, result, stored(ws), ws.pending_changes()["toilets"]


def test_a_csv_read_in_chunks_gives_the_rows_read_whole(tmp_path):
    records = rows(2500)
    records[1200][0] = "跨行\n的名称"  # a quoted value over two lines: one row
    path = write_csv(tmp_path / "t.csv", records, blank_every=400)
    whole = [(r.number, r.values) for r in open_source(path).rows]
    chunked = [(r.number, r.values) for chunk in open_source(path).chunks(7) for r in chunk.rows()]
    assert chunked == whole and len(whole) == 2500
    assert whole[0][0] == 3 and whole[-1][0] == 2500 + 7 + 1  # blank rows left out, numbers as in the file
    assert open_source(path).head(3) == open_source(path).rows[:3]


def test_an_xlsx_read_in_chunks_gives_the_rows_read_whole(tmp_path):
    path = tmp_path / "t.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["C3"] = "名称"  # the table starts at C3: rows and columns keep their places
    sheet["D3"] = "男厕位"
    for i in range(1000):
        sheet.cell(4 + i + i // 300, 3, f"公厕{i}")  # an empty row every 300
        sheet.cell(4 + i + i // 300, 4, float(i % 7) + (0.5 if i % 11 == 0 else 0.0))
    workbook.save(path)
    source = open_source(path)
    assert source.columns == ["column A", "column B", "名称", "男厕位"]
    whole = [(r.number, r.values) for r in source.rows]
    chunked = [(r.number, r.values) for chunk in open_source(path).chunks(13) for r in chunk.rows()]
    assert chunked == whole and len(whole) == 1000
    assert whole[0] == (4, {"column A": None, "column B": None, "名称": "公厕0", "男厕位": 0.5})
    assert whole[1][1]["男厕位"] == 1 and isinstance(whole[1][1]["男厕位"], int)  # whole numbers as int
    assert whole[-1][0] == 4 + 999 + 3


def test_an_import_in_small_chunks_writes_what_one_chunk_writes(tmp_path, monkeypatch):
    records = rows(2500)
    records[10][2] = "北京"          # bad rows, in the first and in a late chunk
    records[2300][4] = "东经104度"
    path = write_csv(tmp_path / "t.csv", records, blank_every=500)
    small = import_with_chunks(tmp_path, "small.sqlite", path, 300, monkeypatch, skip_invalid=True)
    whole = import_with_chunks(tmp_path, "whole.sqlite", path, 10**6, monkeypatch, skip_invalid=True)
    assert small == whole
    problems, result, features, changes = small
    assert [p[:2] for p in problems] == [(13, "district"), (2307, "geom")]
    assert (result.inserted, result.skipped) == (2498, 2) and len(features) == 2498
    assert changes["insert"] == 2498


def test_a_bad_row_in_a_late_chunk_stops_the_whole_import_before_anything_is_written(tmp_path):
    records = rows(6000)
    records[5800][3] = "-2"
    path = write_csv(tmp_path / "t.csv", records)
    ws_path = tmp_path / "ws.sqlite"
    Workspace.create(ws_path, user="张三").close()
    (tmp_path / "map.json").write_text(json.dumps(MAPPING, ensure_ascii=False), encoding="utf-8")
    mapping = tmp_path / "map.toml"
    mapping.write_text('source_crs = "EPSG:4326"\nx = "经度"\ny = "纬度"\n[fields]\nname = "名称"\nstatus = "状态"\n'
                       'district = "区县"\nseats_male = "男厕位"\n', encoding="utf-8")
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    result = subprocess.run([*TONGCHENG, "import", path, ws_path, "--layer", "toilets", "--mapping", mapping,
                             "--report", tmp_path / "report.json"], capture_output=True, text=True, env=env)
    assert result.returncode == 1, result.stderr
    assert "1 of 6000 rows break the rules" in result.stderr and "nothing was written" in result.stderr
    assert "row 5802: seats_male [男厕位] '-2'" in result.stdout
    with Workspace.open(ws_path) as ws:
        assert ws.count("toilets") == 0
        assert ws.pending_changes()["toilets"] == {"insert": 0, "update": 0, "delete": 0}
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert [p["row"] for p in report["problems"]] == [5802] and report["valid"] == 5999


def test_a_big_import_is_stored_in_spatial_order_as_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "SPATIAL_ORDER_MIN", 1000)
    records = rows(6000)
    path = write_csv(tmp_path / "t.csv", records)
    monkeypatch.setattr(sources, "CHUNK_ROWS", 700)
    with Workspace.create(tmp_path / "ws.sqlite", user="张三") as ws, \
            Workspace.create(tmp_path / "reference.sqlite", user="张三") as reference:
        plan = plan_import(ws, "toilets", open_source(path), parse_mapping(MAPPING), keep_rows=False)
        assert plan.rows == [] and plan.passed == plan.new == 6000
        assert apply_import(ws, plan).inserted == 6000
        # the same rows as the workspace's own bulk load of them (staged, then copied in spatial order)
        planned = plan_import(reference, "toilets", open_source(path), parse_mapping(MAPPING))
        reference.insert_many("toilets", [(r.attributes, r.geometry) for r in planned.rows])
        assert stored(ws) == stored(reference)
        fids = [f.fid for f in ws.features("toilets")]
        assert fids == list(range(1, 6001))
        names = [f.attributes["name"] for f in ws.features("toilets")]
        assert names != [r[0] for r in records]  # not the file's order
        assert ws.connection.execute("SELECT rtreecheck('idx_toilets_geom')").fetchone()[0] == "ok"


def test_a_closed_plan_writes_nothing(workspace, tmp_path):
    path = write_csv(tmp_path / "t.csv", rows(10))
    plan = plan_import(workspace, "toilets", open_source(path), parse_mapping(MAPPING))
    plan.close()
    from layers.imports import InventoryImportError

    with pytest.raises(InventoryImportError, match="closed"):
        apply_import(workspace, plan)
    assert workspace.count("toilets") == 0


def test_a_workbook_is_read_in_the_background_and_its_problems_said_when_its_columns_are_asked_for(tmp_path):
    from layers.imports import InventoryImportError

    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    source = open_source(path)  # at once: the sheet is read in the background
    with pytest.raises(InventoryImportError, match=r"empty\.xlsx: sheet 'Sheet' is empty"):
        print(source.columns)
    with pytest.raises(InventoryImportError, match="no sheet 'other'"):
        open_source(path, sheet="other")  # what the workbook's index says is said at once
