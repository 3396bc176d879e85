"""Fixtures shared by every test: the repository's test data, copied before use; a throwaway PostgreSQL server."""

import shutil
from pathlib import Path

import pytest

TESTDATA = Path(__file__).resolve().parent / "data"
"""The public test files this repository owns (tests/data/SOURCES.md names their origin and licence)."""


@pytest.fixture
def testdata(tmp_path):
    """Copy a file or folder of tests/data into tmp_path and return the copy's path."""

    def copy(relative):
        source = TESTDATA / relative
        target = tmp_path / "testdata" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        return target

    return copy


@pytest.fixture(scope="module")
def master_file(request, tmp_path_factory):
    """A demo master made once per test module, with the module's ``COUNTS`` (tests.factories.DEFAULT_COUNTS
    if it has none); copy it before writing (see ``master``)."""
    from tests.factories import DEFAULT_COUNTS, make_master

    path = tmp_path_factory.mktemp("master") / "master.gpkg"
    make_master(path, getattr(request.module, "COUNTS", DEFAULT_COUNTS))
    return path


@pytest.fixture
def master(master_file, tmp_path):
    """A fresh copy of ``master_file`` in tmp_path, for a test to write to."""
    from tests.factories import copy_master

    return copy_master(master_file, tmp_path)


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL/PostGIS server for the test run (tests/postgis/server.py); its template
    database has PostGIS."""
    import psycopg

    from tests.postgis.server import TEMPLATE, start_server

    server = start_server()
    try:
        with psycopg.connect(server.url(), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {TEMPLATE}")
        with psycopg.connect(server.url(TEMPLATE), autocommit=True) as con:
            con.execute("CREATE EXTENSION postgis")
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_database(pg_server):
    """The name of a fresh database with PostGIS, for one test."""
    from tests.postgis.server import new_database

    return new_database(pg_server)


@pytest.fixture
def pg_url(pg_server, pg_database):
    """A postgresql:// URL of a fresh database with PostGIS (over the server's unix socket)."""
    return pg_server.url(pg_database)
