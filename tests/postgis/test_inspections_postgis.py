"""Inspections with a PostGIS master: they apply, the facility follows its latest inspection, and
``tongcheng inspections`` lists them as it lists a GeoPackage master's."""

import subprocess
import sys
from pathlib import Path

import pytest

from layers.inspections import add_inspection, list_inspections
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.copy import copy_master
from layers.sync.store import open_master
from layers.workspace.store import Workspace
from tests.factories import make_master

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def twin(pg_url, tmp_path):
    gpkg = tmp_path / "master.gpkg"
    make_master(gpkg, {"toilets": 20, "signboards": 10, "kiosks": 5})
    copy_master(gpkg, pg_url)
    return gpkg, pg_url


def test_inspections_apply_and_list_alike_in_postgis_and_geopackage(twin, tmp_path):
    gpkg, url = twin
    checkout(url, tmp_path / "a.sqlite", user="张三")
    with Workspace.open(tmp_path / "a.sqlite") as ws:
        toilet = next(ws.features("toilets"))
        kiosk = next(ws.features("kiosks"))
        add_inspection(ws, "toilets", toilet.uuid, condition="丢失", inspected_at="2026-05-01T09:00:00+08:00")
        add_inspection(ws, "kiosks", kiosk.uuid, condition="破损", defect="占道经营", case_status="派遣",
                       inspected_at="2026-05-02T09:00:00+08:00")
        package = write_changes(ws, tmp_path / "a.gpkg").path
    for master in (gpkg, url):
        result = apply_package(master, package)
        assert result.layers["inspections"].inserts == 2 and not result.conflicts
    listed = {str(m): [(r.uuid, r.layer, r.facility_label, r.case_status, r.values["inspected_at"])
                       for r in list_inspections(m)] for m in (gpkg, url)}
    assert listed[str(gpkg)] == listed[url] and len(listed[url]) == 2
    assert [r.case_status for r in list_inspections(url, statuses=["open"])] == ["发现", "派遣"]
    with open_master(url) as store:
        row = store.rows_by_uuid(store.info.definitions["toilets"], [toilet.uuid])[toilet.uuid]
    assert row["status"] == "拆除" and str(row["last_inspected"])[:10] == "2026-05-01"
    shown = subprocess.run([sys.executable, "-m", "layers.cli.main", "inspections", url, "--status", "dispatched"],
                           cwd=ROOT, capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    assert "占道经营" in shown.stdout and shown.stdout.strip().endswith("1 inspection(s), 1 open case(s)")
