"""Bulk writes into a PostGIS master (COPY, one UPDATE per set of columns) keep every value type exactly."""

import psycopg
from shapely import Point

from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.postgis.loading import ewkb_hex
from layers.workspace.store import Workspace
from tests.postgis.test_master import edit, rows_of, twin  # noqa: F401  (fixture)


def test_updates_inserts_and_deletes_of_every_field_type_match_the_geopackage_master(twin, tmp_path):  # noqa: F811
    gpkg, url = twin
    checkout(url, tmp_path / "w.sqlite", user="张三")
    kiosks, toilets = list(rows_of(url, "kiosks")), list(rows_of(url, "toilets"))
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        edit(ws, kiosks[0], "kiosks", license_expiry="2027-03-31", area_m2=12.5)   # date, real
        edit(ws, kiosks[1], "kiosks", area_m2=7, license_expiry=None)               # an int into a real; a NULL
        edit(ws, kiosks[2], "kiosks", geometry=Point(401234.5, 3391234.25), goods="报刊 'quoted' \\ \t tab")
        edit(ws, toilets[0], open_24h=1, accessible=0, seats_male=12)                # booleans, integer
        ws.delete("kiosks", ws.find("kiosks", kiosks[3]).fid)
        ws.insert("kiosks", {"name": "新亭", "district": "锦江区", "license_expiry": "2028-01-01", "area_m2": 3.25},
                  Point(402000, 3392000))
        write_changes(ws, tmp_path / "p.gpkg")
    for master in (gpkg, url):
        result = apply_package(master, tmp_path / "p.gpkg")
        assert result.layers["kiosks"].to_dict() == {"inserts": 1, "updates": 3, "deletes": 1, "conflicts": 0}
    for layer in ("kiosks", "toilets"):
        assert rows_of(url, layer) == rows_of(gpkg, layer)
    pg = rows_of(url, "kiosks")
    assert pg[kiosks[0]]["license_expiry"] == "2027-03-31" and pg[kiosks[1]]["area_m2"] == 7.0
    assert pg[kiosks[1]]["license_expiry"] is None and kiosks[3] not in pg
    assert rows_of(url)[toilets[0]]["open_24h"] == 1 and rows_of(url)[toilets[0]]["accessible"] == 0
    with psycopg.connect(url) as con:
        assert con.execute("SELECT count(*), min(version) FROM tongcheng_deleted").fetchone() == (1, 2)
        assert con.execute("SELECT count(*) FROM tongcheng_history").fetchone()[0] == 6


def test_layer_tables_have_their_keys_and_indexes_and_room_for_updates(twin):  # noqa: F811
    _, url = twin
    with psycopg.connect(url) as con:
        indexes = {r[0] for r in con.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'kiosks'")}
        assert any("UNIQUE INDEX kiosks_pkey" in i and "(fid)" in i for i in indexes), indexes
        assert any("UNIQUE INDEX kiosks_uuid_key" in i and "(uuid)" in i for i in indexes), indexes
        assert any("USING gist (geom)" in i for i in indexes), indexes
        assert con.execute("SELECT reloptions FROM pg_class WHERE relname = 'kiosks'").fetchone()[0] == \
            ["fillfactor=90"]
        # The copy kept the fids; new features continue after the largest.
        top = con.execute("SELECT max(fid) FROM kiosks").fetchone()[0]
        con.execute("INSERT INTO kiosks (uuid) VALUES ('x')")
        assert con.execute("SELECT fid FROM kiosks WHERE uuid = 'x'").fetchone()[0] == top + 1
        con.rollback()


def test_ewkb_of_any_wkb_is_what_postgis_reads(pg_url):
    import shapely

    shapes = [Point(1.5, 2), Point(1, 2, 3), shapely.from_wkt("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))"),
              shapely.from_wkt("LINESTRING Z (0 0 1, 1 1 2)")]
    wkbs = [shapely.to_wkb(s, flavor="iso") for s in shapes] + [shapely.to_wkb(shapes[0], byte_order=0), None]
    with psycopg.connect(pg_url) as con:
        for h, shape in zip(ewkb_hex(wkbs, 4544), [*shapes, shapes[0], None], strict=True):
            if shape is None:
                assert h is None
                continue
            srid, wkt = con.execute("SELECT ST_SRID(%s::geometry), ST_AsText(%s::geometry)", (h, h)).fetchone()
            assert srid == 4544 and shapely.from_wkt(wkt).equals(shape)


def test_copy_reads_any_geopackage_binary_a_tool_may_have_written(tmp_path, pg_url):
    """GDAL's points without an envelope, big-endian WKB, an empty point: the copy keeps each geometry."""
    import sqlite3
    import struct

    import shapely

    from layers.sync.copy import copy_master
    from layers.sync.rows import canonical
    from tests.factories import make_master

    gpkg = tmp_path / "m.gpkg"
    make_master(gpkg, {"toilets": 4, "signboards": 1, "kiosks": 1})
    shapes = [Point(401000.25, 3391000.5), Point(402000, 3392000), shapely.from_wkt("POINT EMPTY")]
    blobs = [struct.pack("<2sBBi", b"GP", 0, 0x01, 4544) + shapely.to_wkb(shapes[0], byte_order=1),  # no envelope
             struct.pack(">2sBBi4d", b"GP", 0, 0x02, 4544, 402000, 402000, 3392000, 3392000)  # big-endian
             + shapely.to_wkb(shapes[1], byte_order=0),
             struct.pack("<2sBBi", b"GP", 0, 0x11, 4544) + shapely.to_wkb(shapes[2], byte_order=1)]  # empty
    con = sqlite3.connect(gpkg)
    uuids = [r[0] for r in con.execute("SELECT uuid FROM toilets ORDER BY fid LIMIT 3")]
    for (trigger,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE "
                                  "'rtree_toilets_geom_update%'").fetchall():
        con.execute(f"DROP TRIGGER {trigger}")  # they call SpatiaLite's functions, which plain sqlite3 lacks
    for uuid, blob in zip(uuids, blobs, strict=True):
        con.execute("UPDATE toilets SET geom = ? WHERE uuid = ?", (blob, uuid))
    con.commit()
    con.close()
    copy_master(gpkg, pg_url)
    with psycopg.connect(pg_url) as con:
        for uuid, shape in zip(uuids, shapes, strict=True):
            wkt, srid = con.execute("SELECT ST_AsText(geom), ST_SRID(geom) FROM toilets WHERE uuid = %s",
                                    (uuid,)).fetchone()
            assert srid == 4544 and shapely.from_wkt(wkt).equals(shape) or (shape.is_empty and "EMPTY" in wkt)
    def same_shapes(rows):
        return {k: {**r, "geom": canonical([r["geom"]])[0]} for k, r in rows.items()}

    assert same_shapes(rows_of(pg_url)) == same_shapes(rows_of(gpkg))


def test_copy_keeps_awkward_text_and_every_double_exactly(tmp_path, pg_url):
    """``master copy`` streams rows through COPY's text format: tabs, newlines, backslashes and ``\\.`` in
    text, NULL against the empty text, and doubles whose shortest form needs 17 digits arrive as they were."""
    import random
    import struct

    from layers.geopackage import open_geopackage
    from layers.sync.copy import copy_master
    from tests.factories import make_master

    gpkg = tmp_path / "m.gpkg"
    make_master(gpkg, {"toilets": 2, "signboards": 1, "kiosks": 40})
    rng = random.Random(7)
    doubles = [0.1, 1 / 3, 1e-300, 5e-324, 123456789.12345679, 2.0 ** 60, 1.7976931348623157e308]
    doubles += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(62)))[0] for _ in range(30)]
    texts = ["tab\there", "line\nbreak", "back\\slash \\N", "cr\rlf\r\n", "", None, "\\.", "名称\t'引号'\""]
    with open_geopackage(gpkg, "a") as gp:  # with SpatiaLite: the R-tree triggers call it
        con = gp.connection
        uuids = [r[0] for r in con.execute("SELECT uuid FROM kiosks ORDER BY fid")]
        for i, uuid in enumerate(uuids[:len(doubles)]):
            con.execute("UPDATE kiosks SET area_m2 = ?, goods = ? WHERE uuid = ?",
                        (doubles[i], texts[i % len(texts)], uuid))
    copy_master(gpkg, pg_url)
    ours, theirs = rows_of(pg_url, "kiosks"), rows_of(gpkg, "kiosks")
    assert ours == theirs
    for i, uuid in enumerate(uuids[:len(doubles)]):
        assert struct.pack("<d", ours[uuid]["area_m2"]) == struct.pack("<d", doubles[i])  # bit for bit
        assert ours[uuid]["goods"] == texts[i % len(texts)]
