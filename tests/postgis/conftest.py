"""A throwaway PostgreSQL/PostGIS server per test run, and a fresh database per test."""

import itertools

import psycopg
import pytest

from tests.postgis.server import start_server

TEMPLATE = "tongcheng_template"
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server():
    """The running server (see tests/postgis/server.py); its template database has PostGIS."""
    server = start_server()
    try:
        with psycopg.connect(server.url(), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {TEMPLATE}")
        with psycopg.connect(server.url(TEMPLATE), autocommit=True) as con:
            con.execute("CREATE EXTENSION postgis")
        yield server
    finally:
        server.stop()


def new_database(server, template=TEMPLATE):
    """A new database copied from *template* (fast), named uniquely; returns its name."""
    name = f"test_{next(_numbers)}"
    with psycopg.connect(server.url(), autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return name


@pytest.fixture
def pg_database(pg_server):
    """The name of a fresh database with PostGIS, for one test."""
    return new_database(pg_server)


@pytest.fixture
def pg_url(pg_server, pg_database):
    """A postgresql:// URL of a fresh database with PostGIS (over the server's unix socket)."""
    return pg_server.url(pg_database)
