"""Fast ISO 8601 time parsing to UTC epoch seconds, with a zone for naive times.

GPS files hold one timestamp per point, so parsing must cost well under a
microsecond or two per call: ``datetime.fromisoformat`` per point is too slow
for a million points. :class:`TimeParser` caches the seconds of each distinct
``YYYY-MM-DDTHH:MM`` prefix (consecutive track points share it) and only parses
the seconds and the zone of each string. Anything unusual falls back to
``datetime.fromisoformat``.
"""

import calendar
import math
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["TimeParser", "parse_tz"]

_MINUTE_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)\Z")
_OFFSET_RE = re.compile(r"([+-])(\d\d)(?::?(\d\d))?\Z")
_CACHE_LIMIT = 50_000


def parse_tz(tz: str | float | tzinfo | None) -> tzinfo | None:
    """Turn a user's time-zone choice into a ``tzinfo`` (or None).

    Parameters
    ----------
    tz : None, str, float or tzinfo
        None (naive times are taken as UTC and flagged); an offset string such
        as ``'+08:00'``, ``'+0800'``, ``'+08'``, ``'Z'`` or ``'UTC'``; an IANA
        name such as ``'Asia/Shanghai'``; hours east of UTC as a number; or any
        ``datetime.tzinfo``.

    Returns
    -------
    tzinfo or None

    Raises
    ------
    ValueError
        If the string is neither an offset nor a known zone name.
    """
    if tz is None or isinstance(tz, tzinfo):
        return tz
    if isinstance(tz, (int, float)):
        return timezone(timedelta(hours=tz))
    text = str(tz).strip()
    if text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    match = _OFFSET_RE.match(text)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
        return timezone(sign * timedelta(minutes=minutes))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}: use an offset like '+08:00' "
                         "or a zone name like 'Asia/Shanghai'") from exc


class TimeParser:
    """Callable turning ISO 8601 strings into UTC epoch seconds (float).

    Strings with ``Z`` or an offset are exact. Strings without a zone
    ("naive") are read in ``tz`` (UTC when ``tz`` is None) and counted in
    :attr:`naive`. Unreadable strings give ``nan`` and are counted in
    :attr:`bad`.

    Parameters
    ----------
    tz : see :func:`parse_tz`
    """

    def __init__(self, tz: str | float | tzinfo | None = None) -> None:
        self.tz = parse_tz(tz)
        self.naive = 0
        self.bad = 0
        self._minutes: dict[str, float] = {}
        self._naive_offsets: dict[int, float] = {}
        fixed = self.tz.utcoffset(None) if self.tz is not None else timedelta(0)
        self._fixed_offset = fixed.total_seconds() if fixed is not None else None

    def __call__(self, text: str) -> float:
        """Return epoch seconds of ``text`` (nan if it cannot be read)."""
        base = self._minutes.get(text[:16])
        if base is None:
            match = _MINUTE_RE.match(text[:16])
            if match is None:
                return self._slow(text)
            base = self._minute_seconds(match)
            if base is None:
                return self._slow(text)
            if len(self._minutes) > _CACHE_LIMIT:
                self._minutes.clear()
            self._minutes[text[:16]] = base
        rest = text[16:]
        if rest.endswith("Z"):
            offset: float | None = 0.0
            rest = rest[:-1]
        else:
            cut = max(rest.rfind("+"), rest.rfind("-"))
            if cut >= 0:
                match = _OFFSET_RE.match(rest[cut:])
                if match is None:
                    return self._slow(text)
                minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
                offset = minutes * 60.0 * (-1 if match.group(1) == "-" else 1)
                rest = rest[:cut]
            else:
                offset = None
        if rest:
            if rest[0] != ":" or not rest[1:3].isdigit():
                return self._slow(text)
            try:
                seconds = float(rest[1:])
            except ValueError:
                return self._slow(text)
            if not 0 <= seconds < 61:
                return self._slow(text)
        else:
            seconds = 0.0
        local = base + seconds
        if offset is None:
            self.naive += 1
            return local - self._naive_offset(local)
        return local - offset

    @staticmethod
    def _minute_seconds(match: re.Match[str]) -> float | None:
        year, month, day, hour, minute = (int(g) for g in match.groups())
        if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59):
            return None
        try:
            return float(calendar.timegm((year, month, day, hour, minute, 0)))
        except (ValueError, OverflowError):
            return None

    def _naive_offset(self, local_seconds: float) -> float:
        """Offset in seconds of ``tz`` at a naive local time."""
        if self._fixed_offset is not None:
            return self._fixed_offset
        hour = int(local_seconds // 3600)
        offset = self._naive_offsets.get(hour)
        if offset is None:
            moment = datetime(1970, 1, 1) + timedelta(seconds=hour * 3600)
            delta = moment.replace(tzinfo=self.tz).utcoffset()
            assert delta is not None  # tz is set here: without one the offset is fixed (0)
            offset = delta.total_seconds()
            if len(self._naive_offsets) > _CACHE_LIMIT:
                self._naive_offsets.clear()
            self._naive_offsets[hour] = offset
        return offset

    def _slow(self, text: str) -> float:
        """Parse anything ``datetime.fromisoformat`` accepts (dates, odd forms)."""
        text = text.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.bad += 1
            return math.nan
        if moment.tzinfo is None:
            self.naive += 1
            naive_seconds = (moment - datetime(1970, 1, 1)).total_seconds()
            return naive_seconds - self._naive_offset(naive_seconds)
        return moment.timestamp()
