"""dpa digitalwires JSON, from bytes to Stories. Pure Python: no Django, no database.

Fixtures in tests/fixtures/dpa-digitalwires/ are fictional; dpa's own samples are read where they
lie in the corpus. That their NewsML-G2 renderings read the same is tested here, their IPTC 7901
renderings in test_iptc7901.py.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from corpus import CORPUS, REPO, fixtures, only
from ninjs import assert_clean

from wiredesk.formats import Context, FormatError, Head, dpa_digitalwires, newsml_g2, ninjs
from wiredesk.story import Dateline, Subject, WireStory

FIXTURES, fixture = fixtures("dpa-digitalwires")
SAMPLES = sorted(CORPUS.glob("agency-samples/dpa-digitalwires-*/input/*.json"))
G2 = CORPUS / "agency-samples" / "dpa-digitalwires-to-newsmlg2"
# dpa renders pictures and audio to G2 too; wiredesk's G2 reader takes text items only.
G2_TEXT = sorted(p.stem for p in (G2 / "output").glob("*.xml") if p.stem not in ("audio", "image", "no_content"))
RECEIVED = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
CET = dt.timezone(dt.timedelta(hours=1))


def parse(data: bytes) -> list[WireStory]:
    return dpa_digitalwires.parse(data, Context(source="dpa", received=RECEIVED))


def parse_one(data: bytes) -> WireStory:
    return only(parse(data))


def test_every_field_teaser_first_and_dateline_opening_the_article():
    story = parse_one(fixture("dw-correction-with-teaser.json"))
    assert story == WireStory(
        uri="urn:newsml:example.test:20260101:261124-99-000001",
        headline="Kräne am Hafen wieder in Betrieb",
        subheadline="Nach einer Woche Reparatur",
        paragraphs=[
            "Die Kräne laufen wieder. Die Schlangen der Lastwagen sind weg.",
            "Kiel (nwa) - Die Kräne am Hafen arbeiten seit Montag wieder.",
            "Schlangen aufgelöst",
            "Die Schlangen waren mittags weg.",
        ],
        version=2,
        dateline=Dateline(text="Kiel (nwa)", place="Kiel", agency="nwa"),
        language="de",
        versioncreated=dt.datetime(2026, 11, 24, 12, 5, tzinfo=CET),
        urgency=3,
        by="Von Erika Muster, nwa",
        slugline="Hafen/Kiel/Kräne",
        subjects=[
            Subject(name="Hafen", literal="medtop:20000000"),
            Subject(name="Kiel", literal="dpacity:0000"),
            Subject(name="wi", literal="category:wi"),
        ],
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
        None,
        None,
        None,
        None,
        None,
    )
    assert (story.subjects, story.keywords, story.slugline, story.ednote) == ([], [], None, None)


def test_an_entry_without_urn_is_refused():
    with pytest.raises(FormatError, match="no urn"):
        parse(fixture("dw-missing-urn.json"))


def test_a_marker_line_and_a_marker_before_the_headline_are_urgency_not_text():
    story = parse_one(fixture("dw-extra-marker.json"))
    assert story.headline == "Sturm stoppt Fähren nach Helgoland"
    assert story.paragraphs == ["Cuxhaven (nwa) - Die Fähren nach Helgoland fahren am Freitag wegen des Sturms nicht."]
    assert story.dateline == Dateline(text="Cuxhaven (nwa)", place="Cuxhaven", agency="nwa")
    assert story.urgency == 2


def with_fields(**fields) -> bytes:
    return json.dumps({**json.loads(fixture("dw-extra-marker.json")), **fields}).encode()


@pytest.mark.parametrize(
    "headline, urgency",
    [
        ("EXTRA - Sturm stoppt Fähren", 2),
        ("EXTRA Sturm stoppt Fähren", 2),
        ("EXTRA\nSturm stoppt Fähren", 2),
        ("(Eil) Sturm stoppt Fähren", 2),
        ("Eil: Sturm stoppt Fähren", 2),
        ("(Blitz) Sturm stoppt Fähren", 1),
        ("BLITZ – Sturm stoppt Fähren", 1),
        ("Vorrang: Sturm stoppt Fähren", 3),
        ("EXTRA: (Eil) Sturm stoppt Fähren", 2),
    ],
)
def test_dpa_priority_markers_leave_the_headline(headline, urgency):
    story = parse_one(with_fields(headline=headline, article_html="<p>Text.</p>"))
    assert (story.headline, story.urgency) == ("Sturm stoppt Fähren", urgency)


@pytest.mark.parametrize(
    "headline",
    [
        "Blitz trifft Kirchturm in Kiel",
        "Extra-Fähren zum Hafenfest",
        "Eilverfahren gegen Reederei",
        "Extra time for the ferry",
        "EXTRA",
    ],
)
def test_words_that_only_look_like_markers_stay_in_the_headline(headline):
    story = parse_one(with_fields(headline=headline, article_html="<p>Text.</p>"))
    assert story.headline == headline
    assert story.urgency == (2 if headline == "EXTRA" else None)


def test_the_urgency_dpa_sends_wins_over_a_marker():
    assert parse_one(with_fields(headline="(Eil) Sturm stoppt Fähren", urgency=3)).urgency == 3


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"teaser": "(Eil)", "article_html": "<p>Text.</p>"}, id="marker-teaser"),
        pytest.param({"article_html": "<p>(Eil) Text.</p>"}, id="marker-before-the-text"),
    ],
)
def test_a_marker_opening_the_text_is_no_text(fields):
    story = parse_one(with_fields(headline="Sturm stoppt Fähren", **fields))
    assert (story.paragraphs, story.urgency) == (["Cuxhaven (nwa) - Text."], 2)


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


def scores(path: Path) -> tuple[float, float]:
    """dpa's score and ninjs's; none for JSON too broken for either."""
    data = path.read_bytes()
    try:
        head = Head.read(data)
    except FormatError:
        return 0.0, 0.0
    return dpa_digitalwires.score(data, head), ninjs.score(data, head)


def test_score_outbids_ninjs_on_dpas_json_and_claims_no_ninjs():
    for path in [*SAMPLES, *FIXTURES.iterdir()]:
        dpa, like_ninjs = scores(path)
        # dpa's JSON has ninjs's field names too: a lower score, not none.
        assert dpa == 1.0 > like_ninjs, path
    others = [*(REPO / "tests" / "fixtures" / "ninjs").iterdir(), *(CORPUS / "ninjs").rglob("*.json")]
    assert not any(scores(path)[0] for path in others)


def test_the_corpus_holds_fifteen_g2_text_renderings():
    assert len(G2_TEXT) == 15


@pytest.mark.parametrize("stem", G2_TEXT)
def test_dpa_newsml_g2_gives_the_story_of_its_digitalwires_json(stem):
    context = Context(source="dpa", received=RECEIVED)
    [g2] = newsml_g2.parse((G2 / "output" / f"{stem}.xml").read_bytes(), context)
    [story] = dpa_digitalwires.parse((G2 / "input" / f"{stem}.json").read_bytes(), context)
    assert (g2.uri, g2.version, g2.headline) == (story.uri, story.version, story.headline)
    assert " ".join(" ".join(g2.paragraphs).split()) == " ".join(" ".join(story.paragraphs).split())
