"""Who and when: time-ordered feature uuids, the login name and the timestamp of edits."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time

__all__ = ["new_uuid", "login_name", "now_text"]


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


new_uuid = _Uuid7()


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
