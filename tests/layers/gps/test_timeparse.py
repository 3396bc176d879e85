"""Fast ISO 8601 parsing agrees with datetime, handles zones and naive times."""

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from layers.gps.timeparse import TimeParser, parse_tz


@pytest.mark.parametrize("text, expected", [
    ("2024-05-01T08:30:00Z", "2024-05-01T08:30:00+00:00"),
    ("2024-05-01T08:30:00.250Z", "2024-05-01T08:30:00.250+00:00"),
    ("2024-05-01T08:30:59.999+08:00", "2024-05-01T08:30:59.999+08:00"),
    ("2024-05-01T08:30:00-03:30", "2024-05-01T08:30:00-03:30"),
    ("2024-05-01T08:30:00+0800", "2024-05-01T08:30:00+08:00"),
    ("2024-05-01 23:59:59Z", "2024-05-01T23:59:59+00:00"),
    ("2000-02-29T00:00:00Z", "2000-02-29T00:00:00+00:00"),
    ("1999-12-31T23:59:60Z", "2000-01-01T00:00:00+00:00"),     # leap second
    ("2024-05-01T08:30Z", "2024-05-01T08:30:00+00:00"),
])
def test_zoned_times_match_datetime(text, expected):
    parser = TimeParser()
    assert parser(text) == pytest.approx(datetime.fromisoformat(expected).timestamp(), abs=1e-6)
    assert parser.naive == 0 and parser.bad == 0


def test_naive_times_use_the_zone_and_are_counted():
    text = "2024-05-01T08:30:00"
    utc = datetime(2024, 5, 1, 8, 30, tzinfo=UTC).timestamp()
    assert TimeParser()(text) == utc
    for tz in ("+08:00", "+08", "+0800", 8, "Asia/Shanghai", timezone(timedelta(hours=8))):
        parser = TimeParser(tz)
        assert parser(text) == utc - 8 * 3600
        assert parser.naive == 1
    # A zone with daylight saving time: offset taken at the moment itself.
    berlin = TimeParser("Europe/Berlin")
    assert berlin("2024-01-15T12:00:00") == datetime(2024, 1, 15, 11, 0, tzinfo=UTC).timestamp()
    assert berlin("2024-07-15T12:00:00") == datetime(2024, 7, 15, 10, 0, tzinfo=UTC).timestamp()


def test_cache_does_not_mix_minutes():
    parser = TimeParser()
    a = parser("2024-05-01T08:30:10Z")
    b = parser("2024-05-01T08:31:10Z")
    c = parser("2024-05-01T08:30:20+01:00")
    assert b - a == 60 and a - c == 3600 - 10


def test_bad_and_odd_times():
    parser = TimeParser()
    assert math.isnan(parser("yesterday"))
    assert math.isnan(parser("2024-13-01T00:00:00Z"))
    assert math.isnan(parser("2024-05-01T08:30:xxZ"))
    assert parser.bad == 3
    assert parser("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC).timestamp()
    assert parser.naive == 1


def test_parse_tz_rejects_nonsense():
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_tz("Mars/Olympus")
    assert parse_tz("UTC") is UTC
    assert parse_tz("-05:30").utcoffset(None) == -timedelta(hours=5, minutes=30)
