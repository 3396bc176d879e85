"""Row-level security per area, and one clear line for each bad connection or database."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from layers.sync.postgis.create import create_postgis_master
from tests.postgis.server import new_database

ROOT = Path(__file__).resolve().parents[2]


def tongcheng(*args, **env):
    return subprocess.run([sys.executable, "-m", "layers.cli.main", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, check=False)


@pytest.fixture
def demo_url(pg_url):
    create_postgis_master(pg_url, user="office", demo=True, counts={"toilets": 200, "signboards": 10, "kiosks": 5})
    return pg_url


def test_a_street_account_cannot_write_another_streets_features_even_with_psql(pg_server, pg_database, demo_url):
    assert pg_server.psql(pg_database, "CREATE ROLE chunxi LOGIN").returncode == 0
    out = tongcheng("master", "grant", demo_url, "chunxi", "510104001")
    assert out.returncode == 0, out.stderr
    with psycopg.connect(demo_url) as con:
        mine = con.execute("SELECT t.uuid FROM toilets t JOIN tongcheng_areas a ON ST_Covers(a.geom, t.geom) "
                           "WHERE a.code = '510104001' LIMIT 1").fetchone()[0]
        other = con.execute("SELECT t.uuid FROM toilets t JOIN tongcheng_areas a ON ST_Covers(a.geom, t.geom) "
                            "WHERE a.code = '510105002' LIMIT 1").fetchone()[0]
        inside = con.execute("SELECT ST_AsText(ST_PointOnSurface(geom)) FROM tongcheng_areas "
                             "WHERE code = '510104001'").fetchone()[0]
        outside = con.execute("SELECT ST_AsText(ST_PointOnSurface(geom)) FROM tongcheng_areas "
                              "WHERE code = '510105002'").fetchone()[0]
    ok = pg_server.psql(pg_database, f"UPDATE toilets SET name = '本街道' WHERE uuid = '{mine}'", user="chunxi")
    assert ok.returncode == 0 and "UPDATE 1" in ok.stdout, ok.stderr
    theirs = pg_server.psql(pg_database, f"UPDATE toilets SET name = '越界' WHERE uuid = '{other}'", user="chunxi")
    assert "UPDATE 0" in theirs.stdout  # the other street's row is invisible to the update
    moved_out = pg_server.psql(pg_database, f"UPDATE toilets SET geom = ST_GeomFromText('{outside}', 4544) "
                                            f"WHERE uuid = '{mine}'", user="chunxi")
    assert moved_out.returncode != 0 and "row-level security" in moved_out.stderr
    insert = "INSERT INTO toilets (uuid, name, geom) VALUES ('{u}', '新', ST_GeomFromText('{p}', 4544))"
    assert pg_server.psql(pg_database, insert.format(u="in-1", p=inside), user="chunxi").returncode == 0
    refused = pg_server.psql(pg_database, insert.format(u="out-1", p=outside), user="chunxi")
    assert refused.returncode != 0 and "row-level security" in refused.stderr
    deleted = pg_server.psql(pg_database, f"DELETE FROM toilets WHERE uuid = '{other}'", user="chunxi")
    assert "DELETE 0" in deleted.stdout
    with psycopg.connect(demo_url) as con:
        names = dict(con.execute("SELECT uuid, name FROM toilets WHERE uuid = ANY(%s)", ([mine, other],)).fetchall())
        assert names[mine] == "本街道" and names[other] != "越界"
        assert con.execute("SELECT count(*) FROM toilets WHERE uuid = 'out-1'").fetchone()[0] == 0


def _one_error_line(out):
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and len(lines) == 1 and lines[0].startswith("tongcheng: error: "), out.stderr
    assert "password" not in lines[0] or "PGPASSWORD" in lines[0]
    return lines[0]


def test_bad_connections_and_databases_are_one_line_each_and_write_nothing(pg_server, pg_database, tmp_path):
    url = pg_server.url(pg_database)
    tcp = pg_server.tcp_url(pg_database)
    assert "refused the login" in _one_error_line(tongcheng("info", tcp, PGPASSWORD="wrong"))
    assert "asks for a password" in _one_error_line(tongcheng("info", tcp, PGPASSWORD="", PGPASSFILE="/nonexistent"))
    assert "cannot reach" in _one_error_line(tongcheng("info", "postgresql://nobody@127.0.0.1:1/x"))
    assert "carries a password" in _one_error_line(tongcheng("info", "postgresql://u:secret@127.0.0.1/x"))
    assert "not a Tongcheng master" in _one_error_line(tongcheng("checkout", url, tmp_path / "w.sqlite"))
    assert not (tmp_path / "w.sqlite").exists()
    bare = new_database(pg_server, template="template0")  # no PostGIS
    assert "PostGIS is not installed" in _one_error_line(tongcheng("info", pg_server.url(bare)))
    assert pg_server.psql(bare, "CREATE ROLE clerk LOGIN; GRANT CREATE ON SCHEMA public TO clerk").returncode == 0
    line = _one_error_line(tongcheng("init", pg_server.url(bare, user="clerk")))
    assert "ask a superuser to run: CREATE EXTENSION postgis;" in line
    assert tongcheng("init", url).returncode == 0
    assert "already holds a Tongcheng master" in _one_error_line(tongcheng("init", url))
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("UPDATE tongcheng_master SET value = '2' WHERE key = 'format'")
    assert "newer Tongcheng" in _one_error_line(tongcheng("info", url))
