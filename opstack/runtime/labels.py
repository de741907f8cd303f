"""Label selectors in the API server's string syntax, matched in memory (for cached lists).

Invariants:
- `parse_selector(s)` accepts exactly what the API server accepts in `labelSelector=`:
  comma-separated requirements `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`;
  an empty selector matches everything. A malformed one raises ValueError naming the bad part.
- `k!=v` and `k notin (...)` match objects without the label, as on the server.
- `selector_from_dict` turns a metav1.LabelSelector (`matchLabels`/`matchExpressions`) into the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"^\s*(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)\s*$")
_CMP = re.compile(rf"^\s*(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>{_VALUE})\s*$")
_EXISTS = re.compile(rf"^\s*(?P<neg>!?)\s*(?P<key>{_KEY})\s*$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "in", "notin", "exists", "!exists"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op == "in":
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values  # notin


@dataclass(frozen=True)
class Selector:
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        return self.matches((obj.get("metadata") or {}).get("labels"))

    def empty(self) -> bool:
        return not self.requirements


def _split(selector: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in (x.strip() for x in parts) if p]


def parse_selector(selector: str | None) -> Selector:
    if not selector or not selector.strip():
        return Selector()
    reqs: list[Requirement] = []
    for part in _split(selector):
        if m := _SET.match(part):
            values = frozenset(v.strip() for v in m["values"].split(",") if v.strip())
            reqs.append(Requirement(m["key"], m["op"], values))
        elif m := _CMP.match(part):
            op = "notin" if m["op"] == "!=" else "in"
            reqs.append(Requirement(m["key"], op, frozenset({m["value"]})))
        elif m := _EXISTS.match(part):
            reqs.append(Requirement(m["key"], "!exists" if m["neg"] else "exists"))
        else:
            raise ValueError(f"invalid label selector requirement {part!r} in {selector!r}")
    return Selector(tuple(reqs))


def selector_from_dict(spec: Mapping[str, Any] | None) -> Selector:
    """A metav1.LabelSelector dict -> Selector (None or {} matches everything)."""
    if not spec:
        return Selector()
    reqs = [Requirement(k, "in", frozenset({str(v)})) for k, v in (spec.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
    for expr in spec.get("matchExpressions") or ():
        op = ops.get(expr.get("operator", ""))
        if op is None:
            raise ValueError(
                f"matchExpressions operator must be one of {sorted(ops)}, not {expr.get('operator')!r}"
            )
        reqs.append(Requirement(expr["key"], op, frozenset(expr.get("values") or ())))
    return Selector(tuple(reqs))


def matcher(selector: str | None) -> Callable[[Mapping[str, Any]], bool]:
    parsed = parse_selector(selector)
    return (lambda _obj: True) if parsed.empty() else parsed.matches_object
