"""An existing inventory imported straight into a PostGIS master: one recorded master change, like in a GeoPackage."""

from layers.sync.history import changes
from layers.sync.store import open_master
from tests.layers.imports.conftest import gbk_shapefile  # noqa: F401  (the fixture)
from tests.postgis.test_master import rows_of, tongcheng


def test_import_into_a_postgis_master_is_recorded_and_reaches_a_checkout(pg_url, tmp_path, gbk_shapefile):  # noqa: F811
    assert tongcheng("init", pg_url, "--user", "office").returncode == 0
    mapping = tmp_path / "map.toml"
    mapping.write_text('layer = "toilets"\nkey = "name"\n[fields]\nname = "名称"\nstatus = "状态"\n'
                       'district = "区县"\nseats_male = "男厕位"\n[values.status]\n"正常" = "在用"\n', encoding="utf-8")
    dry = tongcheng("import", gbk_shapefile, pg_url, "--layer", "toilets", "--mapping", mapping, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "3 pass (3 new" in dry.stdout and rows_of(pg_url) == {}

    imported = tongcheng("import", gbk_shapefile, pg_url, "--layer", "toilets", "--mapping", mapping)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "3 new, 0 updated" in imported.stdout and "version 1 -> 2" in imported.stdout
    rows = rows_of(pg_url)
    assert sorted(r["name"] for r in rows.values()) == ["天府广场公厕", "春熙路公厕", "武侯祠公厕"]
    assert {r["seats_male"] for r in rows.values()} == {4, 6, 8}
    with open_master(pg_url) as store:
        assert store.info.version == 2
        (entry,) = [r for r in store.table_rows("tongcheng_ledger") if r["policy"] == "import"]
        assert entry["inserts"] == 3 and entry["file"] == gbk_shapefile.name
    with open_master(pg_url) as store:
        assert len([c for c in changes(store) if c.op == "insert"]) == 3  # the history has each new feature

    again = tongcheng("import", gbk_shapefile, pg_url, "--layer", "toilets", "--mapping", mapping)
    assert again.returncode == 0 and "0 new, 0 updated, 3 unchanged" in again.stdout  # matched by name
    workspace = tmp_path / "laptop.sqlite"
    assert tongcheng("checkout", pg_url, workspace).returncode == 0
    from layers.workspace.store import Workspace

    with Workspace.open(workspace) as ws:
        assert ws.count("toilets") == 3
