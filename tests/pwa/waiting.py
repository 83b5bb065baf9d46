"""Waiting for a condition only a promise can answer (Cache Storage, IndexedDB).

Playwright's `wait_for_function` takes a returned promise as a truthy value and stops at once,
whatever the promise resolves to; `wait_until_async` polls inside the page instead."""

from __future__ import annotations

from typing import Any


def wait_until_async(page: Any, predicate: str, timeout_ms: int = 15000,
                     interval_ms: int = 100) -> None:
    """Wait until `predicate` (the source of an `async () => boolean` function) resolves
    true in the page; fail with the predicate if it does not within the timeout."""
    met = page.evaluate(f"""async () => {{
        const predicate = {predicate};
        const end = Date.now() + {int(timeout_ms)};
        while (Date.now() < end) {{
          if (await predicate()) return true;
          await new Promise((resolve) => setTimeout(resolve, {int(interval_ms)}));
        }}
        return Boolean(await predicate());
      }}""")
    assert met, f"not within {timeout_ms} ms: {predicate}"
