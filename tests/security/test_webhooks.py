"""The webhooks of both platforms against what the open internet sends them (issue 14, item 1).

Each test runs for Telegram and for Zalo: the channel serves its webhook on loopback with small
limits (half-second timeouts, a few connections) so that floods and slow senders stay small and
quick here; `bench/webhook_flood.py` measures the full-size floods.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.channels.base import Event, InboundMessage
from bot.channels.telegram import SECRET_HEADER as TELEGRAM_HEADER
from bot.channels.telegram import TelegramChannel
from bot.channels.webhook import Webhook, WebhookLimits
from bot.channels.zalo import CONCURRENT_UPDATES, ZaloChannel
from bot.channels.zalo import SECRET_HEADER as ZALO_HEADER
from bot.config import Settings
from bot.sandbox.telegram import TelegramSandbox
from bot.sandbox.zalo import ZaloSandbox
from bot.service import channels_for
from tests.e2e.conftest import TOKEN, UNLIMITED
from tests.e2e.test_zalo import FAST, ZALO_TOKEN

SECRET = "webhook-secret-for-the-flood"
LIMITS = WebhookLimits(max_body=2**20, timeout=0.5, max_connections=20)
_ids = itertools.count(1)


@dataclass
class Served:
    """A channel serving its webhook, what it received, and how to post to it."""

    platform: str
    channel: Any
    url: str
    header: str
    events: asyncio.Queue[Event]

    @property
    def port(self) -> int:
        return self.channel.server.port

    def update(self, text: str = "/help") -> dict[str, Any]:
        """A genuine update, a new one each time."""
        n = next(_ids)
        if self.platform == "telegram":
            return {
                "update_id": n,
                "message": {
                    "message_id": n, "date": 1696212000, "text": text,
                    "chat": {"id": 77, "type": "private", "first_name": "Lan"},
                    "from": {"id": 77, "is_bot": False, "first_name": "Lan"},
                },
            }  # fmt: skip
        return {
            "event_name": "message.text.received",
            "message": {
                "from": {"id": "u77", "display_name": "Lan", "is_bot": False},
                "chat": {"id": "u77", "chat_type": "PRIVATE"},
                "text": text, "message_id": f"m{n}", "date": 1750316131602,
            },
        }  # fmt: skip

    async def post(self, body: bytes | Any, secret: str | None = SECRET) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[self.header] = secret
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with httpx.AsyncClient(timeout=5) as http:
            return await http.post(self.url, content=content, headers=headers)

    async def received(self, timeout: float = 3.0) -> InboundMessage:
        event = await asyncio.wait_for(self.events.get(), timeout)
        assert isinstance(event, InboundMessage)
        return event


@pytest.fixture(params=["telegram", "zalo"])
async def served(
    request: pytest.FixtureRequest, sandbox: TelegramSandbox, zalo: ZaloSandbox
) -> AsyncIterator[Served]:
    events: asyncio.Queue[Event] = asyncio.Queue()

    async def handle(event: Event) -> None:
        await events.put(event)

    port = free_port()
    hook = Webhook(f"http://127.0.0.1:{port}/hook", SECRET, listen="127.0.0.1", port=port)
    channel: TelegramChannel | ZaloChannel
    if request.param == "telegram":
        channel = TelegramChannel(
            TOKEN, api_base_url=sandbox.base_url, webhook=hook, limits=UNLIMITED,
            webhook_limits=LIMITS,
        )  # fmt: skip
        header = TELEGRAM_HEADER
    else:
        channel = ZaloChannel(
            ZALO_TOKEN, api_base_url=zalo.base_url, webhook=hook, limits=FAST,
            webhook_limits=LIMITS,
        )  # fmt: skip
        header = ZALO_HEADER
    await channel.start(handle)
    try:
        yield Served(request.param, channel, hook.url, header, events)
    finally:
        await channel.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss() -> int:
    """This process's resident memory, bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def raw(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


def head(path: str, length: int, secret: str | None = None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: loa", "Content-Type: application/json"]
    lines.append(f"Content-Length: {length}")
    if secret is not None:
        lines.append(f"X-Telegram-Bot-Api-Secret-Token: {secret}")
        lines.append(f"X-Bot-Api-Secret-Token: {secret}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def status_of(reader: asyncio.StreamReader, timeout: float = 1.0) -> int:
    line = await asyncio.wait_for(reader.readline(), timeout)
    return int(line.split()[1])


# -- the secret before the body ----------------------------------------------------------------


async def test_a_request_without_the_secret_is_refused_before_its_body(served: Served) -> None:
    reader, writer = await raw(served.port)
    writer.write(head("/hook", 90 * 2**20))  # 90 MB announced, not one byte of it sent
    await writer.drain()
    assert await status_of(reader) == 403
    writer.close()


async def test_a_flood_of_big_bodies_without_the_secret_leaves_memory_alone(
    served: Served,
) -> None:
    chunk = b"x" * 2**20

    async def flood() -> None:
        _, writer = await raw(served.port)
        try:
            writer.write(head("/hook", 8 * 2**20))
            for _ in range(8):  # 8 MB each, as fast as the server takes it
                writer.write(chunk)
                await writer.drain()
        except OSError:
            pass  # refused and closed: what should happen
        finally:
            writer.close()

    before = rss()
    await asyncio.wait_for(asyncio.gather(*(flood() for _ in range(20))), 10)
    assert rss() - before < 30 * 2**20  # 160 MB were sent
    started = time.monotonic()
    assert (await served.post(served.update())).status_code == 200
    assert time.monotonic() - started < 1
    await served.received()


async def test_a_body_over_one_megabyte_is_refused(served: Served) -> None:
    reader, writer = await raw(served.port)
    writer.write(head("/hook", 2 * 2**20, SECRET))
    await writer.drain()
    assert await status_of(reader) == 413  # announced: refused before reading
    writer.close()

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b" " * 2**20

    async with httpx.AsyncClient(timeout=5) as http:  # no length given: cut off when over
        try:
            answer = await http.post(served.url, content=chunked(), headers={served.header: SECRET})
            assert answer.status_code == 413
        except httpx.TransportError:
            pass  # closed while still sending: refused all the same
    assert served.events.empty()


# -- malformed bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"[" * 200_000 + b"]" * 200_000,  # deeper than any parser recurses
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"[1, 2, 3]",
        b'"text"',
        b'{"update_id": "x", "message": 5}',
    ],
    ids=["bad-json", "bad-utf8", "nested-lists", "nested-objects", "list", "string", "shape"],
)
async def test_a_malformed_body_is_answered_400_and_the_next_update_goes_through(
    served: Served, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await served.post(body)
    assert answer.status_code == 400
    assert not [r for r in caplog.records if r.exc_info]  # no traceback
    assert (await served.post(served.update("/lich"))).status_code == 200
    assert (await served.received()).text == "/lich"


# -- slow and many connections -------------------------------------------------------------------


async def test_slow_headers_and_a_slow_body_are_cut_off(served: Served) -> None:
    reader, writer = await raw(served.port)
    started = time.monotonic()
    with pytest.raises((ConnectionError, asyncio.IncompleteReadError, AssertionError)):
        for byte in head("/hook", 10, SECRET):  # a byte every 0.1 s: never a whole request
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.1)
            assert not reader.at_eof()
            if time.monotonic() - started > 3:
                pytest.fail("slow headers were not cut off within 3 s")
    assert time.monotonic() - started < 2
    writer.close()

    reader, writer = await raw(served.port)
    writer.write(head("/hook", 100, SECRET) + b'{"update_id": 1')  # the rest never comes
    await writer.drain()
    assert await status_of(reader, timeout=2) == 408
    writer.close()


async def test_a_genuine_update_is_answered_within_a_second_among_slow_connections(
    served: Served,
) -> None:
    held = [await raw(served.port) for _ in range(3 * LIMITS.max_connections)]
    for _, writer in held:
        writer.write(b"POST /hook HTTP/1.1\r\nHost: loa\r\n")  # and never the end
    await asyncio.sleep(0.05)
    assert served.channel.server.open_connections <= LIMITS.max_connections
    for _ in range(3):
        started = time.monotonic()
        assert (await served.post(served.update())).status_code == 200
        assert time.monotonic() - started < 1
        await served.received()
    closed = sum(reader.at_eof() for reader, _ in held)
    assert closed >= 2 * LIMITS.max_connections  # the oldest made way
    for _, writer in held:
        writer.close()


# -- logging -----------------------------------------------------------------------------------


async def test_a_repeated_refusal_is_logged_once_with_a_count(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for _ in range(30):
        assert (await served.post(served.update(), secret="wrong-secret")).status_code == 403
    refusals = [r for r in caplog.records if "secret" in r.getMessage()]
    assert len(refusals) == 1
    await served.channel.server.stop()
    counted = [r.getMessage() for r in caplog.records if "29 more" in r.getMessage()]
    assert counted, [r.getMessage() for r in caplog.records]


# -- answered at once ----------------------------------------------------------------------------


async def test_the_zalo_webhook_answers_at_once_while_every_handler_is_busy(
    zalo: ZaloSandbox,
) -> None:
    release = asyncio.Event()
    handled: list[str] = []

    async def slow(event: Event) -> None:
        await release.wait()
        assert isinstance(event, InboundMessage)
        handled.append(event.text)

    port = free_port()
    hook = Webhook(f"http://127.0.0.1:{port}/hook", SECRET, listen="127.0.0.1", port=port)
    channel = ZaloChannel(ZALO_TOKEN, api_base_url=zalo.base_url, webhook=hook, limits=FAST)
    await channel.start(slow)
    try:
        served = Served("zalo", channel, hook.url, ZALO_HEADER, asyncio.Queue())
        for n in range(CONCURRENT_UPDATES + 5):
            started = time.monotonic()
            assert (await served.post(served.update(f"tin {n}"))).status_code == 200
            assert time.monotonic() - started < 1
        release.set()
        for _ in range(100):
            if len(handled) == CONCURRENT_UPDATES + 5:
                break
            await asyncio.sleep(0.02)
        assert sorted(handled) == sorted(f"tin {n}" for n in range(CONCURRENT_UPDATES + 5))
    finally:
        await channel.stop()


# -- where it listens ----------------------------------------------------------------------------


def test_the_webhooks_listen_on_loopback_unless_told(tmp_path) -> None:
    none = str(tmp_path / "none.env")
    env = {
        "TELEGRAM_BOT_TOKEN": "1:a", "ZALO_BOT_TOKEN": "2:b",
        "WEBHOOK_URL": "https://loa.example/tg", "ZALO_WEBHOOK_URL": "https://loa.example/zl",
    }  # fmt: skip
    channels = channels_for(Settings.from_env(env, env_file=none))
    hooks = [channels["telegram"].webhook, channels["zalo"].webhook]  # type: ignore[attr-defined]
    assert [(h.listen, h.port) for h in hooks] == [("127.0.0.1", 8080), ("127.0.0.1", 8082)]
    env |= {"WEBHOOK_HOST": "0.0.0.0", "ZALO_WEBHOOK_HOST": "10.0.0.5"}
    channels = channels_for(Settings.from_env(env, env_file=none))
    hooks = [channels["telegram"].webhook, channels["zalo"].webhook]  # type: ignore[attr-defined]
    assert [h.listen for h in hooks] == ["0.0.0.0", "10.0.0.5"]
