"""The agencies' conventions, recognised once for every format (wiredesk.formats.conventions),
and the ways copy that is not a notice could be mistaken for one."""

import json

import pytest

from wiredesk.formats import Context, parse
from wiredesk.formats.conventions import guess_language, is_note, is_sign_off, reference_keys, strip_routing


def plain(text: str, source: str = "kpw"):
    [story] = parse(text.encode(), Context(source=source))
    return story


def ninjs(**item) -> bytes:
    return json.dumps({"uri": "urn:test:1", "headline": "Harbour reopens", **item}).encode()


@pytest.mark.parametrize(
    "headline, version, signals, bare",
    [
        ("UPDATE 2-Storm hits the coast", 3, ["update"], "Storm hits the coast"),
        ("REFILE-Storm hits the coast", None, ["repeat"], "Storm hits the coast"),
        ("CORRECTED-UPDATE 1-Storm hits the coast", 2, ["correction", "update"], "Storm hits the coast"),
        ("(LEAD) Fire at plant put out", 2, ["update"], "Fire at plant put out"),
        ("(2nd LD) Fire at plant put out; probe begins", 3, ["update"], "Fire at plant put out; probe begins"),
        ("KILL/WITHDRAWN-Storm hits the coast", None, ["kill"], "Storm hits the coast"),
        ("Update on the storm", None, [], "Update on the storm"),
    ],
)
def test_routing_prefixes_leave_the_headline_as_signals(headline, version, signals, bare):
    text, routing = strip_routing(headline)
    assert (text, routing.version, sorted(routing.signals)) == (bare, version, sorted(signals))


@pytest.mark.parametrize(
    "headline",
    [
        "KILL BILL 3 OPENS IN CINEMAS",
        "Kill switch fitted to ferries",
        "Withdrawal of troops begins",
        "Killed driver named by police",
    ],
)
def test_a_headline_that_only_starts_with_a_kill_word_is_a_story(headline):
    story = plain(f"{headline}\n\nPORT SALVIN (KPW) - The story goes on here with its facts.\n")
    assert story.pubstatus == "usable" and story.paragraphs


def test_a_quote_telling_people_not_to_use_something_is_not_a_kill():
    story = plain(
        'Lift fire closes tower\n\nPORT SALVIN (KPW) - "Please do not use the lifts," '
        "the fire service told residents of the tower on Tuesday.\n\nThe tower has 20 floors.\n"
    )
    assert story.pubstatus == "usable" and len(story.paragraphs) == 2


@pytest.mark.parametrize(
    "paragraph",
    [
        "(Adds analyst comment in paragraph 4)",
        "(ATTN: UPDATES with fire put out)",
        "(EDITORS' NOTE: graphic details in para 3)",
        "Editors please note: photos will move at 1400 GMT.",
        "ATTENZIONE REDAZIONI: foto disponibili dalle 16.",
        "Atención redacciones: sigue ampliación.",
    ],
)
def test_notes_to_editors_in_the_wires_languages_and_layouts(paragraph):
    assert is_note(paragraph)


@pytest.mark.parametrize(
    "paragraph",
    [
        "(The figures are provisional.)",
        "Editors at the paper said they would appeal.",
        "Attention turned to the harbour on Monday.",
    ],
)
def test_copy_that_looks_like_a_note_but_is_not(paragraph):
    assert not is_note(paragraph)


@pytest.mark.parametrize(
    "line, sign_off",
    [
        ("(END)", True),
        ("PTI ABC DEF", True),
        ("--IANS", True),
        ("bur-vlc/ab", True),
        ("dpa ab yydd n1", True),
        ("ends", True),
        ("MANDATORY KILL", False),
        ("Nobody was hurt", False),
        ("The end", False),
    ],
)
def test_what_closes_wire_copy(line, sign_off):
    assert is_sign_off(line) is sign_off


def test_an_end_mark_on_the_last_line_of_a_paragraph_goes_and_the_text_stays():
    story = plain(
        "Fire at plant\n\nHANRIM, Nov. 25 (Yonhap) -- A fire broke out.\n\nIt was put out, they said.\n(END)\n"
    )
    assert story.paragraphs[-1] == "It was put out, they said."
    assert "(END)" in story.ednote


def test_reference_numbers_as_agencies_cite_them_but_not_dates():
    assert reference_keys("Please kill DEL15 and kpw 0412") == [
        "number:del15",
        "serial:15",
        "number:kpw412",
        "serial:412",
    ]
    assert reference_keys("filed Nov 25 at 1000 GMT") == []


def test_an_advisory_in_a_format_with_ids_keeps_no_text_and_is_never_an_article():
    [story] = parse(
        ninjs(
            headline="ADVISORY: harbour figures at 1400 GMT",
            body_text="The port will publish its figures. This advisory is not for publication.",
        )
    )
    assert story.paragraphs == [] and "not for publication" in story.ednote


def test_a_correction_note_in_ednote_becomes_the_correction_readers_see():
    [story] = parse(
        ninjs(
            body_text="PORT SALVIN (KPW) - The harbour reopened.",
            ednote="CORRECTION: Fixes spelling of the harbour master's name",
        )
    )
    assert story.correction == "Fixes spelling of the harbour master's name"
    assert "correction" in story.signals


def test_copy_with_ids_names_no_other_story_unless_it_is_a_notice():
    [update] = parse(ninjs(slugline="HARBOUR", version="2", body_text="PORT SALVIN (KPW) - The harbour reopened."))
    assert update.targets == []
    [kill] = parse(ninjs(slugline="HARBOUR", pubstatus="canceled", body_text="Please kill this story."))
    assert "keyword:harbour" in kill.targets


@pytest.mark.parametrize(
    "text, language",
    [
        ("The harbour reopened on Monday and the ferries said that it was a relief for the town.", "en"),
        ("Der Hafen ist am Montag wieder geöffnet worden, sagte die Stadt, und die Fähren fahren.", "de"),
        ("Il porto è stato riaperto lunedì, ha detto il sindaco della città, con una cerimonia per le navi.", "it"),
        ("Harbour 12 3 4", None),
    ],
)
def test_a_language_is_guessed_only_when_the_words_say_so_clearly(text, language):
    assert guess_language([text]) == language


# --- what no input may do ----------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from wiredesk.formats import FormatError  # noqa: E402
from wiredesk.formats.conventions import apply  # noqa: E402

# The words the recognisers look for, so that random copy meets them often.
WIRE_WORDS = [
    "KILL",
    "KILL -",
    "MANDATORY KILL",
    "WITHDRAWN",
    "ADVISORY",
    "EDITOR'S NOTE:",
    "Eds:",
    "(END)",
    "UPDATE 1-",
    "(LEAD)",
    "CORRECTION:",
    "Corrects",
    "please kill",
    "not for publication",
    "PTI ABC",
    "DEL15",
    "(",
    ")",
    '"',
    "\n",
    "\n\n",
    "BERLIN (dpa) -",
    "Nov 25",
    "the",
    "harbour",
]
copy = st.lists(st.one_of(st.sampled_from(WIRE_WORDS), st.text(max_size=12)), max_size=40).map(" ".join)


def read_or_refuse(text: str) -> list:
    """The stories in `text`, or none when it is refused with a reason: any other error fails."""
    try:
        return parse(text.encode())
    except FormatError:
        return []


@settings(max_examples=300, deadline=None)
@given(copy)
def test_any_plain_copy_is_read_or_refused_with_a_reason_never_a_crash(text):
    for story in read_or_refuse(text):
        assert story.headline is not None and all(p.strip() for p in story.paragraphs)
        # A canceled or advisory item never carries text for readers.
        assert story.pubstatus != "canceled" or story.paragraphs == []


@settings(max_examples=300, deadline=None)
@given(copy)
def test_the_conventions_applied_twice_change_nothing_more(text):
    for story in read_or_refuse(text):
        assert apply(story) == story


def test_an_advisory_that_reads_as_a_correction_is_one_the_first_time():
    # Found by the property above: the advisory's own line becomes its note, and the correction
    # in it was seen only when the conventions ran a second time.
    [story] = parse(b"CORRECTION: not for publication")
    assert story.signals == ["correction"] and story.correction == "not for publication"
    assert story.paragraphs == [] and apply(story) == story
