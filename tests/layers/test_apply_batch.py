"""Several change packages applied to a master GeoPackage in one transaction: the dry run (the same apply, rolled
back) shows what each would do, later packages seeing earlier ones; the apply takes a choice per conflict; a
cancel, a bad package or stale choices leave the master as it was."""

from __future__ import annotations

import hashlib

import pytest

from layers.errors import Cancelled, GeoPackageError, SyncError
from layers.geopackage import open_geopackage
from layers.sync.apply import apply_package
from layers.sync.batch import apply_packages, feature_labels
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.master import LEDGER_TABLE, read_master, recover
from layers.sync.merge import Side
from layers.sync.resolutions import reviewed
from layers.workspace.store import Workspace
from tests.layers.test_gpkg import assert_valid

COUNTS = {"toilets": 20, "signboards": 6, "kiosks": 4}


def names(master):
    recover(master)
    with open_geopackage(master) as gp:
        return {r["uuid"]: r["name"] for r in gp.rows("toilets")}


def ledger(master):
    with open_geopackage(master) as gp:
        return [r["package_uuid"] for r in gp.rows(LEDGER_TABLE)]


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rename(ws, uuid, name):
    ws.update("toilets", ws.find("toilets", uuid).fid, {"name": name})


@pytest.fixture
def day(master, tmp_path):
    """A day's packages: 张三 sent two (the second renames what the first renamed), 李四 one that renames a toilet
    张三's first renamed too and one the office renamed directly. Returns the master, the packages in the order
    they were sent, and the toilets' uuids."""
    checkout(master, tmp_path / "a.sqlite", user="张三")
    checkout(master, tmp_path / "b.sqlite", user="李四")
    checkout(master, tmp_path / "office.sqlite", user="office")
    uuids = list(names(master))
    with Workspace.open(tmp_path / "a.sqlite") as a:
        rename(a, uuids[0], "张三一")
        rename(a, uuids[1], "张三一b")
        write_changes(a, tmp_path / "a1.gpkg")
        rename(a, uuids[0], "张三二")
        write_changes(a, tmp_path / "a2.gpkg")
    with Workspace.open(tmp_path / "b.sqlite") as b:
        rename(b, uuids[1], "李四")
        rename(b, uuids[2], "李四二")
        rename(b, uuids[3], "李四三")
        write_changes(b, tmp_path / "b.gpkg")
    with Workspace.open(tmp_path / "office.sqlite") as office:
        rename(office, uuids[2], "办公室")
        write_changes(office, tmp_path / "office.gpkg")
    apply_package(master, tmp_path / "office.gpkg")
    return master, [tmp_path / "a1.gpkg", tmp_path / "a2.gpkg", tmp_path / "b.gpkg"], uuids


def test_a_dry_run_shows_each_package_after_the_ones_before_it_and_writes_nothing(day):
    master, (a1, a2, b), uuids = day
    before = digest(master)
    with pytest.raises(SyncError, match="apply them first"):
        apply_package(master, a2, dry_run=True)            # one at a time, the second package cannot be checked
    seen = []
    dry = apply_packages(master, [a2, b, a1], dry_run=True, progress=lambda done, total: seen.append((done, total)))
    assert digest(master) == before and ledger(master) == [ledger(master)[0]]
    assert [r.other for r in dry.results] == [a1, b, a2]   # 张三's in the order sent, 李四's in its place
    assert (dry.version_before, dry.version_after) == (2, 5)
    assert [(r.layers["toilets"].updates, r.layers["toilets"].conflicts) for r in dry.results] == [
        (2, 0), (1, 2), (1, 0)]                              # the office's policy keeps the master's values for now
    first, second = dry.results[1].conflicts                 # 李四 renamed what 张三's first package renamed
    assert (first.uuid, first.field, first.office_value, first.field_value) == (uuids[1], "name", "张三一b", "李四")
    assert (second.uuid, second.office_value, second.field_value) == (uuids[2], "办公室", "李四二")
    assert dry.results[0].conflicts == dry.results[2].conflicts == []
    now = names(master)                                      # the review names the features as the master does
    assert feature_labels(master, dry.results[1].conflicts) == {("toilets", uuids[1]): now[uuids[1]],
                                                                ("toilets", uuids[2]): "办公室"}
    assert seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_the_apply_takes_the_choices_of_the_review(day, tmp_path):
    master, packages, uuids = day
    dry = apply_packages(master, packages, dry_run=True)
    choices = {r.package_uuid: [reviewed(c, Side.FIELD if c.uuid == uuids[1] else Side.OFFICE) for c in r.conflicts]
               for r in dry.results}
    done = apply_packages(master, packages, resolutions=choices, report_folder=tmp_path, user="clerk")
    assert not done.dry_run and (done.version_before, done.version_after) == (2, 5)
    now = names(master)
    assert (now[uuids[0]], now[uuids[1]], now[uuids[2]], now[uuids[3]]) == ("张三二", "李四", "办公室", "李四三")
    assert ledger(master)[1:] == [r.package_uuid for r in dry.results]
    assert [p.name.split("-apply-")[0] for p in done.reports] == ["a1", "a2", "b"]
    assert all(p.exists() for p in done.reports)
    assert_valid(master)
    again = apply_packages(master, packages)                    # the ledger: each once
    assert all(r.already_applied for r in again.results) and read_master(master).version == 5


def test_stale_choices_a_cancel_or_a_bad_package_leave_the_master_as_it_was(day, tmp_path):
    master, packages, uuids = day
    dry = apply_packages(master, packages, dry_run=True)
    with Workspace.open(tmp_path / "office.sqlite") as office:  # the office renames its toilet again meanwhile
        rename(office, uuids[2], "办公室又改")
        write_changes(office, tmp_path / "office2.gpkg")
    apply_package(master, tmp_path / "office2.gpkg")
    before = digest(master)
    choices = {r.package_uuid: [reviewed(c, Side.FIELD) for c in r.conflicts] for r in dry.results}
    with pytest.raises(SyncError, match="has office_value '办公室又改' now, not '办公室'"):
        apply_packages(master, packages, resolutions=choices)
    with pytest.raises(SyncError, match="no choice for the conflict"):  # 李四's package given no choices
        apply_packages(master, packages, resolutions={dry.results[0].package_uuid: []})
    assert digest(master) == before

    def cancel_at(n):
        def progress(done, _total):
            if done >= n:
                raise Cancelled("cancelled")
        return progress

    for n in (1, 4, 7):                                         # in the first package, the second, the last
        with pytest.raises(Cancelled):
            apply_packages(master, packages, progress=cancel_at(n))
        assert digest(master) == before

    (tmp_path / "notes.gpkg").write_text("not a GeoPackage")
    with pytest.raises(GeoPackageError, match="notes.gpkg"):
        apply_packages(master, [*packages, tmp_path / "notes.gpkg"])
    with pytest.raises(SyncError, match=r"master\.gpkg: this is a master, not a change package"):
        apply_packages(master, [packages[0], master])
    with pytest.raises(SyncError, match="gone.gpkg: no such file"):
        apply_packages(master, [tmp_path / "gone.gpkg"])
    with pytest.raises(SyncError, match="apply them first"):     # 张三's second without his first
        apply_packages(master, [packages[2], packages[1]])
    assert digest(master) == before
    assert len(apply_packages(master, packages).results) == 3   # and then it all applies
