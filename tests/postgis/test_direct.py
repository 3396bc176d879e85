"""Working online against a PostGIS master: connection strings from their parts, a password given in memory,
the areas a scope chooser lists, and a checkout's changes sent directly (earlier undelivered packages first)."""

import psycopg
import pytest

from layers.errors import Cancelled, DatabaseError, LoginRefused, ServerUnreachable, SyncError
from layers.postgres.connection import connect, parse_location, password_given
from layers.postgres.urls import server_url
from layers.sync.areas import list_areas
from layers.sync.changes import sent_folder, write_changes
from layers.sync.checkout import checkout
from layers.sync.direct import checkout_master, send_to_master, undelivered_packages
from layers.sync.postgis.create import create_postgis_master
from layers.sync.store import open_master
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.postgis.server import PASSWORD

COUNTS = {"toilets": 200, "signboards": 10, "kiosks": 5}
STREET = "510104001"


@pytest.fixture
def demo_url(pg_url):
    create_postgis_master(pg_url, user="office", demo=True, counts=COUNTS)
    return pg_url


@pytest.fixture
def no_pgpass(monkeypatch):
    """libpq finds no password of its own (no PGPASSWORD, no ~/.pgpass)."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")


def test_server_url_is_made_from_its_parts():
    assert server_url("db.office", 5432, "inventory", "clerk") == "postgresql://clerk@db.office:5432/inventory"
    assert server_url(" ::1 ", 5433, "inventory", "clerk", "chengdu") == \
        "postgresql://clerk@[::1]:5433/inventory?schema=chengdu"
    assert server_url("/run/postgresql", 5432, "清单", "张三", "public") == \
        "postgresql://%E5%BC%A0%E4%B8%89@/%E6%B8%85%E5%8D%95?host=/run/postgresql&port=5432"
    location = parse_location(server_url("/tmp/a b", 5432, "清单", "张三", "chengdu"))
    assert (location.database, location.host, location.schema) == ("清单", "/tmp/a b", "chengdu")


def test_a_password_given_in_memory_logs_in_and_bad_logins_are_typed(pg_server, pg_database, no_pgpass):
    url = server_url("127.0.0.1", pg_server.port, pg_database, "postgres")
    location = parse_location(url)
    with password_given(PASSWORD), connect(location) as con:
        assert con.execute("SELECT current_database()").fetchone()[0] == pg_database
    with pytest.raises(LoginRefused, match="refused the login") as wrong, password_given("not-the-Pa55word"):
        connect(location)
    assert "Pa55word" not in str(wrong.value) and PASSWORD not in str(wrong.value)
    with pytest.raises(LoginRefused, match="asks for a password"):
        connect(location)  # the password was for the block only
    with pytest.raises(ServerUnreachable, match="cannot reach"), password_given(PASSWORD):
        connect(parse_location(server_url("127.0.0.1", 1, pg_database, "postgres")))
    socket = server_url(pg_server.socket_dir, pg_server.port, pg_database, "postgres", "elsewhere")
    with connect(parse_location(socket)) as con:  # the socket trusts; the schema is the search path's first
        assert con.execute("SHOW search_path").fetchone()[0] == "elsewhere, public"


def test_areas_are_listed_city_first_with_their_parents_and_scopes(demo_url):
    with open_master(demo_url) as store:
        areas = list_areas(store)
    levels = [a.level for a in areas]
    assert levels == sorted(levels, key=("city", "district", "street").index)
    by_code = {a.code: a for a in areas}
    street = by_code[STREET]
    assert street.scope == f"street:{STREET}" and street.parent == "510104"
    assert by_code["510104"].parent == "510100" and by_code["510100"].parent is None
    assert by_code["510104"].name == "锦江区"
    minx, miny, maxx, maxy = street.bbox
    assert minx < maxx and miny < maxy


def test_not_a_master_is_one_line(pg_url):
    with pytest.raises(SyncError, match="not a Tongcheng master"), open_master(pg_url):
        pass


@pytest.fixture
def street_checkout(demo_url, tmp_path):
    ws_path = tmp_path / "street.sqlite"
    checkout(demo_url, ws_path, user="张三", scope=f"street:{STREET}")
    return demo_url, ws_path


def master_names(url, uuids):
    with psycopg.connect(url) as con:
        return dict(con.execute("SELECT uuid, name FROM toilets WHERE uuid = ANY(%s)", (list(uuids),)).fetchall())


def test_send_directly_applies_the_changes_and_reports_conflicts(street_checkout, tmp_path):
    url, ws_path = street_checkout
    office_ws = tmp_path / "office.sqlite"
    checkout(url, office_ws, user="office")
    with Workspace.open(ws_path) as ws:
        assert checkout_master(ws) == url
        first, second = [r["uuid"] for r in ws.raw_rows("toilets")][:2]
        ws.update("toilets", ws.find("toilets", first).fid, {"name": "现场改名"})
        ws.update("toilets", ws.find("toilets", second).fid, {"name": "现场二"})
    with Workspace.open(office_ws) as office:  # the office changed the second one meanwhile
        office.update("toilets", office.find("toilets", second).fid, {"name": "办公室改"})
        send_to_master(office)
    with Workspace.open(ws_path) as ws:
        sent = send_to_master(ws, report_folder=tmp_path)
        assert sent.package is not None and sent.package.layers["toilets"]["update"] == 2
        [applied] = sent.applied
        assert applied.version_before == 2 and applied.version_after == 3
        assert [(c.uuid, c.field, c.field_value, c.office_value) for c in applied.conflicts] == [
            (second, "name", "现场二", "办公室改")]
        assert len(sent.reports) == 1 and sent.reports[0].exists()
        assert sum(sum(c.values()) for c in ws.pending_changes().values()) == 0
        assert not list(sent_folder(ws).glob("street-changes-*.gpkg"))  # only the copy named by its uuid stays
        assert send_to_master(ws).nothing_sent
        update_workspace(ws, url)
        assert ws.find("toilets", second).attributes["name"] == "办公室改"
        assert not any(sent_folder(ws).iterdir())
    assert master_names(url, [first, second]) == {first: "现场改名", second: "办公室改"}


def test_an_unreachable_master_writes_nothing(street_checkout, tmp_path):
    url, ws_path = street_checkout
    with Workspace.open(ws_path) as ws:
        uuid = next(iter(ws.raw_rows("toilets")))["uuid"]
        ws.update("toilets", ws.find("toilets", uuid).fid, {"name": "离线"})
        with pytest.raises(ServerUnreachable):
            send_to_master(ws, "postgresql://nobody@127.0.0.1:1/inventory")
        with pytest.raises(DatabaseError, match="no database"):
            send_to_master(ws, url.replace("/test_", "/gone_"))
        assert ws.pending_changes()["toilets"]["update"] == 1
        assert not sent_folder(ws).exists()
        assert send_to_master(ws).applied[0].layers["toilets"].updates == 1
    assert master_names(url, [uuid]) == {uuid: "离线"}


def test_a_package_sent_by_file_but_never_applied_goes_first(street_checkout, tmp_path):
    url, ws_path = street_checkout
    with Workspace.open(ws_path) as ws:
        first, second = [r["uuid"] for r in ws.raw_rows("toilets")][:2]
        ws.update("toilets", ws.find("toilets", first).fid, {"name": "文件发送"})
        by_file = write_changes(ws, tmp_path / "lost-on-the-way.gpkg")
        ws.update("toilets", ws.find("toilets", second).fid, {"name": "直接发送"})
        assert undelivered_packages(ws) == [by_file.package_uuid]
        sent = send_to_master(ws)
        assert [r.package_uuid for r in sent.applied] == [by_file.package_uuid, sent.package.package_uuid]
        assert undelivered_packages(ws) == []
    assert master_names(url, [first, second]) == {first: "文件发送", second: "直接发送"}


def test_a_checkout_cancelled_from_its_progress_leaves_nothing(demo_url, tmp_path):
    calls = []

    def progress(done, total):
        calls.append((done, total))
        raise Cancelled("cancelled")

    with pytest.raises(Cancelled):
        checkout(demo_url, tmp_path / "street.sqlite", scope="district:510104", progress=progress)
    assert calls and calls[0][1] > 0
    assert list(tmp_path.iterdir()) == []


def test_a_photo_sent_directly_arrives_in_the_postgis_master(street_checkout, tmp_path):
    """A PostGIS master keeps photos (layers/sync/postgis/photos.py): a direct send carries a new photo."""
    from layers.media import add_photos
    from tests.layers.media.images import jpeg

    url, ws_path = street_checkout
    (tmp_path / "door.jpg").write_bytes(jpeg())
    with Workspace.open(ws_path) as ws:
        uuid = next(iter(ws.raw_rows("toilets")))["uuid"]
        add_photos(ws, "toilets", uuid, [tmp_path / "door.jpg"])
        ws.update("toilets", ws.find("toilets", uuid).fid, {"name": "有照片"})
        send_to_master(ws)
        assert ws.pending_changes()["toilets"]["update"] == 0
    assert master_names(url, [uuid]) == {uuid: "有照片"}
    from layers.sync.store import open_master

    with open_master(url) as store:
        assert store.photo_counts("toilets") == {uuid: 1}
