"""Fixtures for the sandbox tests: a running sandbox with one bot, its PTB client, a group."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram

from bot.sandbox.telegram import Limits, TelegramSandbox
from tests.sandbox.support import TOKEN


@pytest.fixture
async def sandbox() -> AsyncIterator[TelegramSandbox]:
    async with TelegramSandbox(limits=Limits.off()) as server:
        server.add_bot(TOKEN, username="loa_bot")
        yield server


@pytest.fixture
async def bot(sandbox: TelegramSandbox) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(
        TOKEN, base_url=f"{sandbox.base_url}/bot", base_file_url=f"{sandbox.base_url}/file/bot"
    ) as client:
        yield client


@pytest.fixture
def people(sandbox: TelegramSandbox) -> dict[str, int]:
    """A group with a principal (admin), a clerk (member) and the bot."""
    lan = sandbox.add_user("Lan", "co_lan", last_name="Nguyễn")
    minh = sandbox.add_user("Minh")
    group = sandbox.create_group("Trường TH Lạc Thủy", members=[minh], bots=[TOKEN], admins=[lan])
    return {"lan": lan, "minh": minh, "group": group}
