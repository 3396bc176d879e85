"""The office changes a layer definition or adds a layer: ``tongcheng definitions update|add MASTER FILE.toml``.

``update``: the new definition (its ``version`` above the master's) is
checked against the master's data, the master's layer migrated
(``layers.sync.evolution``), its text stored in ``tongcheng_layers``, the
master's version raised (and, in a GeoPackage, its default QGIS style
renewed; in PostGIS, its comments), all in one transaction that applies
respect (``MasterStore.lock_definitions``).  ``add``: a layer the master does
not have gets its empty table, made as the master's own, in the same way.
Every version of a changed or added definition is kept in
``tongcheng_definition_changes`` (the text, and the mappings that led to it),
so a workspace checked out under an older version, or a change package made
under one, can be brought up to date step by step (``layers.sync.migrate``).
Either kind of master (GeoPackage or PostGIS): the storage is the store's.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from layers.errors import DefinitionError, SyncError
from layers.log import logger
from layers.schema.definitions import LayerDefinition, parse_codelists, parse_definition
from layers.sync.evolution import Step, held_values, migrate_table, plan_step, violations
from layers.sync.master import DEFINITIONS_TABLE
from layers.sync.rows import now_text
from layers.sync.store import DefinitionVersion, MasterLocation, MasterStore, open_master
from layers.workspace.identity import login_name

__all__ = ["HISTORY_TABLE", "DefinitionChange", "update_definition", "add_layer", "definition_steps",
           "definition_at", "parse_layer_text"]

log = logger(__name__)

#: Every version of a changed or added layer definition.
HISTORY_TABLE = DEFINITIONS_TABLE


@dataclass
class DefinitionChange:
    """What :func:`update_definition` or :func:`add_layer` did (or, in a dry run, would do)."""

    master: Path | str
    layer: str
    old_version: int  # 0 for a layer added
    new_version: int
    master_version: int
    changes: list[str] = field(default_factory=list)
    dry_run: bool = False
    added: bool = False


def parse_layer_text(text: str, codelists_text: str, where: str, name: str | None = None) -> LayerDefinition:
    """A layer definition from its TOML text and the code lists it may refer to (SyncError if invalid)."""
    try:
        codelists = parse_codelists(tomllib.loads(codelists_text or ""), f"{where} code lists")
        return parse_definition(tomllib.loads(text), codelists, where, name)
    except tomllib.TOMLDecodeError as exc:
        raise SyncError(f"{where}: not valid TOML: {exc}") from None
    except DefinitionError as exc:
        raise SyncError(str(exc)) from None


def _read(file: Path) -> str:
    try:
        return file.read_text("utf-8")
    except OSError as exc:
        raise SyncError(f"{file}: cannot be read: {exc.strerror}") from None


class _DryRunDone(Exception):
    """Leaves the master's transaction of a dry run, which rolls it back."""

    def __init__(self, result: DefinitionChange) -> None:
        self.result = result


def _in_transaction(master: MasterLocation, work: Callable[[MasterStore], DefinitionChange]) -> DefinitionChange:
    """*work* in one transaction of the master that keeps applies out (rolled back by a dry run's end)."""
    try:
        with open_master(master, write=True) as store:
            return store.run(lambda: work(store))
    except _DryRunDone as done:
        return done.result


def update_definition(master: MasterLocation, file: str | os.PathLike[str], *,
                      mappings: Mapping[str, str | None] | None = None, user: str | None = None,
                      dry_run: bool = False) -> DefinitionChange:
    """Record a new version of a layer definition in the master and migrate the master's layer.

    Parameters
    ----------
    master : path-like or str
        The master GeoPackage, or a ``postgresql://`` connection string.
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
    file = Path(file)
    text = _read(file)
    return _in_transaction(master, lambda store: _update(store, file, text, mappings or {}, user, dry_run))


def _update(store: MasterStore, file: Path, text: str, mappings: Mapping[str, str | None], user: str | None,
            dry_run: bool) -> DefinitionChange:
    master = store.location
    info = store.lock_definitions()
    new = parse_layer_text(text, info.codelists, str(file))
    if new.name not in info.layers:
        raise SyncError(f"{file}: layer {new.name!r} is not a facility layer of master {master} "
                        f"(its layers: {', '.join(info.layers)}); add a new layer with tongcheng definitions add")
    old = info.definitions[new.name]
    if new.version <= old.version:
        raise SyncError(f"{file}: version {new.version} of layer {new.name!r} is not above the master's "
                        f"version {old.version}; raise `version` in the file")
    step = plan_step(old, new, mappings)
    tables = store.layer_sql()
    problems = held_values(tables, new.name, step)
    if problems:
        raise SyncError(f"{master}: layer {new.name!r}: " + "; ".join(problems) + " (nothing was changed)")
    result = DefinitionChange(master, new.name, old.version, new.version, info.version, step.describe(), dry_run)
    migrate_table(tables, new.name, step)
    broken = violations(tables, new.name, new)
    if broken:
        raise SyncError(f"{file}: the master's features break version {new.version} of layer {new.name!r}: "
                        + "; ".join(broken) + " (nothing was changed)")
    if dry_run:
        raise _DryRunDone(result)
    now = now_text()
    versions = []
    if not any(v.version == old.version for v in store.definition_history(new.name)):
        versions.append(DefinitionVersion(new.name, old.version, info.texts[new.name]))  # as the master was made
    versions.append(DefinitionVersion(new.name, new.version, text, step.mappings_json(), now, user or login_name()))
    result.master_version = store.store_definition(new, text, versions, now)
    log.info("%s: layer %s definition version %d -> %d", master, new.name, old.version, new.version)
    return result


#: Names a new layer's table cannot take: the master's bookkeeping, survey evidence, photos, GeoPackage's own.
_RESERVED = ("tongcheng_", "survey_", "gpkg", "rtree_", "sqlite_", "spatial_ref_sys", "media", "layer_styles")


def add_layer(master: MasterLocation, file: str | os.PathLike[str], *, user: str | None = None,
              dry_run: bool = False) -> DefinitionChange:
    """Add a new facility (or reference) layer to the master: its empty table, its definition (version recorded).

    Workspaces checked out before receive the layer with their next update
    (``layers.sync.migrate``): empty, or with the master's features of it in
    their scope.  Change packages made without it still apply.

    Parameters
    ----------
    master : path-like or str
        The master GeoPackage, or a ``postgresql://`` connection string.
    file : path-like
        The layer definition (TOML): a layer the master does not have, whose
        code lists are the master's.
    user : str, optional
        Who added it (default: login name).
    dry_run : bool
        Check it; write nothing.

    Raises
    ------
    SyncError
        The file is not a valid definition, names a layer the master has or a
        reserved name, is a survey layer, or refers to a layer the master does
        not have; the master is unchanged.
    """
    file = Path(file)
    text = _read(file)
    return _in_transaction(master, lambda store: _add(store, file, text, user, dry_run))


def _add(store: MasterStore, file: Path, text: str, user: str | None, dry_run: bool) -> DefinitionChange:
    master = store.location
    info = store.lock_definitions()
    new = parse_layer_text(text, info.codelists, str(file))
    name = new.name
    if name in info.definitions:
        raise SyncError(f"{file}: master {master} has layer {name!r} already; change it with tongcheng definitions "
                        "update (and a higher version)")
    if name.lower().startswith(_RESERVED) or name.lower().endswith("_media"):
        raise SyncError(f"{file}: {name!r} is a name the master keeps for its own tables; choose another layer name")
    if new.survey:
        raise SyncError(f"{file}: layer {name!r} is a survey layer (GPS evidence); only facility and reference "
                        "layers can be added to a master")
    needed = [f.located_in.layer for f in new.located_fields if f.located_in]
    if new.child_of is not None:
        from layers.sync.children import parent_layers

        if not parent_layers(new, info.layers):
            raise SyncError(f"{file}: layer {name!r} holds records of features of layers the master does not have")
    missing = [n for n in needed if n not in info.layers]
    if missing:
        raise SyncError(f"{file}: layer {name!r} takes values from layer {missing[0]!r}, which master {master} "
                        "does not have; add that one first")
    store.create_layer(new)
    result = DefinitionChange(master, name, 0, new.version, info.version, [f"layer {name!r} added "
                              f"({len(new.fields)} fields, {new.geometry_type})"], dry_run, added=True)
    if dry_run:
        raise _DryRunDone(result)
    now = now_text()
    result.master_version = store.store_definition(
        new, text, [DefinitionVersion(name, new.version, text, None, now, user or login_name())], now, added=True)
    log.info("%s: layer %s added (definition version %d)", master, name, new.version)
    return result


def definition_steps(history: Sequence[DefinitionVersion], codelists: str, current: LayerDefinition,
                     target: LayerDefinition, where: str) -> list[Step]:
    """The recorded steps (*history*: the layer's versions in the master) from *current*, an older version of the
    layer, up to *target* (the master's)."""
    import json

    rows = [v for v in history if current.version < v.version <= target.version]
    if not history:
        raise SyncError(f"{where}: layer {target.name!r} is at version {target.version} but the master keeps "
                        f"no record of its changes since version {current.version}")
    steps = []
    before = current
    for row in rows:
        after = target if row.version == target.version else parse_layer_text(
            row.definition, codelists, f"{where}: layer {target.name} version {row.version}", target.name)
        data = json.loads(row.mappings or "{}")
        step = plan_step(before, after, {})
        step.fields = dict(data.get("fields", {}))
        step.codes = {k: dict(v) for k, v in data.get("codes", {}).items()}
        steps.append(step)
        before = after
    if before.version != target.version:
        raise SyncError(f"{where}: the master's record of layer {target.name!r} has no step to version "
                        f"{target.version}")
    return steps


def definition_at(history: Sequence[DefinitionVersion], codelists: str, layer: str, version: int,
                  where: str) -> LayerDefinition:
    """Version *version* of *layer*'s definition as the master recorded it (SyncError if it did not)."""
    for row in history:
        if row.version == version:
            return parse_layer_text(row.definition, codelists, f"{where}: layer {layer} version {version}", layer)
    raise SyncError(f"{where}: keeps no record of version {version} of layer {layer!r}'s definition")
