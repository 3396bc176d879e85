"""Fixtures of the GPS reader tests: real GPX files copied to a temporary folder."""

import shutil

import pytest

from tests.conftest import TESTDATA as DATA_ROOT

TESTDATA = DATA_ROOT / "gpx"
GPX_FILES = sorted(p.name for p in TESTDATA.glob("*.gpx"))


@pytest.fixture
def gpx_copy(tmp_path):
    """Return a function copying a test GPX file into tmp_path (path of the copy)."""
    def copy(name):
        target = tmp_path / name
        shutil.copyfile(TESTDATA / name, target)
        return target
    return copy


#: A CRS whose area of use holds the shared GPX files (Slovenia, California...), far from the
#: default workspace CRS (EPSG:4544, Sichuan), whose area the importer enforces.
WORLD_CRS = "EPSG:3857"


@pytest.fixture
def world_workspace(tmp_path):
    """A workspace in WORLD_CRS, for tests of the shared GPX files' counts and geometry."""
    from layers.workspace.store import Workspace

    with Workspace.create(tmp_path / "world.sqlite", crs=WORLD_CRS, user="张三") as ws:
        yield ws
