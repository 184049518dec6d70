"""The Zalo Bot API methods under `/bot<TOKEN>/<method>`, answered as Zalo answers them.

Answers are `{"ok": true, "result": ...}`; errors `{"ok": false, "error_code": N, "description":
...}` with N as the HTTP status too. Documented by Zalo and followed here: getUpdates returns ONE
update, or 408 "Request timeout" when its `timeout` (seconds, default 30) passes idle; texts are
1 to 2000 characters; setWebhook needs a `secret_token` of 8 to 256 characters; sendChatAction
answers `{"ok": true}` alone.

What Zalo's users report, switchable on the sandbox because each client must meet them all:
an idle getUpdates ends in one of `IDLE_FORMS` (`ZaloSandbox.idle_form`), and a 429 comes in one
of `RATE_LIMIT_FORMS` (`ZaloSandbox.rate_limit_form`): with `Retry-After`, without, or as an
HTML page.

Chosen here, because Zalo does not say: the wording of most errors; 403 for a group the bot was
removed from ("bot is not a member of this group"), a person who blocked it or never wrote to it;
400 "chat not found" for an unknown chat; 409 for getUpdates while a webhook is set, or when a
newer getUpdates or setWebhook ends a waiting one; and 429 with a `Retry-After` header (seconds)
when the sandbox's own limits (`ZALO_LIMITS`, invented: Zalo publishes none) are exceeded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from bot.sandbox.delivery import Delivery
from bot.sandbox.limits import Limits, Rate
from bot.sandbox.methods import MethodApi, Settings, connection
from bot.sandbox.wire import JSON, ApiError, Params, read_params
from bot.sandbox.zalo_world import ZaloBot, ZaloChat, ZaloWebhook, ZaloWorld, now_ms

MAX_TEXT = 2000
DEFAULT_POLL = 30.0
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
# Zalo publishes no rate: about one message a second per chat, a small burst, 15 a second overall.
ZALO_LIMITS = Limits(overall=Rate(15, 1.0), group=Rate(3, 3.0), private=Rate(3, 3.0))
NO_RESULT = object()  # sendChatAction: `{"ok": true}` without a result
# An idle poll's end: HTTP 408; HTTP 200 with error_code 408, or "408"; an empty result.
IDLE_FORMS = ("http-408", "200-408", "200-408-text", "empty-result")
# A 429: JSON with a Retry-After header (seconds); JSON alone; an HTML page alone.
RATE_LIMIT_FORMS = ("retry-after", "no-retry-after", "html")
TOO_MANY_PAGE = (
    "<html><head><title>429 Too Many Requests</title></head>"
    "<body><center><h1>429 Too Many Requests</h1></center><hr><center>nginx</center></body>"
    "</html>"
)

Handler = Callable[[ZaloBot, Params, web.Request], Awaitable[Any]]


def bad(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


class ZaloSettings(Settings, Protocol):
    """What Zalo's methods read off the sandbox besides: the ways it answers an idle poll and a
    429 (`IDLE_FORMS`, `RATE_LIMIT_FORMS`)."""

    @property
    def idle_form(self) -> str: ...
    @property
    def rate_limit_form(self) -> str: ...


class ZaloBotApi(MethodApi[ZaloBot]):
    """Zalo's methods and its answers."""

    sandbox: ZaloSettings
    world: ZaloWorld

    def __init__(self, sandbox: ZaloSettings, world: ZaloWorld, delivery: Delivery) -> None:
        super().__init__(sandbox, world, delivery)
        methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
        }
        self.route(methods)

    def injected(self, status: int, description: str) -> ApiError:
        return ApiError(
            status, description, headers={"Retry-After": "1"} if status == 429 else None
        )

    async def call(self, handler: Handler, bot: ZaloBot, request: web.Request) -> Any:
        return await handler(bot, await read_params(request), request)

    def answer(self, result: Any) -> JSON:
        return {"ok": True} if result is NO_RESULT else {"ok": True, "result": result}

    def _error(self, method: str, error: ApiError) -> web.Response:
        """The error, in the form the sandbox is set to for idle polls and 429s."""
        response = super()._error(method, error)
        if error.status == 408 and method.lower() == "getupdates":
            return self._idle(self.sandbox.idle_form) or response
        if error.status == 429:
            return self._too_many(self.sandbox.rate_limit_form, error) or response
        return response

    @staticmethod
    def _idle(form: str) -> web.Response | None:
        if form == "empty-result":
            return web.json_response({"ok": True, "result": {}})
        if form in ("200-408", "200-408-text"):
            code: int | str = 408 if form == "200-408" else "408"
            body = {"ok": False, "error_code": code, "description": "Request timeout"}
            return web.json_response(body)
        return None  # "http-408"

    @staticmethod
    def _too_many(form: str, error: ApiError) -> web.Response | None:
        if form == "html":
            return web.Response(text=TOO_MANY_PAGE, status=429, content_type="text/html")
        if form == "no-retry-after":
            return ApiError(error.status, error.description, error.parameters).response()
        return None  # "retry-after"

    # -- the bot and its updates -------------------------------------------------------------

    async def _get_me(self, bot: ZaloBot, params: Params, request: web.Request) -> JSON:
        return {
            "id": bot.id,
            "account_name": bot.account_name,
            "account_type": "BASIC",
            "can_join_groups": True,
            "display_name": bot.display_name,
        }

    async def _get_updates(self, bot: ZaloBot, params: Params, request: web.Request) -> JSON:
        if bot.webhook is not None:
            raise ApiError(409, "Conflict: getUpdates is not available while a webhook is set")
        timeout = params.number("timeout", DEFAULT_POLL)
        self.delivery.wake(bot, "conflict")  # one getUpdates at a time
        if not bot.updates and timeout > 0 and self.delivery.running:
            waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            bot.waiter = waiter
            try:
                reason = await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                reason = "timeout"
            finally:
                if bot.waiter is waiter:
                    bot.waiter = None
            if reason == "conflict":
                raise ApiError(409, "Conflict: terminated by another getUpdates request")
            if reason == "webhook":
                raise ApiError(409, "Conflict: terminated by setWebhook request")
        transport = request.transport
        if not bot.updates or transport is None or transport.is_closing():
            # Nobody is left to read an update: keep it for the next poll rather than lose it.
            raise ApiError(408, "Request timeout")
        return bot.updates.pop(0)

    async def _set_webhook(self, bot: ZaloBot, params: Params, request: web.Request) -> JSON:
        url = params.text("url") or ""
        if not url.startswith(("http://", "https://")):
            raise bad("url must be an HTTPS URL")
        secret = params.text("secret_token") or ""
        if not 8 <= len(secret) <= 256:
            raise bad("secret_token must be 8 to 256 characters")
        bot.webhook = ZaloWebhook(url, secret, now_ms())
        bot.webhook_updated_at = bot.webhook.updated_at
        self.delivery.wake(bot, "webhook")
        self.delivery.kick(bot)
        return {"url": url, "updated_at": bot.webhook_updated_at}

    async def _delete_webhook(self, bot: ZaloBot, params: Params, request: web.Request) -> JSON:
        bot.webhook = None
        bot.webhook_updated_at = now_ms()
        return {"url": "", "updated_at": bot.webhook_updated_at}

    async def _get_webhook_info(self, bot: ZaloBot, params: Params, request: web.Request) -> JSON:
        url = bot.webhook.url if bot.webhook else ""
        return {"url": url, "updated_at": bot.webhook_updated_at}

    # -- sending -----------------------------------------------------------------------------

    async def _send_message(self, bot: ZaloBot, params: Params, request: web.Request) -> JSON:
        chat = self._chat(bot, params)
        text = params.text("text") or ""
        if not 1 <= len(text) <= MAX_TEXT:
            raise bad(f"text must be 1 to {MAX_TEXT} characters")
        self._admit(bot, chat)
        return self.world.record(bot, chat, "sendMessage", {"text": text})

    async def _send_photo(self, bot: ZaloBot, params: Params, request: web.Request) -> JSON:
        chat = self._chat(bot, params)
        photo = params.text("photo") or ""
        if not photo:
            raise bad("photo is required")
        caption = params.text("caption")
        if caption is not None and len(caption) > MAX_TEXT:
            raise bad(f"caption must be 1 to {MAX_TEXT} characters")
        self._admit(bot, chat)
        content = {"photo": photo, **({"caption": caption} if caption else {})}
        return self.world.record(bot, chat, "sendPhoto", content)

    async def _send_sticker(self, bot: ZaloBot, params: Params, request: web.Request) -> JSON:
        chat = self._chat(bot, params)
        sticker = params.text("sticker") or ""
        if not sticker:
            raise bad("sticker is required")
        self._admit(bot, chat)
        return self.world.record(bot, chat, "sendSticker", {"sticker": sticker})

    async def _send_chat_action(self, bot: ZaloBot, params: Params, request: web.Request) -> object:
        self._chat(bot, params)
        if params.text("action") not in CHAT_ACTIONS:
            raise bad("action must be typing or upload_photo")
        return NO_RESULT

    def _chat(self, bot: ZaloBot, params: Params) -> ZaloChat:
        """The chat `chat_id` names, or the error this bot gets for it."""
        chat_id = params.text("chat_id") or ""
        if not chat_id:
            raise bad("chat_id is required")
        chat = self.world.chats.get(chat_id)
        if chat is None:
            if chat_id in self.world.users:
                raise ApiError(403, "Forbidden: user has not interacted with the bot")
            raise bad("chat not found")
        status = chat.bot_status(bot.token)
        if chat.is_group:
            if status is None:
                raise bad("chat not found")
            if status != "member":
                raise ApiError(403, "Forbidden: bot is not a member of this group")
        elif status != "member":
            raise ApiError(403, "Forbidden: user has blocked the bot")
        elif bot.token not in chat.started:
            raise ApiError(403, "Forbidden: user has not interacted with the bot")
        return chat

    def _admit(self, bot: ZaloBot, chat: ZaloChat) -> None:
        """Flood control for a message: refuse it with 429 or count it."""
        limits, stats = self.sandbox.limits, self.sandbox.stats
        scopes = [
            (("bot", bot.token), limits.overall),
            (("chat", bot.token, chat.id), limits.group if chat.is_group else limits.private),
        ]
        verdict = self._flood.admit(scopes, time.monotonic(), connection.get())
        if verdict.retry_after is None:
            return
        stats.rate_limited += 1
        if verdict.early:
            stats.early_retries += 1
        raise ApiError(
            429,
            "Too Many Requests: quota exceeded",
            headers={"Retry-After": str(verdict.retry_after)},
        )
