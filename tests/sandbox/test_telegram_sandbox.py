"""The sandbox Telegram Bot API server, driven over real HTTP by python-telegram-bot itself.

Every object the sandbox returns goes through PTB's parsing here, so a missing field or a wrong
type fails these tests the way it would fail the bot.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import subprocess
import sys
import time

import httpx
import pytest
import telegram
from aiohttp import web
from telegram import BotCommand, BotCommandScopeChat, ReplyParameters, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.sandbox.limits import FloodControl, Rate, Verdict
from bot.sandbox.telegram import Limits, SandboxError, TelegramSandbox
from tests.sandbox.support import OTHER, TOKEN, drain


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else value


async def test_get_me_describes_the_bot(bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username, me.first_name) == (123456, True, "loa_bot", "Loa")
    assert me.can_join_groups and not me.can_read_all_group_messages
    assert me.supports_inline_queries is False


async def test_adding_the_bot_to_a_group_is_a_my_chat_member_update(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    (update,) = await drain(bot)
    change = update.my_chat_member
    assert change.chat.id == people["group"] and change.chat.type == "supergroup"
    assert str(change.chat.id).startswith("-100")
    assert change.from_user.id == people["lan"]  # the first admin added it
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("left", "member")
    assert change.new_chat_member.user.id == bot.id


async def test_send_message_returns_a_full_message_and_is_recorded(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    group = people["group"]
    asked = await sandbox.post(group, people["lan"], "/baocao")
    answer = await bot.send_message(
        group,
        "Đã nhận báo cáo.",
        reply_parameters=ReplyParameters(asked["message_id"]),
        disable_notification=True,
    )
    assert answer.message_id == asked["message_id"] + 1  # one sequence per chat, users and bots
    assert answer.from_user.id == bot.id and answer.from_user.is_bot
    assert answer.chat.title == "Trường TH Lạc Thủy"
    assert answer.reply_to_message.text == "/baocao"
    assert answer.reply_to_message.from_user.id == people["lan"]
    assert abs(answer.date.timestamp() - time.time()) < 5

    (sent,) = sandbox.sent(group)
    assert sent["text"] == "Đã nhận báo cáo." and isinstance(sent["date"], int)
    assert sent["message_id"] == answer.message_id
    assert sent["sandbox"]["disable_notification"] is True
    assert sandbox.sent(token=OTHER) == [] and sandbox.stats.sent == 1


async def test_a_command_arrives_through_a_long_poll_with_its_entity(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    await drain(bot)
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()  # really waiting
    started = time.monotonic()
    await sandbox.post(people["group"], people["minh"], "/baocao@loa_bot 12 lớp")
    (update,) = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1  # answered as soon as the update arrived
    message = update.message
    assert message.text == "/baocao@loa_bot 12 lớp"
    assert message.from_user.language_code == "vi" and not message.from_user.is_bot
    assert message.entities[0].type == "bot_command"
    assert (message.entities[0].offset, message.entities[0].length) == (0, 15)
    assert filters.COMMAND.check_update(update)


async def test_an_application_answers_a_command_by_polling(
    sandbox: TelegramSandbox, people: dict[str, int]
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(f"Xin chào {update.effective_user.first_name}")

    app = Application.builder().token(TOKEN).base_url(f"{sandbox.base_url}/bot").build()
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await sandbox.post(people["group"], people["lan"], "/start")
        (reply,) = await sandbox.wait_sent(people["group"], 1, timeout=3)
        await app.updater.stop()
        await app.stop()
    assert reply["text"] == "Xin chào Lan"
    assert reply["reply_to_message"]["text"] == "/start"


async def test_privacy_mode_shows_commands_replies_and_mentions_only(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    sandbox.add_bot(OTHER, username="other_bot", privacy=False)
    sandbox.add_bot_to_chat(people["group"], OTHER)
    group, minh = people["group"], people["minh"]
    await drain(bot)
    prompt = await bot.send_message(group, "Số lớp học tập?")

    await sandbox.post(group, minh, "chào cả nhà")
    await sandbox.post(group, minh, "/help@other_bot")
    await sandbox.post(group, minh, "12", reply_to=prompt.message_id)
    await sandbox.post(group, minh, "hỏi @loa_bot nhé")
    await sandbox.post(group, minh, "/help")
    seen = [u.message.text for u in await drain(bot)]
    assert seen == ["12", "hỏi @loa_bot nhé", "/help"]

    async with telegram.Bot(OTHER, base_url=f"{sandbox.base_url}/bot") as other:
        texts = [u.message.text for u in await other.get_updates() if u.message]
    assert texts == ["chào cả nhà", "/help@other_bot", "12", "hỏi @loa_bot nhé", "/help"]


async def test_private_chat_delivers_everything(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    lan = people["lan"]
    assert sandbox.private_chat(lan) == lan
    await sandbox.post(lan, lan, "xin chào")
    (update,) = [u for u in await drain(bot) if u.message]
    assert update.message.chat.type == "private" and update.message.chat.id == lan
    assert update.message.chat.first_name == "Lan" and update.message.chat.last_name == "Nguyễn"


async def test_offset_confirms_earlier_updates(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    for n in range(3):
        await sandbox.post(people["group"], people["lan"], f"/so {n}")
    updates = await bot.get_updates()
    assert len(updates) == 4  # my_chat_member and three commands
    assert [u.update_id for u in updates] == sorted({u.update_id for u in updates})
    again = await bot.get_updates(offset=updates[2].update_id)
    assert [u.update_id for u in again] == [u.update_id for u in updates[2:]]
    assert len(await bot.get_updates(limit=1)) == 1
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_allowed_updates_filter_new_updates(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    await drain(bot, allowed_updates=["my_chat_member"])
    await sandbox.post(people["group"], people["lan"], "/start")
    sandbox.remove_bot(people["group"], TOKEN)
    (update,) = await drain(bot)
    assert update.my_chat_member is not None


async def test_unknown_token_is_401_and_unknown_method_404(sandbox: TelegramSandbox) -> None:
    stranger = telegram.Bot("999:nope", base_url=f"{sandbox.base_url}/bot")
    with pytest.raises(InvalidToken):
        await stranger.initialize()  # PTB's check of the token: getMe
    await stranger.shutdown()
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        answer = await http.post("/bot999:nope/getMe")
        assert answer.status_code == 401
        assert answer.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        answer = await http.get(f"/bot{TOKEN}/sendSticker")
        assert answer.status_code == 404
        assert answer.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        answer = await http.get(f"/bot{TOKEN}/GETME")  # method names ignore case
        assert answer.json()["result"]["username"] == "loa_bot"


async def test_parameters_as_json_query_and_form(
    sandbox: TelegramSandbox, people: dict[str, int]
) -> None:
    group = people["group"]
    async with httpx.AsyncClient(base_url=f"{sandbox.base_url}/bot{TOKEN}") as http:
        by_json = await http.post("/sendMessage", json={"chat_id": group, "text": "một"})
        by_query = await http.get("/sendMessage", params={"chat_id": str(group), "text": "hai"})
        by_form = await http.post(
            "/sendMessage",
            data={
                "chat_id": str(group),
                "text": "ba",
                "reply_parameters": f'{{"message_id": {by_json.json()["result"]["message_id"]}}}',
            },
        )
        missing = await http.post("/sendMessage", json={"chat_id": group})
    assert [a.status_code for a in (by_json, by_query, by_form)] == [200, 200, 200]
    assert by_form.json()["result"]["reply_to_message"]["text"] == "một"
    assert missing.status_code == 400
    assert missing.json()["description"] == "Bad Request: message text is empty"


async def test_removed_bot_gets_403_and_a_my_chat_member_update(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    group = people["group"]
    await drain(bot)
    sandbox.remove_bot(group, TOKEN, by_user=people["lan"])
    (update,) = await drain(bot)
    change = update.my_chat_member
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("member", "kicked")
    assert isinstance(change.new_chat_member, telegram.ChatMemberBanned)
    assert change.from_user.id == people["lan"]
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the supergroup chat"):
        await bot.send_message(group, "còn ai không?")
    await sandbox.post(group, people["lan"], "/start")
    assert await bot.get_updates() == ()  # a kicked bot hears nothing
    assert sandbox.sent(group) == []


async def test_private_chat_errors_as_telegram_words_them(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    minh = people["minh"]
    with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation with a user"):
        await bot.send_message(minh, "chào")
    await sandbox.post(minh, minh, "/start")
    await bot.send_message(minh, "chào")
    sandbox.remove_bot(minh, TOKEN)  # the user blocks the bot
    updates = await drain(bot)
    blocked = updates[-1].my_chat_member
    assert blocked.chat.type == "private" and blocked.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(minh, "chào lần nữa")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(-1009999999999, "ai đó?")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(people["group"], "a" * 4097)
    sandbox.add_bot_to_chat(minh, TOKEN)  # unblocked
    await bot.send_message(minh, "chào lại")
    assert [m["text"] for m in sandbox.sent(minh)] == ["chào", "chào lại"]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # int retry_after
async def test_group_limit_answers_429_and_counts_early_retries(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    sandbox.limits = Limits(overall=Rate(30, 1.0), group=Rate(2, 1.0), private=None)
    group = people["group"]
    await bot.send_message(group, "1")
    await bot.send_message(group, "2")
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(group, "3")
    assert _seconds(refused.value.retry_after) == 1
    with pytest.raises(RetryAfter):
        await bot.send_message(group, "3 again, too soon")
    assert (sandbox.stats.rate_limited, sandbox.stats.early_retries) == (2, 1)
    assert [m["text"] for m in sandbox.sent(group)] == ["1", "2"]
    description = sandbox.errors[-1]
    assert description == ("sendMessage", 429, "Too Many Requests: retry after 1")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # int retry_after
async def test_a_send_already_on_its_way_when_a_429_is_answered_is_not_an_early_retry(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    """Two sends leave together, each on its own connection, and both are refused: the group's
    window is full. The second refusal lands in the first one's wait, but its sender had been
    told nothing yet: it was on its way, not a retry that ignored `retry_after`. A send made
    once the bot holds those answers is one."""
    sandbox.limits = Limits(overall=None, group=Rate(1, 60.0), private=None)
    group = people["group"]
    await bot.send_message(group, "1")
    sandbox.latency = 0.05  # both requests are in before either is answered
    refused = await asyncio.gather(
        bot.send_message(group, "2"), bot.send_message(group, "3"), return_exceptions=True
    )
    assert [type(r) for r in refused] == [RetryAfter, RetryAfter]
    assert (sandbox.stats.rate_limited, sandbox.stats.early_retries) == (2, 0)
    with pytest.raises(RetryAfter):
        await bot.send_message(group, "4, too soon")
    assert (sandbox.stats.rate_limited, sandbox.stats.early_retries) == (3, 1)
    assert [m["text"] for m in sandbox.sent(group)] == ["1"]


def test_flood_control_computes_retry_after_from_the_windows() -> None:
    flood = FloodControl()
    scopes = [("bot", Rate(30, 1.0)), ("group", Rate(20, 60.0))]
    for second in range(20):
        assert flood.admit(scopes, 100.0 + second).retry_after is None
    refused = flood.admit(scopes, 130.0)
    assert refused.retry_after == 30 and not refused.early  # the send at 100 leaves at 160
    assert flood.admit(scopes, 150.0).early  # came back 20 s into a 30 s wait
    assert flood.admit(scopes, 160.0).retry_after is None  # waited as told: fine
    assert flood.admit([("any", None)], 160.0).retry_after is None


def test_flood_control_counts_as_early_a_send_on_a_connection_it_had_refused() -> None:
    """HTTP/1.1 answers a connection's requests in turn: a request on a connection that carried
    a 429 of the wait still running was sent after its client had read that 429. One on another
    connection may have left before: not early."""
    flood = FloodControl()
    group = [("group", Rate(1, 60.0))]
    assert flood.admit(group, 100.0, connection="a").retry_after is None
    assert flood.admit(group, 101.0, connection="a") == Verdict(retry_after=59)  # until 160
    assert flood.admit(group, 102.0, connection="b") == Verdict(retry_after=58)  # on its way
    assert flood.admit(group, 103.0, connection="a").early  # told at 101
    assert flood.admit(group, 104.0, connection="b").early  # told at 102
    assert flood.admit([("other", Rate(1, 60.0))], 105.0, connection="c").retry_after is None
    assert flood.admit(group, 160.0, connection="a").retry_after is None  # waited as told
    refused = flood.admit(group, 161.0, connection="b")  # a new wait, until 220: news to b
    assert refused == Verdict(retry_after=59)
    assert not flood.admit(group, 162.0, connection="a").early  # a has not heard of it yet


async def test_fail_next_is_an_error_without_side_effects(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    sandbox.fail_next("sendMessage", status=502, description="Bad Gateway")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(people["group"], "thử")
    assert sandbox.sent() == []
    await bot.send_message(people["group"], "thử lại")
    assert [m["text"] for m in sandbox.sent()] == ["thử lại"]
    assert sandbox.stats.injected_failures == 1


async def test_latency_delays_every_answer(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    sandbox.latency = 0.1
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.1


async def test_webhook_delivers_in_order_with_the_secret_and_retries(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    received: list[tuple[str | None, dict]] = []
    failures = [500]  # the first delivery fails once

    async def hook(request: web.Request) -> web.Response:
        if failures:
            return web.Response(status=failures.pop())
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    sandbox.webhook_backoff = (0.01, 0.05)
    try:
        assert await bot.set_webhook(url, secret_token="bi-mat_1", drop_pending_updates=True)
        with pytest.raises(
            Conflict, match=r"(?i)can't use getUpdates method while webhook is active"
        ):
            await bot.get_updates()
        for n in range(3):
            await sandbox.post(people["group"], people["lan"], f"/so {n}")
        for _ in range(100):
            if len(received) == 3:
                break
            await asyncio.sleep(0.02)
        assert [secret for secret, _ in received] == ["bi-mat_1"] * 3
        assert [body["message"]["text"] for _, body in received] == ["/so 0", "/so 1", "/so 2"]
        info = await bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert info.last_error_date is not None
        assert await bot.delete_webhook()
        assert await bot.get_updates() == ()
    finally:
        await runner.cleanup()


async def test_commands_are_kept_per_scope(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    group = people["group"]
    await bot.set_my_commands([BotCommand("start", "Bắt đầu"), BotCommand("baocao", "Báo cáo")])
    await bot.set_my_commands(
        [BotCommand("xuat", "Xuất số liệu")], scope=BotCommandScopeChat(group)
    )
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "baocao"]
    scoped = await bot.get_my_commands(scope=BotCommandScopeChat(group))
    assert [(c.command, c.description) for c in scoped] == [("xuat", "Xuất số liệu")]
    assert set(sandbox.commands(TOKEN)) == {"default", f"chat:{group}", "default/en"}
    await bot.delete_my_commands(scope=BotCommandScopeChat(group))
    assert await bot.get_my_commands(scope=BotCommandScopeChat(group)) == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Báo cáo", "sai")])


async def test_chat_members_parse_as_ptb_subclasses(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    group = people["group"]
    outsider = sandbox.add_user("Hùng")
    admin = await bot.get_chat_member(group, people["lan"])
    assert isinstance(admin, telegram.ChatMemberAdministrator) and admin.can_manage_chat
    member = await bot.get_chat_member(group, people["minh"])
    assert isinstance(member, telegram.ChatMemberMember)
    assert isinstance(await bot.get_chat_member(group, outsider), telegram.ChatMemberLeft)
    assert (await bot.get_chat_member(group, bot.id)).status == "member"
    admins = await bot.get_chat_administrators(group)
    assert [m.user.id for m in admins] == [people["lan"]]
    owned = sandbox.create_group("Phòng GD&ĐT", bots=[TOKEN], creator=outsider)
    assert isinstance(await bot.get_chat_member(owned, outsider), telegram.ChatMemberOwner)
    chat = await bot.get_chat(group)
    assert chat.title == "Trường TH Lạc Thủy" and chat.type == "supergroup"
    with pytest.raises(BadRequest, match=r"(?i)user not found"):
        await bot.get_chat_member(group, 42)


async def test_send_document_keeps_the_file(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    content = b"PK\x03\x04 pretend this is an XLSX workbook" * 100
    message = await bot.send_document(
        people["group"],
        content,
        filename="tong-hop.xlsx",
        caption="Bảng <b>tổng hợp</b>",
        parse_mode="HTML",
    )
    assert message.document.file_name == "tong-hop.xlsx" and message.document.file_size == len(
        content
    )
    assert message.document.mime_type.endswith("spreadsheetml.sheet")
    assert message.caption == "Bảng tổng hợp" and message.caption_entities[0].type == "bold"
    (sent,) = sandbox.sent(people["group"])
    assert sent["sandbox"]["file_bytes"] == content
    assert sandbox.file(message.document.file_id) == content
    again = await bot.send_document(people["group"], message.document.file_id)
    assert again.document.file_id == message.document.file_id


async def test_vietnamese_entities_are_counted_in_utf16(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    group = people["group"]
    text = "Chào thầy 👋🏻 Hiệu trưởng, nhờ @loa_bot ghi nhận /baocao 😀"
    await drain(bot)
    await sandbox.post(group, people["lan"], text)
    (update,) = await drain(bot)
    parsed = update.message.parse_entities()
    assert sorted(parsed.values()) == ["/baocao", "@loa_bot"]
    mention = next(e for e in parsed if e.type == "mention")
    assert mention.offset == len(text[: text.index("@")].encode("utf-16-le")) // 2
    assert mention.offset != text.index("@")  # the emoji count twice in UTF-16

    sent = await bot.send_message(
        group, "<b>Thứ Hai</b>, 02/10 👍 lúc <i>8h00</i> &lt;3", parse_mode="HTML"
    )
    assert sent.text == "Thứ Hai, 02/10 👍 lúc 8h00 <3"
    assert sorted(sent.parse_entities().values()) == ["8h00", "Thứ Hai"]
    md = await bot.send_message(group, "*Thứ Hai*, 02/10 lúc _8h00_\\.", parse_mode="MarkdownV2")
    assert sorted(md.parse_entities().values()) == ["8h00", "Thứ Hai"]


async def test_malformed_markup_is_refused_as_telegram_refuses_it(
    bot: telegram.Bot, people: dict[str, int]
) -> None:
    group = people["group"]
    with pytest.raises(BadRequest, match=r'(?i)Unsupported start tag "br"'):
        await bot.send_message(group, "dòng 1<br>dòng 2", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Can't find end tag corresponding to start tag"):
        await bot.send_message(group, "<b>đậm", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Character '.' is reserved"):
        await bot.send_message(group, "Ngày 02.10", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match=r"(?i)Can't find end of Bold entity"):
        await bot.send_message(group, "*đậm", parse_mode="MarkdownV2")
    trimmed = await bot.send_message(group, "  có khoảng trắng \n")
    assert trimmed.text == "có khoảng trắng"


async def test_wait_sent_times_out_with_an_explanation(
    sandbox: TelegramSandbox, people: dict[str, int]
) -> None:
    with pytest.raises(TimeoutError, match=r"0 of 1 bot message\(s\) after 0.05s"):
        await sandbox.wait_sent(people["group"], timeout=0.05)
    with pytest.raises(SandboxError):
        await sandbox.post(people["group"], 42, "ai?")


async def test_control_endpoints_drive_a_bot_over_http(sandbox: TelegramSandbox) -> None:
    async with httpx.AsyncClient(base_url=f"{sandbox.base_url}/sandbox") as http:
        assert (
            await http.post("/bots", json={"token": OTHER, "username": "xa_bot"})
        ).status_code == 200
        user = (await http.post("/users", json={"first_name": "Hoa", "username": "co_hoa"})).json()[
            "id"
        ]
        group = (
            await http.post(
                "/groups",
                json={"title": "UBND xã", "members": [user], "bots": [OTHER], "admins": [user]},
            )
        ).json()["id"]
        posted = await http.post(
            f"/chats/{group}/messages", json={"user_id": user, "text": "/start"}
        )
        assert posted.json()["entities"][0]["type"] == "bot_command"

        async with telegram.Bot(OTHER, base_url=f"{sandbox.base_url}/bot") as other:
            updates = await other.get_updates()
            assert updates[-1].message.text == "/start"
            await other.send_message(group, "Chào UBND xã")
            await other.send_document(group, b"a;b\n1;2\n", filename="so-lieu.csv")
            sent = (await http.get("/sent", params={"chat_id": group, "token": OTHER})).json()
            assert [m.get("text") for m in sent] == ["Chào UBND xã", None]
            assert base64.b64decode(sent[1]["sandbox"]["file_base64"]) == b"a;b\n1;2\n"

            faults = await http.post(
                "/faults",
                json={"latency": 0.01, "fail_next": {"method": "sendMessage", "status": 500}},
            )
            assert faults.json()["fail_next"] == {
                "sendmessage": [{"status": 500, "description": "Internal Server Error"}]
            }
            with pytest.raises(NetworkError):
                await other.send_message(group, "lỗi")
            assert (await http.get("/faults")).json() == {"latency": 0.01, "fail_next": {}}

            assert (
                await http.post(f"/chats/{group}/remove_bot", json={"token": OTHER})
            ).status_code == 200
            with pytest.raises(Forbidden):
                await other.send_message(group, "còn ở đây không?")
            assert (
                await http.post(f"/chats/{group}/add_bot", json={"token": OTHER})
            ).status_code == 200
            await other.send_message(group, "đã trở lại")

        stats = (await http.get("/stats")).json()
        assert stats["sent"] == 3 and stats["injected_failures"] == 1
        bad = await http.post(f"/chats/{group}/messages", json={"text": "thiếu user_id"})
        assert bad.status_code == 400 and "user_id" in bad.json()["error"]


def test_python_m_bot_sandbox_prints_its_url() -> None:
    command = [sys.executable, "-m", "bot.sandbox", "--port", "0", "--no-limits"]
    with subprocess.Popen(
        [*command, "--bot", f"{TOKEN}=loa_bot"], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            answer = httpx.get(f"{url}/bot{TOKEN}/getMe").json()
            assert answer["result"]["username"] == "loa_bot"
        finally:
            process.terminate()
            assert process.wait(timeout=5) == 0
