"""ninjs 1.x, 2.x and 3.x in, from bytes to Stories. Pure Python: no Django, no database.

Fixtures in tests/fixtures/ninjs/ are fictional, one file per edge case. IPTC's examples,
documentation examples and should_pass/should_fail suite are read where they lie in the corpus:
input is read leniently and never validated, output must be strictly valid ninjs 2.2.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from pathlib import Path

import pytest
from corpus import CORPUS, REPO, fixtures, only
from ninjs import assert_clean, assert_read_or_refused

from wiredesk.formats import Context, FormatError, Head, agency_copy, anpa1312, dpa_digitalwires, iptc7901, ninjs
from wiredesk.formats.ninjs import html_paragraphs
from wiredesk.story import Dateline, Subject, WireStory

FIXTURES, fixture = fixtures("ninjs")
CORPUS_FILES = sorted(
    p for folder in ("examples", "doc-examples", "test_suite") for p in (CORPUS / "ninjs" / folder).rglob("*.json")
)
RECEIVED = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
REFUSED = {
    "ninjs-missing-uri.json": "no uri",
    "ninjs-array-item-not-object.json": "item 2 is not a JSON object",
    "ninjs-picture-no-text.json": "neither a headline nor any text",
    "ninjs-malformed.json": "malformed JSON at line 1",
    "ninjs-not-an-object.json": "neither a ninjs object nor a list",
}
READABLE = sorted(p.name for p in FIXTURES.iterdir() if p.name not in REFUSED)
CET = dt.timezone(dt.timedelta(hours=1))


def parse(data: bytes, source: str = "xyz") -> list[WireStory]:
    return ninjs.parse(data, Context(source=source, received=RECEIVED))


def parse_one(data: bytes) -> WireStory:
    return only(parse(data))


# --- one fixture per case -------------------------------------------------------------------------


def test_1x_body_html_every_field():
    story = parse_one(fixture("ninjs-1.x-body-html.json"))
    assert story == WireStory(
        uri="http://example.test/items/ferry-2026-11-24",
        headline="Island ferry gets a second daily crossing",
        paragraphs=[
            "PORT SALVIN (XW) - The island ferry will cross twice a day from December,\nthe operator said.",
            "New timetable",
            "Morning crossing at 7.30",
            "Evening crossing at 18.00",
            "Tickets & passes stay the same price.",
        ],
        version=3,
        dateline=Dateline(text="PORT SALVIN (XW)", place="PORT SALVIN", agency="XW"),
        language="en",
        firstcreated=dt.datetime(2026, 11, 24, 8, 0, tzinfo=CET),
        versioncreated=dt.datetime(2026, 11, 24, 10, 15, tzinfo=CET),
        urgency=4,
        by="Jane Doe",
        slugline="ferry-timetable",
        subjects=[Subject(name="Transport", uri="http://cv.example.test/topics/transport", literal="transport")],
        ednote="Photos to follow.",
        copyrightnotice="Copyright 2026 Example Wire",
        usageterms="Not for resale.",
        embargoed=dt.datetime(2026, 11, 24, 12, 0, tzinfo=CET),
        genres=[Subject(name="Current", literal="current")],
        format="ninjs",
    )


def test_1x_body_text_splits_at_blank_lines_and_located_is_the_dateline_without_one_in_the_text():
    story = parse_one(fixture("ninjs-1.x-body-text.json"))
    assert story.paragraphs == [
        "The lighthouse on the cape opens to visitors again on Saturday.",
        "Guided tours start every hour.",
        "The climb has 112 steps.",
    ]
    assert story.dateline == Dateline(text="Cape Example", place="Cape Example")


def test_2x_every_field_with_plain_text_preferred_to_html():
    story = parse_one(fixture("ninjs-2.x-full.json"))
    assert story == WireStory(
        uri="urn:example-wire:2026:harbour-cranes",
        headline="Harbour cranes return to service",
        subheadline="Lorry queues cleared by noon",
        paragraphs=[
            "PORT SALVIN, Nov 24 The harbour's cranes worked again on Monday.",
            "Dock workers said queues had cleared by noon.",
        ],
        version=2,
        dateline=Dateline(text="PORT SALVIN, Nov 24", place="Port Salvin", agency="Example Wire"),
        language="en-GB",
        firstcreated=dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC),
        versioncreated=dt.datetime(2026, 11, 24, 11, 30, tzinfo=dt.UTC),
        urgency=3,
        by="Jane Doe, Example Wire",
        slugline="harbour-cranes",
        # A subject's uri that is not a URI is dropped; a subject with no name at all is too.
        subjects=[
            Subject(name="Ports", uri="http://cv.example.test/topics/ports"),
            Subject(name="Shipping", literal="shipping"),
            Subject(name="bad uri"),
        ],
        ednote="Updates with the port authority's comment.",
        copyrightnotice="Copyright 2026 Example Wire",
        usageterms="Subscribers only.",
        signals=["correction"],
        correction="An earlier version gave the wrong repair cost.",
        genres=[Subject(name="Current", uri="http://cv.example.test/genre/current")],
        format="ninjs",
    )


def test_2x_html_only_one_paragraph_per_block_table_rows_and_no_title_script_or_comment():
    story = parse_one(fixture("ninjs-2.x-html-only.json"))
    assert story.headline == "Regatta results"  # markup in a headline is taken off
    assert story.paragraphs == [
        "The harbour regatta ended on Sunday.",
        "Three boats finished.",
        "Place | Boat | Time",
        "1. | Seagull | 42:10",
        "2. | Kittiwake (late start) | 43:55",
        "Next race",
        "in May",
        "Loose white space",
    ]


def test_superdesk_1x_guid_body_html_and_offsets_without_colon_every_field():
    story = parse_one(fixture("ninjs-superdesk-body-html.json"))
    assert story == WireStory(
        uri="tag:example.test,2026:newsroom:ferry-timetable",
        headline="Island ferry adds a winter crossing",
        paragraphs=[
            "PORT SALVIN, Nov 25 (XW) - The island ferry will add a third daily crossing in winter, "
            "the operator said on Wednesday.",
            "The new crossing leaves at noon.",
            "A single fare stays at four pounds.",
        ],
        version=2,
        dateline=Dateline(
            text="PORT SALVIN, Nov 25 (XW)", place="PORT SALVIN", date=dt.date(2026, 11, 25), agency="XW"
        ),
        language="en",
        firstcreated=dt.datetime(2026, 11, 25, 9, 40, tzinfo=dt.UTC),
        versioncreated=dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC),
        urgency=3,
        by="Sam Example",
        slugline="FERRY-TIMETABLE",
        subjects=[
            Subject(name="economy, business and finance", literal="04000000"),
            Subject(name="Transport", literal="t"),
            Subject(name="transport", uri="http://cv.example.test/subjectcode/04015000", literal="04015000"),
        ],
        ednote="Adds the fare in paragraph 3.",
        copyrightnotice="Copyright 2026 Example Wire",
        usageterms="Subscribers only.",
        genres=[Subject(name="Article (news)", literal="Article")],
        format="ninjs",
    )


def test_superdesk_1x_urn_guid_with_body_text_preferred_and_located_as_the_dateline():
    story = parse_one(fixture("ninjs-superdesk-body-text.json"))
    assert story.uri == "urn:newsml:example.test:2026-11-25:lighthouse-repairs"
    assert story.paragraphs == [
        "The lighthouse on Keston Point will close on Monday for repairs to its lamp.",
        "It reopens in December, the harbour trust said.",
    ]
    assert story.dateline == Dateline(text="Keston", place="Keston")
    assert (story.version, story.urgency) == (1, 4)
    assert (story.versioncreated, story.embargoed) == (
        dt.datetime(2026, 11, 25, 11, 15, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize(
    "item, uri",
    [
        pytest.param({"uri": "urn:example-wire:a", "guid": "urn:example-wire:b"}, "urn:example-wire:a", id="uri-first"),
        pytest.param(
            {"guid": "3f6c1d2e-0000-4000-8000-000000000001"},
            "urn:wiredesk:xyz:ninjs:3f6c1d2e-0000-4000-8000-000000000001",
            id="guid-not-a-uri",
        ),
    ],
)
def test_the_uri_is_ninjs_uri_else_superdesk_guid(item, uri):
    assert parse_one(json.dumps({**item, "headline": "Ferry", "body_text": "Text."}).encode()).uri == uri


def test_3x_camelcase_every_field():
    story = parse_one(fixture("ninjs-3.x-camelcase.json"))
    assert story == WireStory(
        uri="urn:example-wire:2026:bakery",
        headline="Brot wird teurer",
        paragraphs=["Kiel (xw) - Die Bäckerei am Hafen erhöht den Brotpreis.", "Ein Laib kostet nun 4 Euro."],
        version=5,
        dateline=Dateline(text="Kiel (xw)", place="Kiel", agency="xw"),
        language="de",
        firstcreated=dt.datetime(2026, 11, 24, 7, 45, tzinfo=CET),
        versioncreated=dt.datetime(2026, 11, 24, 12, 0, tzinfo=CET),
        pubstatus="withheld",
        urgency=6,
        by="Von Erika Muster",
        ednote="Hold until the bakery confirms.",
        copyrightnotice="Copyright 2026 Example Wire",
        usageterms="Subscribers only.",
        embargoed=dt.datetime(2026, 11, 25, 6, 0, tzinfo=CET),
        genres=[Subject(name="current", uri="http://cv.example.test/genre/current")],
        format="ninjs",
    )


def test_3x_canceled_is_a_kill():
    story = parse_one(fixture("ninjs-3.x-canceled.json"))
    assert (story.pubstatus, story.signals, story.version) == ("canceled", ["kill"], 3)
    assert story.paragraphs == []


@pytest.mark.parametrize("name", ["ninjs-array-of-items.json", "ninjs-items-wrapper.json"])
def test_an_array_of_items_or_an_items_list_is_several_stories(name):
    first, second = parse(fixture(name))
    assert (first.uri, first.headline, first.paragraphs) == (
        "urn:example-wire:2026:zoo-1",
        "Zoo counts three new penguins",
        ["Three penguins hatched at the zoo."],
    )
    assert (second.uri, second.headline, second.paragraphs) == (
        "urn:example-wire:2026:zoo-2",
        "Zoo asks children to name the penguins",
        ["The zoo wants name ideas by Friday."],
    )


def test_a_data_list_is_read_like_items():
    assert [s.uri for s in parse(fixture("ninjs-data-wrapper.json"))] == ["urn:example-wire:2026:zoo-1"]


@pytest.mark.parametrize(
    "name, text",
    [
        ("ninjs-bom.json", "The café serves crêpes."),
        ("ninjs-utf16.json", "Die Fähre fährt öfter."),
        ("ninjs-latin1-undeclared.json", "Crêpes for everyone."),
    ],
)
def test_encodings(name, text):
    assert parse_one(fixture(name)).paragraphs == [text]


def test_utf8_that_went_through_cp1252_is_repaired():
    story = parse_one(fixture("ninjs-mojibake-repaired.json"))
    assert story.headline == "The world’s smallest ferry"
    assert story.paragraphs == ["The ferry carries two cars. “It is enough,” the captain said. Grüße from the crew."]


def test_an_id_that_is_not_a_uri_is_wrapped_in_one_the_same_every_time():
    story = parse_one(fixture("ninjs-uri-not-absolute.json"))
    assert story.uri == "urn:wiredesk:xyz:ninjs:story%2042%2Fferry"
    assert parse_one(fixture("ninjs-uri-not-absolute.json")).uri == story.uri


def test_without_a_headline_one_is_derived_from_the_lede_after_the_dateline():
    story = parse_one(fixture("ninjs-no-headline-derived.json"))
    assert story.headline == "The harbour museum opens a new wing on Monday"
    assert story.headline_derived is True
    assert story.dateline == Dateline(text="LONDON (XW)", place="LONDON", agency="XW")


def test_an_unknown_status_is_held_and_bad_numbers_are_dropped():
    story = parse_one(fixture("ninjs-unknown-pubstatus.json"))
    assert story.pubstatus == "withheld"
    assert (story.urgency, story.version) == (None, None)


def test_a_picture_with_a_caption_but_no_text_is_read_without_paragraphs():
    story = parse_one(fixture("ninjs-picture-caption-only.json"))
    assert (story.headline, story.paragraphs) == ("Cranes at dawn", [])


@pytest.mark.parametrize("name, reason", sorted(REFUSED.items()))
def test_what_cannot_be_read_is_refused_with_a_reason(name, reason):
    with pytest.raises(FormatError, match=reason):
        parse(fixture(name))


@pytest.mark.parametrize("name", READABLE)
def test_every_readable_fixture_gives_clean_valid_ninjs(name):
    for story in parse(fixture(name)):
        assert_clean(story)


def test_fields_of_the_wrong_type_are_ignored_and_an_unreadable_status_is_held():
    story = parse_one(fixture("ninjs-wrong-types.json"))
    assert (story.headline, story.paragraphs) == ("Every field has the wrong type", ["Only this text is right."])
    assert story.pubstatus == "withheld"
    assert (story.version, story.urgency, story.language, story.by, story.versioncreated, story.embargoed) == (
        None,
        None,
        None,
        None,
        None,
        None,
    )
    assert (story.subjects, story.genres, story.dateline, story.slugline) == ([], [], None, None)


def mangled(data: bytes, seed: int, count: int = 60) -> list[bytes]:
    """Seeded damage to a JSON document: values swapped for ones of the wrong type, and bytes
    changed or cut off."""
    rnd = random.Random(seed)
    wrong = [None, 0, -1, 1.5, True, "", "²", "20261399", [], [1, [2]], {}, {"a": {"b": []}}, "<p>", ["role"]]

    def swap(value):
        if isinstance(value, dict):
            return {k: rnd.choice(wrong) if rnd.random() < 0.25 else swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rnd.choice(wrong) if rnd.random() < 0.25 else swap(v) for v in value]
        return value

    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    variants = [json.dumps(swap(doc)).encode() for _ in range(count)] if doc is not None else []
    for _ in range(count):
        cut = bytearray(data)
        at = rnd.randrange(len(cut) or 1)
        cut[at : at + rnd.randint(1, 30)] = bytes([rnd.randrange(256)])
        variants.append(bytes(cut[: rnd.randint(at, len(cut))]))
    return variants


@pytest.mark.parametrize("module, folder", [(ninjs, "ninjs"), (dpa_digitalwires, "dpa-digitalwires")])
def test_damaged_json_is_read_or_refused_never_a_crash(module, folder):
    for number, path in enumerate(sorted((FIXTURES.parent / folder).iterdir())):
        assert_read_or_refused(
            module.parse, mangled(path.read_bytes(), seed=number), Context(source="xyz", received=RECEIVED)
        )


def test_html_paragraphs_never_fetch_and_survive_odd_markup():
    markup = '<p>a<img src="http://example.test/x.png">b</p><iframe src="http://example.test"></iframe>'
    assert html_paragraphs(markup) == ["ab"]
    assert html_paragraphs("no markup at all") == ["no markup at all"]
    assert html_paragraphs("<p></p><div>   </div>") == []
    assert html_paragraphs("<p>unclosed <b>bold") == ["unclosed bold"]
    # fragments_fromstring refuses a document with two bodies; the text is still read.
    assert html_paragraphs("<html><body><p>one</p></body><body><p>two</p></body></html>") == ["one", "two"]


# --- our own output reads back --------------------------------------------------------------------


def round_trip_sources() -> list[WireStory]:
    context = Context(source="xyz", received=RECEIVED)
    stories = [
        *iptc7901.parse((REPO / "tests/fixtures/iptc7901/7901-berichtigung.txt").read_bytes(), context),
        *iptc7901.parse((REPO / "tests/fixtures/iptc7901/7901-kill-advisory.txt").read_bytes(), context),
        *anpa1312.parse((REPO / "tests/fixtures/anpa1312/anpa-writethru.txt").read_bytes(), context),
        *agency_copy.parse((REPO / "tests/fixtures/agency-copy/category-field.txt").read_bytes(), context),
    ]
    full = dataclasses.replace(
        stories[0],
        subheadline="Die Küste ist frei",
        language="de",
        keywords=["Sturm"],
        genres=[Subject(name="Meldung", literal="genre:1")],
        copyrightnotice="© nwa",
        usageterms="Abonnenten",
        embargoed=dt.datetime(2026, 2, 4, 6, 0, tzinfo=dt.UTC),
    )
    return [*stories, full]


@pytest.mark.parametrize("original", round_trip_sources(), ids=lambda s: s.format + ":" + s.headline[:20])
def test_our_own_ninjs_reads_back_into_the_same_story(original):
    [back] = parse(json.dumps(original.to_ninjs()).encode())
    # ninjs 2.2 has no field for these: the dateline's date, signals other than kill and
    # correction, the format the story came in, and the desk's own names for it and its take.
    expected = dataclasses.replace(
        original,
        dateline=dataclasses.replace(original.dateline, date=None) if original.dateline else None,
        signals=[s for s in original.signals if s in ("kill", "correction")],
        format="ninjs",
        keys=back.keys,
        targets=back.targets,
        take=None,
    )
    assert back == expected


# --- the corpus: IPTC's examples and test suite -----------------------------------------------------


def has_text(path: Path) -> bool:
    """A text item with any headline or body, judged from the raw JSON, not by the parser."""
    try:
        doc = json.loads(path.read_bytes())
    except ValueError:
        return False
    items = doc if isinstance(doc, list) else [doc]
    return any(
        isinstance(item, dict)
        and item.get("type", "text") in ("text", "composite")
        and any((key.startswith(("headline", "body")) and value) for key, value in item.items())
        for item in items
    )


def test_the_corpus_is_there():
    assert len(CORPUS_FILES) > 250


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS / "ninjs")))
def test_corpus_file_is_read_or_refused_never_crashes(path):
    try:
        stories = parse(path.read_bytes())
    except FormatError as exc:
        assert "should_pass" not in path.parts or not has_text(path), f"refused: {exc}"
        return
    for story in stories:
        assert_clean(story)


def test_corpus_dpa_example_reads_as_text():
    story = parse_one((CORPUS / "ninjs" / "examples" / "3.0" / "dpa_text.json").read_bytes())
    assert story.uri == "urn:newsml:dpa.com:20090101:190510-99-167362"
    assert story.headline == "Faktencheck Derby-Elfmeter: Hat Schiedsrichter Zwayer recht?"
    assert story.by == "Von Christian Hollmann, dpa"
    assert len(story.paragraphs) == 9
    assert story.paragraphs[0].startswith("Für Lucien Favre war es «der größte Skandal im Fußball seit Jahren».")
    assert (story.version, story.urgency, story.language) == (2, 4, "de")


def test_corpus_1x_and_3x_of_the_same_item_agree():
    old = parse_one((CORPUS / "ninjs" / "examples" / "2.1" / "ntb_text.json").read_bytes())
    new = parse_one((CORPUS / "ninjs" / "examples" / "3.0" / "ntb_text.json").read_bytes())
    assert old == new
    assert (old.ednote, old.slugline, old.versioncreated) == (
        "Noe utvidet.",
        "skien-google",
        dt.datetime(2019, 8, 9, 9, 46, 53, tzinfo=dt.UTC),
    )


def ninjs_score(data: bytes) -> float:
    return ninjs.score(data, Head.read(data))


def test_score_is_one_for_a_uri_a_half_for_ninjs_fields_alone_and_nothing_for_other_formats():
    superdesk = {name for name in READABLE if name.startswith("ninjs-superdesk")}
    assert {name: ninjs_score(fixture(name)) for name in READABLE} == {
        name: 0.5 if name in superdesk else 1.0 for name in READABLE
    }
    others = [
        *(FIXTURES.parent / "iptc7901").iterdir(),
        *(FIXTURES.parent / "anpa1312").iterdir(),
        *(FIXTURES.parent / "agency-copy").iterdir(),
    ]
    assert not any(ninjs_score(p.read_bytes()) for p in others)
