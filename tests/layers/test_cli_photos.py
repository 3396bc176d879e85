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


def test_every_bad_file_is_refused_in_one_line_and_nothing_is_half_stored(demo_file, tmp_path):
    import shutil

    from tests.layers.media.images import PDF

    path = tmp_path / "w.sqlite"
    shutil.copy2(demo_file, path)
    uuid = _facility(path)
    good = tmp_path / "good.jpg"
    good.write_bytes(jpeg())
    made = {"text.jpg": b"a shopping list, not a photo", "cut.jpg": jpeg()[:300], "empty.jpg": b"",
            "zip.pdf": b"PK\x03\x04 not a pdf"}
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
    with open(tmp_path / "huge.jpg", "wb") as f:  # 500 MB on the name, nothing on the disk
        f.truncate(500 * 1024 * 1024)
    (tmp_path / "permit.pdf").write_bytes(PDF)
    add = ["photos", "add", path, "--layer", "toilets", "--uuid", uuid]
    for bad, message in [("text.jpg", "not an image (JPEG, PNG, GIF, WebP, TIFF) or a PDF"),
                         ("cut.jpg", "the image cannot be decoded"), ("empty.jpg", "empty file (0 bytes)"),
                         ("zip.pdf", "not an image"), ("huge.jpg", "500.0 MB is over the limit of 50.0 MB"),
                         ("good.jpg", "given twice")]:
        result = run(*add, good, tmp_path / bad)  # a good photo first: it is not stored either
        assert result.returncode == 1, result
        assert result.stderr == f"tongcheng: error: {tmp_path / bad}: " + result.stderr.split(": ", 3)[-1]
        assert message in result.stderr and len(result.stderr.splitlines()) == 1
        assert "0 photo(s)" in run("photos", "list", path).stdout

    assert run(*add, good, tmp_path / "permit.pdf").returncode == 0  # a PDF is an allowed attachment
    again = run(*add, tmp_path / "permit.pdf")
    assert again.returncode == 1 and "already a photo of toilets" in again.stderr
    assert "2 photo(s)" in run("photos", "list", path).stdout


def test_delete_takes_a_photo_off_by_its_hash_or_a_prefix(demo_file, tmp_path):
    import shutil

    path = tmp_path / "w.sqlite"
    shutil.copy2(demo_file, path)
    uuid = _facility(path)
    (tmp_path / "a.jpg").write_bytes(jpeg())
    (tmp_path / "b.png").write_bytes(png())
    assert run("photos", "add", path, "--layer", "toilets", "--uuid", uuid, tmp_path / "a.jpg",
               tmp_path / "b.png").returncode == 0
    sha_a, sha_b = (hashlib.sha256(d).hexdigest() for d in (jpeg(), png()))
    deleted = run("photos", "delete", path, "--uuid", uuid, sha_a[:10])
    assert deleted.returncode == 0, deleted.stderr
    assert f"deleted photo {sha_a} from toilets {uuid}" in deleted.stdout and "content was dropped" in deleted.stdout
    listed = run("photos", "list", path).stdout
    assert sha_b in listed and sha_a not in listed and "1 photo(s)" in listed
    missing = run("photos", "delete", path, "--uuid", uuid, sha_a)
    assert missing.returncode == 1 and f"{uuid}: has no photo {sha_a}" in missing.stderr
