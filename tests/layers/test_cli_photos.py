"""tongcheng photos add | list | extract: one line per error, files named by hash."""

import hashlib

from layers.workspace.store import Workspace
from tests.layers.media.images import jpeg, png
from tests.layers.test_cli import run


def _facility(path):
    with Workspace.open(path) as ws:
        return next(ws.features("toilets")).uuid


def test_add_list_extract_round_trip(demo_file, tmp_path):
    import shutil

    path = tmp_path / "w.sqlite"
    shutil.copy2(demo_file, path)
    uuid = _facility(path)
    (tmp_path / "a.jpg").write_bytes(jpeg())
    (tmp_path / "b.png").write_bytes(png())
    added = run("photos", "add", path, "--layer", "toilets", "--uuid", uuid, tmp_path / "a.jpg", tmp_path / "b.png")
    assert added.returncode == 0, added.stderr
    hashes = [hashlib.sha256(d).hexdigest() for d in (jpeg(), png())]
    assert all(h in added.stdout for h in hashes) and "2 photo(s) added" in added.stdout

    listed = run("photos", "list", path, "--uuid", uuid)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines() if line[:64] in hashes]
    assert [(r[0], int(r[1]), r[2], r[3], r[4]) for r in rows] == [
        (hashes[0], len(jpeg()), "image/jpeg", "toilets", uuid), (hashes[1], len(png()), "image/png", "toilets", uuid)]
    assert "0 photo(s)" in run("photos", "list", path, "--uuid", "other").stdout

    out = tmp_path / "out"
    extracted = run("photos", "extract", path, out)
    assert extracted.returncode == 0, extracted.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([hashes[0] + ".jpg", hashes[1] + ".png"])
    assert (out / (hashes[0] + ".jpg")).read_bytes() == jpeg()
    again = run("photos", "extract", path, out)
    assert "0 photo(s) written" in again.stdout and "2 already there" in again.stdout


def test_bad_input_is_one_line_and_exit_1(demo_file, tmp_path):
    import shutil

    path = tmp_path / "w.sqlite"
    shutil.copy2(demo_file, path)
    uuid = _facility(path)
    (tmp_path / "notes.jpg").write_text("hello")
    (tmp_path / "a.jpg").write_bytes(jpeg())
    for args, message in [
        (["add", path, "--layer", "toilets", "--uuid", uuid, tmp_path / "a.jpg", tmp_path / "notes.jpg"],
         "not an image"),
        (["add", path, "--layer", "toilets", "--uuid", uuid, "--max-size", "0.0001", tmp_path / "a.jpg"],
         "over the limit"),
        (["add", path, "--layer", "toilets", "--uuid", "nope", tmp_path / "a.jpg"], "no feature with uuid nope"),
        (["list", tmp_path / "missing.gpkg"], "no such file"),
    ]:
        result = run("photos", *args)
        assert result.returncode == 1, result
        assert result.stderr.startswith("tongcheng: error: ") and message in result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert "0 photo(s)" in run("photos", "list", path).stdout


def test_list_and_extract_read_a_master_and_a_change_package(master, tmp_path):
    from layers.media import add_photos
    from layers.sync.changes import write_changes
    from layers.sync.checkout import checkout

    checkout(master, tmp_path / "w.sqlite")
    (tmp_path / "a.jpg").write_bytes(jpeg())
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        uuid = next(ws.features("kiosks")).uuid
        add_photos(ws, "kiosks", uuid, [tmp_path / "a.jpg"])
        package = write_changes(ws, tmp_path / "p.gpkg").path
    sha = hashlib.sha256(jpeg()).hexdigest()
    listed = run("photos", "list", package, "--layer", "kiosks")
    assert listed.returncode == 0, listed.stderr
    assert f"{sha}" in listed.stdout and uuid in listed.stdout and "1 photo(s)" in listed.stdout
    assert run("apply", master, package).returncode == 0
    extracted = run("photos", "extract", master, tmp_path / "x", "--uuid", uuid)
    assert extracted.returncode == 0, extracted.stderr
    assert (tmp_path / "x" / f"{sha}.jpg").read_bytes() == jpeg()
