"""Workspace fixtures: real SpatiaLite files in a temporary folder."""

import pytest

from layers.demo import fill_demo
from layers.workspace.store import Workspace


@pytest.fixture
def workspace(tmp_path):
    with Workspace.create(tmp_path / "district.sqlite", user="张三") as ws:
        yield ws


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory):
    """A small demo workspace made once per test run; copy it before writing (see demo_workspace)."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    with Workspace.create(path, user="demo") as ws:
        fill_demo(ws, counts={"toilets": 300, "signboards": 2000, "kiosks": 100})
    return path


@pytest.fixture
def demo_workspace(demo_file, tmp_path):
    import shutil

    copy = tmp_path / "demo.sqlite"
    shutil.copy2(demo_file, copy)
    with Workspace.open(copy) as ws:
        yield ws
