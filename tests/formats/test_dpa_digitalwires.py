"""dpa digitalwires JSON, from bytes to Stories. Pure Python: no Django, no database.

Fixtures in tests/fixtures/dpa-digitalwires/ are fictional; dpa's own samples are read where they
lie in the corpus. That their NewsML-G2 renderings read the same is tested here, their IPTC 7901
renderings in test_iptc7901.py.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from ninjs import assert_clean

from wiredesk.formats import Context, FormatError, dpa_digitalwires, newsml_g2, ninjs
from wiredesk.story import Dateline, Story, Subject

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "dpa-digitalwires"
CORPUS = Path(os.environ.get("WIREDESK_CORPUS") or REPO.parent / "shared" / "corpus")
SAMPLES = sorted(CORPUS.glob("agency-samples/dpa-digitalwires-*/input/*.json"))
G2 = CORPUS / "agency-samples" / "dpa-digitalwires-to-newsmlg2"
# dpa renders pictures and audio to G2 too; wiredesk's G2 reader takes text items only.
G2_TEXT = sorted(p.stem for p in (G2 / "output").glob("*.xml") if p.stem not in ("audio", "image", "no_content"))
RECEIVED = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
CET = dt.timezone(dt.timedelta(hours=1))


def parse(data: bytes) -> list[Story]:
    return dpa_digitalwires.parse(data, Context(source="dpa", received=RECEIVED))


def parse_one(data: bytes) -> Story:
    stories = parse(data)
    assert len(stories) == 1
    return stories[0]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_every_field_teaser_first_and_dateline_opening_the_article():
    story = parse_one(fixture("dw-correction-with-teaser.json"))
    assert story == Story(
        uri="urn:newsml:example.test:20260101:261124-99-000001",
        headline="Kräne am Hafen wieder in Betrieb",
        subheadline="Nach einer Woche Reparatur",
        paragraphs=["Die Kräne laufen wieder. Die Schlangen der Lastwagen sind weg.",
                    "Kiel (nwa) - Die Kräne am Hafen arbeiten seit Montag wieder.",
                    "Schlangen aufgelöst",
                    "Die Schlangen waren mittags weg."],
        version=2,
        dateline=Dateline(text="Kiel (nwa)", place="Kiel", agency="nwa"),
        language="de",
        versioncreated=dt.datetime(2026, 11, 24, 12, 5, tzinfo=CET),
        urgency=3,
        by="Von Erika Muster, nwa",
        slugline="Hafen/Kiel/Kräne",
        subjects=[Subject(name="Hafen", literal="medtop:20000000"), Subject(name="Kiel", literal="dpacity:0000"),
                  Subject(name="wi", literal="category:wi")],
        ednote="Fotos folgen.",
        copyrightnotice="Copyright 2026, nwa",
        usageterms="Nur für Abonnenten",
        signals=["correction"],
        correction="Der Reparaturtag war Montag, nicht Dienstag.",
        genres=[Subject(name="Meldung", literal="dpatextgenre:1")],
        keywords=["Kräne"],
        format="dpa-digitalwires",
    )


def test_canceled_is_a_kill():
    story = parse_one(fixture("dw-canceled.json"))
    assert (story.pubstatus, story.signals, story.paragraphs, story.version) == ("canceled", ["kill"], [], 3)


def test_the_apis_entries_list_and_a_dateline_already_in_the_html():
    first, second = parse(fixture("dw-entries-wrapper.json"))
    assert first.paragraphs == ["PORT SALVIN (XW) - The ferry runs twice a day."]  # not twice
    assert first.dateline == Dateline(text="PORT SALVIN (XW)", place="PORT SALVIN", agency="XW")
    assert first.firstcreated == first.versioncreated  # version 1
    assert (second.headline, second.paragraphs) == ("Lighthouse reopens", ["Tours start Saturday."])
    assert second.dateline is None


def test_fields_of_the_wrong_type_are_ignored_and_an_unreadable_status_is_held():
    story = parse_one(fixture("dw-wrong-types.json"))
    assert (story.headline, story.paragraphs) == ("Every field has the wrong type", ["Only this text is right."])
    assert (story.pubstatus, story.signals) == ("withheld", [])
    assert (story.version, story.urgency, story.versioncreated, story.embargoed, story.dateline) == (
        None, None, None, None, None)
    assert (story.subjects, story.keywords, story.slugline, story.ednote) == ([], [], None, None)


def test_an_entry_without_urn_is_refused():
    with pytest.raises(FormatError, match="no urn"):
        parse(fixture("dw-missing-urn.json"))


def test_the_corpus_holds_the_dpa_samples():
    assert len(SAMPLES) == 32


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_dpa_sample_gives_clean_valid_ninjs(path):
    story = parse_one(path.read_bytes())
    assert_clean(story)
    assert not re.search(r"</?[a-z][a-z0-9]*[\s/>]", " ".join(story.paragraphs))  # no markup left


def test_dpa_sample_with_dateline_in_its_html_is_not_doubled():
    path = CORPUS / "agency-samples" / "dpa-digitalwires-to-newsmlg2" / "input" / "with_dateline.json"
    story = parse_one(path.read_bytes())
    assert story.paragraphs[1].startswith("New York (dpa) - Ein Chatbot aus China")  # after the teaser
    assert story.signals == ["update"] and story.version == 2


def test_dpa_sample_embargo():
    path = CORPUS / "agency-samples" / "dpa-digitalwires-to-newsmlg2" / "input" / "embargoed.json"
    story = parse_one(path.read_bytes())
    assert story.embargoed is not None and story.embargoed.tzinfo is not None


def test_sniff_is_tried_before_ninjs_and_claims_no_ninjs():
    assert all(dpa_digitalwires.sniff(p.read_bytes()) for p in SAMPLES)
    assert all(dpa_digitalwires.sniff(p.read_bytes()) for p in FIXTURES.iterdir())
    # dpa's JSON has ninjs-like keys, so detection must try digitalwires first ...
    assert all(ninjs.sniff(p.read_bytes()) for p in SAMPLES)
    # ... which is safe: no ninjs is taken for digitalwires.
    others = [*(REPO / "tests" / "fixtures" / "ninjs").iterdir(), *(CORPUS / "ninjs").rglob("*.json")]
    assert not any(dpa_digitalwires.sniff(p.read_bytes()) for p in others)


def test_the_corpus_holds_fifteen_g2_text_renderings():
    assert len(G2_TEXT) == 15


@pytest.mark.parametrize("stem", G2_TEXT)
def test_dpa_newsml_g2_gives_the_story_of_its_digitalwires_json(stem):
    context = Context(source="dpa", received=RECEIVED)
    [g2] = newsml_g2.parse((G2 / "output" / f"{stem}.xml").read_bytes(), context)
    [story] = dpa_digitalwires.parse((G2 / "input" / f"{stem}.json").read_bytes(), context)
    assert (g2.uri, g2.version, g2.headline) == (story.uri, story.version, story.headline)
    assert " ".join(" ".join(g2.paragraphs).split()) == " ".join(" ".join(story.paragraphs).split())
