"""Who and when: time-ordered feature uuids, the login name and the timestamp of edits."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time

import numpy as np

__all__ = ["new_uuid", "new_uuids", "login_name", "now_text"]

#: The two hex digits of each byte value, as the two bytes of a little-endian uint16.
_HEX_PAIRS = np.array([ord(f"{i:02x}"[0]) | ord(f"{i:02x}"[1]) << 8 for i in range(256)], dtype="<u2")
#: The runs of hex digits in a uuid's text: (start, end) in the text, index of the run's first digit.
_RUNS = ((0, 8, 0), (9, 13, 8), (14, 18, 12), (19, 23, 16), (24, 36, 20))


class _Uuid7:
    """Time-ordered UUIDs (RFC 9562 version 7): unique like uuid4, but new ones sort after
    old ones, so a bulk load appends to the uuid index instead of splitting pages at random.
    Within one millisecond a random 74-bit counter keeps them unique and increasing."""

    def __init__(self) -> None:
        self._millis = -1
        self._counter = 0

    def __call__(self) -> str:
        millis = time.time_ns() // 1_000_000
        if millis > self._millis:
            self._millis = millis
            self._counter = secrets.randbits(73)  # headroom below 2**74 for the increments
        else:
            self._counter += 1
        counter = self._counter
        value = ((self._millis << 80) | (0x7 << 76) | ((counter >> 62) << 64) | (0b10 << 62)
                 | (counter & (2**62 - 1)))
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def many(self, count: int) -> list[str]:
        """``count`` uuids at once, as ``count`` calls would give them (the counter runs on), made with numpy."""
        if count <= 0:
            return []
        millis = time.time_ns() // 1_000_000
        if millis > self._millis:
            self._millis = millis
            start = secrets.randbits(73)
        else:
            start = self._counter + 1
        self._counter = start + count - 1
        # The 74-bit counter: its top 12 bits after the version nibble, its low 62 after the variant bits.
        low = np.arange(count, dtype=np.uint64) + np.uint64(start & (2**62 - 1))
        high12 = np.uint64(start >> 62) + (low >> np.uint64(62))
        low &= np.uint64(2**62 - 1)
        high = np.uint64((self._millis << 16) | (0x7 << 12)) | high12
        low |= np.uint64(0b10 << 62)
        octets = np.empty((count, 16), dtype=np.uint8)
        octets[:, :8] = high.astype(">u8").view(np.uint8).reshape(count, 8)
        octets[:, 8:] = low.astype(">u8").view(np.uint8).reshape(count, 8)
        digits = _HEX_PAIRS[octets].view(np.uint8)  # (count, 32) hex digits
        text = np.full((count, 37), ord("-"), dtype=np.uint8)
        for start, end, digit in _RUNS:
            text[:, start:end] = digits[:, digit:digit + end - start]
        text[:, 36] = ord("\n")
        uuids = text.tobytes().decode("ascii").split("\n")
        uuids.pop()  # after the last newline
        return uuids


new_uuid = _Uuid7()


def new_uuids(count: int) -> list[str]:
    """``count`` new time-ordered uuids (``new_uuid`` ``count`` times, in one go: for bulk loads)."""
    return new_uuid.many(count)


def now_text() -> str:
    """The current UTC time as written into the audit columns (ISO 8601, milliseconds, ``Z``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def login_name() -> str:
    """The user's login name: the default name in audit columns."""
    try:
        return os.getlogin()
    except OSError:
        import getpass

        return getpass.getuser()
