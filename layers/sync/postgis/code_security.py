"""Row-level security of a PostGIS master's blocks of component codes: an area's account reserves only its own.

An area's role (``tongcheng master grant``) may insert into
``tongcheng_code_blocks``: its checkouts and updates reserve serials, its
applies number new features.  The policies let it insert a block only

* in a district of its areas: a district granted to it, the district of a
  street granted to it, a district area whose inside meets the inside of an
  area granted to it (a city), or the master's own district where its
  areas reach beyond the district areas by more than a sliver (where a
  checkout of them reserves, ``layers.sync.codes.CodeBook.checkout_districts``);
* as itself: the column ``reserved_role`` is the database role that inserted
  the row (``current_user``, checked), and the holder is a workspace of its
  own: not ``office``, nor a holder whose blocks another role reserved.

Everyone may read the blocks; nobody but the master's owner (exempt from the
policies, as PostgreSQL exempts a table's owner) may change or delete one.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from layers.sync.code_tables import BLOCKS_TABLE, DISTRICT_KEY
from layers.sync.codes import OFFICE
from layers.sync.master import AREAS_TABLE, MASTER_TABLE
from layers.sync.postgis.tables import AREA_ROLES_TABLE
from layers.workspace.districts import COVERED

__all__ = ["MAY_NUMBER", "ROLE_COLUMN", "secure_blocks"]

MAY_NUMBER = "tongcheng_may_number"
#: The column of a block row naming the database role that inserted it.
ROLE_COLUMN = "reserved_role"


def secure_blocks(con: psycopg.Connection[Any]) -> bool:
    """The blocks table's role column, check function and policies (made or renewed, inside the caller's
    transaction, by the master's owner); False where the master has no blocks table."""
    found = con.execute("SELECT to_regclass(%s)", (BLOCKS_TABLE,)).fetchone()
    if found is None or found[0] is None:
        return False
    schema = con.execute("SELECT current_schema()").fetchone()
    assert schema is not None
    blocks = sql.Identifier(BLOCKS_TABLE)
    fn = sql.Identifier(MAY_NUMBER)
    con.execute(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} name NOT NULL DEFAULT current_user").format(
        blocks, sql.Identifier(ROLE_COLUMN)))
    con.execute(sql.SQL(
        "CREATE OR REPLACE FUNCTION {fn}(d text, h text) RETURNS boolean LANGUAGE sql STABLE "
        "SET search_path = {schema}, public AS $$ "
        "SELECT h <> {office} "
        "AND NOT EXISTS (SELECT 1 FROM {blocks} b WHERE b.holder = h AND b.{role} <> current_user) "
        "AND EXISTS (SELECT 1 FROM {roles} r JOIN {areas} a ON a.code = r.area "
        "WHERE pg_has_role(current_user, r.role, 'MEMBER') AND ("
        "EXISTS (SELECT 1 FROM {areas} x WHERE x.level = 'district' AND x.code = d AND (x.code = a.code OR "
        "x.code = a.parent OR ST_Relate(x.geom, a.geom, 'T********'))) "
        "OR (d = (SELECT value FROM {master} WHERE key = {key}) AND COALESCE(ST_Area(ST_Difference(a.geom, "
        "(SELECT ST_Union(x.geom) FROM {areas} x WHERE x.level = 'district'))) > {sliver} * ST_Area(a.geom), "
        "true)))) $$").format(
        fn=fn, schema=sql.Identifier(schema[0]), office=sql.Literal(OFFICE), blocks=blocks,
        role=sql.Identifier(ROLE_COLUMN), roles=sql.Identifier(AREA_ROLES_TABLE), areas=sql.Identifier(AREAS_TABLE),
        master=sql.Identifier(MASTER_TABLE), key=sql.Literal(DISTRICT_KEY), sliver=sql.Literal(COVERED)))
    con.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(blocks))
    for policy in ("tongcheng_read", "tongcheng_area_insert"):
        con.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(sql.Identifier(policy), blocks))
    con.execute(sql.SQL("CREATE POLICY tongcheng_read ON {} FOR SELECT USING (true)").format(blocks))
    con.execute(sql.SQL("CREATE POLICY tongcheng_area_insert ON {} FOR INSERT WITH CHECK ({} = current_user AND "
                        "{}(district, holder))").format(blocks, sql.Identifier(ROLE_COLUMN), fn))
    return True
