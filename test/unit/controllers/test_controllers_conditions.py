"""The shared condition helpers: metav1.Condition semantics with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opstack.controllers.conditions import (
    FALSE,
    TRUE,
    UNKNOWN,
    Condition,
    ConditionSet,
    parse_rfc3339,
    remove_condition,
    rfc3339,
    set_condition,
    summarize,
    valid_reason,
)
from opstack.runtime.frozen import freeze


class Clock:
    def __init__(self) -> None:
        self.t = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.t

    def tick(self, seconds: float = 60) -> None:
        self.t += timedelta(seconds=seconds)


def test_new_condition_gets_the_time_and_generation() -> None:
    clock = Clock()
    out = set_condition([], Condition("Ready", TRUE, "Ready", "fine"), observed_generation=3, now=clock)
    assert out == [
        {
            "type": "Ready",
            "status": "True",
            "observedGeneration": 3,
            "lastTransitionTime": "2025-01-02T03:04:05Z",
            "reason": "Ready",
            "message": "fine",
        }
    ]


def test_transition_time_moves_only_when_status_flips() -> None:
    clock = Clock()
    first = set_condition([], Condition("A", FALSE, "Broken", "x"), observed_generation=1, now=clock)
    clock.tick()
    same_status = set_condition(
        first, Condition("A", FALSE, "OtherReason", "y"), observed_generation=2, now=clock
    )
    assert same_status[0]["lastTransitionTime"] == first[0]["lastTransitionTime"]
    assert (same_status[0]["reason"], same_status[0]["message"], same_status[0]["observedGeneration"]) == (
        "OtherReason",
        "y",
        2,
    )
    clock.tick()
    flipped = set_condition(same_status, Condition("A", TRUE, "Fine", ""), observed_generation=2, now=clock)
    assert flipped[0]["lastTransitionTime"] == rfc3339(clock())
    assert flipped[0]["lastTransitionTime"] != first[0]["lastTransitionTime"]


def test_recomputing_the_same_condition_is_identical() -> None:
    clock = Clock()
    first = set_condition([], Condition("A", TRUE, "Fine", "m"), observed_generation=1, now=clock)
    clock.tick(3600)
    again = set_condition(first, Condition("A", TRUE, "Fine", "m"), observed_generation=1, now=clock)
    assert again == first


def test_inputs_are_not_mutated_and_order_is_stable() -> None:
    clock = Clock()
    stored = freeze(
        [
            {
                "type": "A",
                "status": "True",
                "lastTransitionTime": "2020-01-01T00:00:00Z",
                "reason": "R",
                "message": "",
            },
            {
                "type": "B",
                "status": "True",
                "lastTransitionTime": "2020-01-01T00:00:00Z",
                "reason": "R",
                "message": "",
            },
        ]
    )
    out = set_condition(stored, Condition("A", FALSE, "Bad", "m"), observed_generation=1, now=clock)
    assert [c["type"] for c in out] == ["A", "B"]
    assert stored[0]["status"] == "True"  # frozen input untouched (a mutation would have raised)
    out = set_condition(out, Condition("C", UNKNOWN, "Wait", ""), observed_generation=1, now=clock)
    assert [c["type"] for c in out] == ["A", "B", "C"]
    assert [c["type"] for c in remove_condition(out, "B")] == ["A", "C"]


@pytest.mark.parametrize(
    ("raw", "valid"),
    [("L1WrongChain", "L1WrongChain"), ("bad reason!", "badreason"), ("9Lives", "Lives"), ("", "Unknown")],
)
def test_reasons_are_made_valid(raw: str, valid: str) -> None:
    assert valid_reason(raw) == valid


def test_long_messages_are_cut_to_the_api_limit() -> None:
    out = set_condition([], Condition("A", TRUE, "R", "x" * 40000), observed_generation=None)
    assert len(out[0]["message"]) == 32768 and "observedGeneration" not in out[0]


def test_condition_set_reports_flips_and_changes() -> None:
    clock = Clock()
    stored = set_condition([], Condition("A", TRUE, "Fine", "m"), observed_generation=1, now=clock)
    stored = set_condition(stored, Condition("B", FALSE, "Bad", "m"), observed_generation=1, now=clock)
    cs = ConditionSet(stored, observed_generation=2, now=clock)
    cs.set(Condition("A", TRUE, "Fine", "m"))
    cs.set(Condition("B", FALSE, "Bad", "other message"))
    cs.set(Condition("C", UNKNOWN, "New", ""))
    assert not cs.flipped("A") and not cs.changed("A")
    assert not cs.flipped("B") and cs.changed("B")
    assert cs.flipped("C") and cs.changed("C")
    assert cs.previous_status("B") == FALSE and cs.status("C") == UNKNOWN
    cs.keep("B")
    assert cs.get("B") == stored[1]
    cs.refresh("A")
    a = cs.get("A")
    assert (
        a is not None
        and a["observedGeneration"] == 2
        and a["lastTransitionTime"] == stored[0]["lastTransitionTime"]
    )


def test_summarize_names_the_first_false_then_the_first_unknown() -> None:
    clock = Clock()
    conds = set_condition([], Condition("A", TRUE, "Fine", ""), observed_generation=1, now=clock)
    conds = set_condition(conds, Condition("B", UNKNOWN, "Waiting", "wait"), observed_generation=1, now=clock)
    conds = set_condition(
        conds, Condition("C", FALSE, "L1WrongChain", "chain 1 vs 2"), observed_generation=1, now=clock
    )
    ready = summarize(conds, ("A", "B", "C"))
    assert (ready.status, ready.reason, ready.message) == (FALSE, "L1WrongChain", "C: chain 1 vs 2")
    ready = summarize(conds, ("A", "B"))
    assert (ready.status, ready.reason) == (UNKNOWN, "Waiting")
    ready = summarize(conds, ("A", "D"))
    assert (ready.status, ready.reason) == (UNKNOWN, "DUnknown")
    assert summarize(conds, ("A",)).status == TRUE


def test_rfc3339_round_trip() -> None:
    when = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert parse_rfc3339(rfc3339(when)) == when
    assert parse_rfc3339("2025-05-06T07:08:09.123+00:00") is not None
    assert parse_rfc3339("yesterday") is None and parse_rfc3339(None) is None
