"""What the web face needs to run: the operations' environment and who may use it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from bot.campaign.scope import EVERYTHING, Scope
from bot.ops.env import Env
from bot.ops.signin import Visitor


@dataclass(frozen=True)
class Console:
    env: Env
    coordinators: frozenset[str]  # LOA_ADMINS, platform:id
    public_url: str  # where links in chats point, without a trailing slash
    api_token: str | None = field(default=None, repr=False)
    # a scoped coordinator's parents, looked up at each request (others coordinate everything)
    scopes: Mapping[str, Scope] = field(default_factory=dict, hash=False)

    def scope_of(self, holder: str) -> Scope:
        return self.scopes.get(holder, EVERYTHING)

    @property
    def secure(self) -> bool:
        """Cookies only over https when the public address is https (a proxy terminates TLS)."""
        return self.public_url.startswith("https://")

    def link(self, path: str) -> str:
        return self.public_url.rstrip("/") + path


CONSOLE = web.AppKey("console", Console)
VISITOR = web.RequestKey("visitor", Visitor)  # the signed-in coordinator, if any


def units_of(request: web.Request) -> Scope:
    """The units the signed-in coordinator coordinates, as the settings say now; the API's bearer
    token (no session) coordinates them all."""
    visitor = request.get(VISITOR)
    return EVERYTHING if visitor is None else request.app[CONSOLE].scope_of(visitor.holder)
