"""Moving a workspace's folder, or opening a copy of it on another laptop, never breaks a photo: nothing in
the file refers to a path; every photo reads back whole, is listed, extracted and sent from the new place."""

import hashlib
import shutil

from layers.media import add_photos, open_photos
from layers.media.tables import media_data, photo_links, verify_media
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.workspace.store import Workspace
from tests.layers.media.images import PDF, jpeg, png
from tests.layers.test_cli import run


def test_a_copied_workspace_folder_keeps_every_photo_readable(master, tmp_path):
    laptop = tmp_path / "laptop1" / "survey"
    laptop.mkdir(parents=True)
    camera = tmp_path / "camera"
    camera.mkdir()
    files = {"a.jpg": jpeg(), "b.png": png(), "c.pdf": PDF, "d.jpg": jpeg((9, 9, 9))}
    for name, data in files.items():
        (camera / name).write_bytes(data)
    checkout(master, laptop / "ws.sqlite", user="张三")
    with Workspace.open(laptop / "ws.sqlite") as ws:  # photos the office has (sent and applied) ...
        toilets = [f.uuid for f in ws.features("toilets")]
        add_photos(ws, "toilets", toilets[0], [camera / "a.jpg", camera / "b.png"])
        apply_package(master, write_changes(ws, tmp_path / "1.gpkg").path)
        add_photos(ws, "toilets", toilets[1], [camera / "c.pdf", camera / "d.jpg"])  # ... and photos not yet sent
        ws.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    text = (laptop / "ws.sqlite").read_bytes()
    assert str(camera).encode() not in text and b"camera" not in text  # no path of a photo file is kept

    elsewhere = tmp_path / "laptop2" / "copied"
    shutil.copytree(laptop, elsewhere)  # another laptop: a copy of the folder, the old one and the camera gone
    shutil.rmtree(tmp_path / "laptop1")
    shutil.rmtree(camera)
    moved = elsewhere / "ws.sqlite"
    with open_photos(moved) as con:
        links = list(photo_links(con))
        assert len(links) == 4 and all(link.stored for link in links)
        assert verify_media(con, str(moved)) == 4  # every photo's bytes match its hash
        assert {media_data(con, link.sha256) for link in links} == set(files.values())

    out = tmp_path / "extracted"
    extracted = run("photos", "extract", moved, out)
    assert extracted.returncode == 0, extracted.stderr
    assert sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir()) == sorted(
        hashlib.sha256(d).hexdigest() for d in files.values())

    with Workspace.open(moved) as ws:  # the pending photos are sent from the new place
        package = write_changes(ws, tmp_path / "2.gpkg")
        assert (package.photos, package.photo_files) == (2, 2)
    apply_package(master, package.path)
    with open_photos(master) as con:
        assert len(list(photo_links(con))) == 4 and verify_media(con, str(master)) == 4
