"""Waiting on a condition with a timeout (never sleep-and-hope), and reading conditions off an object."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from opstack.runtime import errors

NOT_YET = (errors.ApiError, KeyError, IndexError, AssertionError)  # "not there yet", not failures


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy and return its value; an AssertionError naming `what` (and the last
    error seen) on timeout. API errors, missing keys and failed assertions inside it count as "not yet"."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except NOT_YET as exc:
            last_error = exc
        time.sleep(every)
    raise AssertionError(
        f"timed out after {timeout:.0f}s waiting for {what}" + (f" ({last_error})" if last_error else "")
    )


def condition(obj: Mapping[str, Any], type_: str) -> dict[str, Any] | None:
    """The status condition of that type, or None."""
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c["type"] == type_:
            return dict(c)
    return None
