"""QGIS itself opens the inspections of a partner export: a GeoPackage table without geometry, with its aliases,
and the same records in the CSV beside the facilities'."""

from layers.inspections import add_inspection
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.export import export
from layers.workspace.store import Workspace
from tests.layers.test_export_qgis import qgis_open


def test_qgis_opens_the_inspections_table(master, tmp_path):
    checkout(master, tmp_path / "a.sqlite")
    with Workspace.open(tmp_path / "a.sqlite") as ws:
        for feature in list(ws.features("toilets"))[:3]:
            add_inspection(ws, "toilets", feature.uuid, condition="破损", defect="异味", description="气味大")
        apply_package(master, write_changes(ws, tmp_path / "a.gpkg").path)
    gpkg = export(master, tmp_path / "partners.gpkg", language="en").files[0]
    csv = next(p for p in export(master, tmp_path / "csv", fmt="CSV", language="en").files
               if p.stem == "inspections")
    opened = qgis_open((f"{gpkg}|layername=inspections", "ogr"), (f"file://{csv}?type=csv&geomType=none",
                                                                      "delimitedtext"))
    for layer in opened:
        assert layer["valid"] and layer["count"] == 3, layer
        assert {"uuid", "facility_uuid", "condition", "defect", "case_status"} <= set(layer["fields"])
    assert opened[0]["aliases"]["condition"] == "Condition" and opened[0]["renderer"] is None
