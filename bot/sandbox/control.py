"""The JSON control endpoints under `/sandbox/`: the in-process helpers, for another process.

`loa run`, the demo and the benchmarks drive the chats through these; each is a thin wrapper
over a public `TelegramSandbox` method, so both ways of driving the sandbox behave alike.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from bot.sandbox.model import Stats
from bot.sandbox.wire import JSON, SandboxError, dumps


class Driven(Protocol):
    """The `TelegramSandbox` methods the endpoints call (a protocol: the sandbox imports this
    module to serve them, so this one cannot import the sandbox)."""

    latency: float

    @property
    def stats(self) -> Stats: ...
    def add_bot(self, token: str, username: str, first_name: str, privacy: bool) -> int: ...
    def add_user(self, first_name: str, username: str | None, last_name: str | None) -> int: ...
    def create_group(
        self,
        title: str,
        members: list[int],
        bots: list[str],
        admins: list[int],
        *,
        creator: int | None,
        username: str | None,
        supergroup: bool,
    ) -> int: ...
    def private_chat(self, user_id: int) -> int: ...
    async def post(
        self, chat_id: int, user_id: int, text: str, reply_to: int | None, anonymous: bool
    ) -> JSON: ...
    async def post_photo(
        self,
        chat_id: int,
        user_id: int,
        content: bytes | list[bytes],
        caption: str,
        *,
        size: tuple[int, int],
        reply_to: int | None,
    ) -> JSON: ...
    async def post_document(
        self,
        chat_id: int,
        user_id: int,
        content: bytes,
        file_name: str,
        caption: str,
        *,
        mime_type: str | None,
        reply_to: int | None,
    ) -> JSON: ...
    def add_member(self, chat_id: int, user_id: int, admin: bool) -> None: ...
    def add_bot_to_chat(self, chat_id: int, token: str, by_user: int | None) -> None: ...
    def remove_bot(self, chat_id: int, token: str, by_user: int | None) -> None: ...
    def migrate(self, chat_id: int, by_user: int | None) -> int: ...
    def sent(self, chat_id: int | None, token: str | None) -> list[JSON]: ...
    def fail_next(self, method: str, count: int, status: int, description: str) -> None: ...
    def pending_faults(self) -> dict[str, list[JSON]]: ...
    def commands(self, token: str) -> dict[str, list[JSON]]: ...


def routes(sandbox: Driven) -> list[web.RouteDef]:
    """The control routes; the Bot API route is the sandbox's own."""
    c = _Control(sandbox)
    chat = "/sandbox/chats/{chat_id}"
    return [
        web.post("/sandbox/bots", json_route(c.bots)),
        web.post("/sandbox/users", json_route(c.users)),
        web.post("/sandbox/groups", json_route(c.groups)),
        web.post("/sandbox/private_chats", json_route(c.private_chats)),
        web.post(f"{chat}/messages", json_route(c.messages)),
        web.post(f"{chat}/photos", json_route(c.photos)),
        web.post(f"{chat}/documents", json_route(c.documents)),
        web.post(f"{chat}/members", json_route(c.members)),
        web.post(f"{chat}/add_bot", json_route(c.add_bot)),
        web.post(f"{chat}/remove_bot", json_route(c.remove_bot)),
        web.post(f"{chat}/migrate", json_route(c.migrate)),
        web.get("/sandbox/sent", json_route(c.sent)),
        web.get("/sandbox/faults", json_route(c.faults)),
        web.post("/sandbox/faults", json_route(c.faults)),
        web.get("/sandbox/stats", json_route(c.stats)),
        web.get("/sandbox/commands", json_route(c.commands)),
    ]


class _Control:
    def __init__(self, sandbox: Driven) -> None:
        self.sandbox = sandbox

    async def bots(self, request: web.Request) -> JSON:
        body = await read_body(request)
        bot_id = self.sandbox.add_bot(
            body["token"],
            body.get("username", "loa_bot"),
            body.get("first_name", "Loa"),
            bool(body.get("privacy", True)),
        )
        return {"id": bot_id}

    async def users(self, request: web.Request) -> JSON:
        body = await read_body(request)
        user_id = self.sandbox.add_user(
            body["first_name"], body.get("username"), body.get("last_name")
        )
        return {"id": user_id}

    async def groups(self, request: web.Request) -> JSON:
        body = await read_body(request)
        chat_id = self.sandbox.create_group(
            body["title"],
            body.get("members", []),
            body.get("bots", []),
            body.get("admins", []),
            creator=body.get("creator"),
            username=body.get("username"),
            supergroup=bool(body.get("supergroup", True)),
        )
        return {"id": chat_id}

    async def private_chats(self, request: web.Request) -> JSON:
        return {"id": self.sandbox.private_chat((await read_body(request))["user_id"])}

    async def messages(self, request: web.Request) -> JSON:
        body = await read_body(request)
        return await self.sandbox.post(
            _chat_id(request),
            body["user_id"],
            body["text"],
            body.get("reply_to"),
            anonymous=bool(body.get("anonymous", False)),
        )

    async def photos(self, request: web.Request) -> JSON:
        """{user_id, content_base64 (or sizes_base64, smallest first), caption?, width?,
        height?, reply_to?}"""
        body = await read_body(request)
        sizes = body.get("sizes_base64") or [body["content_base64"]]
        content = [decode_content(size) for size in sizes]
        return await self.sandbox.post_photo(
            _chat_id(request),
            body["user_id"],
            content,
            body.get("caption", ""),
            size=(int(body.get("width", 1280)), int(body.get("height", 960))),
            reply_to=body.get("reply_to"),
        )

    async def documents(self, request: web.Request) -> JSON:
        """{user_id, content_base64, file_name, caption?, mime_type?, reply_to?}"""
        body = await read_body(request)
        return await self.sandbox.post_document(
            _chat_id(request),
            body["user_id"],
            decode_content(body["content_base64"]),
            body["file_name"],
            body.get("caption", ""),
            mime_type=body.get("mime_type"),
            reply_to=body.get("reply_to"),
        )

    async def members(self, request: web.Request) -> JSON:
        body = await read_body(request)
        self.sandbox.add_member(_chat_id(request), body["user_id"], bool(body.get("admin", False)))
        return {"ok": True}

    async def add_bot(self, request: web.Request) -> JSON:
        body = await read_body(request)
        self.sandbox.add_bot_to_chat(_chat_id(request), body["token"], body.get("by_user"))
        return {"ok": True}

    async def remove_bot(self, request: web.Request) -> JSON:
        body = await read_body(request)
        self.sandbox.remove_bot(_chat_id(request), body["token"], body.get("by_user"))
        return {"ok": True}

    async def migrate(self, request: web.Request) -> JSON:
        body = await read_body(request)
        return {"id": self.sandbox.migrate(_chat_id(request), body.get("by_user"))}

    async def sent(self, request: web.Request) -> list[JSON]:
        chat_id = request.query.get("chat_id")
        token = request.query.get("token") or None
        messages = self.sandbox.sent(int(chat_id) if chat_id else None, token)
        for message in messages:
            content = message["sandbox"].pop("file_bytes", None)
            if content is not None:
                message["sandbox"]["file_base64"] = base64.b64encode(content).decode()
        return messages

    async def faults(self, request: web.Request) -> JSON:
        if request.method == "POST":
            body = await read_body(request)
            if "latency" in body:
                self.sandbox.latency = float(body["latency"])
            faults = body.get("fail_next", [])
            for fault in [faults] if isinstance(faults, dict) else faults:
                self.sandbox.fail_next(**fault)
        return {"latency": self.sandbox.latency, "fail_next": self.sandbox.pending_faults()}

    async def stats(self, request: web.Request) -> JSON:
        return self.sandbox.stats.as_dict()

    async def commands(self, request: web.Request) -> JSON:
        return self.sandbox.commands(request.query["token"])


def json_route(
    handler: Callable[[web.Request], Awaitable[Any]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """JSON out; a misuse answers 400 with {"error": ...} instead of a traceback."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            result = await handler(request)
        except KeyError as exc:
            return web.json_response({"error": f"missing {exc}"}, status=400, dumps=dumps)
        except (SandboxError, TypeError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400, dumps=dumps)
        return web.json_response(result, dumps=dumps)

    return wrapped


async def read_body(request: web.Request) -> JSON:
    body = await request.json() if request.can_read_body else {}
    if not isinstance(body, dict):
        raise SandboxError("the body must be a JSON object")
    return body


def decode_content(text: str) -> bytes:
    """Bytes sent over the control API as base64."""
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise SandboxError("content must be base64") from None


def _chat_id(request: web.Request) -> int:
    return int(request.match_info["chat_id"])
