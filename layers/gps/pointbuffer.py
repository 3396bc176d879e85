"""Growable point columns that become a numpy Segment, at 8 bytes a value.

Python lists of floats cost 32 bytes a value; ``array.array('d')`` costs 8 and
hands its buffer to numpy without a copy, so a million points stay small.
Extra per-point values are stored sparsely (point index, value) and made
dense only when the segment is finished.
"""

from __future__ import annotations

import math
from array import array
from typing import Any

import numpy as np

from layers.gps.records import Segment

__all__ = ["PointBuffer", "TEXT_KEYS"]

#: Per-point fields always kept as text (never tried as numbers).
TEXT_KEYS = frozenset({"name", "cmt", "desc", "src", "sym", "type", "fix", "link"})

_NAN = math.nan


class _Sparse:
    """Values of one extra key: indices of the points that have it, values."""

    __slots__ = ("index", "numbers", "texts")

    def __init__(self, text: bool) -> None:
        self.index = array("q")
        self.numbers: array[float] | None = None if text else array("d")
        self.texts: list[Any] | None = [] if text else None

    def add(self, i: int, value: Any) -> None:
        if self.numbers is not None:
            try:
                number = float(value)
            except ValueError:
                # Not a number after all: keep every value of this key as text.
                self.texts = [repr(v) if not v.is_integer() else str(int(v))
                              for v in self.numbers]
                self.numbers = None
            else:
                self.index.append(i)
                self.numbers.append(number)
                return
        self.index.append(i)
        assert self.texts is not None  # numbers is None, so texts is a list
        self.texts.append(value)

    def dense(self, n: int) -> np.ndarray:
        index = np.frombuffer(self.index, dtype=np.int64) if len(self.index) else np.empty(0, np.int64)
        if self.numbers is not None:
            out = np.full(n, np.nan)
            if len(self.numbers):
                out[index] = np.frombuffer(self.numbers, dtype=np.float64)
        else:
            out = np.full(n, None, dtype=object)
            assert self.texts is not None
            for i, text in zip(index.tolist(), self.texts, strict=True):
                out[i] = text
        return out


class PointBuffer:
    """Columns of points being read; call :meth:`to_segment` when done.

    Attributes
    ----------
    lon, lat, ele, time : array.array('d'), appended to directly by readers
        (append nan to ele/time first, then overwrite ``[-1]`` when known).
    """

    __slots__ = ("lon", "lat", "ele", "time", "_extra")

    def __init__(self) -> None:
        self.lon = array("d")
        self.lat = array("d")
        self.ele = array("d")
        self.time = array("d")
        self._extra: dict[str, _Sparse] = {}

    def __len__(self) -> int:
        return len(self.lon)

    def add(self, lon: float, lat: float, ele: float = _NAN, time: float = _NAN) -> None:
        """Append one point."""
        self.lon.append(lon)
        self.lat.append(lat)
        self.ele.append(ele)
        self.time.append(time)

    def set_extra(self, key: str, value: Any) -> None:
        """Set an extra value (str or float) of the last point."""
        column = self._extra.get(key)
        if column is None:
            column = self._extra[key] = _Sparse(key in TEXT_KEYS or not isinstance(value, (str, float, int)))
        column.add(len(self.lon) - 1, value)

    def to_segment(self) -> tuple[Segment, int]:
        """Return the points as a Segment, dropping those with nan lon/lat.

        Returns
        -------
        segment : Segment
        n_bad : int, how many points had no usable coordinates.
        """
        n = len(self.lon)
        seg = Segment(
            lon=np.frombuffer(self.lon, dtype=np.float64) if n else np.empty(0),
            lat=np.frombuffer(self.lat, dtype=np.float64) if n else np.empty(0),
            ele=np.frombuffer(self.ele, dtype=np.float64) if n else np.empty(0),
            time=np.frombuffer(self.time, dtype=np.float64) if n else np.empty(0),
            extra={key: column.dense(n) for key, column in self._extra.items()},
        )
        good = ~(np.isnan(seg.lon) | np.isnan(seg.lat))
        n_bad = int(n - np.count_nonzero(good))
        if n_bad:
            seg = seg.take(good)
        return seg, n_bad
