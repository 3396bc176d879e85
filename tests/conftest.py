"""Fixtures shared by every test: the repository's test data, copied before use."""

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
