from wiredesk.lifecycle.rules import (
    Decision,
    Known,
    Outcome,
    Policy,
    State,
    StoredVersion,
    continues_a_story,
    decide,
    join_take,
)

__all__ = [
    "Decision",
    "Known",
    "Outcome",
    "Policy",
    "State",
    "StoredVersion",
    "continues_a_story",
    "decide",
    "join_take",
]
