"""Which units a coordinator coordinates: the whole campaign, or the units of some parents.

`LOA_ADMINS` names a commune official as `zalo:abc@XA-PHU-THANH`: a parent's code is its name
without accents, upper case, words joined by `-` ("xã Phú Thành" -> `XA-PHU-THANH`), so an
office writes the commune as it likes in the units file and the same code still finds it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

_NOT_CODE = re.compile(r"[^A-Z0-9]+")


def fold(text: str) -> str:
    """Text as a search compares it: lower case, without accents, `đ` as `d` ("Lạc Thủy" ->
    "lac thuy"), spaces collapsed."""
    stripped = "".join(
        char for char in unicodedata.normalize("NFD", text) if not unicodedata.combining(char)
    )
    return " ".join(stripped.replace("đ", "d").replace("Đ", "D").lower().split())


def parent_code(parent: str | None) -> str | None:
    """The code a scoped `LOA_ADMINS` entry names a parent by; None for no parent."""
    code = _NOT_CODE.sub("-", fold(parent or "").upper()).strip("-")
    return code or None


@dataclass(frozen=True)
class Scope:
    """The parents' codes a coordinator coordinates; `parents=None`: every unit."""

    parents: frozenset[str] | None = None

    @classmethod
    def of(cls, *parents: str) -> Scope:
        """The units of `parents` (names or codes) only."""
        return cls(frozenset(code for p in parents if (code := parent_code(p))))

    @property
    def everything(self) -> bool:
        return self.parents is None

    def covers(self, parent: str | None) -> bool:
        """Whether a unit with this parent is this coordinator's."""
        return self.parents is None or parent_code(parent) in self.parents

    def within(self, items: Iterable[T], parent: Callable[[T], str | None]) -> list[T]:
        """Those of `items` this scope covers, in their order."""
        return [item for item in items if self.covers(parent(item))]

    def __or__(self, other: Scope) -> Scope:
        """Both scopes' units (someone listed twice coordinates both)."""
        if self.parents is None or other.parents is None:
            return EVERYTHING
        return Scope(self.parents | other.parents)

    def __le__(self, other: Scope) -> bool:
        """Whether every unit of this scope is also `other`'s."""
        return other.parents is None or (self.parents is not None and self.parents <= other.parents)


EVERYTHING = Scope()
