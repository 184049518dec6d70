"""A fake Zalo Bot API server on loopback that Loa's Zalo client cannot tell from Zalo.

The sibling of `TelegramSandbox`, driven the same way: tests play the people in-process
(`add_user`, `post`, `sent`), a bot in another process is driven through the JSON control
endpoints under `/sandbox/` (see `zalo_control`). Requests go to `/bot<TOKEN>/<method>` as they
would to bot-api.zaloplatforms.com, and the answers follow Zalo's shapes: string ids,
millisecond dates, one update per getUpdates or 408, webhooks posted with
`X-Bot-Api-Secret-Token`, 2000-character texts.

This module is the facade; the parts live beside it: `zalo_world` (bots, people, chats, who
hears what), `zalo_api` (the methods), `zalo_control` (the `/sandbox/` endpoints), and the
shared `delivery` (long polls and webhooks), `limits` (429s) and `wire` (parameters, errors).
"""

from __future__ import annotations

import asyncio
import copy

from aiohttp import web

from bot.sandbox import zalo_control
from bot.sandbox.delivery import Delivery
from bot.sandbox.limits import Limits, Rate
from bot.sandbox.model import Stats
from bot.sandbox.server import SandboxServer
from bot.sandbox.wire import JSON, SandboxError
from bot.sandbox.zalo_api import IDLE_FORMS, RATE_LIMIT_FORMS, ZALO_LIMITS, ZaloBotApi
from bot.sandbox.zalo_world import ZaloWorld

__all__ = [
    "IDLE_FORMS",
    "RATE_LIMIT_FORMS",
    "ZALO_LIMITS",
    "Limits",
    "Rate",
    "SandboxError",
    "Stats",
    "ZaloSandbox",
]

SECRET_HEADER = "X-Bot-Api-Secret-Token"


class ZaloSandbox(SandboxServer):
    """The server and the world behind it: bots, users, chats, what was sent and what failed.

    Setup methods (`add_bot`, `add_user`, `create_group`...) are plain calls; `post` and the
    waits are coroutines. Ids are strings throughout.
    """

    client_max_size = 32 * 2**20  # a control request may carry an image, base64
    _world: ZaloWorld
    _api: ZaloBotApi

    def __init__(self, limits: Limits | None = None, latency: float = 0.0) -> None:
        stats = Stats()
        super().__init__(
            limits or ZALO_LIMITS, latency, Delivery(stats, SECRET_HEADER, self._envelope), stats
        )
        self.webhook_bare = False  # post webhook bodies bare instead of as {ok, result}
        self.idle_form = "http-408"  # how an idle getUpdates ends: one of IDLE_FORMS
        self.rate_limit_form = "retry-after"  # how a 429 comes: one of RATE_LIMIT_FORMS
        self._world = ZaloWorld(on_update=self._delivery.notify, on_sent=self._on_sent)
        self._api = ZaloBotApi(self, self._world, self._delivery)

    def _control_routes(self) -> list[web.RouteDef]:
        files = web.get("/sandbox/files/{name}", self._serve_file)
        return [files, *zalo_control.routes(self)]

    # -- the world ---------------------------------------------------------------------------

    def add_bot(
        self, token: str, display_name: str = "Loa", account_name: str | None = None
    ) -> str:
        """Register a bot; its id is the token's number before ":" when there is one.

        People mention it in groups as `@<display_name>`.
        """
        return self._world.add_bot(token, display_name, account_name)

    def add_user(self, display_name: str) -> str:
        """Register a person; returns their id (which is also their private chat's id)."""
        return self._world.add_user(display_name)

    def create_group(
        self,
        title: str,
        members: list[str] | tuple[str, ...] = (),
        bots: list[str] | tuple[str, ...] = (),
        admins: list[str] | tuple[str, ...] = (),
    ) -> str:
        """A group with these people and bots (Zalo sends no update when a bot joins).

        `admins` are members like the others: Zalo's Bot API cannot tell them apart.
        """
        return self._world.create_group(title, [*members, *admins], bots)

    def private_chat(self, user_id: str) -> str:
        """The person's private chat (its id is theirs); bots may write once they have."""
        return self._world.private_chat(user_id)

    def add_member(self, chat_id: str, user_id: str, admin: bool = False) -> None:
        """A person joins a group (`admin` changes nothing the bot can see)."""
        self._world.add_member(chat_id, user_id)

    def add_bot_to_chat(self, chat_id: str, token: str) -> None:
        """Add the bot to a group again, or unblock it in a private chat."""
        self._world.add_bot_to_chat(chat_id, token)

    def remove_bot(self, chat_id: str, token: str) -> None:
        """Remove the bot from a group, or block it in a private chat; later sends get 403."""
        self._world.remove_bot(chat_id, token)

    async def post(
        self,
        chat_id: str,
        user_id: str,
        text: str | None = None,
        reply_to: str | None = None,
        *,
        kind: str = "text",
        photo_url: str | None = None,
        sticker: str | None = None,
        content: bytes | None = None,
        mime_type: str = "image/jpeg",
    ) -> JSON:
        """A person writes in a chat; every bot there that may hear it gets an update.

        `kind` is "text", "image" (`text` is then the caption), "sticker" or "unsupported".
        An image's `content` is served by the sandbox itself (`/sandbox/files/…`, plain HTTP on
        loopback, as Zalo's CDN serves it), and its update carries that URL; `photo_url` names
        another URL instead.
        In a group a bot hears only what mentions `@<its display name>` or replies (`reply_to`,
        a message id) to one of its messages. Returns the message as the update carries it.
        """
        if content is not None:
            if kind != "image":
                raise SandboxError("only an image has content")
            name = self._world.add_file(content, mime_type)
            photo_url = f"{self.base_url}/sandbox/files/{name}"
        extras = {"photo_url": photo_url, "sticker": sticker}
        message = self._world.post(chat_id, user_id, kind, text, reply_to, extras)
        await asyncio.sleep(0)
        return message

    def resend(self, token: str, times: int = 1) -> None:
        """Zalo sends the bot's latest update again, `times` times, polled or posted: it has no
        offset and no acknowledgement, so nothing tells it the bot already has it."""
        bot = self._world.bot(token)
        if bot.last_update is None:
            raise SandboxError("the bot has had no update to resend")
        for _ in range(times):
            bot.updates.append(copy.deepcopy(bot.last_update))
        self._delivery.notify(bot)

    # -- what happened -----------------------------------------------------------------------

    def sent(self, chat_id: str | None = None, token: str | None = None) -> list[JSON]:
        """What the bots sent, oldest first: `message_id`, `date`, `chat`, then `text` (or
        `photo`/`caption`, `sticker`), plus a `sandbox` entry with `token` and `method`."""
        return [
            {**copy.deepcopy(item.message), "sandbox": {"token": item.token, "method": item.method}}
            for item in self._world.sent
            if (chat_id is None or item.chat_id == chat_id)
            and (token is None or item.token == token)
        ]

    def chat_title(self, chat_id: str) -> str:
        """A group's title, or the name of the person in a private chat (for transcripts)."""
        chat = self._world.chat(chat_id)
        return chat.user.display_name if chat.user is not None else chat.title or ""

    def webhook_url(self, token: str) -> str | None:
        """Where the bot asked for its updates (setWebhook), None when it polls."""
        webhook = self._world.bot(token).webhook
        return webhook.url if webhook else None

    def pending_updates(self, token: str) -> int:
        """Updates the bot has not fetched (or its webhook not accepted) yet."""
        return len(self._world.bot(token).updates)

    # -- internals ---------------------------------------------------------------------------

    async def _serve_file(self, request: web.Request) -> web.Response:
        found = self._world.files.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404, text="Not Found")
        content, mime_type = found
        self.stats.downloads += 1
        return web.Response(body=content, content_type=mime_type)

    def _envelope(self, update: JSON) -> JSON:
        return update if self.webhook_bare else {"ok": True, "result": update}
