"""What a story arriving at the desk does to what readers see.

Plain data in, a decision out: no database here, so every rule is testable on its own and the
pipeline only carries the decision out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wiredesk.story import Story


class Outcome(StrEnum):
    PUBLISHED = "published"  # a story readers have not seen before
    UPDATED = "updated"  # a newer version replaces the text at the same URL
    UNCHANGED = "unchanged"  # nothing readers see changes
    QUARANTINED = "quarantined"  # the delivery could not be read; kept with the reason


@dataclass(frozen=True)
class StoredVersion:
    version: int
    fingerprint: str


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    version: int  # the number the incoming copy is, or would have been, stored under


def decide(stored: list[StoredVersion], incoming: Story) -> Decision:
    """The rules, in the order a wire editor applies them."""
    latest = max(stored, key=lambda v: v.version, default=None)
    fingerprint = incoming.fingerprint()

    # A story we have never seen is published.
    if latest is None:
        return Decision(Outcome.PUBLISHED, incoming.version or 1)

    # The agency numbers its versions: an older or equal one arriving late changes nothing,
    # and a higher one replaces the text, unless its text is what readers already see.
    if incoming.version is not None:
        if incoming.version <= latest.version or fingerprint == latest.fingerprint:
            return Decision(Outcome.UNCHANGED, min(incoming.version, latest.version))
        return Decision(Outcome.UPDATED, incoming.version)

    # The format has no version numbers: copy we already hold, in any version, is a re-send;
    # different copy is the next version.
    for known in stored:
        if known.fingerprint == fingerprint:
            return Decision(Outcome.UNCHANGED, known.version)
    return Decision(Outcome.UPDATED, latest.version + 1)
