"""What a story arriving at the desk does to what readers see.

Plain data in, a decision out: no database here, so every rule is testable on its own and the
pipeline only carries the decision out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from wiredesk.story import Story


class Outcome(StrEnum):
    PUBLISHED = "published"  # readers see a story they have not seen before
    UPDATED = "updated"  # a newer version replaces the text at the same URL
    UNCHANGED = "unchanged"  # nothing readers see changes
    HELD = "held"  # stored, shown to nobody: withheld, under embargo, or no text to publish
    KILLED = "killed"  # the agency canceled the story: it leaves the site
    QUARANTINED = "quarantined"  # the delivery could not be read; kept with the reason


@dataclass(frozen=True)
class StoredVersion:
    version: int
    fingerprint: str


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    version: int  # the number the incoming copy is, or would have been, stored under
    reason: str = ""


def decide(stored: list[StoredVersion], incoming: Story, *, live: bool, now: dt.datetime) -> Decision:
    """The rules, in the order a wire editor applies them. `live`: readers can see the story now."""
    latest = max(stored, key=lambda v: v.version, default=None)
    fingerprint = incoming.fingerprint()

    # First, is this news at all? The same copy again, or an older version arriving late,
    # changes nothing, whatever it says.
    if latest is not None:
        if incoming.version is not None:
            if incoming.version <= latest.version or fingerprint == latest.fingerprint:
                return Decision(Outcome.UNCHANGED, min(incoming.version, latest.version))
            number = incoming.version
        else:
            # The format has no version numbers: copy we already hold, in any version, is a
            # re-send; different copy is the next version.
            for known in stored:
                if known.fingerprint == fingerprint:
                    return Decision(Outcome.UNCHANGED, known.version)
            number = latest.version + 1
    else:
        number = incoming.version or 1

    # A canceled story leaves the site, and a kill that comes first keeps it off.
    if incoming.pubstatus == "canceled":
        return Decision(Outcome.KILLED, number, "the agency canceled the story")
    # Withheld or embargoed copy is kept, and shown to nobody.
    if incoming.pubstatus == "withheld":
        return Decision(Outcome.HELD, number, "the agency withheld the story")
    if incoming.embargoed and incoming.embargoed > now:
        return Decision(Outcome.HELD, number, f"embargoed until {incoming.embargoed.isoformat()}")
    # An advisory with no story text is not an article.
    if not incoming.paragraphs:
        return Decision(Outcome.HELD, number, "no story text (an advisory or a notice)")

    return Decision(Outcome.UPDATED if live else Outcome.PUBLISHED, number)
