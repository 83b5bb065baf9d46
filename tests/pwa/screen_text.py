"""What a user sees or hears of a page: its title, the visible text and the labels of the
elements on screen (aria-label, title, alt, placeholder)."""

from __future__ import annotations

from typing import Any

SHOWN_TEXT = """() => {
  const rendered = (el) => el.getClientRects().length > 0;
  const labels = [...document.querySelectorAll('[aria-label],[title],[alt],[placeholder]')]
    .filter(rendered)
    .flatMap((el) => ['aria-label', 'title', 'alt', 'placeholder'].map((a) => el.getAttribute(a)))
    .filter(Boolean);
  return [document.title, document.body.innerText, ...labels].join('\\n');
}"""


def shown_text(page: Any) -> str:
    """The page's shown text, one piece per line."""
    return page.evaluate(SHOWN_TEXT)
