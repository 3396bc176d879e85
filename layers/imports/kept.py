"""The rows a check found good, kept for the writing pass in a temporary file, a chunk at a time.

``plan_import`` checks every row of a source once; what it found good (stored
values, the matched feature, the geometry in the target CRS) is written here
compactly (``marshal``: lists of plain values, coordinates and WKB as bytes)
and ``apply_import`` writes exactly that: the rows are never converted,
checked or moved twice, and memory holds a chunk at a time however long the
file. Up to ``IN_MEMORY_ROWS`` rows are kept as they are; more are kept as bytes,
in memory up to ``SPOOL_BYTES``, then in a file without a name (deleted when
closed, when the plan holding them is dropped, or when the process ends
however it ends).

The writing pass can take the new rows in another order than the source's
(``KeptRows.in_order``): in the spatial order the workspace stores a big load
in, so that each row is appended to the table instead of put between rows
written before (twice as fast for a million rows). They are sorted outside
memory: dealt into buckets of consecutive places, then each bucket sorted.
"""

from __future__ import annotations

import itertools
import marshal
import operator
import tempfile
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import shapely

__all__ = ["KeptChunk", "KeptRows", "SPOOL_BYTES"]

#: Kept rows up to this size stay in memory; more go to a temporary file.
SPOOL_BYTES = 16 << 20
#: Rows a chunk of new rows holds when they are taken in another order.
BUCKET_ROWS = 20_000
#: Up to this many rows are kept as they are (about 150 bytes a row) and put in another order in memory;
#: more are kept as bytes, and put in another order in buckets.
IN_MEMORY_ROWS = 250_000


@dataclass
class KeptChunk:
    """Good rows of one chunk: numbers, stored values by field (``given``: the fields every row names),
    the feature each updates (None: all new), and either points (``xy``) or geometries."""

    numbers: list[int]
    values: dict[str, list[Any]]
    given: set[str]
    fids: list[int | None] | None
    xy: np.ndarray | None
    geometries: np.ndarray | None

    def __len__(self) -> int:
        return len(self.numbers)

    def attributes(self, i: int) -> dict[str, Any]:
        """Row ``i``'s values by field (``uuid`` only when it has one)."""
        return {name: column[i] for name, column in self.values.items()
                if name in self.given or column[i] is not None}

    def geometry(self, i: int) -> Any:
        if self.xy is not None:
            return shapely.Point(self.xy[i])
        assert self.geometries is not None
        return self.geometries[i]

    def take(self, rows: list[int] | np.ndarray) -> KeptChunk:
        """The chunk of rows ``rows`` (indexes, in that order)."""
        index = np.asarray(rows, dtype=np.int64)
        pick = _picker(index)
        return KeptChunk(pick(self.numbers), {name: pick(column) for name, column in self.values.items()},
                         self.given, pick(self.fids) if self.fids is not None else None,
                         self.xy[index] if self.xy is not None else None,
                         self.geometries[index] if self.geometries is not None else None)

    def part(self, start: int, end: int) -> KeptChunk:
        """The chunk of rows ``start`` to ``end``."""
        return KeptChunk(self.numbers[start:end], {name: column[start:end] for name, column in self.values.items()},
                         self.given, self.fids[start:end] if self.fids is not None else None,
                         self.xy[start:end] if self.xy is not None else None,
                         self.geometries[start:end] if self.geometries is not None else None)

    @staticmethod
    def join(chunks: list[KeptChunk]) -> KeptChunk:
        """One chunk of the rows of several (of one source: the same fields, geometries given alike)."""
        first = chunks[0]
        fids = None if all(c.fids is None for c in chunks) else \
            [fid for c in chunks for fid in (c.fids if c.fids is not None else [None] * len(c))]
        joined = itertools.chain.from_iterable
        return KeptChunk(list(joined(c.numbers for c in chunks)),
                         {name: list(joined(c.values[name] for c in chunks)) for name in first.values},
                         first.given, fids,
                         np.concatenate([c.xy for c in chunks if c.xy is not None]) if first.xy is not None else None,
                         np.concatenate([c.geometries for c in chunks if c.geometries is not None])
                         if first.geometries is not None else None)


def _picker(index: np.ndarray) -> Callable[[list[Any]], list[Any]]:
    """A function giving ``[values[i] for i in index]`` of a list, in one call."""
    positions = index.tolist()
    if len(positions) < 2:  # itemgetter of one position gives the item, not a tuple
        return lambda values: [values[i] for i in positions]
    getter = operator.itemgetter(*positions)
    return lambda values: list(getter(values))


def _dumps(chunk: KeptChunk, extra: bytes | None = None) -> bytes:
    """A chunk as bytes (its geometries as WKB unless they are points given by coordinates)."""
    return marshal.dumps((chunk.numbers, chunk.values, sorted(chunk.given), chunk.fids,
                          chunk.xy.astype("<f8").tobytes() if chunk.xy is not None else None,
                          shapely.to_wkb(chunk.geometries).tolist()
                          if chunk.xy is None and chunk.geometries is not None else None, extra))


def _loads(data: bytes) -> tuple[KeptChunk, bytes | None]:
    numbers, values, given, fids, xy, wkbs, extra = marshal.loads(data)
    return KeptChunk(numbers, values, set(given), fids,
                     np.frombuffer(xy, dtype="<f8").reshape(-1, 2) if xy is not None else None,
                     shapely.from_wkb(wkbs) if wkbs is not None else None), extra


class _Spool:
    """Records of bytes appended to a temporary file (in memory while small) and read back by place."""

    def __init__(self) -> None:
        file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, prefix="tongcheng-import-")
        self._file: IO[bytes] | None = file
        self._closing = weakref.finalize(self, file.close)
        self._end = 0

    def append(self, data: bytes) -> tuple[int, int]:
        file = self._opened()
        file.seek(self._end)
        file.write(data)
        place = (self._end, len(data))
        self._end += len(data)
        return place

    def read(self, place: tuple[int, int]) -> bytes:
        file = self._opened()
        file.seek(place[0])
        return file.read(place[1])

    def _opened(self) -> IO[bytes]:
        self.check()
        assert self._file is not None
        return self._file

    def check(self) -> None:
        """ValueError once closed."""
        if self._file is None:
            raise ValueError("the kept rows are closed")

    def close(self) -> None:
        self._closing()
        self._file = None


class KeptRows:
    """Chunks of good rows, kept in order and read back (as often as needed): as they are while
    there are no more than ``IN_MEMORY_ROWS``, else as bytes in a temporary file."""

    def __init__(self) -> None:
        self._spool = _Spool()
        self._held: list[KeptChunk] | None = []
        self._chunks: list[tuple[int, int]] = []
        self.count = 0

    def add(self, chunk: KeptChunk) -> None:
        """Keep a chunk."""
        self.count += len(chunk)
        if self._held is not None:
            if self.count <= IN_MEMORY_ROWS:
                self._held.append(chunk)
                return
            for held in self._held:  # too many to hold: all go to the file
                self._chunks.append(self._spool.append(_dumps(held)))
            self._held = None
        self._chunks.append(self._spool.append(_dumps(chunk)))

    def __iter__(self) -> Iterator[KeptChunk]:
        self._spool.check()
        if self._held is not None:
            yield from self._held
            return
        for place in self._chunks:
            yield _loads(self._spool.read(place))[0]

    def in_order(self, order: np.ndarray | None) -> Iterator[KeptChunk]:
        """The kept rows, a chunk at a time: as kept if ``order`` is None; else first the rows that update
        a feature (as kept), then the new rows in ``order`` (the indexes of the new rows, counted in the
        order they were kept, in the order wanted)."""
        if order is None:
            yield from self
            return
        if len(order) <= IN_MEMORY_ROWS:
            yield from self._sorted_in_memory(order)
            return
        place = np.empty(len(order), dtype=np.int64)
        place[order] = np.arange(len(order), dtype=np.int64)
        buckets = _Spool()
        parts: list[list[tuple[int, int]]] = [[] for _ in range(-(-len(order) // BUCKET_ROWS))]
        try:
            seen = 0
            for chunk in self:
                new = np.arange(len(chunk), dtype=np.int64)
                if chunk.fids is not None:
                    matched = np.array([fid is not None for fid in chunk.fids])
                    if matched.any():
                        yield chunk.take(np.flatnonzero(matched))
                        new = np.flatnonzero(~matched)
                if not len(new):
                    continue
                if seen + len(new) > len(order):
                    raise ValueError(f"more new rows kept than the {len(order)} of the order")
                places = place[seen:seen + len(new)]
                seen += len(new)
                # The rows grouped by bucket (in the order kept within each), then cut into one record per bucket.
                by_bucket = np.argsort(places // BUCKET_ROWS, kind="stable")
                places = places[by_bucket]
                grouped = chunk.take(new[by_bucket])
                del chunk
                buckets_of = places // BUCKET_ROWS
                starts = [0, *(np.flatnonzero(np.diff(buckets_of)) + 1).tolist(), len(places)]
                for start, end in itertools.pairwise(starts):
                    b = int(buckets_of[start])
                    parts[b].append(buckets.append(_dumps(grouped.part(start, end), places[start:end].tobytes())))
                del grouped
            if seen != len(order):
                raise ValueError(f"{seen} new rows kept where the order has {len(order)}")
            for records in parts:
                pieces, places_in = [], []
                for record in records:
                    piece, extra = _loads(buckets.read(record))
                    assert extra is not None
                    pieces.append(piece)
                    places_in.append(np.frombuffer(extra, dtype=np.int64))
                if pieces:
                    yield KeptChunk.join(pieces).take(np.argsort(np.concatenate(places_in), kind="stable"))
        finally:
            buckets.close()

    def _sorted_in_memory(self, order: np.ndarray) -> Iterator[KeptChunk]:
        """``in_order`` for a few new rows: all read at once, then taken in order."""
        new: list[KeptChunk] = []
        for chunk in self:
            if chunk.fids is not None:
                matched = np.array([fid is not None for fid in chunk.fids])
                if matched.any():
                    yield chunk.take(np.flatnonzero(matched))
                    chunk = chunk.take(np.flatnonzero(~matched))
            if len(chunk):
                new.append(chunk)
        if not new:
            return
        every = KeptChunk.join(new)
        del new
        if len(every) != len(order):
            raise ValueError(f"{len(every)} new rows kept where the order has {len(order)}")
        every = every.take(order)
        for start in range(0, len(order), BUCKET_ROWS):
            yield every.part(start, start + BUCKET_ROWS)

    def close(self) -> None:
        self._spool.close()
        self._held = None
        self._chunks = []
