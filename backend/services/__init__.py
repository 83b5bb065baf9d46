"""Service functions: every write goes through here; none of them imports Flask."""

# Every session renders the public views of the reports it changed before it commits.
from backend.services.public_views import store as _public_views  # noqa: E402,F401
