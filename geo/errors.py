"""Error raised when a district layer (or the CRS it declares) cannot be used."""

from __future__ import annotations

from collections.abc import Iterable


class LayerError(ValueError):
    """A district layer is unusable; `problems` lists every defect found, one sentence each."""

    message: str
    problems: list[str]

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        self.message = message
        self.problems = list(problems)
        # Both values go into args so the exception survives pickling (e.g. in RQ job results).
        super().__init__(message, self.problems)

    def __str__(self) -> str:
        """Return the message followed by all problems, on one line for logs and API errors."""
        if not self.problems:
            return self.message
        return f"{self.message}: " + "; ".join(self.problems)
