from wiredesk.lifecycle.rules import Decision, Outcome, StoredVersion, decide

__all__ = ["Decision", "Outcome", "StoredVersion", "decide"]
