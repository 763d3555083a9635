"""Which format a file is, from its bytes alone: every format scores the bytes, the highest wins.

Every fixture and corpus sample must be recognised as the format it is written in, and what no
format claims must be refused saying what it looks like instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import CORPUS, FIXTURES
from lxml import etree

from wiredesk import formats
from wiredesk.formats import FORMATS, Context, Format, FormatError, Head, detect

SAMPLES = CORPUS / "agency-samples"

FOLDERS = {
    "agency-copy": "agency-copy",
    "anpa1312": "anpa1312",
    "dpa-digitalwires": "dpa-digitalwires",
    "duplicates": "agency-copy",
    "feed": "feed",
    "iptc7901": "iptc7901",
    "newsml-g2": "newsml-g2",
    "newsml1": "newsml1",
    "ninjs": "ninjs",
    "nitf": "nitf",
}
# Fixtures that are no format at all, with what detection says about them.
REFUSED = {
    "agency-copy/empty.txt": "the file is empty",
    "agency-copy/whitespace-only.txt": "no story text",
    "agency-copy/whole-email-message.eml": "an e-mail message",
    "ninjs/ninjs-malformed.json": "malformed JSON at line 1",
}
# A bare JSON string is no document either JSON format reads: as text, it is copy.
ELSEWHERE = {"ninjs/ninjs-not-an-object.json": "agency-copy"}
FIXTURE_FILES = sorted(path for folder in FOLDERS for path in (FIXTURES / folder).iterdir())


def name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_every_format_declares_itself_by_the_protocol():
    assert list(FORMATS) == [
        "nitf",
        "newsml-g2",
        "newsml1",
        "feed",
        "dpa-digitalwires",
        "ninjs",
        "iptc7901",
        "anpa1312",
        "agency-copy",
    ]
    for key, module in FORMATS.items():
        assert isinstance(module, Format)
        assert module.NAME == key


@pytest.mark.parametrize("path", [p for p in FIXTURE_FILES if name(p) not in REFUSED], ids=name)
def test_every_fixture_is_its_folders_format(path):
    assert detect(path.read_bytes()) == ELSEWHERE.get(name(path), FOLDERS[path.parent.name])


@pytest.mark.parametrize("path", [FIXTURES / n for n in REFUSED], ids=name)
def test_a_fixture_of_no_format_is_refused_saying_why(path):
    with pytest.raises(FormatError, match=REFUSED[name(path)]):
        detect(path.read_bytes())


def corpus_samples() -> list[tuple[Path, str]]:
    kinds = {".json": "dpa-digitalwires", ".iptc": "iptc7901", ".xml": "newsml-g2"}
    samples = [(p, kinds[p.suffix]) for p in sorted(SAMPLES.glob("dpa-digitalwires-*/*/*")) if p.suffix in kinds]
    newsinjson = SAMPLES / "iptc-newsinjson"
    return samples + [
        (newsinjson / "NTB_nitf_sample.xml", "nitf"),
        (newsinjson / "TT_newsmlg2_sample.xml", "newsml-g2"),
        (newsinjson / "afp.com_newsml1.2_sample.xml", "newsml1"),
    ]


@pytest.mark.parametrize("path, fmt", corpus_samples(), ids=lambda v: v.name if isinstance(v, Path) else v)
def test_every_agency_sample_is_its_format(path, fmt):
    assert detect(path.read_bytes()) == fmt


def test_every_corpus_ninjs_item_that_reads_is_ninjs():
    read = 0
    for path in sorted((CORPUS / "ninjs").rglob("*.json")):
        data = path.read_bytes()
        try:
            formats.ninjs.parse(data, Context())
        except FormatError:
            continue
        assert detect(data) == "ninjs", path
        read += 1
    assert read > 100


# --- scores -----------------------------------------------------------------------------------


def scores(data: bytes) -> dict[str, float]:
    head = Head.read(data)
    return {key: module.score(data, head) for key, module in FORMATS.items()}


def test_dpa_json_resembles_ninjs_but_is_dpas_by_a_higher_score():
    data = (FIXTURES / "dpa-digitalwires" / "dw-correction-with-teaser.json").read_bytes()
    claimed = {key: score for key, score in scores(data).items() if score}
    assert claimed.keys() == {"dpa-digitalwires", "ninjs"}
    assert claimed["dpa-digitalwires"] > claimed["ninjs"]


def test_a_tie_goes_to_the_format_named_first():
    data = json.dumps({"uri": "urn:example-wire:1", "headline": "Ferry", "article_html": "<p>Text.</p>"}).encode()
    both = scores(data)
    assert both["dpa-digitalwires"] == both["ninjs"] > 0
    assert detect(data) == "dpa-digitalwires"


def test_ninjs_is_judged_by_the_items_own_fields_not_by_the_first_kilobyte():
    superdesk = json.loads((FIXTURES / "ninjs" / "ninjs-superdesk-body-html.json").read_bytes())
    # Superdesk writes its keys in order: a large association can fill the first kilobytes.
    renditions = {f"size-{n}": {"href": f"https://media.example.test/ferry-{n}.jpg", "width": n} for n in range(80)}
    superdesk["associations"]["featuremedia"]["renditions"] = renditions
    assert detect(json.dumps(superdesk).encode()) == "ninjs"
    only_nested = {"associations": superdesk["associations"], "weather": "fine"}
    with pytest.raises(FormatError, match="JSON, but neither ninjs nor dpa digitalwires"):
        detect(json.dumps(only_nested).encode())


def test_every_score_is_between_zero_and_one_and_every_fixture_is_claimed():
    for path in FIXTURE_FILES:
        if name(path) in REFUSED:
            continue
        got = scores(path.read_bytes())
        assert all(0 <= score <= 1 for score in got.values()), path
        assert max(got.values()) > 0, path


def test_the_xml_root_is_read_once_for_all_formats(monkeypatch):
    calls = []
    iterparse = etree.iterparse
    monkeypatch.setattr(etree, "iterparse", lambda *args, **kwargs: calls.append(1) or iterparse(*args, **kwargs))
    assert detect((FIXTURES / "feed" / "rss2-basic.xml").read_bytes()) == "feed"
    assert len(calls) == 1


# --- what no format claims ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, reason",
    [
        pytest.param(b"", "the file is empty: there is no story text", id="empty"),
        pytest.param(b"\xef\xbb\xbf \r\n\t", "the file is empty: there is no story text", id="bom-and-white-space"),
        pytest.param(
            b'<?xml version="1.0"?>\n<html><body/></html>',
            "XML whose root is <html> is not a format wiredesk reads (NITF, NewsML-G2, NewsML 1.2, RSS or Atom)",
            id="xml",
        ),
        pytest.param(b'{"weather": "fine", "wind": 3}', "JSON, but neither ninjs nor dpa digitalwires", id="json"),
        pytest.param(b"[1, 2, 3]", "JSON, but neither ninjs nor dpa digitalwires", id="json-list"),
        pytest.param(b'{"uri": "urn:x", "headline": "Cut', "malformed JSON at line 1", id="malformed-json"),
        pytest.param(
            b"From: desk@example.test\nMessage-ID: <1@example.test>\nSubject: Ferry\n\nThe ferry ran late.\n",
            "an e-mail message, headers and all",
            id="e-mail",
        ),
    ],
)
def test_what_no_format_claims_is_refused_saying_what_it_is(data, reason):
    with pytest.raises(FormatError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        detect(data)


def test_plain_copy_in_utf16_is_plain_copy():
    data = "Ferry runs late\n\nPORT SALVIN (XW) - The ferry ran late on Monday.\n".encode("utf-16")
    assert detect(data) == "agency-copy"
    assert formats.parse(data)[0].headline == "Ferry runs late"


@pytest.mark.parametrize(
    "fmt, path",
    [
        ("nitf", "nitf/nitf-no-namespace.xml"),
        ("newsml-g2", "newsml-g2/g2-inline-xhtml.xml"),
        ("newsml1", "newsml1/newsml1-text-item.xml"),
        ("feed", "feed/rss2-basic.xml"),
        ("dpa-digitalwires", "dpa-digitalwires/dw-canceled.json"),
        ("ninjs", "ninjs/ninjs-2.x-full.json"),
        ("iptc7901", "iptc7901/7901-latin1-umlauts.txt"),
        ("anpa1312", "anpa1312/anpa-regular.txt"),
        ("agency-copy", "agency-copy/no-dateline.txt"),
    ],
)
def test_every_format_can_be_named(fmt, path):
    assert {story.format for story in formats.parse((FIXTURES / path).read_bytes(), format=fmt)} == {fmt}
