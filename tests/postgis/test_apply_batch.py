"""Several change packages applied to a PostGIS master in one transaction: a dry run rolled back on the server, the
apply with the choices of the review, a cancel mid-way and an unreachable server leaving the master as it was."""

import psycopg
import pytest

from layers.errors import Cancelled, ServerUnreachable, SyncError
from layers.sync.batch import apply_packages
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.merge import Side
from layers.sync.postgis.create import create_postgis_master
from layers.sync.resolutions import reviewed
from layers.workspace.store import Workspace

COUNTS = {"toilets": 50, "signboards": 5, "kiosks": 5}


def state(url):
    """What an apply changes: the toilets' names, the version, the ledger and the history."""
    with psycopg.connect(url) as con:
        return (dict(con.execute("SELECT uuid, name FROM toilets").fetchall()),
                con.execute("SELECT value FROM tongcheng_master WHERE key = 'version'").fetchone()[0],
                con.execute("SELECT count(*) FROM tongcheng_ledger").fetchone()[0],
                con.execute("SELECT count(*) FROM tongcheng_history").fetchone()[0])


@pytest.fixture
def day(pg_url, tmp_path):
    create_postgis_master(pg_url, user="office", demo=True, counts=COUNTS)
    for name in ("a", "b"):
        checkout(pg_url, tmp_path / f"{name}.sqlite", user=name)
    with Workspace.open(tmp_path / "a.sqlite") as a:
        uuids = [r["uuid"] for r in a.raw_rows("toilets")]
        a.update("toilets", a.find("toilets", uuids[0]).fid, {"name": "甲一"})
        write_changes(a, tmp_path / "a1.gpkg")
        a.update("toilets", a.find("toilets", uuids[1]).fid, {"name": "甲二"})
        write_changes(a, tmp_path / "a2.gpkg")
    with Workspace.open(tmp_path / "b.sqlite") as b:
        b.update("toilets", b.find("toilets", uuids[0]).fid, {"name": "乙"})
        b.update("toilets", b.find("toilets", uuids[2]).fid, {"name": "乙二"})
        write_changes(b, tmp_path / "b.gpkg")
    return pg_url, [tmp_path / "b.gpkg", tmp_path / "a2.gpkg", tmp_path / "a1.gpkg"], uuids


def test_dry_run_then_apply_with_the_reviewed_choices(day, tmp_path):
    url, packages, uuids = day
    before = state(url)
    dry = apply_packages(url, packages, dry_run=True)
    assert state(url) == before                                   # rolled back on the server
    assert [r.other.name for r in dry.results] == ["b.gpkg", "a1.gpkg", "a2.gpkg"]
    assert [len(r.conflicts) for r in dry.results] == [0, 1, 0]   # 甲 renamed what 乙's package renamed first
    (conflict,) = dry.results[1].conflicts
    assert (conflict.office_value, conflict.field_value) == ("乙", "甲一")
    choices = {r.package_uuid: [reviewed(c, Side.FIELD) for c in r.conflicts] for r in dry.results}
    done = apply_packages(url, packages, resolutions=choices, report_folder=tmp_path)
    names, version, ledger, history = state(url)
    assert (names[uuids[0]], names[uuids[1]], names[uuids[2]]) == ("甲一", "甲二", "乙二")
    assert (int(version), ledger) == (4, 3) and history > before[3]
    assert (done.version_before, done.version_after) == (1, 4) and len(done.reports) == 3


def test_a_cancel_or_an_unreachable_server_writes_nothing(day, pg_server, pg_database):
    url, packages, _uuids = day
    before = state(url)

    def cancel_late(done, total):
        if done == total - 1:
            raise Cancelled("cancelled")

    with pytest.raises(Cancelled):
        apply_packages(url, packages, progress=cancel_late)
    assert state(url) == before
    with pytest.raises(ServerUnreachable):
        apply_packages(f"postgresql://postgres@127.0.0.1:1/{pg_database}", packages)
    with pytest.raises(SyncError, match="apply them first"):
        apply_packages(url, packages[:2])
    assert state(url) == before
