"""A fake Telegram Bot API server on loopback that python-telegram-bot cannot tell from Telegram.

The demo, the end-to-end tests and the benchmarks run Loa's real Telegram adapter against it:
requests go to `/bot<TOKEN>/<method>` as they would to api.telegram.org, and the answers (objects,
dates in seconds, status codes and Telegram's own error wording, 429 with `retry_after`) are what
Telegram gives. Tests play the people in the chats in-process (`add_user`, `post`, `sent`); a bot
in another process is driven the same way through the JSON control endpoints under `/sandbox/`.

Only what Loa uses is emulated: text and document messages, photos and files from people
(getFile and `/file/bot<TOKEN>/<path>` serve them back), commands, privacy mode, long polling
and webhooks, membership changes, basic groups and their upgrade to supergroups, anonymous
admins and flood control. Everything else answers 404 like an unknown method would.

This module is the facade; the parts live beside it: `world` (bots, people, chats), `privacy`,
`api` (the Bot API methods), `control` (the `/sandbox/` endpoints), `delivery` (long polls and
webhooks), `formatting` (HTML, MarkdownV2, entities), `wire` (parameters and errors).
"""

from __future__ import annotations

import asyncio
import copy

from aiohttp import web

from bot.sandbox import control
from bot.sandbox.api import BotApi
from bot.sandbox.delivery import Delivery
from bot.sandbox.limits import Limits, Rate
from bot.sandbox.model import Stats
from bot.sandbox.server import SandboxServer
from bot.sandbox.wire import JSON, SandboxError
from bot.sandbox.world import World

__all__ = ["Limits", "Rate", "SandboxError", "Stats", "TelegramSandbox"]


class TelegramSandbox(SandboxServer):
    """The server and the world behind it: bots, users, chats, what was sent and what failed.

    Setup methods (`add_bot`, `add_user`, `create_group`...) are plain calls; `post` and the
    waits are coroutines. Time is real: rate-limit windows and long polls run on the clock.
    """

    client_max_size = 50 * 2**20  # Telegram takes 50 MB uploads
    _world: World
    _api: BotApi

    def __init__(self, limits: Limits | None = None, latency: float = 0.0) -> None:
        stats = Stats()
        super().__init__(limits or Limits(), latency, Delivery(stats), stats)
        self._world = World(on_update=self._delivery.notify, on_sent=self._on_sent)
        self._api = BotApi(self, self._world, self._delivery)

    def _control_routes(self) -> list[web.RouteDef]:
        files = web.get("/file/bot{token}/{path:.+}", self._api.serve_file)
        return [files, *control.routes(self)]

    # -- the world ---------------------------------------------------------------------------

    def add_bot(
        self, token: str, username: str = "loa_bot", first_name: str = "Loa", privacy: bool = True
    ) -> int:
        """Register a bot; its id is the token's number before ":" when there is one."""
        return self._world.add_bot(token, username, first_name, privacy)

    def add_user(
        self, first_name: str, username: str | None = None, last_name: str | None = None
    ) -> int:
        """Register a person; returns the user id (which is also their private chat's id)."""
        return self._world.add_user(first_name, username, last_name)

    def create_group(
        self,
        title: str,
        members: list[int] | tuple[int, ...] = (),
        bots: list[str] | tuple[str, ...] = (),
        admins: list[int] | tuple[int, ...] = (),
        *,
        creator: int | None = None,
        username: str | None = None,
        supergroup: bool = True,
    ) -> int:
        """A group; each bot added gets a my_chat_member update (left -> member).

        A supergroup by default (id -100…); `supergroup=False` makes a basic group (type
        "group", id -4…), which `migrate` can later upgrade as Telegram does.
        """
        return self._world.create_group(
            title,
            members,
            bots,
            admins,
            creator=creator,
            username=username,
            supergroup=supergroup,
        )

    def private_chat(self, user_id: int) -> int:
        """The user's private chat (its id is the user's); bots may write once the user has."""
        return self._world.private_chat(user_id)

    def add_member(self, chat_id: int, user_id: int, admin: bool = False) -> None:
        """A person joins a group (no update: bots get chat_member updates only as admins)."""
        self._world.add_member(chat_id, user_id, admin)

    def add_bot_to_chat(self, chat_id: int, token: str, by_user: int | None = None) -> None:
        """Add the bot to a group, or unblock it in a private chat: my_chat_member -> member."""
        self._world.add_bot_to_chat(chat_id, token, by_user)

    def remove_bot(self, chat_id: int, token: str, by_user: int | None = None) -> None:
        """Kick the bot from a group, or block it in a private chat; later sends get 403."""
        self._world.remove_bot(chat_id, token, by_user)

    def migrate(self, chat_id: int, by_user: int | None = None) -> int:
        """Upgrade a basic group to a supergroup; returns the new -100… id.

        People, admins and bots move over. Every bot in the group gets a message in the old
        chat with `migrate_to_chat_id` and one in the new chat with `migrate_from_chat_id`;
        from then on any Bot API call naming the old id answers 400 with `migrate_to_chat_id`
        (python-telegram-bot raises ChatMigrated). `by_user` upgrades it (default: the creator,
        else the first admin).
        """
        return self._world.migrate(chat_id, by_user)

    async def post(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        reply_to: int | None = None,
        anonymous: bool = False,
    ) -> JSON:
        """A person writes in a chat; every bot there that may see it gets a message update.

        In a group the writer joins it if needed; bots with privacy mode on hear only what
        `bot.sandbox.privacy` lets through. A private chat reaches every bot the user has not
        blocked (a sandbox usually has one bot) and lets those bots write back. `anonymous`: an
        admin of a supergroup writes as the group, so the message comes from GroupAnonymousBot
        with `sender_chat` the group itself.
        """
        message = self._world.post(chat_id, user_id, text, reply_to, anonymous)
        await asyncio.sleep(0)
        return copy.deepcopy(message)

    async def post_photo(
        self,
        chat_id: int,
        user_id: int,
        content: bytes | list[bytes],
        caption: str = "",
        *,
        size: tuple[int, int] = (1280, 960),
        reply_to: int | None = None,
    ) -> JSON:
        """A person sends a photo, with a caption. `content` is its largest size, or every
        size smallest first (Telegram keeps a few); `size`: the largest one's pixels."""
        message = self._world.post_file(
            chat_id,
            user_id,
            content,
            caption=caption,
            as_document=False,
            file_name=None,
            mime_type=None,
            size=size,
            reply_to=reply_to,
        )
        await asyncio.sleep(0)
        return copy.deepcopy(message)

    async def post_document(
        self,
        chat_id: int,
        user_id: int,
        content: bytes,
        file_name: str,
        caption: str = "",
        *,
        mime_type: str | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """A person sends a file as it is (a photo "as file", a PDF...); its type is guessed
        from its name unless given, as a client does."""
        message = self._world.post_file(
            chat_id,
            user_id,
            content,
            caption=caption,
            as_document=True,
            file_name=file_name,
            mime_type=mime_type,
            size=(0, 0),
            reply_to=reply_to,
        )
        await asyncio.sleep(0)
        return copy.deepcopy(message)

    def resend(self, token: str, times: int = 1) -> None:
        """Telegram sends the bot's latest update again, `times` times: to a webhook under the
        same update_id (as after an answer that came late); to a poll under fresh ones (as after
        a restart that never confirmed it: the offset would hide the same id)."""
        bot = self._world.bot(token)
        if bot.last_update is None:
            raise SandboxError("the bot has had no update to resend")
        for _ in range(times):
            update = copy.deepcopy(bot.last_update)
            if bot.webhook is None:
                update["update_id"] = bot.next_update_id
                bot.next_update_id += 1
            bot.updates.append(update)
        self._delivery.notify(bot)

    # -- what happened -----------------------------------------------------------------------

    def sent(self, chat_id: int | None = None, token: str | None = None) -> list[JSON]:
        """Messages the bots sent, oldest first: Telegram's Message plus a `sandbox` entry.

        `sandbox` keeps what Telegram does not echo back: `token`, `parse_mode`, the `source`
        text as sent, the full `reply_markup`, `disable_notification`, `link_preview_options`
        and, for documents, `file_bytes`.
        """
        return [
            {**copy.deepcopy(item.message), "sandbox": copy.deepcopy(item.extras)}
            for item in self._world.sent
            if (chat_id is None or item.chat_id == chat_id)
            and (token is None or item.token == token)
        ]

    def chat_title(self, chat_id: int) -> str:
        """A group's title, or the name of the person in a private chat (for transcripts)."""
        chat = self._world.chat(chat_id)
        if chat.user is None:
            return chat.title or ""
        return " ".join(filter(None, (chat.user.first_name, chat.user.last_name)))

    def file(self, file_id: str) -> bytes:
        """The bytes of a document a bot sent."""
        try:
            return self._world.files[file_id].content
        except KeyError:
            raise SandboxError(f"no file {file_id!r}") from None

    def commands(self, token: str) -> dict[str, list[JSON]]:
        """setMyCommands per scope key: `default`, `all_private_chats`, `chat:<id>`, ...

        A language code is appended after a slash: `default/vi`.
        """
        return copy.deepcopy(self._world.bot(token).commands)
