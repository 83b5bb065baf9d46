"""Service functions: every write goes through here; none of them imports Flask."""
