"""The lifecycle rules on plain data, no database."""

from wiredesk.lifecycle import Outcome, StoredVersion, decide
from wiredesk.story import Story


def story(text="Dock workers returned.", version=None):
    return Story(uri="urn:test:1", headline="Docks reopen", paragraphs=[text], version=version)


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
