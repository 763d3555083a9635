"""What a story arriving at the desk does to what readers see.

Plain data in, a decision out: no database here, so every rule is testable on its own and the
pipeline only carries the decision out. `decide` reads top to bottom in the order a wire editor
applies the rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from wiredesk.story import WireStory


class State(StrEnum):
    """Where a story stands. Only LIVE stories reach readers, and only from their publication
    time on: an embargoed story is LIVE with a publication time still to come."""

    LIVE = "live"
    HELD = "held"  # kept for the desk: a hold rule, an operator, or copy with no story text
    WITHHELD = "withheld"  # the agency withheld it; a later usable version brings it back
    KILLED = "killed"  # canceled by the agency or an operator: gone for good, its URL answers 410
    DUPLICATE = "duplicate"  # text already on the site under another id; linked to that story


class Outcome(StrEnum):
    PUBLISHED = "published"  # readers see a story they have not seen before
    UPDATED = "updated"  # a newer version replaces the text at the same URL
    EMBARGOED = "embargoed"  # stored, and published by itself when the embargo lifts
    UNCHANGED = "unchanged"  # a copy already held, or an older version arriving late
    KEPT = "kept"  # stored for the desk; readers see no change
    HELD = "held"  # stored and shown to nobody until the desk releases it
    WITHHELD = "withheld"  # the agency withheld the story: it leaves the site for now
    KILLED = "killed"  # the story is canceled: it leaves the site and never comes back
    DUPLICATE = "duplicate"  # the same text as a story already published: not published again
    QUARANTINED = "quarantined"  # the delivery could not be read; kept with the reason


@dataclass(frozen=True)
class StoredVersion:
    version: int  # the number the desk stored it under
    fingerprint: str
    agency_version: int | None = None  # the number the agency gave it, when the format has one
    versioncreated: dt.datetime | None = None


@dataclass(frozen=True)
class Known:
    """What the desk already holds of one story."""

    state: State
    versions: tuple[StoredVersion, ...]
    desk_hold: bool = False  # an operator held it: only an operator releases it
    published_at: dt.datetime | None = None  # when readers first saw it, or will under an embargo

    def visible(self, now: dt.datetime) -> bool:
        return is_visible(self.state, self.published_at, now)


def is_visible(state: State, published_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Readers see a live story from its publication time on (an embargo sets it in the future)."""
    return state == State.LIVE and published_at is not None and published_at <= now


@dataclass(frozen=True)
class Policy:
    """A source's publishing rules. The default publishes everything as it comes."""

    auto_publish: bool = True
    hold_urgency: int | None = None  # hold stories this urgent or more (1 = flash)
    hold_subjects: frozenset[str] = field(default_factory=frozenset)  # names, codes or uris, any case

    def hold_reason(self, story: WireStory) -> str | None:
        if not self.auto_publish:
            return "the source is set to hold every story for the desk"
        if self.hold_urgency is not None and story.urgency is not None and story.urgency <= self.hold_urgency:
            return f"urgency {story.urgency} is held for the desk"
        wanted = {s.casefold() for s in self.hold_subjects}
        for subject in story.subjects:
            names = {n.casefold() for n in (subject.name, subject.uri, subject.literal, _qcode(subject.uri)) if n}
            if names & wanted:
                return f"subject {subject.name or subject.uri or subject.literal!r} is held for the desk"
        return None


# Subjects arrive as IPTC URIs or as QCodes; a hold rule may be written either way.
_QCODE_PREFIXES = {
    "http://cv.iptc.org/newscodes/mediatopic/": "medtop:",
    "http://cv.iptc.org/newscodes/subjectcode/": "subj:",
}


def _qcode(uri: str | None) -> str | None:
    for base, prefix in _QCODE_PREFIXES.items():
        if uri and uri.startswith(base):
            return prefix + uri.removeprefix(base)
    return None


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    version: int  # the number the incoming copy is, or would have been, stored under
    reason: str = ""
    publish_at: dt.datetime | None = None  # for an embargo: when readers may first see it

    @property
    def stored(self) -> bool:
        return self.outcome != Outcome.UNCHANGED

    @property
    def state(self) -> State | None:
        """The story's state afterwards; None when it stays as it was."""
        return _STATE_AFTER.get(self.outcome)


_STATE_AFTER = {
    Outcome.PUBLISHED: State.LIVE,
    Outcome.UPDATED: State.LIVE,
    Outcome.EMBARGOED: State.LIVE,
    Outcome.HELD: State.HELD,
    Outcome.WITHHELD: State.WITHHELD,
    Outcome.KILLED: State.KILLED,
    Outcome.DUPLICATE: State.DUPLICATE,
}


def decide(
    known: Known | None,
    incoming: WireStory,
    *,
    now: dt.datetime,
    policy: Policy = Policy(),
    duplicate_of: str | None = None,
    killed_by: str | None = None,
) -> Decision:
    """What `incoming` does to the story. `duplicate_of` names a story already on the site with
    the same text, which the pipeline looks for only when the story is new to the desk;
    `killed_by`, an agency's kill that named this story before it came."""
    versions = known.versions if known else ()
    fingerprint = incoming.fingerprint()

    # Copy already held, in any version, is a re-send: nothing changes, whatever it says.
    for held in versions:
        if held.fingerprint == fingerprint:
            return Decision(Outcome.UNCHANGED, held.version, "the same copy is already held")
    latest = max(versions, key=lambda v: v.version, default=None)
    number = _number(incoming, latest)

    # A kill is final, in whatever order it arrives: the story leaves the site, and a kill that
    # comes first keeps it off.
    if incoming.pubstatus == "canceled":
        return Decision(Outcome.KILLED, number, "the agency canceled the story")
    if known is not None and known.state == State.KILLED:
        return Decision(Outcome.KEPT, number, "the story was killed: later copy is kept, never shown")
    if killed_by:
        return Decision(Outcome.KILLED, number, f"the agency killed the story before it came ({killed_by})")

    # An older version arriving late is history.
    if latest is not None and _is_older(incoming, latest):
        return Decision(Outcome.UNCHANGED, latest.version, "older than the version already held")
    live = known is not None and known.visible(now)

    if incoming.pubstatus == "withheld":
        return Decision(Outcome.WITHHELD, number, "the agency withheld the story")

    # An advisory with no story text is not an article; on a live story it is only a note.
    if not incoming.paragraphs:
        return Decision(Outcome.KEPT if live else Outcome.HELD, number, "no story text (an advisory or a notice)")

    if known is not None and known.state == State.DUPLICATE:
        return Decision(Outcome.DUPLICATE, number, "a new version of a duplicate")
    if live:
        if incoming.embargoed and incoming.embargoed > now:
            # The published text stays; the update waits for the desk rather than being lost.
            return Decision(Outcome.KEPT, number, f"an update embargoed until {incoming.embargoed.isoformat()}")
        return Decision(Outcome.UPDATED, number)
    if duplicate_of:
        return Decision(Outcome.DUPLICATE, number, f"the same text as {duplicate_of}")
    if reason := policy.hold_reason(incoming):
        return Decision(Outcome.HELD, number, reason)
    if known is not None and known.desk_hold:
        return Decision(Outcome.HELD, number, "an operator holds this story")
    if incoming.embargoed and incoming.embargoed > now:
        return Decision(
            Outcome.EMBARGOED,
            number,
            f"embargoed until {incoming.embargoed.isoformat()}",
            publish_at=incoming.embargoed,
        )
    return Decision(Outcome.PUBLISHED, number)


def continues_a_story(incoming: WireStory) -> bool:
    """Copy that says it is a later version (a lead, an update, a correction, a later take). When
    its id is new but its text is a story the source already sent, it is that story's next
    version: wire formats without ids key a story by its headline, which a new lead rewrites."""
    return (
        (incoming.version or 1) > 1
        or (incoming.take or 1) > 1
        or bool({"update", "correction"} & set(incoming.signals))
    )


def join_take(current: WireStory | None, incoming: WireStory) -> WireStory:
    """A later take continues the text of the story it belongs to: the story as readers will see
    it is the text so far, then the take, under the story's headline and dateline."""
    if current is None or not incoming.take or incoming.take <= (current.take or 1):
        return incoming
    return dataclasses.replace(
        incoming,
        headline=current.headline,
        headline_derived=current.headline_derived,
        subheadline=current.subheadline,
        dateline=current.dateline,
        by=current.by or incoming.by,
        paragraphs=[*current.paragraphs, *incoming.paragraphs],
        firstcreated=current.firstcreated,
    )


def _is_older(incoming: WireStory, latest: StoredVersion) -> bool:
    """Order: the agency's version number, then the version-created time. Copy that says neither
    is taken as newer, in order of arrival."""
    if incoming.version is not None and latest.agency_version is not None and incoming.version != latest.agency_version:
        return incoming.version < latest.agency_version
    if incoming.versioncreated and latest.versioncreated:
        return incoming.versioncreated < latest.versioncreated
    return False


def _number(incoming: WireStory, latest: StoredVersion | None) -> int:
    """The agency's number when it has one and it is free, else the next one."""
    if latest is None:
        return incoming.version or 1
    if incoming.version is not None and incoming.version > latest.version:
        return incoming.version
    return latest.version + 1
