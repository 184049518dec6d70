"""A thin client for the Zalo Bot API: one POST per method, the answer unwrapped, nothing more.

`https://bot-api.zaloplatforms.com/bot<TOKEN>/<method>` with a JSON body, as Zalo's documentation
shows it. What was checked against copies of that documentation (bot.zaloplatforms.com/docs, via
public mirrors and several independent clients; the site itself was not reachable from here):

- methods getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo, sendMessage, sendPhoto,
  sendSticker, sendChatAction, all POST;
- getUpdates takes `timeout` (seconds, as a string, default 30), answers ONE update
  `{"event_name": ..., "message": {...}}` as its result, and an idle poll ends with 408
  ("Request timeout"), which is normal and not an error. Its users report three forms of that
  idle end, all taken as idle: HTTP 408; HTTP 200 with `error_code` 408 or "408"; and
  `{"ok": true, "result": {}}`;
- answers are `{"ok": true, "result": ...}`, errors `{"ok": false, "error_code": N,
  "description": ...}`; codes 400, 401 (bad token), 404, 408, 429 (quota) are listed;
- sendMessage takes `chat_id` and `text` of 1 to 2000 characters and answers
  `{"message_id": "...", "date": <ms>}`; ids are strings, dates milliseconds;
- setWebhook takes `url` and `secret_token` (8 to 256 characters), which comes back on every
  delivery in the `X-Bot-Api-Secret-Token` header; getUpdates does not work while a webhook is set.

Assumed, not verified: that a webhook body may come bare (`{"event_name": ...}`) as well as
wrapped like a getUpdates answer (clients in the wild accept both, so does `unwrap`); that 429
may carry a `Retry-After` header (none is documented and users report none, sometimes an HTML
page instead of JSON, so `RETRY_AFTER` is the fallback).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from bot.channels.defaults import ZALO_API
from bot.logs import MASK, Redact

log = logging.getLogger(__name__)

JSON = dict[str, Any]
IDLE = 408  # getUpdates: nothing arrived before the poll's timeout
RETRY_AFTER = 5.0  # seconds to wait after a 429 that does not say how long
REQUEST_TIMEOUT = 30.0  # seconds for any call but the long poll
POLL_SLACK = 10.0  # seconds a long poll may take beyond its own timeout before we give up
_LIBRARY_LOGGERS = ("httpx",)  # it logs request URLs, which carry the token


class ZaloApiError(Exception):
    """Zalo answered with an error: `status` is its error_code (or the HTTP status)."""

    def __init__(self, status: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after


class ZaloNetworkError(Exception):
    """No answer: connection refused or reset, timed out, unreadable."""


def unwrap(status: int, body: Any, headers: httpx.Headers | None = None) -> Any:
    """The result of an answer: `{ok, result}` unwrapped, a bare body as it is.

    Raises `ZaloApiError` for `{"ok": false, ...}` or an HTTP error status.
    """
    if isinstance(body, dict) and "ok" in body:
        if body["ok"] is True and status < 400:
            return body.get("result")
        code = body.get("error_code")
        raise ZaloApiError(
            int(code) if isinstance(code, int | str) and str(code).isdigit() else status,
            str(body.get("description") or httpx.codes.get_reason_phrase(status) or "error"),
            _retry_after(body, headers),
        )
    if status >= 400:
        raise ZaloApiError(
            status, httpx.codes.get_reason_phrase(status) or "error", _retry_after({}, headers)
        )
    return body


def _retry_after(body: JSON, headers: httpx.Headers | None) -> float | None:
    parameters = body.get("parameters")
    candidates = [
        parameters.get("retry_after") if isinstance(parameters, dict) else None,
        headers.get("Retry-After") if headers is not None else None,
    ]
    for value in candidates:
        try:
            return max(float(value), 0.0)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return None


def idle(result: JSON) -> bool:
    """An idle poll's end that came as a result: `{}`, or a bare `{"error_code": 408}`."""
    return not result or str(result.get("error_code")) == str(IDLE)


class ZaloBotApi:
    """The Bot API methods Loa uses; `transport` lets tests answer without a server."""

    def __init__(
        self,
        token: str,
        base_url: str = ZALO_API,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._token = token
        self._base = f"{base_url.rstrip('/')}/bot{token}"
        self._http = httpx.AsyncClient(timeout=REQUEST_TIMEOUT, transport=transport)
        # httpx logs every request URL at INFO, token included: mask it whoever handles the log.
        self._redact = Redact([token])
        for name in _LIBRARY_LOGGERS:
            logging.getLogger(name).addFilter(self._redact)

    async def aclose(self) -> None:
        await self._http.aclose()
        for name in _LIBRARY_LOGGERS:
            logging.getLogger(name).removeFilter(self._redact)

    async def call(
        self, method: str, params: JSON | None = None, timeout: float | None = None
    ) -> Any:
        """POST `params` as JSON to `method`; the unwrapped result."""
        try:
            response = await self._http.post(
                f"{self._base}/{method}",
                json=params or {},
                timeout=timeout if timeout is not None else REQUEST_TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise ZaloNetworkError(self._masked(f"{type(exc).__name__}: {exc}")) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        try:
            return unwrap(response.status_code, body, response.headers)
        except ZaloApiError as exc:  # an answer could quote the URL: never let the token travel
            raise ZaloApiError(exc.status, self._masked(exc.description), exc.retry_after) from None

    def _masked(self, text: str) -> str:
        return text.replace(self._token, MASK)

    # -- the methods -------------------------------------------------------------------------

    async def get_me(self) -> JSON:
        return await self.call("getMe") or {}

    async def get_updates(self, timeout: float) -> list[JSON]:
        """Wait up to `timeout` seconds for an update; [] when the poll ends idle (408).

        Zalo answers one update at a time; a list is accepted too, in case that changes.
        """
        try:
            result = await self.call(
                "getUpdates", {"timeout": str(round(timeout))}, timeout=timeout + POLL_SLACK
            )
        except ZaloApiError as exc:
            if exc.status == IDLE:
                log.debug("zalo: getUpdates idle")
                return []
            raise
        if isinstance(result, list):
            return [item for item in result if isinstance(item, dict) and not idle(item)]
        return [result] if isinstance(result, dict) and not idle(result) else []

    async def set_webhook(self, url: str, secret_token: str) -> JSON:
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token}) or {}

    async def delete_webhook(self) -> JSON:
        return await self.call("deleteWebhook") or {}

    async def get_webhook_info(self) -> JSON:
        return await self.call("getWebhookInfo") or {}

    async def send_message(self, chat_id: str, text: str) -> JSON:
        return await self.call("sendMessage", {"chat_id": chat_id, "text": text}) or {}

    async def send_photo(self, chat_id: str, photo: str, caption: str | None = None) -> JSON:
        params = {"chat_id": chat_id, "photo": photo}
        if caption:
            params["caption"] = caption
        return await self.call("sendPhoto", params) or {}

    async def send_sticker(self, chat_id: str, sticker: str) -> JSON:
        return await self.call("sendSticker", {"chat_id": chat_id, "sticker": sticker}) or {}

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})
