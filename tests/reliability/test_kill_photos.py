"""kill -9 during apply of a change package with photos (issue 12): the master is wholly as before or as
after (its photos and their links too, never a part of them), sound, and the rerun succeeds.

The package adds photos (some to a feature it inserts) and takes one off, so the trial covers the
layers, the bytes, the links and the unlinks; the trial machinery is that of ``test_kill.py``.
"""

from __future__ import annotations

import os
import shutil

import pytest
from shapely import Point

from layers.media import add_photos, delete_photo
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.workspace.store import Workspace
from tests.reliability.test_kill import (  # noqa: F401  (server_process: the module's fork server fixture)
    FACILITY,
    MASTER_TABLES,
    TRIALS,
    copy,
    kill_in_place,
    others,
    server,
    server_process,
)

PHOTO_TABLES = (*MASTER_TABLES, "media", "gpkgext_relations", "gpkg_extensions", *(f"{t}_media" for t in FACILITY))


@pytest.fixture(scope="module")
def photo_inputs(small_files, tmp_path_factory):
    """A master that has some photos, and a package that adds 24 photos (3 MB) and takes one off."""
    folder = tmp_path_factory.mktemp("photos")
    master = folder / "master.gpkg"
    shutil.copy2(small_files["master"], master)
    camera = folder / "camera"
    camera.mkdir()
    files = []
    for i in range(26):
        path = camera / f"scan{i}.pdf"
        path.write_bytes(b"%PDF-1.4\n" + os.urandom(128 * 1024) + b"\n%%EOF\n")
        files.append(path)
    ws_path = folder / "ws.sqlite"
    checkout(master, ws_path, user="张三")
    with Workspace.open(ws_path) as ws:
        toilets = [f.uuid for f in ws.features("toilets")]
        add_photos(ws, "toilets", toilets[0], files[:2])
        apply_package(master, write_changes(ws, folder / "first.gpkg").path)
        delete_photo(ws, toilets[0], _sha(files[0]))  # its only link: the office drops its bytes
        new = ws.insert("toilets", {"name": "新厕所", "district": "锦江区"}, Point(401500, 3391500))
        add_photos(ws, "toilets", new.uuid, files[2:6])
        for i, path in enumerate(files[6:]):
            layer = "kiosks" if i % 2 else "signboards"
            features = list(ws.features(layer))
            add_photos(ws, layer, features[(i // 2) % len(features)].uuid, [path])
        package = write_changes(ws, folder / "package.gpkg")
        assert (package.photos, package.photo_files, package.photos_removed) == (24, 24, 1)
    shutil.rmtree(camera)
    return copy({"master": master, "package": package.path}, folder / "f")


def _sha(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_kill_apply_of_a_package_with_photos(server, photo_inputs, tmp_path):  # noqa: F811
    argv = lambda f: ("apply", f["master"], f["package"])  # noqa: E731
    trials = 0
    for files in kill_in_place(server, photo_inputs, tmp_path, "apply-photos", argv, "master", PHOTO_TABLES, 12_7):
        assert others(files["master"].parent, {p.name for p in files.values()}) == []
        trials += 1
    assert trials == TRIALS
