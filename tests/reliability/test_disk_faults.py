"""Disk full, a folder that cannot exist, a file deleted mid-run: one line, exit 1, nothing half-written (items 5, 8).

The disk fills up through a file-size limit (``RLIMIT_FSIZE``) set in the
child process only: a write past it fails with EFBIG, as on a full disk, even
for root (CI runs as root, where a read-only folder stops nothing). A target
whose folder is a regular file cannot be written by anyone.
"""

from __future__ import annotations

import hashlib
import resource

import pytest

from layers.errors import TongchengError
from layers.sync import apply as apply_module
from layers.sync.apply import apply_package
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.reliability.helpers import assert_one_line_error, integrity, leftovers, run

LIMIT = 48 * 1024


def limited(size=LIMIT):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ["partners.gpkg", "partners.geojson", "folder"])
def test_export_on_a_full_disk(small, name):
    out = small["master"].with_name(name)
    extra = ("--format", "GeoJSON") if name == "folder" else ()
    result = run("export", small["master"], out, *extra, preexec_fn=limited(4096))
    assert_one_line_error(result, "disk")
    assert result.returncode == 1
    assert leftovers(small["master"].parent, {p.name for p in small.values()} | {"ws.sqlite.sent"}) == []
    assert run("export", small["master"], out, *extra).returncode == 0  # with room, the same command works


def test_apply_on_a_full_disk_leaves_the_master_as_it_was(small):
    before = digest(small["master"])
    result = run("apply", small["master"], small["package"], preexec_fn=limited(8 * 1024))
    assert_one_line_error(result, small["master"])
    assert result.returncode == 1
    assert integrity(small["master"]) == "ok" and digest(small["master"]) == before
    assert run("apply", small["master"], small["package"]).returncode == 0


def test_changes_on_a_full_disk_sends_nothing(small):
    out = small["master"].with_name("out.gpkg")
    before = digest(small["workspace"])
    result = run("changes", small["workspace"], out, preexec_fn=limited(LIMIT))
    assert_one_line_error(result)
    assert result.returncode == 1 and not out.exists()
    assert integrity(small["workspace"]) == "ok"
    with Workspace.open(small["workspace"]) as ws:
        assert ws.pending_changes()["toilets"] == {"insert": 1, "update": 1, "delete": 0}
    assert leftovers(out.parent, {p.name for p in small.values()} | {"ws.sqlite.sent"}) == []
    assert before  # the workspace may have been checkpointed, but holds the same edits
    assert run("changes", small["workspace"], out).returncode == 0 and out.exists()


def test_checkout_on_a_full_disk_leaves_nothing(small):
    target = small["master"].with_name("field.sqlite")
    result = run("checkout", small["master"], target, preexec_fn=limited(LIMIT))
    assert_one_line_error(result)
    assert result.returncode == 1 and not target.exists()
    assert leftovers(target.parent, {p.name for p in small.values()} | {"ws.sqlite.sent"}) == []
    assert run("checkout", small["master"], target).returncode == 0


@pytest.mark.parametrize("command", ["export", "checkout", "changes", "export-geojson"])
def test_a_target_nobody_can_write_is_one_line(small, command):
    blocker = small["master"].with_name("not-a-folder")
    blocker.write_text("a file where a folder should be")
    target = blocker / {"export": "out.gpkg", "checkout": "ws.sqlite", "changes": "out.gpkg",
                        "export-geojson": "out"}[command]
    args = {"export": ("export", small["master"], target),
            "export-geojson": ("export", small["master"], target, "--format", "GeoJSON"),
            "checkout": ("checkout", small["master"], target),
            "changes": ("changes", small["workspace"], target)}[command]
    result = run(*args)
    assert_one_line_error(result, blocker)
    assert result.returncode == 1
    if command == "changes":
        with Workspace.open(small["workspace"]) as ws:
            assert ws.pending_changes()["toilets"]["insert"] == 1  # not marked as sent


def test_a_master_deleted_during_apply_is_an_error_not_a_silent_loss(small, monkeypatch):
    real = apply_module._plan_apply

    def deleting(*args, **kwargs):
        if small["master"].exists():
            small["master"].rename(small["master"].with_name("moved.gpkg"))
        return real(*args, **kwargs)

    monkeypatch.setattr(apply_module, "_plan_apply", deleting)
    with pytest.raises(TongchengError, match="deleted or replaced while being written") as info:
        apply_package(small["master"], small["package"])
    assert str(small["master"]) in str(info.value) and "\n" not in str(info.value)


def test_a_workspace_deleted_during_update_is_an_error(small, monkeypatch):
    apply_package(small["master"], small["package"])
    from layers.sync import update as update_module

    real = update_module._plan_update

    def deleting(ws, *args, **kwargs):
        if ws.path.exists():
            ws.path.rename(ws.path.with_name("moved.sqlite"))
        return real(ws, *args, **kwargs)

    monkeypatch.setattr(update_module, "_plan_update", deleting)
    with Workspace.open(small["workspace"]) as ws, \
            pytest.raises(TongchengError, match="deleted or replaced while being written"):
        update_workspace(ws, small["master"])
