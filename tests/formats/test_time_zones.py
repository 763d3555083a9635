"""Times written without an offset are read in the source's configured zone; times with one keep it."""

from __future__ import annotations

import datetime as dt

import pytest
from corpus import CORPUS

from wiredesk import formats
from wiredesk.formats import Context, FormatError, dpa_digitalwires, iptc7901
from wiredesk.formats.times import parse_time

DPA = CORPUS / "agency-samples" / "dpa-digitalwires-to-iptc7901"
BERLIN = Context(source="dpa", zone="Europe/Berlin")
NOON_IN_BERLIN_SUMMER = dt.datetime(2024, 7, 1, 10, 0, tzinfo=dt.UTC)

# The same naive time, "12:00 on 1 July 2024", as each format writes it.
NAIVE = {
    "ninjs": b'{"uri": "urn:x:1", "headline": "Zone", "body_text": "Text.", "versioncreated": "2024-07-01T12:00:00"}',
    "nitf": b'<nitf><head><docdata><date.issue norm="20240701T120000"/></docdata></head>'
    b"<body><body.head><hedline><hl1>Zone</hl1></hedline></body.head>"
    b"<body.content><p>Text.</p></body.content></body></nitf>",
    "newsml-g2": b'<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:x:1" version="1">'
    b"<itemMeta><versionCreated>2024-07-01T12:00:00</versionCreated></itemMeta>"
    b"<contentMeta><headline>Zone</headline></contentMeta><contentSet>"
    b'<inlineXML contenttype="application/xhtml+xml"><html xmlns="http://www.w3.org/1999/xhtml">'
    b"<body><p>Text.</p></body></html></inlineXML></contentSet></newsItem>",
    "feed": b'<rss version="2.0"><channel><title>W</title><item><guid>urn:x:1</guid><title>Zone</title>'
    b"<description>Text.</description><pubDate>2024-07-01T12:00:00</pubDate></item></channel></rss>",
    "iptc7901": b"\x01xyw0200 3 ec 50\n\n\x02Zone=\n\nText.\n\n\x03011200 Jul 24\n\x04",
}


@pytest.mark.parametrize("name", NAIVE)
def test_a_naive_time_is_read_in_the_source_zone(name):
    [story] = formats.parse(NAIVE[name], BERLIN)
    assert formats.detect(NAIVE[name]) == name
    assert story.versioncreated == NOON_IN_BERLIN_SUMMER


@pytest.mark.parametrize("name", NAIVE)
def test_without_a_configured_zone_a_naive_time_is_utc(name):
    [story] = formats.parse(NAIVE[name], Context(source="dpa"))
    assert story.versioncreated == dt.datetime(2024, 7, 1, 12, 0, tzinfo=dt.UTC)


def test_a_time_with_an_offset_keeps_it_whatever_the_zone():
    for value in ("2024-07-01T12:00:00+05:30", "2024-07-01T06:30:00Z", "20240701T063000Z"):
        assert parse_time(value, "America/New_York") == dt.datetime(2024, 7, 1, 6, 30, tzinfo=dt.UTC)


def test_summer_and_winter_time_follow_the_zone_rules():
    assert parse_time("2024-01-15T12:00", "Europe/Berlin").utcoffset() == dt.timedelta(hours=1)
    assert parse_time("2024-07-15T12:00", "Europe/Berlin").utcoffset() == dt.timedelta(hours=2)


def test_an_unknown_zone_is_refused_with_a_reason():
    with pytest.raises(FormatError, match="unknown time zone 'Mars/Olympus'"):
        Context(zone="Mars/Olympus")


@pytest.mark.parametrize("stem", sorted(p.stem for p in (DPA / "output").glob("*.iptc")))
def test_dpa_7901_in_berlin_time_agrees_with_its_digitalwires_json(stem):
    # The 7901 trailer ("241205 Sep 24") is Berlin wall-clock time; the JSON carries an offset.
    [wire] = iptc7901.parse((DPA / "output" / f"{stem}.iptc").read_bytes(), BERLIN)
    [json_story] = dpa_digitalwires.parse((DPA / "input" / f"{stem}.json").read_bytes(), BERLIN)
    assert wire.versioncreated == json_story.versioncreated.replace(second=0, microsecond=0)
