"""Read-only JSON trees: what the informer stores and hands out (see cache.py for why).

Invariants:
- `freeze(x)` returns a tree of `FrozenDict` / `FrozenList` (subclasses of dict / list, so
  `isinstance(obj, dict)`, `json.dumps(obj)`, `obj["metadata"]["name"]`, iteration and equality
  work unchanged) whose every mutating method raises `TypeError` naming the way out.
- `thaw(x)` (and `copy.deepcopy(x)`) returns a plain, fully mutable deep copy; `copy.copy(x)` a
  plain shallow copy. Pickling yields plain containers too.
- Freezing an already-frozen tree returns it as is (no copy), so freezing is idempotent and cheap
  to repeat.
- Scalars (str, int, float, bool, None) are immutable already and shared, never copied.

The guard is against accidents (a reconciler that edits what it read), not against malice: the
C-level `dict.__setitem__(obj, k, v)` can still write through.
"""

from __future__ import annotations

from typing import Any, NoReturn

_HINT = "cached objects are read-only; take a mutable copy with opstack.runtime.frozen.thaw(obj)"


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise TypeError(_HINT)


class FrozenDict(dict[str, Any]):
    __slots__ = ()

    __setitem__ = _refuse
    __delitem__ = _refuse
    __ior__ = _refuse
    clear = _refuse
    pop = _refuse
    popitem = _refuse
    setdefault = _refuse
    update = _refuse

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return thaw(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (thaw(self),))

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


class FrozenList(list[Any]):
    __slots__ = ()

    __setitem__ = _refuse
    __delitem__ = _refuse
    __iadd__ = _refuse
    __imul__ = _refuse
    append = _refuse
    clear = _refuse
    extend = _refuse
    insert = _refuse
    pop = _refuse
    remove = _refuse
    reverse = _refuse
    sort = _refuse

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return thaw(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (thaw(self),))

    def __repr__(self) -> str:
        return f"FrozenList({list.__repr__(self)})"


def freeze(value: Any) -> Any:
    """A read-only version of a JSON tree (dicts and lists replaced, scalars shared)."""
    cls = type(value)
    if cls is dict:
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if cls is list:
        return FrozenList([freeze(v) for v in value])
    if cls is FrozenDict or cls is FrozenList:
        return value
    if isinstance(value, dict):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return FrozenList([freeze(v) for v in value])
    return value


def thaw(value: Any) -> Any:
    """A plain, mutable deep copy of a (frozen or plain) JSON tree."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [thaw(v) for v in value]
    return value


def is_frozen(value: Any) -> bool:
    return type(value) is FrozenDict or type(value) is FrozenList
