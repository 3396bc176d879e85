"""Tests of layers.sync.merge: the pure three-way rules and the GeoPackage merge on GeoDiff's scenarios."""

import dataclasses
import json
import shutil

import pytest
import shapely
from shapely import Point

from layers.errors import GeoPackageError, SyncError
from layers.geopackage import Column, LayerSchema, open_geopackage
from layers.sync.files import merge_geopackages
from layers.sync.merge import (
    POLICY_SIDES,
    Conflict,
    Side,
    diff_rows,
    geometry_wkt,
    same_value,
    three_way,
)
from tests.conftest import TESTDATA as DATA_ROOT
from tests.layers.test_gpkg import assert_valid


def word(conflict):
    """A conflict's resolution in the generic-file words (theirs = office, ours = field)."""
    return {Side.OFFICE: "theirs", Side.FIELD: "ours", None: "unresolved"}[conflict.resolution]


TESTDATA = DATA_ROOT / "gpkg"

# (scenario folder, theirs = A, ours = B, GeoDiff's merged result)
SCENARIOS = {
    "2_deletes": ("deleted_A.gpkg", "deleted_B.gpkg", "merged_A_B.gpkg"),
    "2_inserts": ("inserted_1_A.gpkg", "inserted_1_B.gpkg", "merged_1_A_1_B.gpkg"),
    "2_updates": ("updated_A.gpkg", "updated_B.gpkg", "merged_1_A_1_B.gpkg"),
    "2_updates_2": ("updated_A.gpkg", "updated_B.gpkg", "merged_A_B.gpkg"),
}


@pytest.fixture
def data(tmp_path):
    """A writable copy of the GeoDiff test files."""
    target = tmp_path / "data"
    shutil.copytree(TESTDATA, target)
    for p in target.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return target


def wkb(geom):
    return None if geom is None else shapely.to_wkb(geom, flavor="iso", byte_order=1)


def content(row):
    return (row["name"], row["rating"], wkb(row["geometry"]))


def read_simple(path, layer="simple"):
    with open_geopackage(path) as gp:
        return list(gp.rows(layer))


# -- the four GeoDiff scenarios ------------------------------------------------

@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_scenario_matches_geodiff_merged_file(data, tmp_path, scenario):
    theirs, ours, expected = SCENARIOS[scenario]
    folder = data / scenario
    out, report = tmp_path / "merged.gpkg", tmp_path / "report.json"
    result = merge_geopackages(data / "base.gpkg", folder / theirs, folder / ours, out,
                               policy="ours", report=report)
    assert_valid(out)

    got, want = read_simple(out), read_simple(folder / expected)
    base_fids = {r["fid"] for r in read_simple(data / "base.gpkg")}
    # rows that existed in base: same fid, same attributes and geometry
    assert ({r["fid"]: content(r) for r in got if r["fid"] in base_fids}
            == {r["fid"]: content(r) for r in want if r["fid"] in base_fids})
    # all rows, inserted ones compared by content only
    assert sorted(map(content, got)) == sorted(map(content, want))

    expected_conflicts = [("simple", "fid", 2, "geometry")] if scenario == "2_updates" else []
    assert [(c.layer, c.key_field, c.uuid, c.field) for c in result.conflicts] == expected_conflicts
    written = json.loads(report.read_text(encoding="utf-8"))
    assert written == result.to_dict()
    assert [(c["layer"], c["key_field"], c["key"], c["field"])
            for c in written["conflicts"]] == expected_conflicts


def test_2_updates_conflict_keeps_all_three_geometries(data, tmp_path):
    folder = data / "2_updates"
    result = merge_geopackages(data / "base.gpkg", folder / "updated_A.gpkg",
                               folder / "updated_B.gpkg", tmp_path / "m.gpkg", policy="ours")
    (c,) = result.conflicts
    base, theirs, ours = (read_simple(p)[1]["geometry"] for p in (
        data / "base.gpkg", folder / "updated_A.gpkg", folder / "updated_B.gpkg"))
    assert (c.kind, word(c)) == ("update/update", "ours")
    assert same_value(c.base_value, base) and same_value(c.office_value, theirs) and same_value(c.field_value, ours)
    as_json = c.to_file_dict()
    assert shapely.from_wkt(as_json["theirs"]).equals_exact(theirs, 0)  # full precision WKT
    assert as_json["ours"] == "POINT (0.17529503857641995 2.046386323782231)"
    assert result.layers["simple"].conflicts == 1 and result.layers["simple"].updates == 1


def test_2_updates_with_policy_theirs_keeps_their_geometry(data, tmp_path):
    folder = data / "2_updates"
    out = tmp_path / "m.gpkg"
    result = merge_geopackages(data / "base.gpkg", folder / "updated_A.gpkg",
                               folder / "updated_B.gpkg", out, policy="theirs")
    assert_valid(out)
    row = read_simple(out)[1]
    assert row["rating"] == 9999
    assert same_value(row["geometry"], read_simple(folder / "updated_A.gpkg")[1]["geometry"])
    assert [word(c) for c in result.conflicts] == ["theirs"]
    assert result.unresolved == []


def test_2_updates_with_policy_manual_keeps_theirs_and_marks_unresolved(data, tmp_path):
    folder = data / "2_updates"
    out = tmp_path / "m.gpkg"
    result = merge_geopackages(data / "base.gpkg", folder / "updated_A.gpkg",
                               folder / "updated_B.gpkg", out, policy="manual")
    assert_valid(out)
    assert same_value(read_simple(out)[1]["geometry"],
                      read_simple(folder / "updated_A.gpkg")[1]["geometry"])
    assert [c.field for c in result.unresolved] == ["geometry"]


def test_2_inserts_counts_and_renumbering(data, tmp_path):
    folder = data / "2_inserts"
    result = merge_geopackages(data / "base.gpkg", folder / "inserted_1_A.gpkg",
                               folder / "inserted_1_B.gpkg", tmp_path / "m.gpkg", policy="ours")
    counts = result.layers["simple"]
    assert (counts.key_field, counts.inserts, counts.updates, counts.deletes, counts.conflicts) \
        == ("fid", 2, 0, 0, 0)
    assert result.renumbered == [
        {"layer": "simple", "key_field": "fid", "key": 5, "fid_was": 4, "fid": 5}]
    assert {r["fid"]: r["name"] for r in read_simple(tmp_path / "m.gpkg")}[5] == "my new point B"


def test_2_deletes_counts(data, tmp_path):
    folder = data / "2_deletes"
    out = tmp_path / "m.gpkg"
    result = merge_geopackages(data / "base.gpkg", folder / "deleted_A.gpkg",
                               folder / "deleted_B.gpkg", out)
    assert result.layers["simple"].deletes == 1
    assert [r["fid"] for r in read_simple(out)] == [1, 3]
    with open_geopackage(out) as gp:
        assert gp.connection.execute("SELECT id FROM rtree_simple_geometry ORDER BY id"
                                     ).fetchall() == [(1,), (3,)]


# -- errors: nothing is written ---------------------------------------------

def test_schema_mismatch_names_files_and_difference(data, tmp_path):
    ours = data / "ours.gpkg"
    shutil.copyfile(data / "2_updates" / "updated_B.gpkg", ours)
    with open_geopackage(ours, "a") as gp:
        gp.connection.execute('ALTER TABLE simple ADD COLUMN "colour" TEXT')
    out = tmp_path / "m.gpkg"
    with pytest.raises(SyncError) as err:
        merge_geopackages(data / "base.gpkg", data / "2_updates" / "updated_A.gpkg", ours, out)
    message = str(err.value)
    assert "base.gpkg (base)" in message and "ours.gpkg (ours)" in message
    assert "layer 'simple': column 'colour' is only in" in message
    assert not out.exists() and list(tmp_path.glob(".m.gpkg*")) == []


def test_schema_mismatch_in_column_type(tmp_path):
    def make(name, rating_type):
        with open_geopackage(tmp_path / name, "w") as gp:
            gp.create_layer(LayerSchema("simple", [("name", "TEXT"), ("rating", rating_type)],
                                        "POINT", 4326, geometry_column="geometry"))
        return tmp_path / name
    base, theirs, ours = make("b.gpkg", "INTEGER"), make("t.gpkg", "TEXT"), make("o.gpkg", "INTEGER")
    with pytest.raises(SyncError, match=r"t\.gpkg \(theirs\): layer 'simple': column 'rating' "
                                        r"is INTEGER in .*b\.gpkg but TEXT in .*t\.gpkg"):
        merge_geopackages(base, theirs, ours, tmp_path / "m.gpkg")
    assert not (tmp_path / "m.gpkg").exists()


def test_missing_layer_is_a_schema_mismatch(data, tmp_path):
    theirs = data / "theirs.gpkg"
    shutil.copyfile(data / "base.gpkg", theirs)
    with open_geopackage(theirs, "a") as gp:
        gp.create_layer(LayerSchema("kiosks", [("name", "TEXT")], "POINT", 4326))
    with pytest.raises(SyncError, match=r"layers only in .*theirs\.gpkg: kiosks"):
        merge_geopackages(data / "base.gpkg", theirs, data / "base.gpkg", tmp_path / "m.gpkg")
    assert not (tmp_path / "m.gpkg").exists()


@pytest.mark.parametrize("role", ["base", "theirs", "ours"])
def test_non_geopackage_input_writes_nothing(data, tmp_path, role):
    paths = {"base": data / "base.gpkg", "theirs": data / "2_updates" / "updated_A.gpkg",
             "ours": data / "2_updates" / "updated_B.gpkg"}
    paths[role] = tmp_path / "notes.gpkg"
    paths[role].write_text("not a geopackage")
    out, report = tmp_path / "m.gpkg", tmp_path / "r.json"
    with pytest.raises(GeoPackageError, match=r"notes\.gpkg: not a GeoPackage"):
        merge_geopackages(paths["base"], paths["theirs"], paths["ours"], out, report=report)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "notes.gpkg"]


def test_truncated_input_writes_nothing_and_keeps_old_output(data, tmp_path):
    ours = data / "2_updates" / "updated_B.gpkg"
    ours.write_bytes(ours.read_bytes()[:40000])
    out = tmp_path / "m.gpkg"
    out.write_bytes(b"previous merge")
    with pytest.raises(GeoPackageError, match=r"updated_B\.gpkg: truncated"):
        merge_geopackages(data / "base.gpkg", data / "2_updates" / "updated_A.gpkg", ours, out)
    assert out.read_bytes() == b"previous merge"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "m.gpkg"]


def test_output_cannot_be_an_input(data):
    with pytest.raises(SyncError, match="cannot be the ours input"):
        merge_geopackages(data / "base.gpkg", data / "2_updates" / "updated_A.gpkg",
                          data / "2_updates" / "updated_B.gpkg",
                          data / "2_updates" / "updated_B.gpkg")


def test_unknown_policy(data, tmp_path):
    with pytest.raises(ValueError, match="policy must be one of theirs, ours, manual"):
        merge_geopackages(data / "base.gpkg", data / "base.gpkg", data / "base.gpkg",
                          tmp_path / "m.gpkg", policy="newest")


# -- uuid-keyed GeoPackages, as Tongcheng writes them ------------------------

FACILITIES = LayerSchema(
    "toilets", [Column("uuid", "TEXT", not_null=True, unique=True), ("name", "TEXT"),
                ("stalls", "INTEGER"), ("open_24h", "BOOLEAN")],
    "POINT", 4490)


def write_facilities(path, rows):
    with open_geopackage(path, "w") as gp:
        gp.create_layer(FACILITIES)
        gp.write_rows("toilets", rows)
        gp.add_style("toilets", "默认", "<qgis/>")
    return path


def edit_copy(base, path, *, insert=(), update=None, delete=()):
    """A descendant of *base*: a copy edited in place, as a workspace or the office would."""
    shutil.copyfile(base, path)
    with open_geopackage(path, "a") as gp:
        gp.write_rows("toilets", insert)
        gp.update_rows("toilets", "uuid", update or {})
        gp.delete_rows("toilets", "uuid", delete)
    return path


def facility(fid, uuid, name, stalls=2, x=104.0, open_24h=False):
    return {"fid": fid, "uuid": uuid, "name": name, "stalls": stalls,
            "open_24h": open_24h, "geom": Point(x, 30.6)}


def test_uuid_merge_per_field_conflicts_and_fid_collisions(tmp_path):
    base = write_facilities(tmp_path / "base.gpkg", [
        facility(1, "u-a", "春熙路"), facility(2, "u-b", "太古里"),
        facility(3, "u-c", "锦里"), facility(4, "u-d", "宽窄巷子")])
    theirs = edit_copy(base, tmp_path / "office.gpkg",
                       update={"u-a": {"name": "春熙路公厕"},        # name changed
                               "u-b": {"stalls": 8},                # conflicts with ours' 6
                               "u-c": {"geom": Point(104.5, 30.6)}},  # moved; ours deleted it
                       insert=[facility(5, "u-office", "新 office 点")])
    ours = edit_copy(base, tmp_path / "laptop.gpkg",
                     update={"u-a": {"open_24h": True},             # other field: clean
                             "u-b": {"stalls": 6}},
                     delete=["u-c"],
                     insert=[facility(5, "u-laptop", "新 laptop 点")])  # same fid 5
    out = tmp_path / "merged.gpkg"
    result = merge_geopackages(base, theirs, ours, out, policy="ours",
                               report=tmp_path / "r.json")
    features = assert_valid(out)
    assert len(features["layer_styles"]) == 1

    rows = {r["uuid"]: r for r in read_simple(out, "toilets")}
    assert rows["u-a"]["name"] == "春熙路公厕" and rows["u-a"]["open_24h"] is True
    assert rows["u-b"]["stalls"] == 6
    assert "u-c" not in rows                       # ours' delete wins under 'ours'
    assert rows["u-d"] == {**facility(4, "u-d", "宽窄巷子"), "geom": rows["u-d"]["geom"]}
    assert {rows["u-office"]["fid"], rows["u-laptop"]["fid"]} == {5, 6}
    assert rows["u-a"]["fid"] == 1

    assert [(c.key_field, c.uuid, c.field, c.kind, word(c)) for c in result.conflicts] == [
        ("uuid", "u-b", "stalls", "update/update", "ours"),
        ("uuid", "u-c", "geom", "update/delete", "ours"),
    ]
    moved = result.conflicts[1]
    assert moved.field_value is None and same_value(moved.office_value, Point(104.5, 30.6))
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["conflicts"][1][
        "theirs"] == "POINT (104.5 30.6)"
    counts = result.layers["toilets"]
    assert (counts.key_field, counts.inserts, counts.updates, counts.deletes, counts.conflicts) \
        == ("uuid", 2, 2, 1, 2)
    assert result.layers["layer_styles"].conflicts == 0
    assert result.renumbered == [{"layer": "toilets", "key_field": "uuid", "key": "u-laptop",
                                  "fid_was": 5, "fid": 6}]


def test_uuid_merge_names_the_file_and_row_of_a_missing_or_repeated_key(tmp_path):
    """Files from other tools need not constrain the key column: a null or repeated key is refused."""
    loose = LayerSchema("toilets", [("uuid", "TEXT"), ("name", "TEXT")], "POINT", 4490)

    def write(path, rows):
        with open_geopackage(path, "w") as gp:
            gp.create_layer(loose)
            gp.write_rows("toilets", rows)
        return path

    a = {"fid": 1, "uuid": "u-a", "name": "春熙路", "geom": Point(104.0, 30.6)}
    base = write(tmp_path / "base.gpkg", [a])
    no_key = write(tmp_path / "office.gpkg", [a, {**a, "fid": 2, "uuid": None}])
    twice = write(tmp_path / "laptop.gpkg", [a, {**a, "fid": 2}])
    out = tmp_path / "merged.gpkg"
    with pytest.raises(SyncError, match=r"office\.gpkg: layer 'toilets': a row \(fid 2\) has no uuid"):
        merge_geopackages(base, no_key, base, out)
    with pytest.raises(SyncError, match=r"laptop\.gpkg: layer 'toilets': uuid 'u-a' appears twice"):
        merge_geopackages(base, base, twice, out)
    assert not out.exists()


def test_uuid_merge_manual_keeps_theirs_update_against_our_delete(tmp_path):
    base = write_facilities(tmp_path / "base.gpkg", [facility(1, "u-a", "旧名")])
    theirs = edit_copy(base, tmp_path / "t.gpkg", update={"u-a": {"name": "新名"}})
    ours = edit_copy(base, tmp_path / "o.gpkg", delete=["u-a"])
    out = tmp_path / "m.gpkg"
    result = merge_geopackages(base, theirs, ours, out, policy="manual")
    assert_valid(out)
    assert [r["name"] for r in read_simple(out, "toilets")] == ["新名"]
    (c,) = result.unresolved
    assert (c.uuid, c.field, c.base_value, c.office_value, c.field_value) == ("u-a", "name", "旧名", "新名", None)


# -- the pure three-way function ---------------------------------------------

def row(key, **fields):
    return {"uuid": key, "name": "n", "rating": 1, "geom": Point(0, 0), **fields}


BASE = [row("a"), row("b"), row("c")]


def test_clean_merge_of_different_fields():
    r = three_way(BASE, [row("a", name="theirs"), row("b"), row("c")],
                  [row("a", rating=5), row("b"), row("c", geom=Point(1, 1))], "uuid")
    assert r.conflicts == []
    assert r.rows["a"] == row("a", name="theirs", rating=5)
    assert same_value(r.rows["c"]["geom"], Point(1, 1))
    assert (r.updated, r.inserted, r.deleted) == (["a", "c"], [], [])


def test_same_new_value_on_both_sides_is_no_conflict():
    r = three_way(BASE, [row("a", name="x", geom=Point(2, 2)), row("b"), row("c")],
                  [row("a", name="x", geom=Point(2.0, 2.0)), row("b"), row("c")], "uuid")
    assert r.conflicts == []
    assert r.rows["a"]["name"] == "x" and r.updated == ["a"]


@pytest.mark.parametrize("policy, value, resolution", [
    ("theirs", "T", "theirs"), ("ours", "O", "ours"), ("manual", "T", "unresolved")])
def test_same_field_changed_differently_is_a_conflict(policy, value, resolution):
    r = three_way(BASE, [row("a", name="T", rating=2), row("b"), row("c")],
                  [row("a", name="O"), row("b"), row("c")], "uuid", policy=policy, layer="t")
    assert r.conflicts == [Conflict("t", "a", "name", "update/update", "n", "T", "O",
                                    resolution=POLICY_SIDES[policy], kept=value)]
    assert word(r.conflicts[0]) == resolution
    assert r.rows["a"]["name"] == value and r.rows["a"]["rating"] == 2


def test_geometry_conflict_compares_by_value():
    r = three_way([row("a")], [row("a", geom=Point(1, 1))], [row("a", geom=Point(2, 2))],
                  "uuid", policy="ours")
    (c,) = r.conflicts
    assert c.field == "geom" and c.to_file_dict()["theirs"] == "POINT (1 1)"
    assert same_value(r.rows["a"]["geom"], Point(2, 2))


@pytest.mark.parametrize("policy, kept", [("theirs", True), ("manual", True), ("ours", False)])
def test_theirs_update_against_our_delete(policy, kept):
    r = three_way(BASE, [row("a", rating=9), row("b"), row("c")], [row("b"), row("c")],
                  "uuid", policy=policy)
    assert [(c.uuid, c.field, c.kind, c.base_value, c.office_value, c.field_value) for c in r.conflicts] == [
        ("a", "rating", "update/delete", 1, 9, None)]
    assert ("a" in r.rows) is kept
    if kept:
        assert r.rows["a"]["rating"] == 9 and r.updated == ["a"]
    else:
        assert r.deleted == ["a"]


@pytest.mark.parametrize("policy, kept", [("theirs", False), ("manual", False), ("ours", True)])
def test_our_update_against_their_delete(policy, kept):
    r = three_way(BASE, [row("b"), row("c")], [row("a", name="mine"), row("b"), row("c")],
                  "uuid", policy=policy)
    assert [(c.uuid, c.field, c.kind, c.office_value, c.field_value) for c in r.conflicts] == [
        ("a", "name", "delete/update", None, "mine")]
    assert ("a" in r.rows) is kept


def test_delete_on_both_sides_and_delete_of_untouched_row():
    r = three_way(BASE, [row("b"), row("c")], [row("b")], "uuid")
    assert r.conflicts == [] and r.deleted == ["a", "c"] and list(r.rows) == ["b"]


def test_inserts_on_both_sides_are_kept():
    r = three_way(BASE, BASE + [row("t-new")], BASE + [row("o-new")], "uuid")
    assert r.inserted == ["t-new", "o-new"] and r.conflicts == []
    assert list(r.rows) == ["a", "b", "c", "t-new", "o-new"]


def test_same_uuid_inserted_on_both_sides_is_one_feature():
    same = three_way([], [row("n")], [row("n")], "uuid")
    assert same.inserted == ["n"] and same.conflicts == [] and len(same.rows) == 1
    differ = three_way([], [row("n", name="T")], [row("n", name="O")], "uuid", policy="ours")
    assert [(c.field, c.kind, c.base_value, c.office_value, c.field_value) for c in differ.conflicts] == [
        ("name", "insert/insert", None, "T", "O")]
    assert differ.rows["n"]["name"] == "O"


def test_primary_key_inserts_on_both_sides_are_renumbered():
    base = [{"fid": 1, "name": "x"}]
    r = three_way(base, base + [{"fid": 2, "name": "T"}],
                  base + [{"fid": 2, "name": "O"}, {"fid": 3, "name": "O2"}],
                  "fid", renumber=True)
    assert r.renumbered == {2: 4}
    assert r.rows == {1: {"fid": 1, "name": "x"}, 2: {"fid": 2, "name": "T"},
                      4: {"fid": 4, "name": "O"}, 3: {"fid": 3, "name": "O2"}}
    assert r.conflicts == []


def test_ignored_fields_are_not_compared_and_come_from_base():
    base = [{"uuid": "a", "fid": 1, "name": "x"}]
    r = three_way(base, [{"uuid": "a", "fid": 7, "name": "x"}],
                  [{"uuid": "a", "fid": 9, "name": "y"}], "uuid", ignore=["fid"])
    assert r.conflicts == [] and r.rows["a"] == {"uuid": "a", "fid": 1, "name": "y"}


def test_inputs_are_not_modified():
    theirs = [row("a", name="T")]
    ours = [row("a", rating=3)]
    three_way([row("a")], theirs, ours, "uuid")
    assert theirs == [row("a", name="T")] and ours == [row("a", rating=3)]


def test_missing_and_repeated_keys():
    with pytest.raises(SyncError, match="layer 't', ours: uuid 'a' appears twice"):
        three_way([], [], [row("a"), row("a")], "uuid", layer="t")
    with pytest.raises(SyncError, match="theirs: a row has no uuid"):
        three_way([], [{"name": "x"}], [], "uuid")
    with pytest.raises(ValueError, match="policy"):
        three_way([], [], [], "uuid", policy="newest")


def test_same_value_rules():
    assert same_value(Point(1, 2), shapely.from_wkb(shapely.to_wkb(Point(1, 2), byte_order=0)))
    assert not same_value(Point(1, 2), Point(1, 2, 0))
    assert not same_value(Point(1, 2), "POINT (1 2)")
    assert same_value(float("nan"), float("nan"))
    assert not same_value(None, 0) and same_value(None, None)


@pytest.mark.parametrize("wkt", [
    "POINT (-0.00016675914704907116 0.9794693721141744)",
    "POINT Z (104.06 30.67 512.25)",
    "LINESTRING (0 0, 0.1 0.30000000000000004)",
    "POLYGON ((0 0, 1e-07 0, 1 1, 0 0), (0.2 0.2, 0.3 0.2, 0.3 0.3, 0.2 0.2))",
    "MULTIPOINT ((1 2), (3 4))",
    "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))",
    "GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1))",
    "POINT EMPTY",
])
def test_geometry_wkt_is_lossless(wkt):
    geom = shapely.from_wkt(wkt)
    assert geometry_wkt(geom) == wkt
    assert same_value(shapely.from_wkt(geometry_wkt(geom)), geom)


def test_diff_rows():
    d = diff_rows([row("a"), row("b")], [row("a", name="z"), row("c")], "uuid")
    assert d.updated == {"a": {"name": "z"}} and d.deleted == ["b"]
    assert [r["uuid"] for r in d.inserted] == ["c"]


def test_one_same_value_rule_for_the_workspace_and_sync():
    from layers.workspace import store
    from layers.workspace.values import same_value as rule

    assert store.same_value is rule and same_value is rule
    assert rule(None, None) and not rule(None, 0) and not rule(None, "") and not rule(0, None)
    assert rule(1.5, 1.5) and not rule(0.1 + 0.2, 0.3) and rule(float("nan"), float("nan"))
    assert rule(1, 1.0)                                   # numbers by value, as SQLite stores them
    assert rule("厕所", "厕所") and not rule("厕所", "厕所 ") and not rule("A", "a") and not rule("1", 1)
    assert rule(Point(1, 2), shapely.from_wkb(shapely.to_wkb(Point(1, 2), byte_order=0)))
    assert not rule(Point(1, 2), Point(1, 2, 0)) and not rule(Point(1, 2), b"\x01")
    assert rule(b"\x01\x02", b"\x01\x02") and not rule(b"\x01", b"\x02")


def test_side_and_typed_conflict_vocabulary():
    assert [s.value for s in Side] == ["base", "office", "field"]
    assert POLICY_SIDES == {"theirs": Side.OFFICE, "ours": Side.FIELD, "manual": None}
    c = Conflict("toilets", "u-1", "geom", "update/update", Point(0, 0), Point(1, 1), Point(2, 2),
                 office_editor="张三", field_editor="李四", resolution=Side.FIELD, kept=Point(2, 2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.kept = None
    assert c.key == ("toilets", "u-1", "geom") and c.resolution_text == "field"
    assert c.to_dict() == {
        "layer": "toilets", "uuid": "u-1", "field": "geom", "kind": "update/update",
        "base_value": "POINT (0 0)", "office_value": "POINT (1 1)", "field_value": "POINT (2 2)",
        "office_editor": "张三", "office_time": None, "field_editor": "李四", "field_time": None,
        "resolution": "field", "kept": "POINT (2 2)", "choice": "field"}
    assert c.to_file_dict()["resolution"] == "ours" and c.to_file_dict()["theirs"] == "POINT (1 1)"
    unresolved = dataclasses.replace(c, resolution=None)
    assert unresolved.resolution_text == "unresolved" and unresolved.to_dict()["choice"] == "office"
