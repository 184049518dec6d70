"""Where a chat or a person is: a platform and the platform's id, written `platform:id`.

The one place that spells and splits that form (`LOA_ADMINS`, audit actors, coordinators' private
chats: on both platforms a person's private chat has the person's id).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PLATFORMS = ("telegram", "zalo")


@dataclass(frozen=True, order=True)
class Address:
    platform: str
    id: str

    @classmethod
    def parse(cls, text: str) -> Address:
        """`telegram:123` -> Address("telegram", "123"); ValueError when it is not one."""
        platform, sep, ident = text.partition(":")
        platform, ident = platform.strip(), ident.strip()
        if not sep or platform not in PLATFORMS or not ident:
            raise ValueError(f"not a platform:id address: {text!r}")
        return cls(platform, ident)

    def __str__(self) -> str:
        return f"{self.platform}:{self.id}"


def ids_on(platform: str, addresses: Iterable[Address]) -> list[str]:
    """The ids of those of `addresses` on `platform`, in order."""
    return [address.id for address in addresses if address.platform == platform]
