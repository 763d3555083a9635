"""A story's language is a well-formed BCP 47 tag (RFC 5646) in its canonical case, or none: pages
write it into lang and xml:lang attributes as it is."""

from __future__ import annotations

import json

import pytest

from wiredesk import formats
from wiredesk.formats import language


@pytest.mark.parametrize(
    ("written", "tag"),
    [
        ("en", "en"),
        ("EN-gb", "en-GB"),
        (" de-DE ", "de-DE"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("sr-latn-RS", "sr-Latn-RS"),
        ("de-DE-1901", "de-DE-1901"),
        ("sl-rozaj-biske", "sl-rozaj-biske"),
        ("zh-yue-HK", "zh-yue-HK"),  # an extlang
        ("en-US-u-ca-gregory", "en-US-u-ca-gregory"),  # after a singleton, all in lower case
        ("EN-a-BB-X-CC", "en-a-bb-x-cc"),
        ("x-Wire-Desk", "x-wire-desk"),  # private use
        ("en-GB-oed", "en-GB-oed"),  # grandfathered, irregular
        ("I-KLINGON", "i-klingon"),
        ("sgn-be-fr", "sgn-BE-FR"),
        ("art-lojban", "art-lojban"),  # grandfathered, regular
    ],
)
def test_a_well_formed_tag_is_kept_in_its_canonical_case(written, tag):
    assert language.tag(written) == tag


@pytest.mark.parametrize(
    "written",
    [
        "",
        " ",
        "en_US",
        "English",
        "e",
        "12-US",
        "en-",
        "-en",
        "en--GB",
        "en-GB-",
        "en-a",
        "en-a-b-foo",
        "x",
        "en-x-",
        "en-123456789",
        "ab-cd-ef-gh-ij",
        "en-Latn-Latn",
        "de-DE!",
        "en\nGB",
        "de\u00adDE",
        "\u212aa",  # the Kelvin sign, which IGNORECASE would read as a "k"
        "en-١٢٣",  # Arabic-Indic digits are no region
        None,
        5,
        ["en"],
    ],
)
def test_anything_else_is_no_tag(written):
    assert language.tag(written) is None


def test_every_format_goes_through_the_check():
    copy = b'{"uri": "urn:x:1", "headline": "Zone", "body_text": "Text.", "language": "EN-gb"}'
    assert formats.parse(copy)[0].language == "en-GB"


def test_a_tag_dropped_leaves_the_language_to_the_guess():
    lede = "The harbour's cranes worked again on Monday, and the port said that it was back in business."
    copy = json.dumps({"uri": "urn:x:1", "headline": "Cranes", "body_text": lede, "language": "english"}).encode()
    assert formats.parse(copy)[0].language == "en"
