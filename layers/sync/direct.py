"""Send directly: a checkout's changes written as a change package and applied to its master at once.

When the master a workspace was checked out from can be reached (a
``postgresql://`` server, or a master file on a shared drive), the field
need not carry files: :func:`send_to_master` writes the change package as
for the office (:func:`~layers.sync.changes.write_changes`: the base is
reset, a copy kept in ``<workspace>.sent/``) and applies it at once
(:func:`~layers.sync.apply.apply_package`, the office's policy).  Packages
sent before that the master has not applied yet (a file that never reached
the office, an apply cut off by a lost connection) are applied first, from
those copies, in the order they were sent.

Nothing is written before the master was reached and found to be the
workspace's own: an unreachable server or a refused login raise before the
workspace changes (``ServerUnreachable``, ``LoginRefused``), so the caller
can send by file instead.  Receiving directly is
:func:`~layers.sync.update.update_workspace` with :func:`checkout_master`.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from layers.errors import SyncError, TongchengError
from layers.log import logger
from layers.postgres.urls import is_postgres
from layers.sync.apply import apply_package
from layers.sync.changes import PackageResult, sent_folder, write_changes
from layers.sync.checkout import SETTINGS, checkout_info
from layers.sync.results import SyncResult
from layers.sync.store import MasterLocation, open_master
from layers.workspace.store import Workspace

__all__ = ["DirectSend", "checkout_master", "undelivered_packages", "send_to_master"]

log = logger(__name__)


def checkout_master(workspace: Workspace) -> str | Path | None:
    """The master *workspace* was checked out from, as its checkout recorded it.

    Returns
    -------
    str, Path or None
        A ``postgresql://`` string, the master file's path, or None for a
        workspace that was not checked out (or by a version that did not
        record where from).
    """
    value = workspace.setting(SETTINGS["path"])
    if not value:
        return None
    return str(value) if is_postgres(str(value)) else Path(str(value))


@dataclass
class DirectSend:
    """What :func:`send_to_master` did.

    Attributes
    ----------
    master : str or Path
    package : PackageResult or None
        The package of the edits since the last send (None: there were none).
    applied : list of SyncResult
        One per package applied, earlier undelivered ones first; the last is
        *package*'s when there was one.
    reports : list of Path
        The reports written (one per apply with conflicts or refused rows).
    """

    master: str | Path
    package: PackageResult | None = None
    applied: list[SyncResult] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)

    @property
    def nothing_sent(self) -> bool:
        return not self.applied


def _location(workspace: Workspace, master: MasterLocation | None) -> str | Path:
    location = checkout_master(workspace) if master is None else master
    if location is None:
        raise SyncError(f"{workspace.path}: its checkout did not record the master it came from; "
                        "send the changes by file")
    return str(location) if is_postgres(location) else Path(location)


def undelivered_packages(workspace: Workspace, master: MasterLocation | None = None) -> list[str]:
    """The uuids of the packages *workspace* sent that its master has not applied, oldest first.

    Raises
    ------
    ServerUnreachable, LoginRefused, DatabaseError, SyncError
        The master cannot be reached or opened, or is another master.
    """
    return _reach(workspace, _location(workspace, master))


def _reach(ws: Workspace, location: str | Path) -> list[str]:
    """Open the master and check it is the workspace's; the packages sent that it has not applied."""
    info = checkout_info(ws)
    with open_master(location) as store:
        if store.info.master_id != info["master_id"]:
            raise SyncError(f"{store.location}: master {store.info.master_id} is not the master "
                            f"{info['master_id']} that {ws.path} was checked out from; nothing was sent")
        return [p for p in info["sent"] if not store.in_ledger(p)]


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def send_to_master(workspace: Workspace, master: MasterLocation | None = None, *,
                   report_folder: str | os.PathLike[str] | None = None, user: str | None = None,
                   policy: str = "office") -> DirectSend:
    """Apply the workspace's unsent changes to its master now (and any package sent before that it lacks).

    Parameters
    ----------
    workspace : Workspace
        A checked-out workspace (open; its own connection writes it).
    master : path-like or str, optional
        The master (default: where the workspace was checked out from).
    report_folder : path-like, optional
        Where the report of an apply with conflicts or refused rows is
        written (``<workspace>-sent-<time>-<package>.json``).
    user : str, optional
        Who applies (the ledger's ``applied_by``; default: the login name).
    policy : str
        The apply's policy (default ``office``, as the office applies).

    Returns
    -------
    DirectSend

    Raises
    ------
    ServerUnreachable, LoginRefused, DatabaseError, SyncError
        Before anything is written: the master cannot be reached or opened,
        or is not the workspace's.  After the package was written (a
        connection lost mid-apply): SyncError naming the copy kept, which the
        next send applies first; the master is as it was.
    """
    ws = workspace
    location = _location(ws, master)
    pending = _reach(ws, location)  # the master answers before anything is written
    outcome = DirectSend(location)
    folder = sent_folder(ws)
    for package_uuid in pending:
        copy = folder / f"{package_uuid}.gpkg"
        if not copy.exists():
            raise SyncError(f"{ws.path}: change package {package_uuid} was sent but never applied to {location}, "
                            f"and its copy {copy} is gone; give the office the file that was sent (nothing more "
                            "was sent)")
        log.info("%s: applying change package %s sent before to %s", ws.path, package_uuid, location)
        _apply(outcome, location, copy, ws, report_folder, user, policy)
    made_folder = not folder.exists()
    folder.mkdir(exist_ok=True)
    out = folder / f"{ws.path.stem}-changes-{_stamp()}.gpkg"  # a name for the ledger; the copy kept stays
    try:
        result = write_changes(ws, out)
    finally:
        if made_folder and not any(folder.iterdir()):
            folder.rmdir()
    if result.path is None:
        return outcome
    outcome.package = result
    try:
        _apply(outcome, location, out, ws, report_folder, user, policy)
    except TongchengError as exc:
        kept = folder / f"{result.package_uuid}.gpkg"
        raise SyncError(f"{exc}; the change package is kept in {kept}: the next send applies it first (or give "
                        "that file to the office)") from exc
    finally:
        out.unlink(missing_ok=True)
    log.info("%s: sent %s directly to %s (master version %s)", ws.path, result.package_uuid, location,
             outcome.applied[-1].version_after)
    return outcome


def _apply(outcome: DirectSend, location: str | Path, package: Path, ws: Workspace,
           report_folder: str | os.PathLike[str] | None, user: str | None, policy: str) -> None:
    result = apply_package(location, package, policy=policy, user=user)
    outcome.applied.append(result)
    if report_folder is not None and (result.conflicts or result.rejected):
        report = Path(report_folder) / f"{ws.path.stem}-sent-{_stamp()}-{(result.package_uuid or '')[:8]}.json"
        result.write_report(report)
        outcome.reports.append(report)
