from wiredesk.lifecycle.rules import Decision, Known, Outcome, Policy, State, StoredVersion, decide

__all__ = ["Decision", "Known", "Outcome", "Policy", "State", "StoredVersion", "decide"]
