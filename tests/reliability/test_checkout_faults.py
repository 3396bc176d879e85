"""An interrupted checkout leaves nothing under the final name; a rerun succeeds (issue 15, item 3)."""

from __future__ import annotations

import pytest

from layers.errors import SyncError
from layers.sync import checkout as checkout_module
from layers.sync.checkout import checkout
from layers.workspace.store import Workspace
from tests.reliability.helpers import leftovers


def test_a_checkout_failing_half_way_leaves_nothing_and_the_rerun_succeeds(small, tmp_path, monkeypatch):
    target = tmp_path / "field.sqlite"
    real = checkout_module._checkout_features
    seen = []

    def failing(definition, rows, box):
        seen.append(definition.name)
        if len(seen) == 2:
            raise OSError(28, "No space left on device")
        yield from real(definition, rows, box)

    monkeypatch.setattr(checkout_module, "_checkout_features", failing)
    with pytest.raises(OSError):
        checkout(small["master"], target)
    assert not target.exists()
    assert leftovers(tmp_path, {"data"}) == []
    monkeypatch.setattr(checkout_module, "_checkout_features", real)
    counts = checkout(small["master"], target)
    assert counts["toilets"] == 12
    with Workspace.open(target) as ws:
        assert ws.count("toilets") == 12


def test_a_killed_checkout_leaves_a_temporary_file_the_rerun_removes(small, tmp_path):
    target = tmp_path / "field.sqlite"
    stale = tmp_path / ".field.sqlite.0123456789ab.tmp"
    stale.write_bytes(b"")  # what kill -9 left behind (no program holds it)
    checkout(small["master"], target)
    assert not stale.exists() and target.exists()
    with pytest.raises(SyncError, match="already exists"):
        checkout(small["master"], target)
