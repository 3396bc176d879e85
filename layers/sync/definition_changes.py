"""The office changes a layer definition: ``tongcheng definitions update MASTER FILE.toml [--map old=new]``.

The new definition (its ``version`` above the master's) is checked against
the master's data, the master's layer migrated (``layers.sync.evolution``),
its text stored in ``tongcheng_layers``, the master's version raised and its
default QGIS style renewed, all in one transaction.  Every version of a
changed definition is kept in ``tongcheng_definition_changes`` (the text, and
the mappings that led to it), so a workspace checked out under an older
version, or a change package made under one, can be brought up to date step
by step (``layers.sync.migrate``).
"""

from __future__ import annotations

import os
import sqlite3
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from layers.errors import DefinitionError, SyncError
from layers.geopackage import Column, LayerSchema, open_geopackage
from layers.geopackage.styles import layer_qml, layer_sld
from layers.log import logger
from layers.schema.definitions import LayerDefinition, parse_codelists, parse_definition
from layers.sync.evolution import Step, held_values, migrate_table, plan_step, violations
from layers.sync.master import LAYERS_TABLE, MASTER_TABLE, read_master_info, recover
from layers.sync.rows import AUDIT_COLUMNS, now_text
from layers.workspace.identity import login_name

__all__ = ["HISTORY_TABLE", "DefinitionChange", "update_definition", "definition_steps", "parse_layer_text"]

log = logger(__name__)

HISTORY_TABLE = "tongcheng_definition_changes"


@dataclass
class DefinitionChange:
    """What :func:`update_definition` did (or, in a dry run, would do)."""

    master: Path
    layer: str
    old_version: int
    new_version: int
    master_version: int
    changes: list[str] = field(default_factory=list)
    dry_run: bool = False


def parse_layer_text(text: str, codelists_text: str, where: str, name: str | None = None) -> LayerDefinition:
    """A layer definition from its TOML text and the code lists it may refer to (SyncError if invalid)."""
    try:
        codelists = parse_codelists(tomllib.loads(codelists_text or ""), f"{where} code lists")
        return parse_definition(tomllib.loads(text), codelists, where, name)
    except tomllib.TOMLDecodeError as exc:
        raise SyncError(f"{where}: not valid TOML: {exc}") from None
    except DefinitionError as exc:
        raise SyncError(str(exc)) from None


def _history_exists(con: sqlite3.Connection) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (HISTORY_TABLE,)).fetchone() is not None


def update_definition(master: str | os.PathLike[str], file: str | os.PathLike[str], *,
                      mappings: Mapping[str, str | None] | None = None, user: str | None = None,
                      dry_run: bool = False) -> DefinitionChange:
    """Record a new version of a layer definition in the master and migrate the master's layer.

    Parameters
    ----------
    master : path-like
        The master GeoPackage.
    file : path-like
        The layer definition (TOML) with ``name`` an existing facility layer
        and ``version`` above the master's.
    mappings : dict, optional
        Where removed fields' and codes' values go (``layers.sync.evolution.parse_mappings``).
    user : str, optional
        Who changed it (default: login name).
    dry_run : bool
        Check everything against the data; write nothing.

    Raises
    ------
    SyncError
        The file is not a valid definition, not of a layer of the master, not
        a higher version, changes a type, or would lose data without a
        mapping, or the data breaks a rule of the new version; the master is
        unchanged.
    """
    master, file = Path(master), Path(file)
    try:
        text = file.read_text("utf-8")
    except OSError as exc:
        raise SyncError(f"{file}: cannot be read: {exc.strerror}") from None
    recover(master)
    try:
        return _update(master, file, text, mappings or {}, user, dry_run)
    except _DryRunDone as done:
        return done.result


class _DryRunDone(Exception):
    """Leaves the master's transaction of a dry run, which rolls it back."""

    def __init__(self, result: DefinitionChange) -> None:
        self.result = result


def _update(master: Path, file: Path, text: str, mappings: Mapping[str, str | None], user: str | None,
            dry_run: bool) -> DefinitionChange:
    with open_geopackage(master, "a") as gp:
        info = read_master_info(gp)
        new = parse_layer_text(text, info.codelists, str(file))
        if new.name not in info.layers:
            raise SyncError(f"{file}: layer {new.name!r} is not a facility layer of master {master} "
                            f"(its layers: {', '.join(info.layers)})")
        old = info.definitions[new.name]
        if new.version <= old.version:
            raise SyncError(f"{file}: version {new.version} of layer {new.name!r} is not above the master's "
                            f"version {old.version}; raise `version` in the file")
        step = plan_step(old, new, mappings)
        con = gp.connection
        problems = held_values(con, new.name, step)
        if problems:
            raise SyncError(f"{master}: layer {new.name!r}: " + "; ".join(problems) + " (nothing was changed)")
        result = DefinitionChange(master, new.name, old.version, new.version, info.version, step.describe(),
                                  dry_run)
        migrate_table(con, new.name, step)
        broken = violations(con, new.name, new)
        if broken:
            raise SyncError(f"{file}: the master's features break version {new.version} of layer {new.name!r}: "
                            + "; ".join(broken) + " (nothing was changed)")
        if dry_run:
            raise _DryRunDone(result)
        now = now_text()
        _record(gp, step, info.texts[new.name], text, user or login_name(), now)
        con.execute(f"UPDATE {LAYERS_TABLE} SET definition = ? WHERE name = ?", (text, new.name))
        result.master_version = info.version + 1
        con.execute(f"UPDATE {MASTER_TABLE} SET value = ? WHERE key = 'version'", (str(result.master_version),))
        columns = ["uuid", *new.field_names, *AUDIT_COLUMNS]
        gp.add_style(new.name, new.name[:30], layer_qml(new, "zh_CN", columns), sld=layer_sld(new),
                     description=new.title("zh_CN"), owner="tongcheng")
        con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name IN (?, ?, ?)",
                    (now, new.name, MASTER_TABLE, LAYERS_TABLE))
        log.info("%s: layer %s definition version %d -> %d", master, new.name, old.version, new.version)
    return result


def _record(gp: object, step: Step, old_text: str, new_text: str, user: str, now: str) -> None:
    from layers.geopackage import GeoPackage

    assert isinstance(gp, GeoPackage)
    con = gp.connection
    if not _history_exists(con):
        gp.create_layer(LayerSchema(HISTORY_TABLE, (
            Column("layer", "TEXT", not_null=True), Column("version", "INTEGER", not_null=True),
            Column("definition", "TEXT", not_null=True), Column("mappings", "TEXT"),
            Column("changed_at", "DATETIME"), Column("changed_by", "TEXT")),
            description="Tongcheng layer definitions: every version of a changed definition"))
    rows = []
    if not con.execute(f"SELECT 1 FROM {HISTORY_TABLE} WHERE layer = ? AND version = ?",
                       (step.layer, step.old.version)).fetchone():
        rows.append({"layer": step.layer, "version": step.old.version, "definition": old_text, "mappings": None,
                     "changed_at": None, "changed_by": None})
    rows.append({"layer": step.layer, "version": step.new.version, "definition": new_text,
                 "mappings": step.mappings_json(), "changed_at": now, "changed_by": user})
    gp.write_rows(HISTORY_TABLE, rows)


def definition_steps(con: sqlite3.Connection, codelists: str, current: LayerDefinition,
                     target: LayerDefinition, where: str) -> list[Step]:
    """The recorded steps from *current* (an older version of the layer) up to *target* (the master's)."""
    import json

    if not _history_exists(con):
        raise SyncError(f"{where}: layer {target.name!r} is at version {target.version} but the master keeps "
                        f"no record of its changes since version {current.version}")
    rows = con.execute(f"SELECT version, definition, mappings FROM {HISTORY_TABLE} WHERE layer = ? AND version > ? "
                       "AND version <= ? ORDER BY version", (target.name, current.version, target.version)).fetchall()
    steps = []
    before = current
    for version, text, mappings in rows:
        after = target if version == target.version else parse_layer_text(
            text, codelists, f"{where}: layer {target.name} version {version}", target.name)
        data = json.loads(mappings or "{}")
        step = plan_step(before, after, {})
        step.fields = dict(data.get("fields", {}))
        step.codes = {k: dict(v) for k, v in data.get("codes", {}).items()}
        steps.append(step)
        before = after
    if before.version != target.version:
        raise SyncError(f"{where}: the master's record of layer {target.name!r} has no step to version "
                        f"{target.version}")
    return steps
