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
