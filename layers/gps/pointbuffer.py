"""Growable point columns that become a numpy Segment, at 8 bytes a value.

Python lists of floats cost 32 bytes a value; ``array.array('d')`` costs 8 and
hands its buffer to numpy without a copy, so a million points stay small.
Extra per-point values are stored sparsely (point index, value) and made
dense only when the segment is finished.
"""

import math
from array import array

import numpy as np

from layers.gps.records import Segment

__all__ = ["PointBuffer", "TEXT_KEYS"]

#: Per-point fields always kept as text (never tried as numbers).
TEXT_KEYS = frozenset({"name", "cmt", "desc", "src", "sym", "type", "fix", "link"})

_NAN = math.nan


class _Sparse:
    """Values of one extra key: indices of the points that have it, values."""

    __slots__ = ("index", "numbers", "texts")

    def __init__(self, text):
        self.index = array("q")
        self.numbers = None if text else array("d")
        self.texts = [] if text else None

    def add(self, i, value):
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
        self.texts.append(value)

    def dense(self, n):
        index = np.frombuffer(self.index, dtype=np.int64) if len(self.index) else np.empty(0, np.int64)
        if self.numbers is not None:
            out = np.full(n, np.nan)
            if len(self.numbers):
                out[index] = np.frombuffer(self.numbers, dtype=np.float64)
        else:
            out = np.full(n, None, dtype=object)
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

    def __init__(self):
        self.lon = array("d")
        self.lat = array("d")
        self.ele = array("d")
        self.time = array("d")
        self._extra = {}

    def __len__(self):
        return len(self.lon)

    def add(self, lon, lat, ele=_NAN, time=_NAN):
        """Append one point."""
        self.lon.append(lon)
        self.lat.append(lat)
        self.ele.append(ele)
        self.time.append(time)

    def set_extra(self, key, value):
        """Set an extra value (str or float) of the last point."""
        column = self._extra.get(key)
        if column is None:
            column = self._extra[key] = _Sparse(key in TEXT_KEYS or not isinstance(value, (str, float, int)))
        column.add(len(self.lon) - 1, value)

    def to_segment(self):
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
