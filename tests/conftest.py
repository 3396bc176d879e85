"""Fixtures shared by every test: shipped test data, copied before use."""

import shutil
from pathlib import Path

import pytest

SHARED_TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"


@pytest.fixture
def testdata(tmp_path):
    """Copy a file or folder of ../shared/testdata into tmp_path and return the copy's path."""

    def copy(relative):
        source = SHARED_TESTDATA / relative
        target = tmp_path / "testdata" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        return target

    return copy
