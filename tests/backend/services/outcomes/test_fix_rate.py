"""The fix rate counts the reporter's "not fixed" and closing without a fix against it."""

from __future__ import annotations

import pytest

from backend.services.outcomes.fix_rate import fix_figures, verdicts


@pytest.mark.parametrize(("report", "verdict"), [
    (("resolved", None, 0), 1),
    (("closed", None, 0), 1),
    (("closed", None, 1), 0),  # fixed in the end, but the reporter had said "not fixed"
    (("reopened", None, 1), 0),
    (("rejected", "cannot_fix", 0), 0),
    (("rejected", "not_responsible", 0), -1),
    (("rejected", "duplicate", 0), -1),
    (("submitted", None, 0), -1),
    (("reopened", None, 0), -1),  # reopened by staff: not decided yet
])
def test_each_report_counts_for_against_or_not_at_all(report: tuple, verdict: int) -> None:
    assert verdicts([report])[1].tolist() == [verdict]


def test_the_figures_from_a_mix() -> None:
    outcome, verdict, reopened = verdicts([
        ("closed", None, 0), ("resolved", None, 0), ("closed", None, 1),
        ("rejected", "cannot_fix", 0), ("rejected", "not_responsible", 0),
        ("submitted", None, 0)])
    figures = fix_figures(outcome, verdict, reopened)
    assert figures["fix_rate"] == 0.5  # 2 of 4 decided
    assert figures["reporter_not_fixed"] == 1
    assert figures["outcomes"] == {"fixed": 3, "not_fixed": 1, "not_responsible": 1,
                                   "duplicate": 0}
    empty = verdicts([])
    assert fix_figures(*empty)["fix_rate"] is None
