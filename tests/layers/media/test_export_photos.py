"""Photos go out in exports: GeoPackage related tables (validator-clean, GDAL lists the relationship)."""

import sqlite3
import subprocess

from layers.media import add_photos
from layers.media.tables import mapping_table, media_data, photo_links
from layers.sync.export import export
from tests.layers.media.gdal_relations import relationships
from tests.layers.media.images import PDF, jpeg, png
from tests.layers.test_gpkg import assert_valid


def _with_photos(ws, tmp_path):
    (tmp_path / "a.jpg").write_bytes(jpeg())
    (tmp_path / "b.png").write_bytes(png())
    (tmp_path / "p.pdf").write_bytes(PDF)
    toilets = list(ws.features("toilets"))[:2]
    sign = next(ws.features("signboards"))
    add_photos(ws, "toilets", toilets[0].uuid, [tmp_path / "a.jpg", tmp_path / "b.png"])
    add_photos(ws, "toilets", toilets[1].uuid, [tmp_path / "a.jpg"])
    add_photos(ws, "signboards", sign.uuid, [tmp_path / "p.pdf"])
    return toilets, sign


def test_geopackage_export_writes_the_related_tables(demo_workspace, tmp_path):
    ws = demo_workspace
    toilets, sign = _with_photos(ws, tmp_path)
    out = tmp_path / "partner.gpkg"
    result = export(ws.path, out)
    assert result.photos == 4
    features = assert_valid(out)  # GDAL's strict validator, and fiona reads every layer
    assert len(features["media"]) == 3
    con = sqlite3.connect(out)
    relations = con.execute("SELECT base_table_name, base_primary_column, related_table_name, "
                            "related_primary_column, relation_name, mapping_table_name "
                            "FROM gpkgext_relations ORDER BY id").fetchall()
    assert relations == [("toilets", "fid", "media", "id", "media", "toilets_media"),
                         ("signboards", "fid", "media", "id", "media", "signboards_media")]
    extensions = {r[0] for r in con.execute(
        "SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_related_tables'")}
    assert extensions == {"gpkgext_relations", "toilets_media", "signboards_media"}
    # base_id is the feature's fid in the export, related_id the media row: what GDAL and QGIS follow
    joined = con.execute(f"SELECT t.uuid, p.sha256 FROM {mapping_table('toilets')} m "
                         "JOIN toilets t ON t.fid = m.base_id JOIN media p ON p.id = m.related_id").fetchall()
    assert sorted(joined) == sorted((link.uuid, link.sha256) for link in photo_links(ws.connection, layer="toilets"))
    links = list(photo_links(con))
    assert media_data(con, links[0].sha256) == jpeg()
    con.close()
    assert relationships(str(out)) == {  # GDAL's reading, what QGIS shows
        "toilets_media_media": {"left": "toilets", "right": "media", "mapping": "toilets_media", "type": "media"},
        "signboards_media_media": {"left": "signboards", "right": "media", "mapping": "signboards_media",
                                   "type": "media"}}
    listed = subprocess.run(["ogrinfo", "-ro", "-q", str(out)], capture_output=True, text=True, check=True).stdout
    assert "media (None)" in listed and "toilets_media (None)" in listed


def test_a_filtered_export_carries_only_the_exported_features_photos(demo_workspace, tmp_path):
    ws = demo_workspace
    toilets, sign = _with_photos(ws, tmp_path)
    out = tmp_path / "one.gpkg"
    export(ws.path, out, layers=["toilets"], where=f"uuid = '{toilets[1].uuid}'")
    assert_valid(out)
    con = sqlite3.connect(out)
    assert [(link.uuid, link.layer) for link in photo_links(con)] == [(toilets[1].uuid, "toilets")]
    assert con.execute("SELECT count(*) FROM media").fetchone()[0] == 1
    con.close()


def test_an_export_without_photos_has_no_related_tables(demo_workspace, tmp_path):
    out = tmp_path / "plain.gpkg"
    export(demo_workspace.path, out)
    con = sqlite3.connect(out)
    assert con.execute("SELECT 1 FROM sqlite_master WHERE name IN ('media', 'gpkgext_relations')").fetchall() == []
    con.close()


def test_other_formats_get_a_folder_of_files_named_by_hash_and_a_column_of_relative_paths(demo_workspace, tmp_path):
    import csv
    import hashlib

    import fiona

    ws = demo_workspace
    toilets, sign = _with_photos(ws, tmp_path)
    sha = {name: hashlib.sha256(data).hexdigest() for name, data in (("a", jpeg()), ("b", png()), ("p", PDF))}
    out = tmp_path / "partner"
    result = export(ws.path, out, fmt="GeoJSON")
    assert result.photos == 4
    with fiona.open(out / "toilets.geojson") as src:
        paths = {f.properties["uuid"]: f.properties["photo_files"] for f in src}
    assert paths[toilets[0].uuid] == f"photos/{sha['a']}.jpg;photos/{sha['b']}.png"
    assert paths[toilets[1].uuid] == f"photos/{sha['a']}.jpg"
    assert sum(1 for v in paths.values() if v) == 2
    with fiona.open(out / "signboards.geojson") as src:
        assert {f.properties["photo_files"] for f in src} == {None, f"photos/{sha['p']}.pdf"}
    with fiona.open(out / "kiosks.geojson") as src:  # a layer without photos gets no column
        assert "photo_files" not in src.schema["properties"]
    for value in [*paths.values(), f"photos/{sha['p']}.pdf"]:
        for relative in filter(None, (value or "").split(";")):
            data = (out / relative).read_bytes()
            assert hashlib.sha256(data).hexdigest() == relative.split("/")[1].split(".")[0]

    one = tmp_path / "one.csv"  # a single file: the folder is named after it
    export(ws.path, one, layers=["toilets"], where=f"uuid = '{toilets[1].uuid}'")
    with open(one, encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [r["photo_files"] for r in rows] == [f"one_photos/{sha['a']}.jpg"]
    assert [p.name for p in (tmp_path / "one_photos").iterdir()] == [f"{sha['a']}.jpg"]
    assert not list(tmp_path.glob(".*.tmp"))
