"""The lifecycle rules on plain data, no database: each test is one sentence of the rules."""

import dataclasses
import datetime as dt

from wiredesk import lifecycle
from wiredesk.lifecycle import Known, Outcome, Policy, State, StoredVersion
from wiredesk.story import Subject, WireStory

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def story(text="Dock workers returned.", version=None, **fields):
    return WireStory(
        uri="urn:test:1", headline="Docks reopen", paragraphs=[text] if text else [], version=version, **fields
    )


def known(*stories, state=State.LIVE, desk_hold=False, published_at=NOW - 60 * MINUTE):
    """The desk holding `stories`, stored as versions 1, 2, ... in that order; readers have seen a
    live one for an hour unless told otherwise."""
    return Known(
        state,
        tuple(
            StoredVersion(number, s.fingerprint(), s.version, s.versioncreated)
            for number, s in enumerate(stories, start=1)
        ),
        desk_hold,
        published_at,
    )


def decide(held, incoming, **options):
    return lifecycle.decide(held, incoming, now=NOW, **options)


def outcome(held, incoming, **options):
    decision = decide(held, incoming, **options)
    return decision.outcome, decision.version


# --- versions ---------------------------------------------------------------------------------


def test_a_story_never_seen_is_published_as_version_1():
    assert outcome(None, story()) == (Outcome.PUBLISHED, 1)


def test_a_story_never_seen_keeps_the_agency_version_number():
    assert decide(None, story(version=4)).version == 4


def test_the_same_copy_again_is_unchanged():
    assert outcome(known(story()), story()) == (Outcome.UNCHANGED, 1)


def test_new_copy_without_version_numbers_becomes_the_next_version():
    assert outcome(known(story()), story("Dock workers returned on Monday.")) == (Outcome.UPDATED, 2)


def test_an_old_text_resent_does_not_roll_the_story_back():
    assert outcome(known(story("First text."), story("Second text.")), story("First text.")) == (Outcome.UNCHANGED, 1)


def test_a_higher_agency_version_replaces_the_text():
    assert outcome(known(story(version=1)), story("Corrected text.", version=2)) == (Outcome.UPDATED, 2)


def test_an_older_agency_version_arriving_late_changes_nothing():
    assert decide(known(story("Third.", version=3)), story("Second.", version=2)).outcome == Outcome.UNCHANGED


def test_with_equal_version_numbers_the_later_version_created_time_wins():
    first = story("First.", version=1, versioncreated=NOW - 2 * MINUTE)
    assert decide(known(first), story("Later.", version=1, versioncreated=NOW - MINUTE)).outcome == Outcome.UPDATED
    assert (
        decide(known(first), story("Earlier.", version=1, versioncreated=NOW - 3 * MINUTE)).outcome == Outcome.UNCHANGED
    )


def test_without_version_numbers_an_older_version_created_time_arriving_late_changes_nothing():
    newer = story("Newer.", versioncreated=NOW)
    assert decide(known(newer), story("Older.", versioncreated=NOW - MINUTE)).outcome == Outcome.UNCHANGED


def test_an_agency_number_already_taken_gives_the_next_free_one():
    held = known(story("One.", version=1), story("Two."))
    assert outcome(held, story("Two again, revised.", version=2)) == (Outcome.UPDATED, 3)


# --- kills ------------------------------------------------------------------------------------


def test_a_canceled_story_is_killed():
    decision = decide(known(story()), story(pubstatus="canceled"))
    assert (decision.outcome, decision.version, decision.state) == (Outcome.KILLED, 2, State.KILLED)


def test_a_kill_that_arrives_first_is_recorded_as_a_kill():
    assert decide(None, story(pubstatus="canceled")).state == State.KILLED


def test_a_kill_is_final_later_copy_is_kept_and_never_shown():
    decision = decide(known(story(), story("Killed.", pubstatus="canceled"), state=State.KILLED), story("Revised."))
    assert (decision.outcome, decision.state) == (Outcome.KEPT, None)


def test_the_story_a_kill_came_ahead_of_never_appears():
    kill = story("Kill.", pubstatus="canceled", versioncreated=NOW)
    assert decide(known(kill, state=State.KILLED), story(versioncreated=NOW - MINUTE)).state is None


def test_a_kill_older_than_the_version_held_still_kills():
    decision = decide(known(story("Third.", version=3)), story("Second.", version=2, pubstatus="canceled"))
    assert decision.state == State.KILLED


def test_a_kill_sent_twice_is_unchanged_the_second_time():
    kill = story(pubstatus="canceled")
    assert decide(known(story(), kill, state=State.KILLED), kill).outcome == Outcome.UNCHANGED


# --- withheld ---------------------------------------------------------------------------------


def test_withheld_copy_takes_the_story_off():
    decision = decide(known(story()), story("Withheld.", pubstatus="withheld"))
    assert (decision.outcome, decision.state) == (Outcome.WITHHELD, State.WITHHELD)


def test_a_usable_version_after_withheld_brings_the_story_back_as_published():
    held = known(story(pubstatus="withheld", version=1), state=State.WITHHELD)
    assert outcome(held, story(version=2)) == (Outcome.PUBLISHED, 2)


# --- embargo ----------------------------------------------------------------------------------


def test_copy_under_embargo_is_published_at_the_embargo_time():
    decision = decide(None, story(embargoed=NOW + MINUTE))
    assert (decision.outcome, decision.state, decision.publish_at) == (Outcome.EMBARGOED, State.LIVE, NOW + MINUTE)


def test_an_embargo_already_passed_publishes_now():
    decision = decide(None, story(embargoed=NOW - MINUTE))
    assert (decision.outcome, decision.publish_at) == (Outcome.PUBLISHED, None)


def test_a_new_version_under_the_same_embargo_replaces_the_text_still_waiting():
    waiting = known(story(version=1, embargoed=NOW + MINUTE), published_at=NOW + MINUTE)
    decision = decide(waiting, story("Fuller.", version=2, embargoed=NOW + MINUTE))
    assert (decision.outcome, decision.publish_at) == (Outcome.EMBARGOED, NOW + MINUTE)


def test_a_new_version_without_the_embargo_publishes_the_waiting_story_now():
    waiting = known(story(version=1, embargoed=NOW + MINUTE), published_at=NOW + MINUTE)
    assert decide(waiting, story("Released early.", version=2)).outcome == Outcome.PUBLISHED


def test_an_embargoed_update_of_a_published_story_is_kept_and_the_published_text_stays():
    decision = decide(known(story()), story("Embargoed update.", embargoed=NOW + MINUTE))
    assert (decision.outcome, decision.state) == (Outcome.KEPT, None)


# --- advisories -------------------------------------------------------------------------------


def test_an_advisory_without_story_text_is_not_an_article():
    decision = decide(None, story(text=None, ednote="ATTENTION EDITORS: a new lead follows"))
    assert decision.outcome == Outcome.HELD and "no story text" in decision.reason


def test_an_advisory_on_a_published_story_is_kept_and_the_story_stays():
    decision = decide(known(story()), story(text=None, ednote="ATTENTION EDITORS: a new lead follows"))
    assert (decision.outcome, decision.state) == (Outcome.KEPT, None)


def test_story_text_after_an_advisory_is_published():
    advisory = story(text=None, ednote="Story to follow")
    assert decide(known(advisory, state=State.HELD), story()).outcome == Outcome.PUBLISHED


# --- duplicates -------------------------------------------------------------------------------


def test_a_new_story_with_the_text_of_a_published_one_is_a_duplicate():
    decision = decide(None, story(), duplicate_of="urn:test:original")
    assert (decision.outcome, decision.state) == (Outcome.DUPLICATE, State.DUPLICATE)
    assert "urn:test:original" in decision.reason


def test_a_new_version_of_a_duplicate_stays_a_duplicate():
    assert decide(known(story(), state=State.DUPLICATE), story("Refiled again.")).outcome == Outcome.DUPLICATE


def test_a_kill_of_a_duplicate_is_still_a_kill():
    assert decide(None, story(pubstatus="canceled"), duplicate_of="urn:test:original").outcome == Outcome.KILLED


# --- policy -----------------------------------------------------------------------------------


def test_a_source_held_for_the_desk_holds_every_new_story():
    decision = decide(None, story(), policy=Policy(auto_publish=False))
    assert (decision.outcome, decision.state) == (Outcome.HELD, State.HELD)


def test_hold_urgency_holds_flashes_and_publishes_the_rest():
    policy = Policy(hold_urgency=1)
    assert decide(None, story(urgency=1), policy=policy).outcome == Outcome.HELD
    assert decide(None, story(urgency=3), policy=policy).outcome == Outcome.PUBLISHED
    assert decide(None, story(), policy=policy).outcome == Outcome.PUBLISHED


def test_hold_subjects_match_by_name_code_or_uri_in_any_case():
    policy = Policy(hold_subjects=frozenset({"Crime, law and justice", "medtop:20000106"}))
    assert decide(None, story(subjects=[Subject(name="crime, law and justice")]), policy=policy).outcome == Outcome.HELD
    theft = Subject(name="theft", uri="http://cv.iptc.org/newscodes/mediatopic/20000106")
    assert decide(None, story(subjects=[theft]), policy=policy).outcome == Outcome.HELD
    assert (
        decide(None, story(subjects=[Subject(name="", literal="medtop:20000106")]), policy=policy).outcome
        == Outcome.HELD
    )
    assert decide(None, story(subjects=[Subject(name="Sport")]), policy=policy).outcome == Outcome.PUBLISHED


def test_a_policy_does_not_take_down_a_story_already_published():
    assert decide(known(story()), story("Update."), policy=Policy(auto_publish=False)).outcome == Outcome.UPDATED


def test_a_story_an_operator_holds_stays_held_through_new_versions():
    held = known(story(), state=State.HELD, desk_hold=True)
    decision = decide(held, story("Update."))
    assert (decision.outcome, decision.state) == (Outcome.HELD, State.HELD)


def test_copy_that_says_it_is_a_later_version_continues_a_story_and_a_refile_does_not():
    assert lifecycle.continues_a_story(story(version=2))
    assert lifecycle.continues_a_story(story(signals=["update"]))
    assert lifecycle.continues_a_story(story(signals=["correction"]))
    assert not lifecycle.continues_a_story(story())
    assert not lifecycle.continues_a_story(story(version=1))
    assert lifecycle.continues_a_story(story(take=2))


# --- kills that came first, and takes -----------------------------------------------------------


def test_a_story_a_kill_named_before_it_came_is_killed_on_arrival():
    decision = decide(None, story(), killed_by="urn:test:kill")
    assert (decision.outcome, decision.state) == (Outcome.KILLED, State.KILLED)
    assert "urn:test:kill" in decision.reason


def test_a_later_take_is_joined_under_the_storys_headline_and_dateline():
    first = story("PORT SALVIN (KPW) - The cranes worked again.", headline_derived=False)
    take = dataclasses.replace(
        story("Ferries were not affected.", take=2), headline="Ferries were not affected", headline_derived=True
    )
    joined = lifecycle.join_take(first, take)
    assert joined.paragraphs == ["PORT SALVIN (KPW) - The cranes worked again.", "Ferries were not affected."]
    assert (joined.headline, joined.take) == ("Docks reopen", 2)


def test_a_take_already_joined_or_an_earlier_one_is_not_joined_again():
    joined = dataclasses.replace(story("A.", take=2), paragraphs=["A.", "B."])
    assert lifecycle.join_take(joined, story("B.", take=2)).paragraphs == ["B."]
    assert lifecycle.join_take(story("A."), story("A. again")).paragraphs == ["A. again"]
    assert lifecycle.join_take(None, story("B.", take=2)).paragraphs == ["B."]
