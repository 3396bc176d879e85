"""Several change packages applied to a master in one transaction: checked first, then applied, all or nothing.

The office's apply of a day's packages (Sync > Apply change packages to a
master… in the editor). :func:`apply_packages` opens every package before the
master (a package that is not one is named before anything happens), puts
the packages of one workspace in the order they were sent, and applies them
one after another with :func:`~layers.sync.apply.apply_opened` inside one
transaction of the master: each sees the ones before it as the office side
of its merge, as if applied one at a time, but a failure, a refused
resolution or a cancel leaves the master as it was.

A **dry run** is that same apply rolled back at its end: its counts and
conflicts are what the apply would do, a later package's too (the core's
single-package dry run cannot see an earlier package of the batch). Its
conflicts, with a choice each, are handed back as *resolutions* by package
uuid, and must then match the conflicts of the moment exactly
(:func:`~layers.sync.resolutions.check_resolutions`), or nothing is written.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from layers.errors import SyncError
from layers.geopackage import open_geopackage
from layers.log import logger
from layers.postgres.urls import is_postgres
from layers.sqlite.locks import file_fault
from layers.sync.apply import apply_opened
from layers.sync.changes import PackageInfo, read_package_info
from layers.sync.merge import Conflict
from layers.sync.migrate import upgraded_package
from layers.sync.resolutions import POLICIES, Resolution
from layers.sync.results import SyncResult
from layers.sync.store import MasterLocation, master_location, open_master

__all__ = ["BatchResult", "apply_packages", "apply_order", "feature_labels"]

log = logger(__name__)


@dataclass
class BatchResult:
    """What :func:`apply_packages` did (or, in a dry run, would do).

    Attributes
    ----------
    master : Path or str
    dry_run : bool
    results : list of SyncResult
        One per package, in the order applied (``other`` is the package's path).
    reports : list of Path
        The JSON report of each package applied (none in a dry run).
    """

    master: Path | str
    dry_run: bool
    results: list[SyncResult] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)

    @property
    def version_before(self) -> int | None:
        return self.results[0].version_before if self.results else None

    @property
    def version_after(self) -> int | None:
        return self.results[-1].version_after if self.results else None

    @property
    def conflicts(self) -> int:
        return sum(len(r.conflicts) for r in self.results)


class _RolledBack(Exception):
    """Raised at the end of a dry run inside the master's transaction, so that it is rolled back."""

    def __init__(self, results: list[SyncResult]) -> None:
        super().__init__("dry run")
        self.results = results


def apply_order(infos: Sequence[PackageInfo]) -> list[int]:
    """The order to apply packages in: as given, but each workspace's packages in the order it sent them.

    The places the packages of one workspace hold in *infos* are kept for
    that workspace; its packages fill them oldest first (a package lists the
    packages its workspace sent before it).
    """
    places: dict[str, list[int]] = {}
    for i, info in enumerate(infos):
        places.setdefault(info.workspace_id, []).append(i)
    order = list(range(len(infos)))
    for indices in places.values():
        for place, i in zip(indices, sorted(indices, key=lambda i: (len(infos[i].previous), i)), strict=True):
            order[place] = i
    return order


def apply_packages(master: MasterLocation, packages: Iterable[str | os.PathLike[str]], *, policy: str = "office",
                   resolutions: Mapping[str, Iterable[Resolution]] | None = None, dry_run: bool = False,
                   user: str | None = None, strict: bool = False,
                   progress: Callable[[int, int], None] | None = None,
                   report_folder: str | os.PathLike[str] | None = None) -> BatchResult:
    """Apply change packages to a master in one transaction (or check what that would do).

    Parameters
    ----------
    master : path-like or str
        The master GeoPackage, or a ``postgresql://`` connection string.
    packages : iterable of path-like
        The change packages; each workspace's are applied in the order it sent them.
    policy : {'office', 'field', 'newest', 'manual'}
        Who wins a conflict without a resolution.
    resolutions : mapping of str to iterable of Resolution, optional
        By package uuid, a choice per conflict of that package (from the dry
        run); a package given none here is applied by the policy alone, one
        given a list must have exactly those conflicts.
    dry_run : bool
        Apply, then roll back: the counts and conflicts, nothing written.
    user : str, optional
        Who applies (the ledger's ``applied_by``).
    strict : bool
        Refuse a package whole if it changes features outside its scope.
    progress : callable(done, total), optional
        Called as layers are planned and written; it may raise
        (``Cancelled``) to stop, and nothing is written.
    report_folder : path-like, optional
        Where the JSON report of each package applied is written
        (``<package>-apply-<time>.json``).

    Returns
    -------
    BatchResult

    Raises
    ------
    GeoPackageError, SyncError
        A file is not a change package (named), is for another master, its
        workspace's earlier packages are missing, or the resolutions no
        longer match the conflicts. The master is unchanged.
    ServerUnreachable, LoginRefused, DatabaseError
        The server cannot be used. The master is unchanged.
    """
    if policy not in POLICIES:
        raise SyncError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    paths = [Path(p) for p in packages]
    if not paths:
        raise SyncError("no change package to apply")
    shown = master_location(master)
    log.info("applying %d package(s) to %s in one transaction%s", len(paths), shown, " (dry run)" if dry_run else "")
    outcome = BatchResult(shown, dry_run)
    opened: list[tuple[Path, PackageInfo]] = []
    for path in paths:  # a missing or broken package is named before the master is opened
        if not path.is_file():
            raise SyncError(f"{path}: no such file")
        with open_geopackage(path) as pgp:
            opened.append((path, read_package_info(pgp)))
    ordered = [opened[i] for i in apply_order([info for _, info in opened])]
    units = [2 * len(info.layers) + 1 for _, info in ordered]
    total = sum(units)

    def work() -> list[SyncResult]:
        results: list[SyncResult] = []
        done = 0

        def step() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(min(done, total), total)

        store.refresh()  # the master's definitions as of now (PostGIS: no definition change until the end)
        for (path, info), size in zip(ordered, units, strict=True):
            start = done
            given = None if resolutions is None else resolutions.get(info.package_uuid, [])
            # made under an older definition: a migrated copy, inside this transaction
            with upgraded_package(path, store) as current, open_geopackage(current) as pgp:
                results.append(apply_opened(store, pgp, path, policy=policy, user=user, resolutions=given,
                                            strict=strict, step=step))
            done = start + size - 1
            step()  # the package is done (or was applied before)
        if dry_run:
            raise _RolledBack(results)
        return results

    try:
        with open_master(master, write=True) as store:
            outcome.results = store.run(work)
    except _RolledBack as rolled:
        outcome.results = rolled.results
    except sqlite3.Error as exc:
        if is_postgres(master):
            raise SyncError(f"{shown}: {exc}; nothing was applied") from exc
        fault = file_fault(Path(master), exc, SyncError)
        raise (fault or SyncError(f"{master}: {exc}; nothing was applied")) from exc
    if not dry_run and report_folder is not None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        for result in outcome.results:
            report = Path(report_folder) / f"{Path(result.other).stem}-apply-{stamp}.json"
            result.write_report(report)
            outcome.reports.append(report)
    log.info("%s: %d package(s) %s, version %s -> %s", shown, len(outcome.results),
             "checked (rolled back)" if dry_run else "applied", outcome.version_before, outcome.version_after)
    return outcome


def feature_labels(master: MasterLocation, conflicts: Iterable[Conflict]) -> dict[tuple[str, str], str | None]:
    """How a review names the features of *conflicts*: their label field's value in the master (the name), or
    None where the layer has no label field or the master does not hold the feature (yet)."""
    wanted: dict[str, set[str]] = {}
    for c in conflicts:
        if c.layer:
            wanted.setdefault(c.layer, set()).add(str(c.uuid))
    labels: dict[tuple[str, str], str | None] = {}
    with open_master(master) as store:
        for layer, uuids in wanted.items():
            definition = store.info.definitions.get(layer)
            field = definition.label_field if definition is not None else None
            rows = store.rows_by_uuid(definition, sorted(uuids)) if field and definition is not None else {}
            for uuid in uuids:
                value = rows[uuid].get(field) if uuid in rows and field else None
                labels[(layer, uuid)] = str(value) if value not in (None, "") else None
    return labels
