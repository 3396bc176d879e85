"""Partners' files as good as the GeoPackage: types read back by fiona and GDAL's ogrinfo in every format, the
.csvt QGIS and GDAL accept, a .qml beside each layer, the code-list and fields tables, rounded coordinates,
folders named as folders and replaced whole."""

import csv
import json
import re
import subprocess
import sys
import xml.dom.minidom

import fiona
import pyproj
import pytest
from shapely.geometry import shape

from layers.errors import SyncError
from layers.geopackage import open_geopackage
from layers.schema.definitions import DEFINITIONS_FOLDER
from layers.sync.export import FORMATS, LIMITS, export
from layers.sync.master import create_master

COUNTS = {"toilets": 40, "signboards": 30, "kiosks": 10}
ONE_FILE = [f for f in FORMATS if f != "GPKG"]
#: The .csvt words QGIS 3.22's delimited-text provider accepts (its csvt pattern; CoordX, WKT, Integer(Boolean)
#: and Boolean make it drop the whole line, checked by tests/layers/test_export_qgis.py with QGIS itself).
QGIS_322_CSVT = re.compile(r'^(?:\s*("?)(?:integer|real|double|long|longlong|int8|string|date|datetime|time)'
                           r'(?:\(\d+(?:\.\d+)?\))?\1\s*(?:,|$))+$', re.IGNORECASE)


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    path = tmp_path_factory.mktemp("formats") / "master.gpkg"
    create_master(path, user="office", demo=True, counts=COUNTS)
    return path


@pytest.fixture(scope="module")
def exported(master, tmp_path_factory):
    """Every one-layer-per-file format, all facility layers with the audit columns, into a folder each."""
    folder = tmp_path_factory.mktemp("exports")
    return {fmt: export(master, folder / fmt.split()[-1].lower(), fmt=fmt, keep_audit=True) for fmt in ONE_FILE}


def master_rows(path, layer="toilets"):
    with open_geopackage(path) as gp:
        return {r["uuid"]: r for r in gp.rows(layer)}


def read_layer(path):
    options = {"X_POSSIBLE_NAMES": "X", "Y_POSSIBLE_NAMES": "Y"} if path.suffix == ".csv" else {}
    with fiona.open(path, **options) as src:
        return src.schema["properties"], list(src)


def ogr_types(path):
    """Field name -> type as GDAL's own ogrinfo (the system's GDAL, the one QGIS uses) reads it."""
    text = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return dict(re.findall(r"^(\w+): (\S+) \(", text, re.MULTILINE))


#: Per format: (fiona type of a date, of a boolean, of a date-time; ogrinfo's type of a date, of a boolean).
EXPECTED_TYPES = {
    "GeoJSON": ("date", "bool", "datetime", "Date", "Integer(Boolean)"),
    "CSV": ("date", "int32", "datetime", "Date", "Integer"),
    "FlatGeobuf": ("datetime", "bool", "datetime", "DateTime", "Integer(Boolean)"),
    "ESRI Shapefile": ("date", "int32:1", "str:254", "Date", "Integer"),
}


@pytest.mark.parametrize("fmt", ONE_FILE)
def test_every_format_keeps_its_types_and_values(master, exported, fmt):
    result = exported[fmt]
    assert result.limits == LIMITS[fmt] and result.limits
    path = next(p for p in result.files if p.stem == "toilets")
    properties, features = read_layer(path)
    short = result.renamed.get("toilets", {})

    def column(name):
        return short.get(name, name)

    date_type, bool_type, datetime_type, ogr_date, ogr_bool = EXPECTED_TYPES[fmt]
    assert properties[column("last_inspected")] == date_type
    assert properties[column("open_24h")] == bool_type
    assert properties[column("created_at")] == datetime_type
    assert properties[column("seats_male")].split(":")[0] in ("int32", "int64", "int")
    assert properties["name"].startswith("str")
    ogr = ogr_types(path)
    assert ogr[column("last_inspected")] == ogr_date and ogr[column("open_24h")] == ogr_bool
    source = master_rows(master)
    assert len(features) == len(source) == COUNTS["toilets"]
    transformer = pyproj.Transformer.from_crs("EPSG:4544", "EPSG:4326", always_xy=True)
    assert any(r["open_24h"] for r in source.values()) and any(r["last_inspected"] for r in source.values())
    for f in features:
        props = f["properties"]
        row = source[props["uuid"]]
        assert props["name"] == row["name"] and props[column("district")] == row["district"]
        assert props[column("seats_male")] == row["seats_male"]
        assert props[column("open_24h")] == row["open_24h"] and type(props[column("open_24h")]) is (
            bool if bool_type == "bool" else int)
        inspected = props[column("last_inspected")]
        assert (inspected[:10] if inspected else None) == row["last_inspected"]
        if fmt == "FlatGeobuf" and inspected:
            assert inspected.endswith("T00:00:00")
        assert props[column("created_at")][:19] == row["created_at"][:19]
        geom = shape(f["geometry"])
        if fmt == "GeoJSON":
            x, y = transformer.transform(row["geom"].x, row["geom"].y)
            assert (geom.x, geom.y) == pytest.approx((round(x, 7), round(y, 7)), abs=1e-12)
        else:
            assert (geom.x, geom.y) == pytest.approx((round(row["geom"].x, 2), round(row["geom"].y, 2)), abs=1e-9)


def test_geojson_carries_no_more_decimals_than_the_layer_precision(exported):
    text = next(p for p in exported["GeoJSON"].files if p.stem == "toilets").read_text("utf-8")
    numbers = re.findall(r"\[ (-?\d+\.?\d*), (-?\d+\.?\d*) \]", text)
    assert len(numbers) == COUNTS["toilets"]
    assert max(len(n.split(".")[1]) if "." in n else 0 for pair in numbers for n in pair) <= 7


def test_csvt_is_accepted_by_qgis_and_gdal(exported):
    result = exported["CSV"]
    for path in result.files:
        line = path.with_suffix(".csvt").read_text("utf-8").strip()
        assert QGIS_322_CSVT.match(line), line
        header = path.read_text("utf-8-sig").splitlines()[0].split(",")
        assert len(line.split(",")) == len(header)
    toilets = next(p for p in result.files if p.stem == "toilets")
    assert toilets.with_suffix(".csvt").read_text("utf-8").startswith('"Real","Real","String"')  # X, Y, uuid
    ogr = ogr_types(toilets)  # GDAL reads the .csvt: without it every column would be String
    assert ogr["seats_male"] == "Integer" and ogr["X"] == "Real" and ogr["last_inspected"] == "Date"
    assert ogr["created_at"] == "DateTime"


def test_shapefile_names_map_back_to_the_full_ones(exported):
    result = exported["ESRI Shapefile"]
    assert result.renamed["toilets"]["last_inspected"] == "last_inspe"
    with open(result.folder / "fields.csv", encoding="utf-8-sig") as f:
        rows = [r for r in csv.DictReader(f) if r["layer"] == "toilets"]
    by_column = {r["column"]: r for r in rows}
    assert by_column["last_inspe"]["field"] == "last_inspected" and by_column["last_inspe"]["zh_CN"] == "最近巡查日期"
    assert by_column["open_24h"]["type"] == "boolean" and by_column["open_24h"]["stored_as"] == "integer"
    assert by_column["uuid"]["en"] == "Unique identifier"
    dbf_columns = list(read_layer(result.folder / "toilets.shp")[0])
    assert [r["column"] for r in rows] == dbf_columns


def qml_of(path, fmt):
    return xml.dom.minidom.parse(str(path.with_suffix(".qml")))


@pytest.mark.parametrize("fmt", ONE_FILE)
def test_a_qml_beside_every_layer_with_categories_labels_and_aliases(exported, fmt):
    result = exported[fmt]
    short = result.renamed.get("toilets", {})
    for path in result.files:
        assert path.with_suffix(".qml").is_file()
    toilets = next(p for p in result.files if p.stem == "toilets")
    dom = qml_of(toilets, fmt)
    renderer = dom.getElementsByTagName("renderer-v2")[0]
    assert renderer.getAttribute("type") == "categorizedSymbol" and renderer.getAttribute("attr") == "status"
    labels = [c.getAttribute("label") for c in dom.getElementsByTagName("category")]
    assert labels == ["在用", "停用", "在建", "拆除", "其他"]
    assert dom.documentElement.getAttribute("labelsEnabled") == "1"
    (style,) = dom.getElementsByTagName("text-style")
    assert style.getAttribute("fieldName") == "name"
    aliases = {a.getAttribute("field"): a.getAttribute("name") for a in dom.getElementsByTagName("alias")}
    columns = list(read_layer(toilets)[0])
    assert set(aliases) == {c for c in columns if c not in ("X", "Y")}
    assert aliases[short.get("last_inspected", "last_inspected")] == "最近巡查日期"
    widgets = {f.getAttribute("name"): f.getElementsByTagName("editWidget")[0].getAttribute("type")
               for f in dom.getElementsByTagName("field")}
    assert widgets["status"] == "ValueMap" and widgets["district"] == "ValueMap"
    if fmt in ("CSV", "ESRI Shapefile"):  # booleans stored as 0/1 show as check boxes
        assert widgets["open_24h"] == "CheckBox"


def test_english_styles_and_tables(master, tmp_path):
    result = export(master, tmp_path / "en", fmt="ESRI Shapefile", layers=["toilets", "kiosks"], language="en")
    dom = qml_of(result.folder / "toilets.shp", "ESRI Shapefile")
    assert [c.getAttribute("label") for c in dom.getElementsByTagName("category")][:2] == ["In use", "Out of use"]
    aliases = {a.getAttribute("field"): a.getAttribute("name") for a in dom.getElementsByTagName("alias")}
    assert aliases["last_inspe"] == "Last inspected" and aliases["name"] == "Name"
    value_map = [o.getAttribute("name") for o in dom.getElementsByTagName("Option")
                 if o.getAttribute("value") == "锦江区"]
    assert value_map == ["Jinjiang"]
    gpkg = tmp_path / "en.gpkg"
    export(master, gpkg, layers=["toilets"], language="en")
    with open_geopackage(gpkg) as gp:
        qml = gp.styles("toilets")[0]["styleQML"]
        assert 'label="In use"' in qml and 'name="Opening hours"' in qml
        assert gp.connection.execute("SELECT identifier FROM gpkg_contents WHERE table_name = 'toilets'"
                                     ).fetchone()[0] == "Public toilets"
    with pytest.raises(SyncError, match="language 'fr'"):
        export(master, tmp_path / "fr.gpkg", language="fr")


def test_code_lists_go_with_every_export(master, exported, tmp_path):
    for fmt in ONE_FILE:
        with open(exported[fmt].folder / "code_lists.csv", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        assert {"layer": "toilets", "field": "status", "value": "在用", "zh_CN": "在用", "en": "In use"}.items() <= {
            **next(r for r in rows if r["layer"] == "toilets" and r["value"] == "在用")}.items()
        assert {r["layer"] for r in rows} == {*COUNTS, "inspections"}  # the inspections have code lists too
    out = tmp_path / "codes.gpkg"
    export(master, out, layers=["kiosks"])
    with open_geopackage(out) as gp:
        rows = list(gp.rows("code_lists"))
        fields = list(gp.rows("fields"))
    assert ("kiosks", "district", "锦江区", "锦江区", "Jinjiang") in {
        (r["layer"], r["field"], r["value"], r["zh_CN"], r["en"]) for r in rows}
    assert {r["layer"] for r in rows} == {"kiosks"} and fields[0]["field"] == "uuid"
    one = tmp_path / "t.csv"  # one layer to a named file: the tables are named after it
    export(master, one, layers=["toilets"])
    assert sorted(p.name for p in tmp_path.glob("t*")) == ["t.csv", "t.csvt", "t.qml", "t_code_lists.csv",
                                                         "t_fields.csv"]


def test_precision_is_a_definition_setting(tmp_path):
    folder = tmp_path / "definitions"
    folder.mkdir()
    for path in DEFINITIONS_FOLDER.glob("*.toml"):
        text = path.read_text("utf-8")
        if path.name == "kiosks.toml":
            text = text.replace("order = 30", "order = 30\n\n[precision]\nprojected = 0.5\ngeographic = 1e-5", 1)
        (folder / path.name).write_text(text, "utf-8")
    master = tmp_path / "m.gpkg"
    create_master(master, demo=True, counts={"kiosks": 20}, definitions_folder=folder)
    result = export(master, tmp_path / "k.fgb", layers=["kiosks"])
    for f in read_layer(result.files[0])[1]:
        x, y = f["geometry"]["coordinates"]
        assert x * 2 == round(x * 2) and y * 2 == round(y * 2)
    text = export(master, tmp_path / "k.geojson", layers=["kiosks"]).files[0].read_text("utf-8")
    assert max(len(n) for n in re.findall(r"\.(\d+)", text.split('"features"')[1])) <= 5


def test_several_layers_to_a_file_name_go_into_a_folder_named_as_a_folder(master, tmp_path):
    result = export(master, tmp_path / "out.geojson", layers=["toilets", "kiosks"])
    assert result.folder == tmp_path / "out" and not (tmp_path / "out.geojson").exists()
    assert sorted(p.name for p in result.folder.iterdir()) == [
        "code_lists.csv", "fields.csv", "kiosks.geojson", "kiosks.qml", "toilets.geojson", "toilets.qml"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left


def test_an_earlier_export_is_replaced_whole_and_a_foreign_folder_never(master, tmp_path):
    out = tmp_path / "partners"
    export(master, out, fmt="GeoJSON", layers=["toilets", "kiosks"])
    inode = out.stat().st_ino
    result = export(master, out, fmt="GeoJSON", layers=["signboards", "toilets"])
    assert sorted(p.name for p in out.iterdir()) == [
        "code_lists.csv", "fields.csv", "signboards.geojson", "signboards.qml", "toilets.geojson", "toilets.qml"]
    assert out.stat().st_ino != inode  # one rename of the staged folder, not file by file
    assert result.layers == {"signboards": COUNTS["signboards"], "toilets": COUNTS["toilets"]}
    assert [p.name for p in tmp_path.iterdir()] == ["partners"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", "utf-8")
    with pytest.raises(SyncError, match="mine: the folder holds other files"):
        export(master, mine, fmt="CSV")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    export(master, empty, fmt="CSV", layers=["kiosks"])
    assert (empty / "kiosks.csv").is_file()


def test_a_single_layer_export_replaces_its_own_files(master, tmp_path):
    out = tmp_path / "toilets.shp"
    export(master, out, layers=["toilets"])
    (tmp_path / "toilets.qix").write_bytes(b"stale index of the earlier file")
    export(master, out, layers=["toilets"], where="status = '在用'")
    assert not (tmp_path / "toilets.qix").exists()
    with fiona.open(out) as src:
        assert {f["properties"]["status"] for f in src} == {"在用"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_the_cli_says_what_the_format_cannot_hold(master, tmp_path):
    from layers.cli.main import main

    out = tmp_path / "cli"
    proc = subprocess.run([sys.executable, "-m", "layers.cli.main", "export", str(master), str(out) + ".shp",
                           "--language", "en"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote folder {out}" in proc.stdout
    assert "note: Shapefile names are cut to 10 characters" in proc.stdout
    assert "last_inspected -> last_inspe" in proc.stdout
    assert main(["export", str(master), str(tmp_path / "x.gpkg"), "--language", "en"]) == 0
    with open_geopackage(tmp_path / "x.gpkg") as gp:
        assert json.loads(gp.metadata()[0]["metadata"])["language"] == "en"
