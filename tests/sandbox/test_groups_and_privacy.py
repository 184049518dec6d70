"""Basic groups and their upgrade, privacy mode with two bots, anonymous admins.

Each is checked the way the bot meets it: through python-telegram-bot's parsing, its filters and
its exceptions, and where Telegram's exact JSON matters, against the raw answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import telegram
from telegram.error import ChatMigrated, Forbidden
from telegram.ext import filters

from bot.sandbox.telegram import SandboxError, TelegramSandbox
from tests.sandbox.support import OTHER, TOKEN, drain

ANONYMOUS = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


@pytest.fixture
async def other(sandbox: TelegramSandbox) -> AsyncIterator[telegram.Bot]:
    """A second bot with privacy mode on, like the first."""
    sandbox.add_bot(OTHER, username="other_bot")
    async with telegram.Bot(OTHER, base_url=f"{sandbox.base_url}/bot") as client:
        yield client


async def test_a_basic_group_has_type_group_and_a_short_id(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    lan = sandbox.add_user("Lan")
    group = sandbox.create_group("Tổ Toán", bots=[TOKEN], creator=lan, supergroup=False)
    assert str(group).startswith("-4") and len(str(group)) == 11  # -4xxxxxxxxx, no -100
    (update,) = await drain(bot)
    assert update.my_chat_member.chat.type == telegram.Chat.GROUP
    assert (await bot.get_chat(group)).type == "group"
    await sandbox.post(group, lan, "/start")
    (update,) = await drain(bot)
    assert update.message.chat.id == group and update.message.chat.type == "group"
    sandbox.remove_bot(group, TOKEN)
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the group chat$"):
        await bot.send_message(group, "còn ai không?")
    with pytest.raises(SandboxError, match="username"):
        sandbox.create_group("Công khai", username="to_toan", supergroup=False)


async def test_migration_tells_every_bot_in_both_chats_as_telegram_does(
    sandbox: TelegramSandbox, bot: telegram.Bot, other: telegram.Bot
) -> None:
    lan, minh = sandbox.add_user("Lan", "co_lan"), sandbox.add_user("Minh")
    old = sandbox.create_group(
        "Tổ Văn", members=[minh], bots=[TOKEN, OTHER], creator=lan, supergroup=False
    )
    await sandbox.post(old, minh, "/baocao")
    await drain(bot)
    await drain(other)
    sandbox.remove_bot(old, OTHER)
    await drain(other)

    new = sandbox.migrate(old)
    assert str(new).startswith("-100")
    farewell, welcome = await drain(bot)
    assert await other.get_updates() == ()  # a kicked bot hears nothing of it
    assert farewell.message.migrate_to_chat_id == new
    assert (farewell.message.chat.id, farewell.message.chat.type) == (old, "group")
    assert farewell.message.from_user.id == lan  # the creator upgraded it
    assert welcome.message.migrate_from_chat_id == old and welcome.message.message_id == 1
    assert (welcome.message.chat.id, welcome.message.chat.type) == (new, "supergroup")
    assert welcome.message.from_user.username == "GroupAnonymousBot"
    assert welcome.message.sender_chat.id == new
    assert all(filters.StatusUpdate.MIGRATE.check_update(u) for u in (farewell, welcome))

    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(old, "Xin chào")
    assert migrated.value.new_chat_id == new
    with pytest.raises(ChatMigrated):
        await bot.get_chat_member(old, lan)
    await bot.send_message(new, "Xin chào nhóm mới")
    assert isinstance(await bot.get_chat_member(new, lan), telegram.ChatMemberOwner)
    assert (await bot.get_chat_member(new, minh)).status == "member"
    assert (await bot.get_chat_member(new, other.id)).status == "kicked"
    assert sandbox.chat_title(old) == sandbox.chat_title(new) == "Tổ Văn"
    with pytest.raises(SandboxError, match="upgraded"):
        await sandbox.post(old, minh, "ai còn ở đây?")
    with pytest.raises(SandboxError, match="supergroup already"):
        sandbox.migrate(new)


async def test_migration_shapes_are_telegrams_to_the_byte(sandbox: TelegramSandbox) -> None:
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        user = (await http.post("/sandbox/users", json={"first_name": "Hoa"})).json()["id"]
        body = {"title": "UBND xã", "bots": [TOKEN], "creator": user, "supergroup": False}
        old = (await http.post("/sandbox/groups", json=body)).json()["id"]
        (added,) = (await http.post(f"/bot{TOKEN}/getUpdates")).json()["result"]
        await http.post(f"/bot{TOKEN}/getUpdates", json={"offset": added["update_id"] + 1})

        new = (await http.post(f"/sandbox/chats/{old}/migrate")).json()["id"]
        farewell, welcome = (await http.post(f"/bot{TOKEN}/getUpdates")).json()["result"]
        refused = await http.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": old, "text": "?"})

    group = {
        "id": old,
        "title": "UBND xã",
        "type": "group",
        "all_members_are_administrators": False,
    }
    supergroup = {"id": new, "title": "UBND xã", "type": "supergroup"}
    hoa = {"id": user, "is_bot": False, "first_name": "Hoa", "language_code": "vi"}
    assert farewell["message"] == {
        "message_id": 1,
        "from": hoa,
        "chat": group,
        "date": farewell["message"]["date"],
        "migrate_to_chat_id": new,
    }
    assert welcome["message"] == {
        "message_id": 1,
        "from": ANONYMOUS,
        "sender_chat": supergroup,
        "chat": supergroup,
        "date": welcome["message"]["date"],
        "migrate_from_chat_id": old,
    }
    assert refused.status_code == 400
    assert refused.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": new},
    }


async def test_general_commands_go_to_the_last_bot_that_spoke(
    sandbox: TelegramSandbox, bot: telegram.Bot, other: telegram.Bot
) -> None:
    minh = sandbox.add_user("Minh")
    group = sandbox.create_group("Tổ Toán", members=[minh], bots=[TOKEN, OTHER])
    await drain(bot)
    await drain(other)

    async def heard() -> tuple[list[str], list[str]]:
        texts = []
        for client in (bot, other):
            texts.append([u.message.text for u in await drain(client) if u.message])
        return texts[0], texts[1]

    await sandbox.post(group, minh, "/help")  # no bot has spoken yet: both are addressed
    assert await heard() == (["/help"], ["/help"])

    await other.send_message(group, "Tôi là other_bot")
    await sandbox.post(group, minh, "/help")
    await sandbox.post(group, minh, "/help@loa_bot")
    assert await heard() == (["/help@loa_bot"], ["/help"])

    prompt = await bot.send_message(group, "Số lớp?")
    await sandbox.post(group, minh, "/help")
    await sandbox.post(group, minh, "/help@other_bot")
    await sandbox.post(group, minh, "12", reply_to=prompt.message_id)
    await sandbox.post(group, minh, "chào @other_bot")
    await sandbox.post(group, minh, "chào cả nhà")
    assert await heard() == (["/help", "12"], ["/help@other_bot", "chào @other_bot"])

    sandbox.remove_bot(group, TOKEN)  # the last bot to speak left: nobody is addressed
    await drain(other)
    await sandbox.post(group, minh, "/help")
    assert [u.message.text for u in await drain(other)] == ["/help"]


async def test_a_lone_bot_gets_general_commands_before_and_after_it_speaks(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    minh = sandbox.add_user("Minh")
    group = sandbox.create_group("Tổ Anh", members=[minh], bots=[TOKEN])
    await drain(bot)
    await sandbox.post(group, minh, "/start")
    await bot.send_message(group, "Chào")
    await sandbox.post(group, minh, "/help")
    await sandbox.post(group, minh, "chào")  # not a command: privacy keeps it out
    assert [u.message.text for u in await drain(bot)] == ["/start", "/help"]


async def test_an_anonymous_admin_writes_as_the_group(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    group = people["group"]
    await drain(bot)
    posted = await sandbox.post(group, people["lan"], "/baocao", anonymous=True)
    assert posted["from"] == ANONYMOUS  # no language_code: it is not a person's client
    assert posted["sender_chat"] == {
        "id": group,
        "title": "Trường TH Lạc Thủy",
        "type": "supergroup",
    }
    assert list(posted)[:4] == ["message_id", "from", "sender_chat", "chat"]

    (update,) = await drain(bot)
    message = update.message
    assert message.from_user.id == 1087968824 and message.from_user.is_bot
    assert message.from_user.first_name == "Group"
    assert message.sender_chat.id == group == message.chat.id
    assert update.effective_sender.id == group  # PTB: the chat speaks, not the stand-in bot
    with pytest.raises(SandboxError, match="not an admin"):
        await sandbox.post(group, people["minh"], "ẩn danh", anonymous=True)
    basic = sandbox.create_group("Tổ cũ", admins=[people["lan"]], supergroup=False)
    with pytest.raises(SandboxError, match="supergroup"):
        await sandbox.post(basic, people["lan"], "ẩn danh", anonymous=True)
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        body = {"user_id": people["lan"], "text": "qua HTTP", "anonymous": True}
        over_http = (await http.post(f"/sandbox/chats/{group}/messages", json=body)).json()
    assert over_http["from"] == ANONYMOUS
