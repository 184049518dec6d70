"""The JSON control endpoints of the Zalo sandbox under `/sandbox/`, as the Telegram one has.

Each is a thin wrapper over a public `ZaloSandbox` method; ids are strings. What Zalo lacks
(group upgrades, command menus) has no endpoint.
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from bot.sandbox.control import decode_content, json_route, read_body
from bot.sandbox.model import Stats
from bot.sandbox.wire import JSON, SandboxError
from bot.sandbox.zalo_api import IDLE_FORMS, RATE_LIMIT_FORMS


class Driven(Protocol):
    """The `ZaloSandbox` methods the endpoints call (a protocol: the sandbox imports this module
    to serve them, so this one cannot import the sandbox)."""

    latency: float
    idle_form: str
    rate_limit_form: str

    @property
    def stats(self) -> Stats: ...
    def add_bot(self, token: str, display_name: str, account_name: str | None) -> str: ...
    def add_user(self, display_name: str) -> str: ...
    def create_group(
        self, title: str, members: list[str], bots: list[str], admins: list[str]
    ) -> str: ...
    def private_chat(self, user_id: str) -> str: ...
    async def post(
        self,
        chat_id: str,
        user_id: str,
        text: str | None,
        reply_to: str | None,
        *,
        kind: str,
        photo_url: str | None,
        sticker: str | None,
        content: bytes | None,
        mime_type: str,
    ) -> JSON: ...
    def add_member(self, chat_id: str, user_id: str) -> None: ...
    def add_bot_to_chat(self, chat_id: str, token: str) -> None: ...
    def remove_bot(self, chat_id: str, token: str) -> None: ...
    def sent(self, chat_id: str | None, token: str | None) -> list[JSON]: ...
    def fail_next(self, method: str, count: int, status: int, description: str) -> None: ...
    def pending_faults(self) -> dict[str, list[JSON]]: ...


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
        web.post(f"{chat}/members", json_route(c.members)),
        web.post(f"{chat}/add_bot", json_route(c.add_bot)),
        web.post(f"{chat}/remove_bot", json_route(c.remove_bot)),
        web.get("/sandbox/sent", json_route(c.sent)),
        web.get("/sandbox/faults", json_route(c.faults)),
        web.post("/sandbox/faults", json_route(c.faults)),
        web.get("/sandbox/stats", json_route(c.stats)),
    ]


class _Control:
    def __init__(self, sandbox: Driven) -> None:
        self.sandbox = sandbox

    async def bots(self, request: web.Request) -> JSON:
        body = await read_body(request)
        bot_id = self.sandbox.add_bot(
            body["token"], body.get("display_name", "Loa"), body.get("account_name")
        )
        return {"id": bot_id}

    async def users(self, request: web.Request) -> JSON:
        body = await read_body(request)
        name = body.get("display_name") or body["first_name"]  # first_name: as on Telegram's
        return {"id": self.sandbox.add_user(name)}

    async def groups(self, request: web.Request) -> JSON:
        body = await read_body(request)
        chat_id = self.sandbox.create_group(
            body["title"],
            _ids(body.get("members", [])),
            body.get("bots", []),
            _ids(body.get("admins", [])),
        )
        return {"id": chat_id}

    async def private_chats(self, request: web.Request) -> JSON:
        return {"id": self.sandbox.private_chat(str((await read_body(request))["user_id"]))}

    async def messages(self, request: web.Request) -> JSON:
        """{user_id, text?, reply_to?, kind?, photo_url?, sticker?, content_base64?,
        mime_type?}: an image's content is served by the sandbox (`ZaloSandbox.post`)."""
        body = await read_body(request)
        content = body.get("content_base64")
        return await self.sandbox.post(
            request.match_info["chat_id"],
            str(body["user_id"]),
            body.get("text"),
            body.get("reply_to"),
            kind=body.get("kind", "text"),
            photo_url=body.get("photo_url"),
            sticker=body.get("sticker"),
            content=decode_content(content) if content is not None else None,
            mime_type=body.get("mime_type", "image/jpeg"),
        )

    async def members(self, request: web.Request) -> JSON:
        body = await read_body(request)
        self.sandbox.add_member(request.match_info["chat_id"], str(body["user_id"]))
        return {"ok": True}

    async def add_bot(self, request: web.Request) -> JSON:
        body = await read_body(request)
        self.sandbox.add_bot_to_chat(request.match_info["chat_id"], body["token"])
        return {"ok": True}

    async def remove_bot(self, request: web.Request) -> JSON:
        body = await read_body(request)
        self.sandbox.remove_bot(request.match_info["chat_id"], body["token"])
        return {"ok": True}

    async def sent(self, request: web.Request) -> list[JSON]:
        return self.sandbox.sent(
            request.query.get("chat_id") or None, request.query.get("token") or None
        )

    async def faults(self, request: web.Request) -> JSON:
        if request.method == "POST":
            body = await read_body(request)
            if "latency" in body:
                self.sandbox.latency = float(body["latency"])
            faults = body.get("fail_next", [])
            for fault in [faults] if isinstance(faults, dict) else faults:
                self.sandbox.fail_next(**fault)
            for name, forms in (("idle_form", IDLE_FORMS), ("rate_limit_form", RATE_LIMIT_FORMS)):
                if name in body:
                    if body[name] not in forms:
                        raise SandboxError(f"{name} must be one of {', '.join(forms)}")
                    setattr(self.sandbox, name, body[name])
        return {
            "latency": self.sandbox.latency,
            "fail_next": self.sandbox.pending_faults(),
            "idle_form": self.sandbox.idle_form,
            "rate_limit_form": self.sandbox.rate_limit_form,
        }

    async def stats(self, request: web.Request) -> JSON:
        return self.sandbox.stats.as_dict()


def _ids(values: list[object]) -> list[str]:
    return [str(value) for value in values]
