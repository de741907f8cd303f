"""Conditions in the shape of metav1.Condition, shared by every controller (apimachinery's
`meta.SetStatusCondition`).

A condition is a plain dict: `type`, `status` ("True" / "False" / "Unknown"), `observedGeneration`,
`lastTransitionTime` (RFC 3339, seconds), `reason` (CamelCase), `message`.

Invariants:
- `lastTransitionTime` changes only when a condition's `status` flips (or the condition is new); a new
  reason, message or observedGeneration with the same status keeps the old time. So recomputing the same
  conditions from the same facts yields identical dicts, and a controller that compares old and new status
  writes nothing when nothing changed.
- Pure: no I/O; the clock is a parameter. Inputs are never mutated (they may be frozen cache objects);
  every function returns new lists and dicts.
- Reasons are made valid for the API's pattern (`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`) and messages are
  cut to the API's 32768 characters, so a condition built here is never refused by the API server.
- The order of conditions is the order of first appearance (stable), so rewrites do not reorder the list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

Status = Literal["True", "False", "Unknown"]
TRUE: Literal["True"] = "True"
FALSE: Literal["False"] = "False"
UNKNOWN: Literal["Unknown"] = "Unknown"

MAX_MESSAGE = 32768
_REASON_BAD = re.compile(r"[^A-Za-z0-9_,:]")

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc3339(when: datetime) -> str:
    """Seconds precision, `Z` suffix: the form metav1.Time serializes to."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str | None) -> datetime | None:
    """The inverse of `rfc3339` (also accepts fractional seconds and offsets); None when absent or invalid."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def valid_reason(reason: str) -> str:
    """`reason` made valid for metav1.Condition: CamelCase letters, digits, `_`, `,`, `:`."""
    cleaned = _REASON_BAD.sub("", reason)
    cleaned = cleaned.lstrip("0123456789_,:").rstrip(",:")
    return cleaned[:1024] or "Unknown"


@dataclass(frozen=True)
class Condition:
    """What a controller wants a condition to say; `apply` turns it into the stored dict."""

    type: str
    status: Status
    reason: str
    message: str = ""

    @property
    def is_true(self) -> bool:
        return self.status == TRUE


def find(conditions: Iterable[Mapping[str, Any]] | None, type_: str) -> Mapping[str, Any] | None:
    for cond in conditions or ():
        if cond.get("type") == type_:
            return cond
    return None


def status_of(conditions: Iterable[Mapping[str, Any]] | None, type_: str) -> str:
    cond = find(conditions, type_)
    return str(cond.get("status", UNKNOWN)) if cond is not None else UNKNOWN


def is_true(conditions: Iterable[Mapping[str, Any]] | None, type_: str) -> bool:
    return status_of(conditions, type_) == TRUE


def set_condition(
    conditions: Sequence[Mapping[str, Any]] | None,
    condition: Condition,
    *,
    observed_generation: int | None,
    now: Clock = utcnow,
) -> list[dict[str, Any]]:
    """A new list with `condition` set: replaced in place if its type exists, appended otherwise.
    The transition time is kept unless the status flips."""
    out: list[dict[str, Any]] = []
    found = False
    for existing in conditions or ():
        if existing.get("type") == condition.type:
            out.append(_build(condition, existing, observed_generation, now))
            found = True
        else:
            out.append(dict(existing))
    if not found:
        out.append(_build(condition, None, observed_generation, now))
    return out


def remove_condition(conditions: Sequence[Mapping[str, Any]] | None, type_: str) -> list[dict[str, Any]]:
    return [dict(c) for c in conditions or () if c.get("type") != type_]


def _build(
    condition: Condition, existing: Mapping[str, Any] | None, observed_generation: int | None, now: Clock
) -> dict[str, Any]:
    if (
        existing is not None
        and existing.get("status") == condition.status
        and existing.get("lastTransitionTime")
    ):
        transition = str(existing["lastTransitionTime"])
    else:
        transition = rfc3339(now())
    out: dict[str, Any] = {"type": condition.type, "status": condition.status}
    if observed_generation is not None:
        out["observedGeneration"] = observed_generation
    out["lastTransitionTime"] = transition
    out["reason"] = valid_reason(condition.reason)
    out["message"] = condition.message[:MAX_MESSAGE]
    return out


class ConditionSet:
    """The conditions of one object during one reconcile: start from the stored list, `set` what was found,
    then `to_list()` for the new status. `changed(type)` says whether a condition's status flipped (for
    Events on transitions only)."""

    def __init__(
        self,
        stored: Sequence[Mapping[str, Any]] | None,
        *,
        observed_generation: int | None,
        now: Clock = utcnow,
    ) -> None:
        self._stored = [dict(c) for c in stored or ()]
        self._conditions = [dict(c) for c in stored or ()]
        self._generation = observed_generation
        self._now = now

    def set(self, condition: Condition) -> Condition:
        self._conditions = set_condition(
            self._conditions, condition, observed_generation=self._generation, now=self._now
        )
        return condition

    def keep(self, type_: str) -> None:
        """Leave a condition exactly as stored."""
        stored = find(self._stored, type_)
        if stored is None:
            return
        self._conditions = [dict(stored) if c.get("type") == type_ else c for c in self._conditions]

    def refresh(self, type_: str) -> None:
        """The stored condition, still true of the current generation (e.g. a cached result): same status,
        reason, message and transition time; observedGeneration moves to the current generation."""
        stored = find(self._stored, type_)
        if stored is None:
            return
        status = str(stored.get("status"))
        self.set(
            Condition(
                type_,
                TRUE if status == TRUE else FALSE if status == FALSE else UNKNOWN,
                str(stored.get("reason") or "Unknown"),
                str(stored.get("message") or ""),
            )
        )

    def get(self, type_: str) -> Mapping[str, Any] | None:
        return find(self._conditions, type_)

    def status(self, type_: str) -> str:
        return status_of(self._conditions, type_)

    def previous_status(self, type_: str) -> str:
        return status_of(self._stored, type_)

    def flipped(self, type_: str) -> bool:
        """The condition's status differs from the stored one (or it is new)."""
        return find(self._stored, type_) is None or self.previous_status(type_) != self.status(type_)

    def changed(self, type_: str) -> bool:
        """Status, reason or message differ from the stored condition."""
        old, new = find(self._stored, type_), self.get(type_)
        if old is None or new is None:
            return old is not new
        return any(old.get(k) != new.get(k) for k in ("status", "reason", "message"))

    def to_list(self) -> list[dict[str, Any]]:
        return [dict(c) for c in self._conditions]


def summarize(
    conditions: Sequence[Mapping[str, Any]], types: Sequence[str], ready_message: str = "all checks passed"
) -> Condition:
    """A `Ready` condition from `types`: True when all are True; else False naming the first False one
    (its reason and message), else Unknown naming the first Unknown one."""
    first_false = first_unknown = None
    for type_ in types:
        cond = find(conditions, type_)
        status = str(cond.get("status")) if cond is not None else UNKNOWN
        if status == FALSE and first_false is None:
            first_false = (type_, cond)
        elif status != TRUE and first_unknown is None:
            first_unknown = (type_, cond)
    candidates: tuple[tuple[Status, Any], ...] = ((FALSE, first_false), (UNKNOWN, first_unknown))
    for status, found in candidates:
        if found is not None:
            type_, cond = found
            reason = str(cond.get("reason")) if cond is not None else f"{type_}Unknown"
            message = f"{type_}: {cond.get('message')}" if cond is not None else f"{type_} not yet checked"
            return Condition("Ready", status, reason, message)
    return Condition("Ready", TRUE, "Ready", ready_message)
