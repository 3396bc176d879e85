"""tongcheng photos adopt: the files of the older one-path photo field (copies beside the workspace, which never
travelled) become photos of their features, sent with the next change package; the field is emptied, and a
missing file or one that is not a photo is said and left as it is."""

import hashlib
import sqlite3

from layers.media.tables import photo_links
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.workspace.store import Workspace
from tests.layers.media.images import jpeg
from tests.layers.test_cli import run
from tests.layers.test_gpkg import assert_valid


def test_adopt_moves_the_one_path_photos_into_the_photos_that_travel(master, tmp_path):
    path = tmp_path / "field" / "wang.sqlite"
    path.parent.mkdir()
    checkout(master, path, user="王五")
    attachments = path.parent / "attachments"
    attachments.mkdir()
    (attachments / "door-1f3a.jpg").write_bytes(jpeg())
    (attachments / "notes.jpg").write_text("not a photo")
    with Workspace.open(path) as ws:
        one, two = list(ws.features("toilets"))[:2]
        kiosk = next(ws.features("kiosks"))
        ws.update("toilets", one.fid, {"photo": "attachments/door-1f3a.jpg"})
        ws.update("toilets", two.fid, {"photo": "attachments/gone.jpg"})
        ws.update("kiosks", kiosk.fid, {"photo": "attachments/notes.jpg"})
        apply_package(master, write_changes(ws, tmp_path / "0.gpkg").path)  # the paths reach the office, not the files

    dry = run("photos", "adopt", path, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "1 one-path photo(s) would move to the photos that travel, 2 left as they are (dry run" in dry.stdout
    with Workspace.open(path) as ws:
        assert ws.get("toilets", one.fid).attributes["photo"] == "attachments/door-1f3a.jpg"

    done = run("photos", "adopt", path)
    assert done.returncode == 0, done.stderr
    sha = hashlib.sha256(jpeg()).hexdigest()
    lines = done.stdout.splitlines()
    assert any(line.startswith("moved") and one.uuid in line and sha[:12] in line for line in lines)
    assert any(line.startswith("left") and two.uuid in line and "gone.jpg" in line for line in lines)
    assert any(line.startswith("left") and kiosk.uuid in line and "not an image" in line for line in lines)
    with Workspace.open(path) as ws:
        assert ws.get("toilets", one.fid).attributes["photo"] is None
        assert ws.get("toilets", two.fid).attributes["photo"] == "attachments/gone.jpg"
        assert [(link.uuid, link.sha256) for link in photo_links(ws.connection, where="m.pending = 1")] == [
            (one.uuid, sha)]
        package = write_changes(ws, tmp_path / "1.gpkg")
    assert (package.photos, package.photo_files) == (1, 1)
    assert "0 one-path photo(s) moved" in run("photos", "adopt", path).stdout  # nothing twice

    apply_package(master, package.path)
    con = sqlite3.connect(master)
    try:
        assert con.execute("SELECT photo FROM toilets WHERE uuid = ?", (one.uuid,)).fetchone() == (None,)
        assert [(link.uuid, link.sha256) for link in photo_links(con)] == [(one.uuid, sha)]
    finally:
        con.close()
    assert_valid(master)
