"""What crosses the wire: Bot API parameters in, JSON answers and Telegram's error wording out.

Every other sandbox module speaks in these terms, so they sit apart from the methods themselves.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

JSON = dict[str, Any]

dumps = functools.partial(json.dumps, ensure_ascii=False)  # Vietnamese stays readable in logs


class SandboxError(ValueError):
    """The in-process or control API was misused: unknown user, chat or token, and the like."""


class ApiError(Exception):
    """One Bot API error answer, worded as the platform words it (Telegram, Zalo)."""

    def __init__(
        self,
        status: int,
        description: str,
        parameters: JSON | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.headers = headers  # e.g. Retry-After, where the platform says it in HTTP

    def response(self) -> web.Response:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.status, headers=self.headers, dumps=dumps)


def bad(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


def cant_parse(what: str) -> ApiError:
    return bad(f"can't parse entities: {what}")


@dataclass
class Described:
    """A result that comes with Telegram's `description` ("Webhook was set")."""

    result: Any
    description: str


class Params:
    """Bot API parameters from the query string, a form, multipart or JSON, read as Telegram does.

    Forms carry everything as strings and objects as JSON text (python-telegram-bot sends them
    so); a JSON body carries real types. The getters accept both.
    """

    def __init__(self, values: JSON, files: dict[str, web.FileField]) -> None:
        self.values = values
        self.files = files

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value is None or isinstance(value, str) else str(value)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise bad(f"invalid {name} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad(f"invalid {name} specified") from None

    def number(self, name: str, default: float) -> float:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        return self.values.get(name) in (True, 1, "true", "True", "1")

    def json(self, name: str) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad(f"can't parse {name} JSON object") from None


async def read_params(request: web.Request) -> Params:
    values: JSON = dict(request.query)
    files: dict[str, web.FileField] = {}
    if request.content_type == "application/json" and request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            raise bad("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad("can't parse JSON object")
        values.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = value
            else:
                values[name] = value if isinstance(value, str) else bytes(value).decode()
    return Params(values, files)
