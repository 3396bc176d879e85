"""A change package names its size (photos included) before it is written; a limit per package refuses a
bigger one with nothing written or marked as sent; changes, apply and update print the photo counts."""

import os
import re

import pytest

from layers.errors import SyncError
from layers.media import add_photos
from layers.media.tables import photo_links
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.workspace.store import Workspace
from tests.layers.test_cli import run


def _pdfs(folder, count, kb):
    folder.mkdir()
    paths = []
    for i in range(count):
        path = folder / f"permit{i}.pdf"
        path.write_bytes(b"%PDF-1.4\n" + os.urandom(kb * 1024) + b"\n%%EOF\n")  # random: as big on disk
        paths.append(path)
    return paths


def _mb(text):
    return float(re.search(r"([\d.]+) MB", text).group(1))


def test_changes_names_the_size_first_refuses_over_the_limit_and_apply_counts_photos(master, tmp_path):
    checkout(master, tmp_path / "w.sqlite")
    files = _pdfs(tmp_path / "scans", 6, 500)
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        kiosks = [f.uuid for f in ws.features("kiosks")]
        for uuid, path in zip(kiosks, files, strict=False):
            add_photos(ws, "kiosks", uuid, [path])
        add_photos(ws, "kiosks", kiosks[0], [files[1]])  # a second link to the same file: its bytes go once
        ws.update("kiosks", ws.find("kiosks", kiosks[0]).fid, {"name": "报刊亭"})
    package = tmp_path / "p.gpkg"

    refused = run("changes", tmp_path / "w.sqlite", package, "--max-size", "2MB")
    assert refused.returncode == 1
    first = refused.stdout.splitlines()[0]
    assert first.startswith("change package of about ") and "1 feature change(s), 7 photo(s) added (6 file(s)" in first
    assert 2.9 < _mb(first) < 3.3  # 6 files of 0.5 MB and the GeoPackage around them
    assert refused.stderr.startswith(f"tongcheng: error: {package}: the change package would be about ")
    assert "over the limit of 2.0 MB per package; nothing was written or marked as sent" in refused.stderr
    assert not package.exists() and not (tmp_path / "w.sqlite.sent").exists()
    with Workspace.open(tmp_path / "w.sqlite") as ws:  # still to be sent
        assert len(list(photo_links(ws.connection, where="m.pending = 1"))) == 7

    sent = run("changes", tmp_path / "w.sqlite", package, "--max-size", "5MB")
    assert sent.returncode == 0, sent.stderr
    estimate = _mb(sent.stdout.splitlines()[0])
    wrote = next(line for line in sent.stdout.splitlines() if line.startswith("wrote change package"))
    assert abs(_mb(wrote) - estimate) <= 0.05 * estimate  # the estimate is within a few per cent
    assert abs(package.stat().st_size / 1024 / 1024 - _mb(wrote)) < 0.06

    applied = run("apply", master, package)
    assert applied.returncode == 0, applied.stderr
    assert "photos: 7 photo(s) linked (6 new file(s)), 0 taken off (0 file(s) no facility has any more dropped)" \
        in applied.stdout


def test_a_limit_checked_on_the_written_package_too(master, tmp_path):
    checkout(master, tmp_path / "w.sqlite")
    (path,) = _pdfs(tmp_path / "scans", 1, 300)
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        add_photos(ws, "toilets", next(ws.features("toilets")).uuid, [path])
        seen = []
        result = write_changes(ws, tmp_path / "p.gpkg", reset=False, before_writing=seen.append)
        assert seen == [result] and result.size > 300 * 1024 and result.photo_bytes == path.stat().st_size
        with pytest.raises(SyncError, match=r"the change package (is|would be about) 0\.\d MB .*over the limit"):
            write_changes(ws, tmp_path / "q.gpkg", max_bytes=result.size - 1)
        assert not (tmp_path / "q.gpkg").exists()
        assert len(list(photo_links(ws.connection, where="m.pending = 1"))) == 1


def test_max_size_needs_a_size(tmp_path):
    bad = run("changes", tmp_path / "w.sqlite", tmp_path / "p.gpkg", "--max-size", "lots")
    assert bad.returncode == 2 and "'lots' is not a size (e.g. 50MB, 1.5GB)" in bad.stderr
