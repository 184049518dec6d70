"""The Bot API methods under `/bot<TOKEN>/<method>`, answered as Telegram answers them.

Only what Loa uses is emulated; any other method answers 404 as an unknown one would. Checks run
in Telegram's order, so a client sees the same error Telegram would give it for the same call.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.sandbox.delivery import Delivery
from bot.sandbox.formatting import formatted
from bot.sandbox.methods import MethodApi, Settings, connection
from bot.sandbox.model import Bot, Chat, File, Webhook
from bot.sandbox.wire import JSON, ApiError, Described, Params, bad, read_params
from bot.sandbox.world import World

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_DOWNLOAD = 20 * 2**20  # bytes: getFile refuses larger files to bots
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
GLOBAL_SCOPES = frozenset(
    {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
)
CHAT_SCOPES = frozenset({"chat", "chat_administrators", "chat_member"})
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")

Handler = Callable[[Bot, Params], Awaitable[Any]]


class BotApi(MethodApi[Bot]):
    """Telegram's methods, its flood control and its answers."""

    world: World

    def __init__(self, sandbox: Settings, world: World, delivery: Delivery) -> None:
        super().__init__(sandbox, world, delivery)
        methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "getChatMemberCount": self._get_chat_member_count,
            "close": self._true,
            "logOut": self._true,
        }
        self.route(methods)

    def injected(self, status: int, description: str) -> ApiError:
        return ApiError(status, description, {"retry_after": 1} if status == 429 else None)

    async def call(self, handler: Handler, bot: Bot, request: web.Request) -> Any:
        return await handler(bot, await read_params(request))

    def answer(self, result: Any) -> JSON:
        if isinstance(result, Described):
            return {"ok": True, "result": result.result, "description": result.description}
        return {"ok": True, "result": result}

    # -- the bot and its updates -------------------------------------------------------------

    async def _true(self, bot: Bot, params: Params) -> bool:
        return True

    async def _get_me(self, bot: Bot, params: Params) -> JSON:
        return {
            **bot.to_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": not bot.privacy,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, bot: Bot, params: Params) -> list[JSON]:
        if bot.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.integer("offset") or 0
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = params.number("timeout", 0.0)
        self._allow(bot, params)
        if offset > 0:
            bot.updates = [update for update in bot.updates if update["update_id"] >= offset]
        elif offset < 0:
            bot.updates = bot.updates[offset:]
        self.delivery.wake(bot, "conflict")  # only one getUpdates at a time, as on Telegram
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
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if reason == "webhook":
                raise ApiError(409, "Conflict: terminated by setWebhook request")
        return bot.updates[:limit]

    async def _set_webhook(self, bot: Bot, params: Params) -> Described:
        url = params.text("url") or ""
        if not url:
            return await self._delete_webhook(bot, params)
        if not url.startswith(("http://", "https://")):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.text("secret_token") or None
        if secret is not None and not SECRET_TOKEN.fullmatch(secret):
            raise bad("secret token contains unallowed characters")
        max_connections = params.integer("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise bad("bad webhook: max_connections must be between 1 and 100")
        self._allow(bot, params)
        if params.flag("drop_pending_updates"):
            bot.updates.clear()
        unchanged = bot.webhook is not None and bot.webhook.url == url
        has_certificate = "certificate" in params.files
        bot.webhook = Webhook(url, secret, has_certificate, max_connections)
        self.delivery.wake(bot, "webhook")
        self.delivery.kick(bot)
        return Described(True, "Webhook is already set" if unchanged else "Webhook was set")

    async def _delete_webhook(self, bot: Bot, params: Params) -> Described:
        if params.flag("drop_pending_updates"):
            bot.updates.clear()
        was_set, bot.webhook = bot.webhook is not None, None
        return Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _get_webhook_info(self, bot: Bot, params: Params) -> JSON:
        hook = bot.webhook
        info: JSON = {
            "url": hook.url if hook else "",
            "has_custom_certificate": bool(hook and hook.has_certificate),
            "pending_update_count": len(bot.updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["ip_address"] = "127.0.0.1"
            if bot.allowed is not None:
                info["allowed_updates"] = sorted(bot.allowed)
        if bot.last_error_date is not None:
            info["last_error_date"] = bot.last_error_date
            info["last_error_message"] = bot.last_error_message
        return info

    def _allow(self, bot: Bot, params: Params) -> None:
        """allowed_updates: a list replaces the setting, [] restores the default, absent keeps."""
        allowed = params.json("allowed_updates")
        if isinstance(allowed, list):
            bot.allowed = frozenset(map(str, allowed)) or None

    # -- sending -----------------------------------------------------------------------------

    async def _send_message(self, bot: Bot, params: Params) -> JSON:
        chat = self._chat(bot, params.raw("chat_id"), sending=True)
        text, entities = self._formatted(
            params, "text", "entities", MAX_TEXT, "message is too long"
        )
        if not text:
            raise bad("message text is empty")
        reply = self._reply(chat, params)
        self._admit(bot, chat)
        message = self.world.message(chat, bot.to_dict(), text, entities, reply)
        preview = params.json("link_preview_options")
        if preview:
            message["link_preview_options"] = preview
        return self._record(bot, chat, message, params, params.text("text"))

    async def _send_document(self, bot: Bot, params: Params) -> JSON:
        chat = self._chat(bot, params.raw("chat_id"), sending=True)
        document, content = self._document(params)
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION, "message caption is too long"
        )
        reply = self._reply(chat, params)
        self._admit(bot, chat)
        self.world.files.setdefault(document["file_id"], File(document, content))
        message = self.world.message(chat, bot.to_dict(), None, [], reply)
        message["document"] = dict(document)
        if caption:
            message["caption"] = caption
        if entities:
            message["caption_entities"] = entities
        return self._record(bot, chat, message, params, params.text("caption"), content)

    async def _send_chat_action(self, bot: Bot, params: Params) -> bool:
        self._chat(bot, params.raw("chat_id"), sending=True)
        if params.text("action") not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        return True

    @staticmethod
    def _formatted(
        params: Params, key: str, entities_key: str, limit: int, too_long: str
    ) -> tuple[str, list[JSON]]:
        raw = params.text(key) or ""
        explicit = params.json(entities_key)
        return formatted(raw, explicit, params.text("parse_mode"), limit, too_long)

    def _reply(self, chat: Chat, params: Params) -> JSON | None:
        reply = params.json("reply_parameters")
        if reply is not None and not isinstance(reply, dict):
            raise bad("can't parse reply parameters JSON object")
        reply = reply or {}
        message_id = reply.get("message_id", params.integer("reply_to_message_id"))
        if message_id is None:
            return None
        try:
            found = chat.messages.get(int(message_id))
        except (TypeError, ValueError):
            raise bad("invalid reply_parameters specified") from None
        allow = reply.get("allow_sending_without_reply", params.flag("allow_sending_without_reply"))
        if found is None and allow not in (True, "true"):
            raise bad("message to be replied not found")
        return found

    def _document(self, params: Params) -> tuple[JSON, bytes]:
        upload = params.files.get("document")
        value = params.text("document") or ""
        if upload is None and value.startswith("attach://"):
            upload = params.files.get(value.removeprefix("attach://"))
        if upload is None:
            if value in self.world.files:
                known = self.world.files[value]
                return known.document, known.content
            if value:
                raise bad("wrong file identifier/HTTP URL specified")
            raise bad("there is no document in the request")
        content = upload.file.read()
        if not content:
            raise bad("file must be non-empty")
        name = upload.filename or "document"
        mime = upload.content_type
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        document = {
            "file_name": name,
            "mime_type": mime,
            "file_id": "BQACAgUAAxkDAAI" + secrets.token_urlsafe(36),
            "file_unique_id": "AgAD" + secrets.token_urlsafe(9),
            "file_size": len(content),
        }
        return document, content

    def _admit(self, bot: Bot, chat: Chat) -> None:
        """Flood control for a message: refuse it with 429 or count it."""
        limits, stats = self.sandbox.limits, self.sandbox.stats
        chat_rate = limits.group if chat.is_group else limits.private
        scopes = [
            (("bot", bot.token), limits.overall),
            (("chat", bot.token, chat.id), chat_rate),
        ]
        verdict = self._flood.admit(scopes, time.monotonic(), connection.get())
        if verdict.retry_after is None:
            return
        stats.rate_limited += 1
        if verdict.early:
            stats.early_retries += 1
        raise ApiError(
            429,
            f"Too Many Requests: retry after {verdict.retry_after}",
            {"retry_after": verdict.retry_after},
        )

    def _record(
        self,
        bot: Bot,
        chat: Chat,
        message: JSON,
        params: Params,
        source: str | None,
        file_bytes: bytes | None = None,
    ) -> JSON:
        markup = params.json("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # Telegram echoes inline keyboards only
        extras = {
            "token": bot.token,
            "parse_mode": params.text("parse_mode"),
            "source": source,
            "reply_markup": markup,
            "disable_notification": params.flag("disable_notification"),
            "link_preview_options": params.json("link_preview_options"),
        }
        if file_bytes is not None:
            extras["file_bytes"] = file_bytes
        return self.world.record(bot, chat, message, extras)

    # -- files -------------------------------------------------------------------------------

    async def _get_file(self, bot: Bot, params: Params) -> JSON:
        """A file's path under /file/bot<token>/, named at the first getFile as Telegram does."""
        file_id = params.text("file_id") or ""
        if not file_id:
            raise bad("file_id not specified")
        known = self.world.files.get(file_id)
        if known is None:
            raise bad("invalid file_id")
        if len(known.content) > MAX_DOWNLOAD:
            raise bad("file is too big")
        if known.path is None:
            folder = "photos" if file_id.startswith("AgAC") else "documents"
            suffix = mimetypes.guess_extension(known.document.get("mime_type", "image/jpeg"))
            known.path = f"{folder}/file_{len(self.world.files)}_{secrets.token_hex(4)}"
            known.path += suffix or ""
        return {**known.document, "file_path": known.path}

    async def serve_file(self, request: web.Request) -> web.StreamResponse:
        """GET /file/bot<token>/<file_path>: the bytes, for a bot that knows the token."""
        self.sandbox.stats.requests += 1
        if request.match_info["token"] not in self.world.bots:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        found = next((f for f in self.world.files.values() if f.path == path), None)
        if found is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        self.sandbox.stats.downloads += 1
        return web.Response(body=found.content, content_type="application/octet-stream")

    # -- commands ----------------------------------------------------------------------------

    async def _set_my_commands(self, bot: Bot, params: Params) -> bool:
        commands = params.json("commands")
        if not isinstance(commands, list):
            raise bad("parameter commands is required")
        if len(commands) > 100:
            raise bad("too many commands specified")
        cleaned = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad("can't parse BotCommand JSON object")
            command, description = item.get("command"), item.get("description")
            if not isinstance(command, str) or not BOT_COMMAND.fullmatch(command):
                raise bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": command, "description": description.strip()})
        key = self._scope_key(bot, params)
        if cleaned:
            bot.commands[key] = cleaned
        else:
            bot.commands.pop(key, None)  # an empty list deletes, as on Telegram
        return True

    async def _get_my_commands(self, bot: Bot, params: Params) -> list[JSON]:
        return bot.commands.get(self._scope_key(bot, params), [])

    async def _delete_my_commands(self, bot: Bot, params: Params) -> bool:
        bot.commands.pop(self._scope_key(bot, params), None)
        return True

    def _scope_key(self, bot: Bot, params: Params) -> str:
        scope = params.json("scope") or {"type": "default"}
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind in GLOBAL_SCOPES:
            key = str(kind)
        elif kind in CHAT_SCOPES:
            key = f"{kind}:{self._chat(bot, scope.get('chat_id')).id}"
            if kind == "chat_member":
                user_id = scope.get("user_id")
                if not isinstance(user_id, int) or user_id not in self.world.users:
                    raise bad("user not found")
                key += f":{user_id}"
        else:
            raise bad("can't parse BotCommandScope JSON object")
        language = params.text("language_code")
        return f"{key}/{language}" if language else key

    # -- chats -------------------------------------------------------------------------------

    async def _get_chat(self, bot: Bot, params: Params) -> JSON:
        chat = self._chat(bot, params.raw("chat_id"))
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        return {
            **chat.to_dict(),
            "accent_color_id": chat.id % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys((*gifts, "gifts_from_channels"), False),
        }

    async def _get_chat_member(self, bot: Bot, params: Params) -> JSON:
        chat = self._chat(bot, params.raw("chat_id"))
        user_id = params.integer("user_id")
        if user_id is None:
            raise bad("invalid user_id specified")
        found = self.world.member_of(chat, user_id)
        if found is None:
            raise bad("user not found")
        return found

    async def _get_chat_administrators(self, bot: Bot, params: Params) -> list[JSON]:
        chat = self._chat(bot, params.raw("chat_id"))
        if not chat.is_group:
            raise bad("there are no administrators in the private chat")
        heads = [chat.creator] if chat.creator is not None else []
        found = (
            self.world.member_of(chat, user_id) for user_id in dict.fromkeys(heads + chat.admins)
        )
        return [item for item in found if item is not None]

    async def _get_chat_member_count(self, bot: Bot, params: Params) -> int:
        chat = self._chat(bot, params.raw("chat_id"))
        if not chat.is_group:
            return 2
        return len(chat.members) + sum(status == "member" for status in chat.bots.values())

    def _chat(self, bot: Bot, value: Any, *, sending: bool = False) -> Chat:
        """The chat `chat_id` names, or the error Telegram gives this bot for it."""
        if value is None or value == "":
            raise bad("chat_id is empty")
        world = self.world
        chat: Chat | None = None
        if isinstance(value, str) and value.startswith("@"):
            name = value[1:].lower()
            chat = next(
                (c for c in world.chats.values() if (c.username or "").lower() == name), None
            )
        else:
            try:
                chat_id = int(value)
            except (TypeError, ValueError):
                raise bad("chat not found") from None
            if sending and world.bot_by_id(chat_id) is not None:
                raise ApiError(403, "Forbidden: bot can't send messages to bots")
            chat = world.chats.get(chat_id)
            if chat is None and chat_id in world.users and sending:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat is None:
            raise bad("chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        status = chat.bot_status(bot.token)
        if chat.is_group:
            if status is None:
                raise bad("chat not found")  # a bot never in a group does not know it
            if status == "kicked":
                raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
            if status == "left":
                raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        elif sending and status == "kicked":
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        elif sending and bot.token not in chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat
