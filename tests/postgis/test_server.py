"""The throwaway server the PostGIS tests run against really runs PostGIS."""

import psycopg


def test_fresh_database_has_postgis(pg_url):
    with psycopg.connect(pg_url) as con:
        version = con.execute("SELECT postgis_lib_version()").fetchone()[0]
        assert version.startswith("3.")
        assert con.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 1
