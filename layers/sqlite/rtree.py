"""Bulk loading (packing) of SQLite R*Tree indexes by writing their shadow tables directly."""

# An SQLite rtree virtual table <name> keeps its tree in three ordinary tables
# (see SQLite's ext/rtree/rtree.c, "Database Format of R-Tree Tables"):
#
#   <name>_node(nodeno INTEGER PRIMARY KEY, data)   one blob per tree node
#   <name>_parent(nodeno INTEGER PRIMARY KEY, parentnode)   every non-root node
#   <name>_rowid(rowid INTEGER PRIMARY KEY, nodeno [, a0, a1 ...])   every entry
#
# A node blob is big-endian throughout: 2 bytes tree depth (read from the root,
# node 1, only; zero elsewhere), 2 bytes cell count, then the cells, then zero
# padding up to the node size (the length of the root blob, fixed when the
# table was created: page size - 64, at most 4 + 51 cells). A cell is an 8-byte
# id (the entry's rowid in a leaf, the child's nodeno above) and one float32
# (min, max) pair per dimension, in the table's column order.
#
# Filling the tree row by row runs the R* insertion (choose-subtree, forced
# reinsertion, splits) for every entry. Here the tree is packed instead with
# Sort-Tile-Recursive (Leutenegger et al., 1997): sort by x centre, cut into
# vertical slices, sort each slice by y centre, cut into nodes; repeat on the
# node boxes until one node (the root) is left. GDAL 3.6+ does the same for
# GeoPackage rtrees. SQLite's rtree module then reads, queries and updates the
# packed tree as if it had grown it.

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["bulk_load_rtree"]

_CELL = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])
_JSON_ENTRIES = 65_536                       # _rowid rows per JSON statement
_HEADER = 4                                  # depth (2 bytes) + cell count (2 bytes)
_ROUND_TOWARDS = 1.0 - 1.0 / 8388608.0       # rtree.c's RNDTOWARDS
_ROUND_AWAY = 1.0 + 1.0 / 8388608.0          # rtree.c's RNDAWAY

_NAME = r'(?:"(?:[^"]|"")*"|\[[^\]]*\]|`(?:[^`]|``)*`|\'(?:[^\']|\'\')*\'|[^\s.(]+)'
_CREATE_VIRTUAL = re.compile(
    rf"\s*CREATE\s+VIRTUAL\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:{_NAME}\s*\.\s*)?{_NAME}\s+USING\s+(\w+)",
    re.IGNORECASE,
)


#: One level of a packed tree: item order, cell count per node, item boxes in that order.
Level = tuple[np.ndarray, np.ndarray, np.ndarray]


def _pairs(first: np.ndarray, second: np.ndarray, chunk: int = 65_536) -> Iterator[tuple[Any, Any]]:
    """(a, b) tuples of two arrays, converted to Python ints a chunk at a time (not a million at once)."""
    for start in range(0, len(first), chunk):
        yield from zip(first[start:start + chunk].tolist(), second[start:start + chunk].tolist(), strict=True)


def bulk_load_rtree(connection: sqlite3.Connection, rtree_name: str, ids: ArrayLike, minx: ArrayLike,
                    maxx: ArrayLike, miny: ArrayLike, maxy: ArrayLike) -> None:
    """Fill an empty 2D rtree virtual table with a packed (STR) tree.

    Writes the node blobs and the ``_node``, ``_parent`` and ``_rowid``
    shadow tables exactly as SQLite's rtree module lays them out, so the
    result passes ``rtreecheck()`` and can be queried, inserted into and
    deleted from through ordinary SQL afterwards. Works for SpatiaLite
    spatial indexes (``idx_<table>_<geom>``) and GeoPackage ones
    (``rtree_<table>_<geom>``).

    Coordinates are stored as float32 rounded outward, the way the rtree
    module rounds a row inserted through SQL (bit for bit the same values),
    except where that rounding would not contain the float64 box (magnitudes
    beyond float32's range or below its normal range): there the next float32
    outward is taken, so every stored box always contains its input box.

    Parameters
    ----------
    connection : sqlite3.Connection
        Connection holding the rtree; must be inside a transaction, which
        stays the caller's (no BEGIN or COMMIT here; a SAVEPOINT undoes a
        partial load if writing fails).
    rtree_name : str
        Name of an existing, empty ``rtree`` virtual table of the main schema
        with one id and four coordinate columns (auxiliary ``+`` columns are
        allowed and left NULL).
    ids : array_like of int
        Entry ids (rowids), unique, 64-bit signed.
    minx, maxx, miny, maxy : array_like of float
        Finite box bounds, in the rtree's column order (first dimension
        min and max, then second dimension min and max); for points
        ``minx == maxx`` and ``miny == maxy``.

    Raises
    ------
    ValueError
        If the table is missing, not a 2D float ``rtree`` (``rtree_i32`` and
        other modules are refused) or not empty; if no transaction is open;
        if the arrays differ in length, are not 1-D, hold duplicate or
        non-integer ids, non-finite bounds, or a min above its max.

    Examples
    --------
    >>> connection.execute("BEGIN")
    >>> bulk_load_rtree(connection, "rtree_toilets_geom", fid, x, x, y, y)
    >>> connection.execute("COMMIT")
    """
    name, node_size = _check_rtree(connection, rtree_name)
    ids, boxes, by_id = _check_entries(ids, minx, maxx, miny, maxy)
    if not connection.in_transaction:
        raise ValueError(f"bulk_load_rtree({name!r}) must run inside a transaction: BEGIN first")
    capacity = (node_size - _HEADER) // _CELL.itemsize
    if len(ids) == 0:
        return

    levels = _pack(boxes, capacity)
    nodes, parents, leaf_of_entry = _number_nodes(levels, ids, node_size, capacity)

    quoted = _quote(name)
    connection.execute("SAVEPOINT bulk_load_rtree")
    try:
        _, root = next(nodes)
        connection.execute(f'UPDATE "{quoted}_node" SET data = ? WHERE nodeno = 1', (root,))
        connection.executemany(f'INSERT INTO "{quoted}_node"(nodeno, data) VALUES (?, ?)', nodes)
        connection.executemany(f'INSERT INTO "{quoted}_parent"(nodeno, parentnode) VALUES (?, ?)',
                               zip(parents[0].tolist(), parents[1].tolist(), strict=True))
        _insert_rowids(connection, quoted, ids[by_id], leaf_of_entry[by_id])  # rowid order: appends
    except BaseException:
        connection.execute("ROLLBACK TO bulk_load_rtree")
        connection.execute("RELEASE bulk_load_rtree")
        raise
    connection.execute("RELEASE bulk_load_rtree")


def _insert_rowids(connection: sqlite3.Connection, quoted: str, ids: np.ndarray, leaves: np.ndarray) -> None:
    """The ``_rowid`` rows: each entry's leaf, ``ids`` sorted. Consecutive ids (a bulk load's fids) go
    in one statement, the leaves as a JSON array (five times faster than a bound row each)."""
    if len(ids) > 1 and int(ids[-1]) - int(ids[0]) == len(ids) - 1:  # unique and sorted: consecutive
        sql = f'INSERT INTO "{quoted}_rowid"(rowid, nodeno) SELECT key + ?, value FROM json_each(?)'
        try:
            for start in range(0, len(ids), _JSON_ENTRIES):
                connection.execute(sql, (int(ids[start]), json.dumps(leaves[start:start + _JSON_ENTRIES].tolist())))
            return
        except sqlite3.OperationalError as e:  # an SQLite without JSON functions (before the first row)
            if "json_each" not in str(e):
                raise
    connection.executemany(f'INSERT INTO "{quoted}_rowid"(rowid, nodeno) VALUES (?, ?)', _pairs(ids, leaves))


# --- checks ---------------------------------------------------------------------------


def _quote(name: str) -> str:
    """The inside of an SQL double-quoted identifier."""
    return name.replace('"', '""')


def _check_rtree(connection: sqlite3.Connection, rtree_name: str) -> tuple[str, int]:
    """The table's stored name and node size; ValueError unless an empty 2D float rtree."""
    row = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
        (rtree_name,),
    ).fetchone()
    if row is None:
        raise ValueError(f"no table {rtree_name!r}")
    name, sql = row
    match = _CREATE_VIRTUAL.match(sql or "")
    if match is None:
        raise ValueError(f"{name!r} is not a virtual table")
    module = match.group(1).lower()
    if module == "rtree_i32":
        raise ValueError(f"{name!r} is an rtree_i32 (integer coordinates); only float rtrees are supported")
    if module != "rtree":
        raise ValueError(f"{name!r} is a {match.group(1)} virtual table, not an rtree")

    quoted = _quote(name)
    columns = connection.execute(f'PRAGMA table_info("{quoted}")').fetchall()
    rowid_columns = connection.execute(f'PRAGMA table_info("{quoted}_rowid")').fetchall()
    auxiliary = len(rowid_columns) - 2
    coordinates = len(columns) - 1 - auxiliary
    if coordinates != 4:
        raise ValueError(f"{name!r} has {coordinates} coordinate columns; only 2D rtrees (4) are supported")

    root = connection.execute(f'SELECT data FROM "{quoted}_node" WHERE nodeno = 1').fetchone()
    if root is None or not isinstance(root[0], bytes) or len(root[0]) < _HEADER + _CELL.itemsize:
        raise ValueError(f"{name!r} has no valid root node")
    not_empty = (
        int.from_bytes(root[0][2:4], "big") != 0
        or connection.execute(f'SELECT 1 FROM "{quoted}_rowid" LIMIT 1').fetchone() is not None
        or connection.execute(f'SELECT 1 FROM "{quoted}_parent" LIMIT 1').fetchone() is not None
        or connection.execute(f'SELECT 1 FROM "{quoted}_node" WHERE nodeno != 1 LIMIT 1').fetchone() is not None
    )
    if not_empty:
        raise ValueError(f"{name!r} is not empty; bulk loading needs an empty rtree")
    return name, len(root[0])


def _check_entries(ids: ArrayLike, minx: ArrayLike, maxx: ArrayLike, miny: ArrayLike,
                   maxy: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids as int64, the float32 boxes (n, 4) in column order, and the id order; ValueError if unusable."""
    ids = np.asarray(ids)
    if ids.size == 0:
        ids = ids.astype(np.int64)          # an empty list arrives as float64
    columns = [np.asarray(c, dtype=np.float64) for c in (minx, maxx, miny, maxy)]
    if ids.ndim != 1 or any(c.shape != ids.shape for c in columns):
        raise ValueError("ids, minx, maxx, miny and maxy must be 1-D arrays of the same length")
    if ids.dtype.kind not in "iu":
        raise ValueError(f"ids must be integers, not {ids.dtype}")
    if ids.dtype.kind == "u" and len(ids) and ids.max() > np.iinfo(np.int64).max:
        raise ValueError("ids must fit in a signed 64-bit integer")
    ids = ids.astype(np.int64)
    by_id = np.argsort(ids, kind="stable")
    sorted_ids = ids[by_id]
    repeated = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
    if len(repeated):
        raise ValueError(f"ids must be unique; {sorted_ids[repeated[0]]} repeats")
    if not all(np.isfinite(c).all() for c in columns):
        raise ValueError("box bounds must be finite (no NaN or infinity)")

    boxes = np.empty((len(ids), 4), dtype=np.float32)
    boxes[:, 0] = _round_down(columns[0])
    boxes[:, 1] = _round_up(columns[1])
    boxes[:, 2] = _round_down(columns[2])
    boxes[:, 3] = _round_up(columns[3])
    for low, high, label in ((0, 1, "minx <= maxx"), (2, 3, "miny <= maxy")):
        bad = np.flatnonzero(boxes[:, low] > boxes[:, high])
        if len(bad):
            raise ValueError(f"{len(bad)} boxes break {label}, first id {ids[bad[0]]}")
    return ids, boxes, by_id


# --- float64 -> float32, rounded outward -----------------------------------------------


def _round_down(values: np.ndarray) -> np.ndarray:
    """Float32 values never above ``values``: rtree.c's rtreeValueDown, made safe at the extremes."""
    with np.errstate(over="ignore"):
        rounded = values.astype(np.float32)
        above = rounded > values
        d = values[above]
        rounded[above] = (d * np.where(d < 0, _ROUND_AWAY, _ROUND_TOWARDS)).astype(np.float32)
    still = rounded > values            # only beyond float32's range or below its normal range
    rounded[still] = np.nextafter(rounded[still], np.float32(-np.inf))
    return rounded


def _round_up(values: np.ndarray) -> np.ndarray:
    """Float32 values never below ``values``: rtree.c's rtreeValueUp, made safe at the extremes."""
    with np.errstate(over="ignore"):
        rounded = values.astype(np.float32)
        below = rounded < values
        d = values[below]
        rounded[below] = (d * np.where(d < 0, _ROUND_TOWARDS, _ROUND_AWAY)).astype(np.float32)
    still = rounded < values
    rounded[still] = np.nextafter(rounded[still], np.float32(np.inf))
    return rounded


# --- Sort-Tile-Recursive packing --------------------------------------------------------


def _pack(boxes: np.ndarray, capacity: int) -> list[Level]:
    """Group boxes into nodes level by level, from the leaves up to the single root.

    Returns a list of levels, leaves first; each is ``(order, sizes, boxes)``:
    the items of the level below (entries for the leaves) in node order, the
    number of cells of each node, and the boxes of those items in that order.
    Node ``j`` of a level is item ``j`` of the level above.
    """
    levels = []
    while True:
        with np.errstate(invalid="ignore"):     # a box from -inf to inf (bounds beyond float32) has no centre
            centre_x = (boxes[:, 0].astype(np.float64) + boxes[:, 1]) / 2
            centre_y = (boxes[:, 2].astype(np.float64) + boxes[:, 3]) / 2
        order, sizes = _str_order(centre_x, centre_y, capacity)
        ordered = boxes[order]
        levels.append((order, sizes, ordered))
        if len(sizes) == 1:
            return levels
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        boxes = np.empty((len(sizes), 4), dtype=np.float32)
        boxes[:, [0, 2]] = np.minimum.reduceat(ordered[:, [0, 2]], starts, axis=0)
        boxes[:, [1, 3]] = np.maximum.reduceat(ordered[:, [1, 3]], starts, axis=0)


def _str_order(centre_x: np.ndarray, centre_y: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """STR order of items and the cell count of each node (as even as possible, at most ``capacity``)."""
    n = len(centre_x)
    n_nodes = -(-n // capacity)
    sizes = np.full(n_nodes, n // n_nodes, dtype=np.int64)
    sizes[: n % n_nodes] += 1
    if n_nodes == 1:
        return np.arange(n), sizes
    n_slices = math.ceil(math.sqrt(n_nodes))
    node_bounds = np.arange(n_slices + 1) * n_nodes // n_slices     # whole nodes per vertical slice
    item_bounds = np.concatenate(([0], np.cumsum(sizes)))[node_bounds]
    slice_of = np.empty(n, dtype=np.uint16 if n_slices <= 65536 else np.int64)
    slice_of[np.argsort(centre_x, kind="stable")] = np.repeat(np.arange(n_slices), np.diff(item_bounds))
    by_y = np.argsort(centre_y, kind="stable")
    return by_y[np.argsort(slice_of[by_y], kind="stable")], sizes   # by slice, then y (radix sort on uint16)


# --- node blobs and shadow rows -----------------------------------------------------------


def _number_nodes(levels: list[Level], ids: np.ndarray, node_size: int,
                  capacity: int) -> tuple[Iterator[tuple[int, bytes]], tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Node blobs ``(nodeno, blob)`` root first (made a few at a time as they are read), ``_parent``
    pairs, and each entry's leaf.

    The root is node 1; below it the levels follow top down, each level's
    nodes numbered consecutively in STR order.
    """
    first = [0] * len(levels)           # first nodeno of each level
    next_number = 1
    for depth in range(len(levels) - 1, -1, -1):
        first[depth] = next_number
        next_number += len(levels[depth][1])

    cells: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []  # per level, top down
    child_numbers: list[np.ndarray] = []
    parent_numbers: list[np.ndarray] = []
    leaf_of_entry = np.empty(len(ids), dtype=np.int64)
    for depth in range(len(levels) - 1, -1, -1):
        order, sizes, boxes = levels[depth]
        numbers = first[depth] + np.arange(len(sizes))
        node_of_cell = np.repeat(numbers, sizes)
        if depth == 0:
            cell_ids = ids[order]
            leaf_of_entry[order] = node_of_cell
        else:
            cell_ids = first[depth - 1] + order
            child_numbers.append(cell_ids)
            parent_numbers.append(node_of_cell)
        cells.append((first[depth], cell_ids, boxes, sizes))

    parents = (np.concatenate(child_numbers) if child_numbers else np.empty(0, dtype=np.int64),
               np.concatenate(parent_numbers) if parent_numbers else np.empty(0, dtype=np.int64))
    return _blobs(cells, len(levels) - 1, node_size, capacity), parents, leaf_of_entry


def _blobs(levels: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]], depth: int, node_size: int,
           capacity: int, at_a_time: int = 1024) -> Iterator[tuple[int, bytes]]:
    """``(nodeno, blob)`` of every node, level by level top down, made ``at_a_time`` nodes at a time
    (a million entries make 80 MB of leaves: never held at once)."""
    for level, (first, cell_ids, boxes, sizes) in enumerate(levels):
        starts = np.concatenate(([0], np.cumsum(sizes)))
        for a in range(0, len(sizes), at_a_time):
            b = min(a + at_a_time, len(sizes))
            blobs = _node_blobs(cell_ids[starts[a]:starts[b]], boxes[starts[a]:starts[b]], sizes[a:b], node_size,
                                capacity)
            if level == 0 and a == 0:  # the root says the tree's depth
                blobs[0, 0:2] = np.frombuffer(depth.to_bytes(2, "big"), dtype=np.uint8)
            for i in range(b - a):
                yield first + a + i, blobs[i].tobytes()


def _node_blobs(cell_ids: np.ndarray, boxes: np.ndarray, sizes: np.ndarray, node_size: int,
                capacity: int) -> np.ndarray:
    """One zero-padded node per row (uint8, ``(len(sizes), node_size)``), depth bytes left zero."""
    n_nodes = len(sizes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    node = np.repeat(np.arange(n_nodes), sizes)
    slot = np.arange(len(cell_ids)) - np.repeat(starts, sizes)
    cells = np.zeros((n_nodes, capacity), dtype=_CELL)
    cells["id"][node, slot] = cell_ids
    cells["box"][node, slot] = boxes
    blobs = np.zeros((n_nodes, node_size), dtype=np.uint8)
    blobs[:, 2:4] = sizes.astype(">u2").view(np.uint8).reshape(n_nodes, 2)
    blobs[:, _HEADER:_HEADER + capacity * _CELL.itemsize] = cells.view(np.uint8).reshape(n_nodes, -1)
    return blobs
