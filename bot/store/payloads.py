"""What the store keeps as JSON, typed: read and written only here, at the store's boundary.

The JSON keeps the shape it always had (rows written before these types read back the same):
- an announcement's rows (`Delivery.payload`): `{"text": str, "types": [str, ...]}`;
- a read-back's figures waiting for "đúng" (`Prompt.pending`): `{"answers": [[value, raw], ...]}`,
  each value as `stored` writes it (a list of numbers, or a text).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.campaign.scope import EVERYTHING, Scope
from bot.stats.grammar import Value

JSON = dict[str, Any]


def stored(value: Value) -> Any:
    """Values go to JSON as lists or strings and come back as `Value`s."""
    return value if isinstance(value, str) else list(value)


def loaded(value: Any) -> Value:
    return value if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class Announcement:
    """A coordinator's announcement: its text, the unit types it goes to (empty: all), and the
    scope of whoever made it (the parents' codes; None: every unit)."""

    text: str
    types: tuple[str, ...] = ()
    parents: tuple[str, ...] | None = None

    @property
    def scope(self) -> Scope:
        return EVERYTHING if self.parents is None else Scope(frozenset(self.parents))

    def to_json(self) -> JSON:
        found: JSON = {"text": self.text, "types": list(self.types)}
        if self.parents is not None:  # rows written before scopes have none: everything
            found["parents"] = list(self.parents)
        return found

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Announcement:
        """ValueError when `data` is not an announcement's payload."""
        text, types = data.get("text"), data.get("types") or []
        parents = data.get("parents")
        if (
            not isinstance(text, str)
            or not isinstance(types, list)
            or not isinstance(parents, list | None)
        ):
            raise ValueError(f"not an announcement's payload: {data!r}")
        scoped = None if parents is None else tuple(sorted(str(p) for p in parents))
        return cls(text, tuple(str(t) for t in types), scoped)

    @classmethod
    def by(cls, scope: Scope, text: str, types: tuple[str, ...]) -> Announcement:
        """An announcement made by a coordinator of `scope`."""
        parents = None if scope.parents is None else tuple(sorted(scope.parents))
        return cls(text, types, parents)


@dataclass(frozen=True)
class Unconfirmed:
    """Figures read back to their sender, waiting for "đúng": (value, as written), in the order
    of the prompt's items."""

    answers: tuple[tuple[Value, str], ...]

    @classmethod
    def of(cls, answers: Iterable[tuple[Value, str]]) -> Unconfirmed:
        return cls(tuple(answers))

    def to_json(self) -> JSON:
        return {"answers": [[stored(value), raw] for value, raw in self.answers]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Unconfirmed:
        """ValueError when `data` is not a read-back's payload."""
        answers = data.get("answers")
        if not isinstance(answers, list) or not all(
            isinstance(a, list) and len(a) == 2 for a in answers
        ):
            raise ValueError(f"not a read-back's payload: {data!r}")
        return cls(tuple((loaded(value), str(raw)) for value, raw in answers))
