"""Hostile input, one file per case in tests/fixtures/hostile/<format>/ (reported by outside
testers, found by the fuzzer in test_fuzz.py or by reading the parsers): each is refused with a
FormatError or read into a sound Story, as its format and through detection, and `wiredesk parse`
reports it as it reports any file."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from invariants import error_problems, story_problems
from ninjs import ninjs_errors

from wiredesk import formats

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
CASES = sorted(HOSTILE.glob("*/*"))
WIREDESK = Path(sys.executable).parent / "wiredesk"
RECEIVED = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)
CONTEXT = formats.Context(source="hp", received=RECEIVED)

# What some cases must come to besides: the decision each one stands for.
REFUSED = {  # words the reason must hold
    "agency-copy/date-field-year-0001.txt": "the date field '0001-11-24' is not the date of news copy",
    "agency-copy/nul-after-4-kilobytes.txt": "binary data, not text",
    "agency-copy/nul-in-utf-16-with-bom.txt": "binary data, not text",
    "dpa-digitalwires/lone-surrogate-in-headline.json": "the JSON string at headline holds an unpaired surrogate",
    "dpa-digitalwires/lone-surrogate-in-article-html.json": "the JSON string at article_html holds an unpaired",
    "ninjs/lone-surrogate-in-headline.json": "the JSON string at headlines[0].value holds an unpaired surrogate",
    "ninjs/lone-surrogate-in-uri.json": "the JSON string at uri holds an unpaired surrogate",
    "ninjs/lone-surrogate-in-body-html.json": "the JSON string at bodies[0].value holds an unpaired surrogate",
    "ninjs/lone-surrogate-in-utf-16.json": "the JSON string at headline holds an unpaired surrogate",
    "ninjs/lone-surrogate-and-nul-in-a-key.json": "the JSON string at x-\\ud800 holds an unpaired surrogate",
    "ninjs/number-of-5000-digits.json": "a number of more than 4300 digits",
    "ninjs/nested-300-deep.json": "nested deeper than 256 levels",
    "nitf/char-ref-beyond-unicode.xml": "character reference out of bounds",
    "nitf/char-ref-nul.xml": "malformed XML",
    "newsml-g2/item-class-with-line-break.xml": "a newsItem of class ninat: picture, not a text story",
    "newsml1/href-with-line-break.xml": "the text is only referenced (text story.txt)",
}
READ = {  # fields of the first story
    # A time no clock shows, or outside the years of news copy, is no time.
    "nitf/issue-compact-offset-of-24-hours.xml": {"versioncreated": None, "firstcreated": None},
    "nitf/issue-year-9999-behind-utc.xml": {"versioncreated": None},
    "newsml-g2/created-offset-of-24-hours.xml": {"versioncreated": None},
    "ninjs/versioncreated-compact-offset-of-99-hours.json": {"versioncreated": None},
    "dpa-digitalwires/version-created-offset-of-24-hours.json": {"versioncreated": None},
    "iptc7901/trailer-year-0001.txt": {"versioncreated": None},
    "agency-copy/dateline-year-0001.txt": {"dateline.date": None},
    # feedparser reads what parse_time does not, but not these: the story is dated on receipt.
    "feed/pubdate-offset-of-99-hours.xml": {"versioncreated": RECEIVED},
    "feed/pubdate-of-20-digits.xml": {"versioncreated": RECEIVED},
    "feed/atom-updated-offset-of-24-hours.xml": {"versioncreated": RECEIVED},
    # An embargo that cannot be read, or lifts in no year of news copy, holds the story.
    "nitf/release-unreadable.xml": {"pubstatus": "withheld"},
    "newsml-g2/embargo-year-9999-behind-utc.xml": {"pubstatus": "withheld", "embargoed": None},
    "ninjs/embargo-year-9999-behind-utc.json": {"pubstatus": "withheld", "embargoed": None},
    "ninjs/embargo-unreadable.json": {"pubstatus": "withheld"},
    "dpa-digitalwires/embargo-unreadable.json": {"pubstatus": "withheld"},
    "dpa-digitalwires/embargo-year-9999-behind-utc.json": {"pubstatus": "withheld", "embargoed": None},
    # A number int() refuses, or too big to store, is no version.
    "nitf/version-superscript-digit.xml": {"version": None},
    "nitf/version-of-5000-digits.xml": {"version": None},
    "nitf/version-beyond-storage.xml": {"version": None},
    "newsml-g2/version-superscript-digit.xml": {"version": None},
    "newsml1/revision-superscript-digit.xml": {"version": None},
    "newsml1/urgency-superscript-digit.xml": {"urgency": None},
    "ninjs/version-beyond-storage.json": {"version": None},
    "dpa-digitalwires/version-beyond-storage.json": {"version": None},
    # A language tag in the wrong case is put right; one that is no tag gives way to the guess.
    "nitf/language-in-wrong-case.xml": {"language": "en-GB"},
    "nitf/language-not-a-tag.xml": {"language": "en"},
    "newsml-g2/language-not-a-tag.xml": {"language": "en"},
    "newsml1/language-in-wrong-case.xml": {"language": "en-GB"},
    "feed/language-in-wrong-case.xml": {"language": "en-GB"},
    "feed/language-not-a-tag.xml": {"language": None},  # one line of text is too little to guess from
    "ninjs/language-not-a-tag.json": {"language": "en"},
    "ninjs/language-with-kelvin-sign.json": {"language": "en"},
    "dpa-digitalwires/language-in-wrong-case.json": {"language": "de-DE"},
    # NUL, which JSON can write, is never text.
    "ninjs/nul-in-body-text.json": {
        "paragraphs": [
            "PORT SALVIN (HP) - The harbour's cranes worked again on Monday after a week of repairs.",
            "Dock workers said queues of lorries had cleared by noon.",
        ]
    },
    "dpa-digitalwires/nul-in-headline.json": {"headline": "Hafenkräne wieder in Betrieb"},
    # HTML's reading of a character reference no character has: the replacement character.
    "feed/double-escaped-char-refs.xml": {"headline": "Harbour cranes \ufffd return \ufffd"},
    # Text of punctuation alone still makes a headline.
    "agency-copy/lede-of-a-stop-only.txt": {"headline": "."},
    "agency-copy/form-feed-after-a-code-line.txt": {"headline": "0"},
    "iptc7901/headline-and-lede-of-a-stop.txt": {"headline": "."},
}


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_every_format_has_hostile_cases():
    assert {path.parent.name for path in CASES} == set(formats.FORMATS)


def test_every_decision_names_a_case():
    assert set(REFUSED) | set(READ) <= set(map(case_id, CASES))


@pytest.mark.parametrize("how", ["as its format", "detected"])
@pytest.mark.parametrize("path", CASES, ids=case_id)
def test_refused_or_read_soundly(path, how):
    name = case_id(path)
    try:
        stories = formats.parse(path.read_bytes(), CONTEXT, format=path.parent.name if how == "as its format" else None)
    except formats.FormatError as exc:
        assert error_problems(exc) == []
        assert name not in READ, f"refused: {exc}"
        assert REFUSED.get(name, "") in str(exc)
        return
    assert name not in REFUSED, "read, but must be refused"
    assert [problem for story in stories for problem in story_problems(story)] == []
    story = stories[0]
    for field, expected in READ.get(name, {}).items():
        value = story.dateline.date if field == "dateline.date" else getattr(story, field)
        assert value == expected, field


@pytest.fixture(scope="module")
def env() -> dict:
    return {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "PYTHONIOENCODING": "utf-8"}


@pytest.mark.parametrize("path", CASES, ids=case_id)
def test_wiredesk_parse_prints_ninjs_or_one_line_saying_why(env, path):
    result = subprocess.run(
        [str(WIREDESK), "parse", str(path)], env=env, capture_output=True, text=True, encoding="utf-8", timeout=60
    )
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        assert case_id(path) not in REFUSED and result.stderr == "", result.stderr
        for story in json.loads(result.stdout):
            assert ninjs_errors(story) == []
    else:
        assert case_id(path) not in READ, result.stderr
        assert result.returncode == 2 and result.stdout == ""  # as cli._fail reports any refusal
        [line] = result.stderr.splitlines()
        assert line.startswith(f"wiredesk: {path}: ") and REFUSED.get(case_id(path), "") in line
