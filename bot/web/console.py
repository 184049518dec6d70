"""What the web face needs to run: the operations' environment and who may use it."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from bot.ops.env import Env
from bot.ops.signin import Visitor


@dataclass(frozen=True)
class Console:
    env: Env
    coordinators: frozenset[str]  # LOA_ADMINS, platform:id
    public_url: str  # where links in chats point, without a trailing slash
    api_token: str | None = field(default=None, repr=False)

    @property
    def secure(self) -> bool:
        """Cookies only over https when the public address is https (a proxy terminates TLS)."""
        return self.public_url.startswith("https://")

    def link(self, path: str) -> str:
        return self.public_url.rstrip("/") + path


CONSOLE = web.AppKey("console", Console)
VISITOR = web.RequestKey("visitor", Visitor)  # the signed-in coordinator, if any
