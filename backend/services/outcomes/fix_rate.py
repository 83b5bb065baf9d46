"""The fix rate, counted honestly: of the reports the city decided about, the share it fixed
for good. A report counts for it when it was fixed and its reporter never said "not fixed";
against it when it was closed without a fix or its reporter said "not fixed" (even if it was
fixed later); not at all while open, or when it was a duplicate or not the city's to fix
(the workflow's `OUTCOMES` table says which outcome counts how)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import numpy as np

from backend.workflow import OUTCOMES, REPORTER_NOT_FIXED_COUNTS_AS_FIXED, Outcome, outcome_of

OUTCOME_VALUES = [o.value for o in Outcome]
_INDEX = {o: i for i, o in enumerate(Outcome)}


def _verdict(counts: bool | None) -> int:
    return -1 if counts is None else int(counts)


@cache
def _ended(status: str, reason: str | None) -> tuple[int, int]:
    """(outcome index or -1, verdict) of a report the reporter never disputed."""
    ended = outcome_of(status, reason)
    if ended is None:
        return -1, -1
    return _INDEX[ended], _verdict(OUTCOMES[ended].counts_as_fixed)


def verdicts(reports: Iterable[tuple[str, str | None, int | None]]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per report (status, reject reason, reporter's "not fixed" count): its outcome (index
    into OUTCOME_VALUES, -1 while open), its fix-rate verdict (1 for, 0 against, -1 not
    counted) and whether the reporter said "not fixed"."""
    outcome, verdict, reopened = [], [], []
    disputed = _verdict(REPORTER_NOT_FIXED_COUNTS_AS_FIXED)
    for status, reason, reporter_reopens in reports:
        index, undisputed = _ended(status, reason)
        outcome.append(index)
        reopened.append(bool(reporter_reopens))
        verdict.append(disputed if reporter_reopens else undisputed)
    return (np.array(outcome, dtype=int), np.array(verdict, dtype=int),
            np.array(reopened, dtype=bool))


def fix_figures(outcome: np.ndarray, verdict: np.ndarray, reporter_not_fixed: np.ndarray
                ) -> dict[str, Any]:
    """Outcome counts, the reporter's "not fixed" count and the fix rate (None when nothing
    counts yet)."""
    counts = np.bincount(outcome[outcome >= 0], minlength=len(OUTCOME_VALUES))
    decided = int((verdict >= 0).sum())
    return {
        "outcomes": {value: int(counts[i]) for i, value in enumerate(OUTCOME_VALUES)},
        "reporter_not_fixed": int(reporter_not_fixed.sum()),
        "fix_rate": round(float((verdict == 1).sum()) / decided, 4) if decided else None,
    }
