"""Definitions that evolve: a layer definition's change, checked against the data, as one migration step.

The office changes a layer definition (a new field, a new code, a wider
range, a renamed label) and raises its ``version``.  A :class:`Step` says how
the rows of the version before become rows of the new one: fields added
(a required one with a default gets it in every existing row), fields
removed, codes removed, and where the values of a removed field or code go
(``--map old_field=new_field``, ``--map field.old_code=new_code``; an empty
right side drops them, and only when asked).  A field or code that holds
data is never removed without a mapping.  A field's type cannot change (add
a field and map the old one into it).

:func:`migrate_table` runs a step on any table with the layer's columns (the
master's layer, a workspace's layer and its base table, a change package's
layer), through :class:`LayerSql`: the same statements on SQLite
(:class:`SqliteLayerSql`) and on PostGIS
(``layers.sync.postgis.definitions.PostgisLayerSql``).
``layers.sync.definition_changes`` records steps in the master, and
``layers.sync.migrate`` brings them to workspaces and packages.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from layers.errors import SyncError
from layers.schema.definitions import FieldDefinition, LayerDefinition
from layers.sync.rows import quote

__all__ = ["Step", "LayerSql", "SqliteLayerSql", "parse_mappings", "plan_step", "migrate_table", "held_values",
           "violations"]


@dataclass
class Step:
    """One change of a layer definition (version ``old.version`` -> ``new.version``).

    Attributes
    ----------
    old, new : LayerDefinition
    added, removed : list of str
        Field names.
    fields : dict
        Removed field -> the new field its values move to (None: the values are dropped, as asked).
    codes : dict
        Field -> {removed code -> the code its values become (None: emptied, as asked)}.
    """

    old: LayerDefinition
    new: LayerDefinition
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    fields: dict[str, str | None] = field(default_factory=dict)
    codes: dict[str, dict[str, str | None]] = field(default_factory=dict)

    @property
    def layer(self) -> str:
        return self.new.name

    def mappings_json(self) -> str:
        return json.dumps({"fields": self.fields, "codes": self.codes}, ensure_ascii=False, sort_keys=True)

    def describe(self) -> list[str]:
        """One line per change, for the command's report."""
        lines = [f"field {n!r} added ({self.new.field(n).type})" for n in self.added]
        for n in self.removed:
            target = self.fields.get(n, "")
            lines.append(f"field {n!r} removed" + (f", its values moved to {target!r}" if target else
                                                   ", its values dropped (as asked)" if n in self.fields else ""))
        for name, codes in self.codes.items():
            for old, new in codes.items():
                lines.append(f"code {old!r} of {name!r} removed, its values " +
                             (f"become {new!r}" if new is not None else "emptied (as asked)"))
        old_fields = {f.name: f for f in self.old.fields}
        for f in self.new.fields:
            before = old_fields.get(f.name)
            if before is None:
                continue
            added = [c.value for c in f.codes if c.value not in before.code_set]
            if added:
                lines.append(f"codes of {f.name!r} added: {', '.join(added)}")
            if before.labels != f.labels or [c.labels for c in before.codes] != [c.labels for c in f.codes
                                                                               if c.value in before.code_set]:
                lines.append(f"labels of {f.name!r} changed")
            if (before.min, before.max, before.max_length, before.required) != (f.min, f.max, f.max_length,
                                                                                f.required):
                lines.append(f"rules of {f.name!r} changed (range, length or required)")
        return lines


def parse_mappings(items: Iterable[str]) -> dict[str, str | None]:
    """``--map`` arguments (``old=new``, ``field.old_code=new_code``, ``old=`` to drop) as a dict."""
    out: dict[str, str | None] = {}
    for item in items:
        if "=" not in item:
            raise SyncError(f"--map {item!r}: expected OLD=NEW (a field, or FIELD.CODE for a code; "
                            "nothing after = drops the values)")
        old, new = item.split("=", 1)
        out[old.strip()] = new.strip() or None
    return out


def plan_step(old: LayerDefinition, new: LayerDefinition, mappings: Mapping[str, str | None]) -> Step:
    """The migration from *old* to *new* with the given mappings (checked; not yet against the data)."""
    where = f"layer {new.name!r}"
    if new.geometry_type != old.geometry_type:
        raise SyncError(f"{where}: the geometry type cannot change ({old.geometry_type} -> {new.geometry_type})")
    old_fields = {f.name: f for f in old.fields}
    new_fields = {f.name: f for f in new.fields}
    step = Step(old, new, added=[n for n in new_fields if n not in old_fields],
                removed=[n for n in old_fields if n not in new_fields])
    for name in set(old_fields) & set(new_fields):
        if old_fields[name].type != new_fields[name].type:
            raise SyncError(f"{where}: field {name!r} cannot change type ({old_fields[name].type} -> "
                            f"{new_fields[name].type}); add a new field and map the old one into it")
    for key, target in mappings.items():
        if "." in key:
            name, code = key.split(".", 1)
            if name not in new_fields or name not in old_fields:
                raise SyncError(f"--map {key}: {where} has no field {name!r} in both versions")
            if code not in old_fields[name].code_set or code in new_fields[name].code_set:
                raise SyncError(f"--map {key}: {code!r} is not a code of {name!r} that the new version removes")
            if target is not None and new_fields[name].codes and target not in new_fields[name].code_set:
                raise SyncError(f"--map {key}={target}: {target!r} is not a code of {name!r} in the new version")
            if target is None and new_fields[name].required:
                raise SyncError(f"--map {key}=: {name!r} is required; map the code to another one")
            step.codes.setdefault(name, {})[code] = target
        else:
            if key not in step.removed:
                raise SyncError(f"--map {key}: {where} keeps or never had a field {key!r} (only a removed "
                                "field's values can be moved)")
            if target is not None:
                if target not in step.added:
                    raise SyncError(f"--map {key}={target}: {target!r} is not a field the new version adds")
                if new_fields[target].type != old_fields[key].type:
                    raise SyncError(f"--map {key}={target}: {key!r} is {old_fields[key].type}, "
                                    f"{target!r} {new_fields[target].type}")
            step.fields[key] = target
    return step


class LayerSql(Protocol):
    """The statements of a migration on one kind of database (a SQLite file, or a PostGIS master).

    *template* is SQL text with ``{}`` for each of *names* (identifiers, quoted
    by the database's own rule) and ``?`` for each of *parameters*: values
    never enter the text.
    """

    def count(self, template: str, names: Sequence[str], parameters: Sequence[Any] = ()) -> int: ...

    def execute(self, template: str, names: Sequence[str], parameters: Sequence[Any] = ()) -> None: ...

    def add_column(self, table: str, definition: FieldDefinition) -> None:
        """``ALTER TABLE ... ADD COLUMN`` of a field, in the database's type for it."""
        ...

    def value(self, definition: FieldDefinition, stored: Any) -> Any:
        """A value in the stored form (booleans 0/1, dates ISO text) as the database takes it."""
        ...


class SqliteLayerSql:
    """:class:`LayerSql` on a SQLite connection (a master GeoPackage, a workspace, a change package)."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def count(self, template: str, names: Sequence[str], parameters: Sequence[Any] = ()) -> int:
        return int(self.con.execute(template.format(*map(quote, names)), parameters).fetchone()[0])

    def execute(self, template: str, names: Sequence[str], parameters: Sequence[Any] = ()) -> None:
        self.con.execute(template.format(*map(quote, names)), parameters)

    def add_column(self, table: str, definition: FieldDefinition) -> None:
        self.con.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(definition.name)} {definition.sql_type}")

    def value(self, definition: FieldDefinition, stored: Any) -> Any:
        return stored


def _sql(db: sqlite3.Connection | LayerSql) -> LayerSql:
    return SqliteLayerSql(db) if isinstance(db, sqlite3.Connection) else db


def held_values(db: sqlite3.Connection | LayerSql, table: str, step: Step) -> list[str]:
    """What the step would lose in *table*: values of removed fields and codes that no mapping places."""
    run = _sql(db)
    problems = []
    for name in step.removed:
        if name in step.fields:
            continue
        count = run.count("SELECT count(*) FROM {} WHERE {} IS NOT NULL", (table, name))
        if count:
            problems.append(f"field {name!r} holds values in {count} feature(s): move them with "
                            f"--map {name}=NEW_FIELD (a field the new version adds), or drop them with --map {name}=")
    old_fields = {f.name: f for f in step.old.fields}
    for f in step.new.fields:
        before = old_fields.get(f.name)
        if before is None or not f.codes:
            continue
        for code in before.code_values:
            if code in f.code_set or code in step.codes.get(f.name, {}):
                continue
            count = run.count("SELECT count(*) FROM {} WHERE {} = ?", (table, f.name), (code,))
            if count:
                problems.append(f"code {code!r} of {f.name!r} is used by {count} feature(s): "
                                f"map it with --map {f.name}.{code}=NEW_CODE")
    return problems


def migrate_table(db: sqlite3.Connection | LayerSql, table: str, step: Step, *, fill_defaults: bool = True,
                  drop: bool = True) -> None:
    """Run *step* on *table* (columns named as the layer's fields), inside the caller's transaction.

    New columns are added (a required field's default written where it has no value, when
    *fill_defaults*), removed fields' values moved, removed codes mapped, removed columns dropped
    (when *drop*; a table whose triggers name them has them dropped first by the caller).
    """
    run = _sql(db)
    for name in step.added:
        run.add_column(table, step.new.field(name))
    for old, new in step.fields.items():
        if new is not None:
            run.execute("UPDATE {} SET {} = {} WHERE {} IS NOT NULL", (table, new, old, old))
    for name, codes in step.codes.items():
        for old_code, new_code in codes.items():
            run.execute("UPDATE {} SET {} = ? WHERE {} = ?", (table, name, name), (new_code, old_code))
    if fill_defaults:
        defaults = step.new.stored_defaults
        for name in step.added:
            f = step.new.field(name)
            if f.required and name in defaults:
                run.execute("UPDATE {} SET {} = ? WHERE {} IS NULL", (table, name, name),
                            (run.value(f, defaults[name]),))
    if drop:
        for name in step.removed:
            run.execute("ALTER TABLE {} DROP COLUMN {}", (table, name))


def violations(db: sqlite3.Connection | LayerSql, table: str, definition: LayerDefinition) -> list[str]:
    """The rules of *definition* that rows of *table* break (required, code list, range, length), counted."""
    run = _sql(db)
    checks: list[tuple[str, str, str, Sequence[Any]]] = []  # field, rule broken, condition on {} (the field), values
    for f in definition.fields:
        if f.derived:
            continue
        if f.required:
            checks.append((f.name, "is required", "{} IS NULL", ()))
        if f.codes:
            marks = ", ".join("?" * len(f.codes))
            checks.append((f.name, "is not in its code list", f"{{}} IS NOT NULL AND {{}} NOT IN ({marks})",
                           f.code_values))
        if f.min is not None:
            checks.append((f.name, f"is below {f.min}", "{} < ?", (run.value(f, f.min),)))
        if f.max is not None:
            checks.append((f.name, f"is above {f.max}", "{} > ?", (run.value(f, f.max),)))
        if f.max_length is not None:
            checks.append((f.name, f"is longer than {f.max_length}", "length({}) > ?", (f.max_length,)))
    out = []
    for name, rule, condition, parameters in checks:
        count = run.count("SELECT count(*) FROM {} WHERE " + condition, (table, *[name] * condition.count("{}")),
                          parameters)
        if count:
            out.append(f"{count} feature(s): {name!r} {rule}")
    return out
