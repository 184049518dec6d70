"""What a chat handler may use: the operations' environment and the chat around it.

Handlers get this, not the application object: they translate a message into an operation
(`bot.ops`) and its result into a reply, and nothing more.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol

from bot.address import Address
from bot.campaign.model import Campaign
from bot.campaign.scope import Scope
from bot.channels.base import Channel, InboundMessage
from bot.ops.env import Env
from bot.ops.registration import Registrar


class ChatContext(Protocol):
    @property
    def env(self) -> Env: ...

    @property
    def campaign(self) -> Campaign: ...

    @property
    def registrar(self) -> Registrar:
        """Registration with codes, and the guessing limits of this process."""
        ...

    def is_coordinator(self, sender: str) -> bool: ...

    def scope_of(self, sender: str) -> Scope:
        """The units a coordinator coordinates: all of them, or their parents' (`LOA_ADMINS`)."""
        ...

    def web_link(self, path: str) -> str | None:
        """Where `path` of the web console is reached (`LOA_PUBLIC_URL` + path), for links in
        replies; None when the console is off (`LOA_WEB=0`)."""
        ...

    def channel(self, platform: str) -> Channel:
        """The platform's adapter, for what only it knows (is this user a group admin? can it
        send files?)."""
        ...

    async def reply(self, message: InboundMessage, template: str, **context: Any) -> str | None:
        """Answer in the chat `message` came from; the id of the message sent, None if not."""
        ...

    async def say(self, to: Address, template: str, **context: Any) -> str | None:
        """Write to another chat now (not through the outbox)."""
        ...

    async def notify_coordinators(self, template: str, **context: Any) -> None: ...

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` in the background (a broadcast's report must not hold up the chat)."""
        ...
