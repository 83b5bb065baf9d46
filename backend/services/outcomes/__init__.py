"""Honest outcomes and the citizen's voice: the reporter's "fixed?" answer and the fix rate."""
