"""Webhook mode verifies Telegram's secret header; no token or secret ever reaches the logs."""

import io
import logging
import socket

import httpx

from bot import logs
from bot.channels.telegram import Webhook
from tests.e2e.conftest import TOKEN, start_world

SECRET = "webhook-secret-never-logged"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_mode_serves_updates_and_rejects_a_wrong_secret(sandbox, database, clock):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    hook = Webhook(url=url, secret=SECRET, listen="127.0.0.1", port=port)
    world = await start_world(sandbox, database, clock, webhook=hook)
    try:
        teacher = world.person("Cô Hoa")
        assert (await teacher.asks(teacher.id, "/help")).startswith("📖 Các lệnh của Loa:")

        forged = {
            "update_id": 999999,
            "message": {
                "message_id": 1, "date": 1696212000, "text": "/tiendo",
                "chat": {"id": teacher.id, "type": "private", "first_name": "Cô Hoa"},
                "from": {"id": world.coordinator.id, "is_bot": False, "first_name": "Cô Lan"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
            },
        }  # fmt: skip
        async with httpx.AsyncClient() as client:
            wrong = await client.post(
                url, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
            )
            missing = await client.post(url, json=forged)
        assert (wrong.status_code, missing.status_code) == (403, 403)
        sent_before = len(sandbox.sent(teacher.id))
        assert (await teacher.asks(teacher.id, "/khauhieu")).startswith("Kế hoạch không nêu")
        assert len(sandbox.sent(teacher.id)) == sent_before + 1  # the forged /tiendo did nothing
    finally:
        await world.loa.stop()


async def test_no_token_or_secret_in_the_logs(sandbox, database, clock):
    stream = io.StringIO()
    handler = logs.setup([TOKEN, SECRET], level=logging.DEBUG, stream=stream)
    logging.getLogger("httpx").setLevel(logging.DEBUG)  # the library that prints request URLs
    try:
        port = free_port()
        hook = Webhook(
            url=f"http://127.0.0.1:{port}/telegram", secret=SECRET, listen="127.0.0.1", port=port
        )
        world = await start_world(sandbox, database, clock, webhook=hook)
        try:
            principal = world.person("Thầy Hùng")
            group = await world.group("Nhóm", principal)
            await world.register(group, "th-chi-ne", principal)
            await world.coordinator.asks(world.coordinator.id, "/thongbao Kiểm tra")
            await world.sandbox.wait_sent(world.coordinator.id, len(world.notices()) + 1)
        finally:
            await world.loa.stop()
    finally:
        logging.getLogger().removeHandler(handler)
    output = stream.getvalue()
    assert "sendMessage" in output  # the logs did record the requests...
    assert "bot***/sendMessage" in output  # ...with the token masked
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert SECRET not in output
