"""The lifecycle rules on plain data, no database."""

import datetime as dt

from wiredesk import lifecycle
from wiredesk.lifecycle import Outcome, StoredVersion
from wiredesk.story import Story

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def story(text="Dock workers returned.", version=None, **fields):
    return Story(uri="urn:test:1", headline="Docks reopen", paragraphs=[text] if text else [], version=version,
                 **fields)


def decide(stored, incoming, live=None):
    """The rule as the pipeline calls it; a story with stored versions is live unless told."""
    return lifecycle.decide(stored, incoming, live=bool(stored) if live is None else live, now=NOW)


def stored(*stories_and_numbers):
    return [StoredVersion(number, s.fingerprint()) for s, number in stories_and_numbers]


def test_a_story_never_seen_is_published_as_version_1():
    decision = decide([], story())
    assert (decision.outcome, decision.version) == (Outcome.PUBLISHED, 1)


def test_a_story_never_seen_keeps_the_agency_version_number():
    assert decide([], story(version=4)).version == 4


def test_the_same_copy_again_is_unchanged():
    decision = decide(stored((story(), 1)), story())
    assert (decision.outcome, decision.version) == (Outcome.UNCHANGED, 1)


def test_new_copy_without_version_numbers_becomes_the_next_version():
    decision = decide(stored((story(), 1)), story("Dock workers returned on Monday."))
    assert (decision.outcome, decision.version) == (Outcome.UPDATED, 2)


def test_an_old_text_resent_does_not_roll_the_story_back():
    v1, v2 = story("First text."), story("Second text.")
    decision = decide(stored((v1, 1), (v2, 2)), story("First text."))
    assert (decision.outcome, decision.version) == (Outcome.UNCHANGED, 1)


def test_a_higher_agency_version_replaces_the_text():
    decision = decide(stored((story(version=1), 1)), story("Corrected text.", version=2))
    assert (decision.outcome, decision.version) == (Outcome.UPDATED, 2)


def test_an_older_agency_version_arriving_late_changes_nothing():
    decision = decide(stored((story("Third.", version=3), 3)), story("Second.", version=2))
    assert (decision.outcome, decision.version) == (Outcome.UNCHANGED, 2)


def test_a_higher_version_with_the_same_text_changes_nothing():
    decision = decide(stored((story(version=1), 1)), story(version=2))
    assert decision.outcome == Outcome.UNCHANGED


def test_a_canceled_story_is_killed():
    decision = decide(stored((story(), 1)), story(pubstatus="canceled"))
    assert (decision.outcome, decision.version) == (Outcome.KILLED, 2)


def test_a_kill_that_arrives_first_is_recorded_as_a_kill():
    assert decide([], story(pubstatus="canceled")).outcome == Outcome.KILLED


def test_withheld_copy_is_held():
    assert decide([], story(pubstatus="withheld")).outcome == Outcome.HELD


def test_copy_under_embargo_is_held_until_the_embargo_passes():
    later = NOW + dt.timedelta(minutes=1)
    assert decide([], story(embargoed=later)).outcome == Outcome.HELD
    assert decide([], story(embargoed=NOW - dt.timedelta(minutes=1))).outcome == Outcome.PUBLISHED


def test_an_advisory_without_story_text_is_not_an_article():
    decision = decide([], story(text=None, ednote="ATTENTION EDITORS: a new lead follows"))
    assert decision.outcome == Outcome.HELD and "no story text" in decision.reason


def test_a_usable_version_after_a_hold_is_published_not_updated():
    held = story(pubstatus="withheld", version=1)
    decision = decide(stored((held, 1)), story(version=2), live=False)
    assert (decision.outcome, decision.version) == (Outcome.PUBLISHED, 2)


def test_a_kill_sent_twice_is_unchanged_the_second_time():
    kill = story(pubstatus="canceled")
    assert decide(stored((story(), 1), (kill, 2)), kill, live=False).outcome == Outcome.UNCHANGED
