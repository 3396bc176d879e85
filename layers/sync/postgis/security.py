"""Row-level security of a PostGIS master: a database account per area may write only that area's features.

Every facility layer has row-level security on, with policies that let
anyone read and let a role insert, update or delete a feature only where
``tongcheng_may_write(geom)``: the feature lies in an area granted to the
role (or to a role it is a member of) in ``tongcheng_area_roles``.  The
master's owner (the office account that made it and applies packages) is not
bound by the policies, as PostgreSQL exempts a table's owner.  A street
account thus cannot write another street's features even with psql, nor
reserve component-code serials outside its districts or for another's
workspace (``layers.sync.postgis.code_security``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from layers.errors import DatabaseError, SyncError
from layers.schema.definitions import LayerDefinition
from layers.sync.children import parent_layers
from layers.sync.master import AREAS_TABLE
from layers.sync.postgis.code_security import secure_blocks
from layers.sync.postgis.tables import AREA_ROLES_TABLE

__all__ = ["MAY_WRITE", "install_policies", "add_layer_policies", "grant_new_layer", "grant_area"]

MAY_WRITE = "tongcheng_may_write"


def install_policies(con: psycopg.Connection[Any], definitions: Sequence[LayerDefinition]) -> None:
    """The area check function and the policies on every facility layer (inside the caller's transaction).

    A layer without geometry whose records belong to a feature (inspections) is
    written where that feature may be written.
    """
    schema = con.execute("SELECT current_schema()").fetchone()
    assert schema is not None
    con.execute(sql.SQL(
        "CREATE FUNCTION {fn}(g geometry) RETURNS boolean LANGUAGE sql STABLE "
        "SET search_path = {schema}, public AS $$ SELECT EXISTS (SELECT 1 FROM {roles} r JOIN {areas} a "
        "ON a.code = r.area WHERE pg_has_role(current_user, r.role, 'MEMBER') AND ST_Covers(a.geom, g)) $$").format(
        fn=sql.Identifier(MAY_WRITE), schema=sql.Identifier(schema[0]), roles=sql.Identifier(AREA_ROLES_TABLE),
        areas=sql.Identifier(AREAS_TABLE)))
    spatial = [d.name for d in definitions if d.has_geometry]
    for definition in definitions:
        add_layer_policies(con, definition, spatial)
    secure_blocks(con)


def add_layer_policies(con: psycopg.Connection[Any], definition: LayerDefinition, spatial: Sequence[str]) -> None:
    """Row-level security on one facility layer (*spatial*: the master's layers with geometry)."""
    fn = sql.Identifier(MAY_WRITE)
    t = sql.Identifier(definition.name)
    check: sql.Composable
    if definition.has_geometry:
        check = sql.SQL("{}(geom)").format(fn)
    elif definition.child_of is not None:  # where its feature may be written
        link = definition.child_of
        check = sql.SQL(" OR ").join(
            sql.SQL("({} = {} AND EXISTS (SELECT 1 FROM {} p WHERE p.uuid = {} AND {}(p.geom)))").format(
                sql.Identifier(link.layer_field), sql.Literal(parent), sql.Identifier(parent),
                sql.Identifier(link.uuid_field), fn)
            for parent in parent_layers(definition, spatial)) if parent_layers(definition, spatial) \
            else sql.SQL("false")
    else:
        return
    con.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(t))
    con.execute(sql.SQL("CREATE POLICY tongcheng_read ON {} FOR SELECT USING (true)").format(t))
    con.execute(sql.SQL("CREATE POLICY tongcheng_area_insert ON {} FOR INSERT WITH CHECK ({})").format(t, check))
    con.execute(sql.SQL("CREATE POLICY tongcheng_area_update ON {} FOR UPDATE USING ({}) "
                        "WITH CHECK ({})").format(t, check, check))
    con.execute(sql.SQL("CREATE POLICY tongcheng_area_delete ON {} FOR DELETE USING ({})").format(t, check))


def grant_new_layer(con: psycopg.Connection[Any], layer: str) -> list[str]:
    """Let the roles already granted an area read and write (in their areas) a layer added later; their names."""
    roles = [r[0] for r in con.execute(sql.SQL("SELECT DISTINCT role FROM {} ORDER BY role").format(
        sql.Identifier(AREA_ROLES_TABLE)))]
    sequence = con.execute("SELECT n.nspname, s.relname FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace "
                           "WHERE s.oid = pg_get_serial_sequence(format('%%I', %s::text), 'fid')::regclass",
                           (layer,)).fetchone()
    for role in roles:
        con.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
            sql.Identifier(layer), sql.Identifier(role)))
        if sequence is not None:  # the fid of a feature the role adds
            con.execute(sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(sql.Identifier(*sequence),
                                                                        sql.Identifier(role)))
    return roles


def grant_area(con: psycopg.Connection[Any], role: str, area: str, layers: Iterable[str]) -> str:
    """Let database role *role* read the master and write the facility features of *area*; returns the area's name.

    The role must exist (``CREATE ROLE street_chunxi LOGIN PASSWORD ...``, run by
    someone allowed to create roles).
    """
    found = con.execute(sql.SQL("SELECT name FROM {} WHERE code = %s").format(sql.Identifier(AREAS_TABLE)),
                        (area,)).fetchone()
    if found is None:
        raise SyncError(f"no administrative area {area!r} in the master (tongcheng areas MASTER lists them)")
    if con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
        raise DatabaseError(f"no database role {role!r}; create it first (CREATE ROLE ... LOGIN PASSWORD ...)")
    schema = con.execute("SELECT current_schema()").fetchone()
    assert schema is not None
    r, s = sql.Identifier(role), sql.Identifier(schema[0])
    try:
        con.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, r))
        con.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(s, r))
        con.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(s, r))
        for layer in layers:
            con.execute(sql.SQL("GRANT INSERT, UPDATE, DELETE ON {} TO {}").format(sql.Identifier(layer), r))
        if secure_blocks(con):  # a master made before: its blocks' policies too
            # its checkouts and updates reserve serials of component codes, its applies number new features
            con.execute(sql.SQL("GRANT INSERT ON tongcheng_code_blocks TO {}").format(r))
        con.execute(sql.SQL("INSERT INTO {} (role, area) VALUES (%s, %s) ON CONFLICT DO NOTHING").format(
            sql.Identifier(AREA_ROLES_TABLE)), (role, area))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise DatabaseError(f"not allowed to grant: {str(exc).splitlines()[0]} (run it as the master's owner)") \
            from None
    return str(found[0])
