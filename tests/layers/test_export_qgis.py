"""QGIS itself (Debian's python3-qgis, installed by setup.sh) opens the exported files as a partner would: the
.csvt is accepted (no 'not correctly formatted' message, types from it), the .qml beside each layer is applied on
open (categories, labels, aliases, value maps), the Shapefile's short names carry the full fields' aliases."""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from layers.sync.export import export
from layers.sync.master import create_master

SCRIPT = Path(__file__).parent / "qgis" / "load_layers.py"
QGIS_PYTHON = "/usr/bin/python3"


def qgis_open(*layers):
    """What QGIS made of each (uri, provider)."""
    arguments = [str(part) for layer in layers for part in layer]
    runtime = tempfile.mkdtemp(prefix="qgis-runtime-")  # mode 0700, as Qt wants
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": runtime}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([QGIS_PYTHON, str(SCRIPT), *arguments], capture_output=True, text=True, env=env,
                          timeout=300)
    shutil.rmtree(runtime, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qgis")
    master = folder / "master.gpkg"
    create_master(master, demo=True, counts={"toilets": 30, "signboards": 10, "kiosks": 10})
    out = {fmt: export(master, folder / fmt.split()[-1], fmt=fmt, language="en", keep_audit=fmt == "CSV")
           for fmt in ("CSV", "GeoJSON", "FlatGeobuf", "ESRI Shapefile")}
    out["GPKG"] = export(master, folder / "partners.gpkg", language="en")
    return out


def test_qgis_opens_every_format_with_its_style(exports):
    csv_file = exports["CSV"].folder / "toilets.csv"
    layers = [(f"file://{csv_file}?type=csv&xField=X&yField=Y&crs=EPSG:4544", "delimitedtext")]
    for fmt in ("GeoJSON", "FlatGeobuf", "ESRI Shapefile"):
        layers.append((next(p for p in exports[fmt].files if p.stem == "toilets"), "ogr"))
    layers.append((f"{exports['GPKG'].files[0]}|layername=toilets", "ogr"))
    opened = qgis_open(*layers)
    assert len(opened) == 5
    for layer in opened:
        assert layer["valid"] and layer["count"] == 30, layer["uri"]
        assert layer["renderer"] == "categorizedSymbol" and layer["attribute"] == "status"
        assert layer["categories"] == ["In use", "Out of use", "Under construction", "Removed", "Other"]
        assert layer["labels"] and layer["label_field"] == "name"
        assert layer["widgets"]["status"] == "ValueMap" and layer["widgets"]["district"] == "ValueMap"
        assert layer["aliases"]["name"] == "Name" and layer["aliases"]["uuid"] == "Unique identifier"
        assert not [m for m in layer["messages"] if "csvt" in m.lower()], layer["messages"]
    csv_layer, geojson, fgb, shp, gpkg = opened
    # The .csvt was read: a text column of digits would otherwise become a number, and dates stay dates.
    assert csv_layer["fields"]["seats_male"] == "integer" and csv_layer["fields"]["last_inspected"] == "date"
    assert csv_layer["fields"]["created_at"] == "datetime" and csv_layer["fields"]["open_24h"] == "integer"
    assert csv_layer["widgets"]["open_24h"] == "CheckBox" and csv_layer["crs"] == "EPSG:4544"
    assert geojson["fields"]["last_inspected"] == "date" and fgb["fields"]["last_inspected"] == "datetime"
    assert shp["aliases"]["last_inspe"] == "Last inspected" and shp["widgets"]["open_24h"] == "CheckBox"
    assert shp["fields"]["last_inspe"] == "date"
    assert gpkg["fields"]["last_inspected"] == "date"


def test_qgis_refuses_the_csvt_gdal_writes_itself(exports, tmp_path):
    """The reason for our own .csvt: the same file with GDAL's CoordX/CoordY words is refused by QGIS."""
    source = exports["CSV"].folder / "kiosks.csv"
    copy = tmp_path / "kiosks.csv"
    copy.write_bytes(source.read_bytes())
    ours = source.with_suffix(".csvt").read_text("utf-8")
    copy.with_suffix(".csvt").write_text(ours.replace('"Real","Real"', '"CoordX","CoordY"', 1), "utf-8")
    (layer,) = qgis_open((f"file://{copy}?type=csv&xField=X&yField=Y&crs=EPSG:4544", "delimitedtext"))
    assert any("not correctly formatted" in m for m in layer["messages"])
