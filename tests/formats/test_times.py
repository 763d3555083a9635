"""A time that no clock shows, or that falls outside the years of news copy, is no time: it never
stops a story, and never reaches one to break storage or pages later."""

from __future__ import annotations

import datetime as dt

import pytest

from wiredesk.formats.shared import VERSION_MAX, whole_number
from wiredesk.formats.times import impossible_offset, parse_time


@pytest.mark.parametrize(
    "written",
    [
        "2026-11-24T10:00:00+24:00",
        "20261124T100000+2400",
        "20261124T100000+9999",
        "Tue, 24 Nov 2026 10:00:00 +99999999999999999999",
        "Tue, 24 Nov 2026 99999999999999999999:00:00 GMT",
        "Tue, 99999999999999999999 Nov 2026 10:00:00 GMT",
        "99999999999999999999",
        "99991231T235959-1200",
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+12:00",
        "1899-12-31T23:59:59Z",
        "2200-01-01T00:00:00Z",
    ],
)
def test_no_time(written):
    assert parse_time(written) is None


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2026-11-24T10:00:00+23:59", dt.datetime(2026, 11, 23, 10, 1, tzinfo=dt.UTC)),
        ("20261124T100000-2359", dt.datetime(2026, 11, 25, 9, 59, tzinfo=dt.UTC)),
        ("1900-01-01T00:00:00Z", dt.datetime(1900, 1, 1, tzinfo=dt.UTC)),
        ("2199-12-31T23:59:59Z", dt.datetime(2199, 12, 31, 23, 59, 59, tzinfo=dt.UTC)),
    ],
)
def test_the_limits_are_times(written, utc):
    assert parse_time(written) == utc


@pytest.mark.parametrize(
    ("written", "impossible"),
    [
        ("2026-11-24T10:00:00+24:00", True),
        ("Tue, 24 Nov 2026 10:00:00 +9999", True),
        ("2026-11-24 10:00:00 +" + "9" * 5000, True),
        ("2026-11-24T10:00:00-23:59", False),
        ("2026-11-24", False),
        ("99999999999999999999", False),
        (None, False),
    ],
)
def test_an_offset_no_clock_has(written, impossible):
    assert impossible_offset(written) is impossible


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("7", 7),
        ("0", 0),
        (str(VERSION_MAX), VERSION_MAX),
        (str(VERSION_MAX + 1), None),
        ("9" * 5000, None),
        ("²", None),
        ("١", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("", None),
        (None, None),
    ],
)
def test_a_whole_number_is_written_in_ascii_digits(written, number):
    assert whole_number(written, VERSION_MAX) == number
