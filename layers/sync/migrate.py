"""A changed layer definition reaches workspaces and change packages made under an older version.

``update`` brings the master's newer definitions into a workspace before the
rebase: each recorded step (``layers.sync.definition_changes``) runs on the
layer table and on its base table in one transaction, with the tracking
triggers made anew for the new columns; the values and the pending edits are
kept (a moved field or a mapped code is moved or mapped in both, untracked,
as the office did to the master).  A dry run migrates inside a transaction
that is rolled back.

``update`` also makes the layers the office added since the workspace's
checkout (``tongcheng definitions add``): empty, then filled by the update
like any other layer with the master's features in the workspace's scope.

``apply`` of a change package made under an older definition applies a
migrated copy of it (the same steps on its layer, its ``base`` values and
its ``changed_fields``); a package made under a newer definition than the
master's is refused.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from layers.errors import SyncError
from layers.geopackage import open_geopackage
from layers.log import logger
from layers.sync.changes import read_package_info
from layers.sync.definition_changes import definition_at, definition_steps
from layers.sync.evolution import Step, migrate_table
from layers.sync.master import PACKAGE_TABLE, MasterInfo
from layers.sync.rows import quote
from layers.sync.store import MasterStore
from layers.workspace.create import LAYERS_TABLE, add_layer_table, definitions_from_workspace
from layers.workspace.store import Workspace
from layers.workspace.tracking import SETTINGS_TABLE, base_table, tracking_ddl

__all__ = ["workspace_steps", "added_layers", "migrated", "migrate_workspace", "upgraded_package"]

log = logger(__name__)


def workspace_steps(ws: Workspace, store: MasterStore, minfo: MasterInfo, layers: Sequence[str]) -> list[Step]:
    """The steps that bring the workspace's definitions of *layers* to the master's (none if the same version)."""
    steps: list[Step] = []
    for layer in layers:
        mine, theirs = ws.layer(layer), minfo.definitions.get(layer)
        if theirs is None or mine.version == theirs.version:
            continue
        if mine.version > theirs.version:
            raise SyncError(f"{minfo.path}: layer {layer!r} is at definition version {theirs.version}, older than "
                            f"version {mine.version} in {ws.path} (an older copy of the master?); nothing was changed")
        steps += definition_steps(store.definition_history(layer), minfo.codelists, mine, theirs, str(minfo.path))
    return steps


def added_layers(ws: Workspace, minfo: MasterInfo, base_version: int) -> list[str]:
    """The master's layers added after version *base_version* (the workspace's base) that the workspace lacks."""
    return [name for name in minfo.layers
            if name not in ws.definitions and minfo.layers_added.get(name, 0) > base_version]


def migrate_workspace(ws: Workspace, steps: Sequence[Step], minfo: MasterInfo, added: Sequence[str] = ()) -> None:
    """Run the steps on the workspace and make the layers *added* (empty, tracked), in one transaction (a
    session); its definitions are the master's after."""
    with ws.session() as con:
        for step in steps:
            layer = step.layer
            triggers = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name LIKE 'tongcheng%'",
                (layer,))]
            for name in triggers:
                con.execute(f"DROP TRIGGER {quote(name)}")
            migrate_table(con, layer, step)
            migrate_table(con, base_table(layer), step)
            columns = [(r[1], r[2]) for r in con.execute(f"PRAGMA table_info({quote(layer)})")]
            for statement in tracking_ddl(layer, columns)[1:]:  # [0] makes the base table, which is kept
                con.execute(statement)
            text = minfo.texts[layer] if step.new.version == minfo.definitions[layer].version else None
            if text is not None:
                con.execute(f"UPDATE {LAYERS_TABLE} SET definition = ? WHERE name = ?", (text, layer))
            log.info("%s: layer %s definition version %d -> %d", ws.path, layer, step.old.version,
                     step.new.version)
        for name in added:
            add_layer_table(con, minfo.definitions[name], minfo.texts[name])
            log.info("%s: layer %s added (definition version %d)", ws.path, name, minfo.definitions[name].version)
        con.execute(f"UPDATE {SETTINGS_TABLE} SET value = ? WHERE key = 'codelists'", (minfo.codelists,))
        ws.definitions = definitions_from_workspace(con)


class _Undo(Exception):
    """Leaves a dry run's session, which rolls the migration back."""


@contextlib.contextmanager
def migrated(ws: Workspace, steps: Sequence[Step], minfo: MasterInfo, *, keep: bool,
             added: Sequence[str] = ()) -> Iterator[None]:
    """The workspace migrated by *steps* (and the layers *added* made) for the block: for good (*keep*; inside the
    caller's session, which a failure in the block rolls back, the migration with it), or rolled back after it (a
    dry run)."""
    if not steps and not added:
        yield
        return
    saved = ws.definitions
    if keep:  # for good when the caller's transaction commits; its definitions of before if it fails
        try:
            migrate_workspace(ws, steps, minfo, added)
            yield
        except BaseException:
            ws.definitions = saved
            raise
        return
    try:
        with ws.session():
            migrate_workspace(ws, steps, minfo, added)
            yield
            raise _Undo
    except _Undo:
        pass
    finally:
        ws.definitions = saved


@contextlib.contextmanager
def upgraded_package(package: Path, store: MasterStore) -> Iterator[Path]:
    """The package to apply to *store* (its definitions as of now): itself, or a copy migrated to the master's
    definitions (removed afterwards).

    Raises
    ------
    SyncError
        The package was made under a newer definition than the master's.
    """
    with open_geopackage(package) as pgp:
        pinfo = read_package_info(pgp)
    minfo = store.info
    master = store.location
    steps: list[Step] = []
    for layer in pinfo.layers:
        theirs = minfo.definitions.get(layer)
        if theirs is None:
            continue  # apply names the unknown layer
        version = pinfo.definition_versions.get(layer, 1)
        if version > theirs.version:
            raise SyncError(f"{package}: made under version {version} of layer {layer!r}'s definition, but "
                            f"{master} has version {theirs.version}; update the master's definition first "
                            "(tongcheng definitions update), then apply; nothing was applied")
        if version < theirs.version:
            history = store.definition_history(layer)
            old = definition_at(history, minfo.codelists, layer, version, str(master))
            steps += definition_steps(history, minfo.codelists, old, theirs, str(master))
    if not steps:
        yield package
        return
    with tempfile.TemporaryDirectory(prefix="tongcheng-package-") as folder:
        copy = Path(folder) / package.name
        shutil.copyfile(package, copy)
        with open_geopackage(copy, "a") as gp:
            con = gp.connection
            for step in steps:
                migrate_table(con, step.layer, step)
                _migrate_package_columns(con, step)
            versions = {**pinfo.definition_versions, **{s.layer: s.new.version for s in steps}}
            con.execute(f"UPDATE {PACKAGE_TABLE} SET value = ? WHERE key = 'definition_versions'",
                        (json.dumps(versions),))
            if con.execute("SELECT changes()").fetchone()[0] == 0:
                con.execute(f"INSERT INTO {PACKAGE_TABLE} (key, value) VALUES ('definition_versions', ?)",
                            (json.dumps(versions),))
        log.info("%s: migrated to the master's definitions (%s)", package,
                 ", ".join(f"{s.layer} {s.old.version}->{s.new.version}" for s in steps))
        yield copy


def _migrate_package_columns(con: sqlite3.Connection, step: Step) -> None:
    """The step on a package layer's ``changed_fields`` and ``base`` values (names and codes)."""
    if not step.fields and not step.codes and not step.removed:
        return
    t = quote(step.layer)
    updates = []
    for fid, changed, base in con.execute(f"SELECT fid, changed_fields, base FROM {t}").fetchall():
        names = [n for n in (changed or "").split(",") if n]
        names = [step.fields.get(n) if n in step.removed else n for n in names]
        new_changed = ",".join(n for n in names if n) or None
        values = json.loads(base) if base else None
        if values is not None:
            for old, new in step.fields.items():
                if old in values and new is not None:
                    values[new] = values[old]
            values = {k: v for k, v in values.items() if k not in step.removed}
            for name, codes in step.codes.items():
                if values.get(name) in codes:
                    values[name] = codes[values[name]]
        updates.append((new_changed, json.dumps(values, ensure_ascii=False) if values is not None else None, fid))
    con.executemany(f"UPDATE {t} SET changed_fields = ?, base = ? WHERE fid = ?", updates)
