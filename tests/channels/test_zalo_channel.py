"""The Zalo channel against the sandbox Zalo Bot API, polling and on a webhook, over real HTTP.

A test plays the people in the sandbox and reads what the channel hands the core (`Inbox`);
the client's unwrapping is checked without a server, through httpx's MockTransport.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from bot.channels import zalo as zalo_module
from bot.channels.base import (
    ChatType,
    Event,
    FetchFailed,
    InboundMessage,
    PhotoReceived,
    TooLarge,
)
from bot.channels.defaults import ZaloLimits
from bot.channels.pacing import Pacers
from bot.channels.webhook import Webhook
from bot.channels.zalo import NotText, ZaloChannel, parse_update, poll_wait, send_error
from bot.channels.zalo_api import (
    RETRY_AFTER,
    ZaloApiError,
    ZaloBotApi,
    ZaloNetworkError,
    unwrap,
)
from bot.config import Settings
from bot.errors import (
    ChatMaybeGone,
    ChatUnreachable,
    Invalid,
    RetryLater,
    SendError,
    TemporaryFailure,
)
from bot.messages import render
from bot.sandbox.zalo import IDLE_FORMS, RATE_LIMIT_FORMS, Limits, ZaloSandbox

TOKEN = "1459232241454765289:zalo-token-that-must-never-be-logged"
BOT_ID = "1459232241454765289"
FAST = ZaloLimits(overall_per_second=1000, chat_per_second=1000)
PLAIN = {"chat": {"id": "c", "chat_type": "PRIVATE"}, "from": {"id": "u", "is_bot": False}}
BOT = {"id": "b", "is_bot": True}


class Inbox:
    """What the channel hands the core, awaited one event at a time."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.fail_on: str | None = None  # a text whose handling raises

    async def __call__(self, event: Event) -> None:
        if isinstance(event, InboundMessage) and event.text == self.fail_on:
            raise RuntimeError("the core tripped over this one")
        await self.events.put(event)

    async def next(self, timeout: float = 3.0) -> Event:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def nothing(self, wait: float = 0.3) -> None:
        await asyncio.sleep(wait)
        assert self.events.empty(), self.events.get_nowait()


@pytest.fixture
async def sandbox() -> AsyncIterator[ZaloSandbox]:
    async with ZaloSandbox(limits=Limits.off()) as server:
        server.add_bot(TOKEN, display_name="Loa Lạc Thủy")
        server.webhook_backoff = (0.05, 0.2)
        yield server


@pytest.fixture
def people(sandbox: ZaloSandbox) -> dict[str, str]:
    lan, minh = sandbox.add_user("Nguyễn Thị Lan"), sandbox.add_user("Minh")
    group = sandbox.create_group("Trường TH Lạc Thủy", members=[lan, minh], bots=[TOKEN])
    return {"lan": lan, "minh": minh, "group": group}


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
async def polling(sandbox: ZaloSandbox, inbox: Inbox) -> AsyncIterator[ZaloChannel]:
    channel = ZaloChannel(TOKEN, api_base_url=sandbox.base_url, limits=FAST, poll_timeout=1)
    await channel.start(inbox)
    yield channel
    await channel.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def hook_for(port: int, secret: str = "webhook-secret-123") -> Webhook:
    return Webhook(
        url=f"http://127.0.0.1:{port}/zalo/hook", secret=secret, listen="127.0.0.1", port=port
    )


# -- receiving ---------------------------------------------------------------------------------


async def test_a_private_text_becomes_an_inbound_message(
    sandbox: ZaloSandbox, polling: ZaloChannel, inbox: Inbox, people: dict[str, str]
) -> None:
    lan = people["lan"]
    posted = await sandbox.post(lan, lan, "  /dangky AB12  ")
    message = await inbox.next()
    assert message == InboundMessage(
        platform="zalo",
        chat_id=lan,
        chat_type=ChatType.PRIVATE,
        chat_title="Nguyễn Thị Lan",
        user_id=lan,
        user_name="Nguyễn Thị Lan",
        text="/dangky AB12",
        message_id=posted["message_id"],
        at=message.at,
        reply_to=None,
    )
    assert message.at.tzinfo is not None
    assert message.at == dt.datetime.fromtimestamp(posted["date"] / 1000, dt.UTC)
    assert message.sender == f"zalo:{lan}"
    assert polling.mode == "polling" and polling.bot_id == BOT_ID


async def test_a_group_mention_arrives_without_the_mention(
    sandbox: ZaloSandbox, polling: ZaloChannel, inbox: Inbox, people: dict[str, str]
) -> None:
    group, minh = people["group"], people["minh"]
    await sandbox.post(group, minh, "chuyện riêng")  # Zalo does not show the bot this
    await sandbox.post(group, minh, "@Loa Lạc Thủy 3 lớp, 120 người")
    message = await inbox.next()
    assert (message.chat_id, message.chat_type, message.chat_title) == (group, ChatType.GROUP, None)
    assert (message.user_id, message.user_name) == (minh, "Minh")
    assert message.text == "3 lớp, 120 người"
    await inbox.nothing()


async def test_a_reply_to_the_bot_in_a_group_arrives_with_no_reply_id(
    sandbox: ZaloSandbox, polling: ZaloChannel, inbox: Inbox, people: dict[str, str]
) -> None:
    group = people["group"]
    prompt = await polling.send(group, "Đơn vị có bao nhiêu lớp?")
    await sandbox.post(group, people["lan"], "12 lớp", reply_to=prompt)
    message = await inbox.next()
    assert message.text == "12 lớp" and message.chat_type is ChatType.GROUP
    assert message.reply_to is None  # Zalo's update says nothing about the reply


def test_a_reply_field_when_zalo_sends_one_names_the_bots_message() -> None:
    def update(replied: dict | None, sender: str = "u1") -> dict:
        message = {
            "from": {"id": sender, "display_name": "Lan", "is_bot": False},
            "chat": {"id": "g1", "chat_type": "GROUP"},
            "text": "@Loa 12 lớp",
            "message_id": "m2",
            "date": 1750316131602,
        }
        if replied is not None:
            message["reply_to_message"] = replied
        return {"event_name": "message.text.received", "message": message}

    def parse(update: dict) -> InboundMessage | PhotoReceived | NotText | None:
        return parse_update(update, bot_id=BOT_ID, bot_name="Loa")

    to_bot = parse(update({"message_id": "m1", "from": {"id": BOT_ID}}))
    to_someone = parse(update({"message_id": "m0", "from": {"id": "u9"}}))
    plain = parse(update(None))
    assert isinstance(to_bot, InboundMessage) and to_bot.reply_to == "m1"
    assert isinstance(to_someone, InboundMessage) and to_someone.reply_to is None
    assert isinstance(plain, InboundMessage) and plain.text == "12 lớp"
    assert plain.at == dt.datetime(2025, 6, 19, 6, 55, 31, 602000, tzinfo=dt.UTC)
    assert parse(update(None, sender=BOT_ID)) is None  # its own message, echoed back


@pytest.mark.parametrize(
    "update",
    [
        {"event_name": "message.voice.received", "message": {**PLAIN, "text": "x"}},
        {"event_name": "message.text.received", "message": {**PLAIN, "text": "   "}},
        {"event_name": "message.text.received", "message": {"text": "no chat, no sender"}},
        {"event_name": "message.text.received", "message": {**PLAIN, "from": BOT, "text": "x"}},
        {"event_name": "message.text.received"},
        {},
    ],
)
def test_what_loa_cannot_use_parses_to_nothing(update: dict) -> None:
    assert parse_update(update, bot_id=BOT_ID, bot_name="Loa") is None


def test_images_without_a_url_stickers_and_unsupported_messages_parse_to_not_text() -> None:
    chat = {"id": "g1", "chat_type": "GROUP"}
    for event in (
        "message.image.received",
        "message.sticker.received",
        "message.unsupported.received",
    ):
        update = {"event_name": event, "message": {"chat": chat, "from": {"id": "u1"}}}
        assert parse_update(update, bot_id=BOT_ID, bot_name="Loa") == NotText("g1", ChatType.GROUP)


async def test_a_sticker_gets_the_text_only_hint_once_a_minute(
    sandbox: ZaloSandbox, polling: ZaloChannel, inbox: Inbox, people: dict[str, str]
) -> None:
    lan = people["lan"]
    await sandbox.post(lan, lan, kind="sticker")
    (hint,) = await sandbox.wait_sent(lan, 1)
    assert hint["text"] == render("replies/text_only", private=True, bot_name="Loa Lạc Thủy")
    assert hint["text"].startswith("Loa chỉ đọc được tin nhắn chữ")
    await sandbox.post(lan, lan, kind="sticker")
    await sandbox.post(lan, lan, "vẫn ở đây")
    assert (await inbox.next()).text == "vẫn ở đây"  # handled after the sticker
    assert len(sandbox.sent(lan)) == 1  # no second hint so soon
    await sandbox.post(people["group"], lan, "@Loa Lạc Thủy", kind="sticker")
    (group_hint,) = await sandbox.wait_sent(people["group"], 1)
    assert "@Loa Lạc Thủy" in group_hint["text"]
    await inbox.nothing(0.1)  # the core never saw the stickers


JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


async def test_an_image_arrives_as_a_photo_whose_url_the_channel_fetches(
    sandbox: ZaloSandbox, polling: ZaloChannel, inbox: Inbox, people: dict[str, str]
) -> None:
    lan = people["lan"]
    posted = await sandbox.post(lan, lan, " Lễ khai mạc ", kind="image", content=JPEG)
    photo = await inbox.next()
    assert isinstance(photo, PhotoReceived)
    assert photo.ref == posted["photo_url"] and photo.ref.startswith(sandbox.base_url)
    assert (photo.caption, photo.size, photo.mime, photo.maybe_image) == (
        "Lễ khai mạc",
        None,
        None,
        True,
    )
    assert photo.message.user_name == "Nguyễn Thị Lan"
    assert photo.message.message_id == posted["message_id"]
    assert await polling.fetch(photo.ref, max_bytes=len(JPEG), timeout=5) == JPEG
    with pytest.raises(TooLarge):  # Zalo states no size: the download stops at the cap
        await polling.fetch(photo.ref, max_bytes=len(JPEG) - 1, timeout=5)
    await sandbox.post(people["group"], lan, "@Loa Lạc Thủy ảnh lớp 5", kind="image", content=JPEG)
    in_group = await inbox.next()
    assert isinstance(in_group, PhotoReceived) and in_group.caption == "ảnh lớp 5"
    assert in_group.message.addressed
    assert sandbox.sent(lan) == []  # no text-only hint for an image any more


async def test_an_image_comes_on_a_webhook_too(
    sandbox: ZaloSandbox, inbox: Inbox, people: dict[str, str]
) -> None:
    port = free_port()
    channel = ZaloChannel(TOKEN, api_base_url=sandbox.base_url, limits=FAST, webhook=hook_for(port))
    await channel.start(inbox)
    try:
        lan = people["lan"]
        await sandbox.post(lan, lan, kind="image", content=JPEG, mime_type="image/png")
        photo = await inbox.next()
        assert isinstance(photo, PhotoReceived) and photo.caption == ""
        assert photo.ref.endswith(".png")
        assert await channel.fetch(photo.ref, max_bytes=10**6, timeout=5) == JPEG
        assert sandbox.stats.downloads == 1
    finally:
        await channel.stop()


async def test_images_are_fetched_only_from_the_allowed_hosts(
    sandbox: ZaloSandbox, inbox: Inbox, people: dict[str, str]
) -> None:
    channel = ZaloChannel(
        TOKEN, api_base_url=sandbox.base_url, limits=FAST, poll_timeout=1, photo_hosts={"zdn.vn"}
    )
    await channel.start(inbox)
    try:
        lan = people["lan"]
        await sandbox.post(lan, lan, kind="image", content=JPEG)
        photo = await inbox.next()
        assert isinstance(photo, PhotoReceived)
        with pytest.raises(FetchFailed, match="not among"):
            await channel.fetch(photo.ref, max_bytes=10**6, timeout=5)
        assert sandbox.stats.downloads == 0
    finally:
        await channel.stop()


@pytest.mark.parametrize(
    ("fields", "url"),
    [
        ({"photo_url": "https://f1.zdn.vn/a.jpg"}, "https://f1.zdn.vn/a.jpg"),
        ({"photo": "https://f1.zdn.vn/b.jpg"}, "https://f1.zdn.vn/b.jpg"),
        ({"photo": {"url": " https://f1.zdn.vn/c.jpg "}}, "https://f1.zdn.vn/c.jpg"),
    ],
)
def test_an_images_url_is_read_where_zalo_or_its_clients_put_it(fields: dict, url: str) -> None:
    message = {**PLAIN, "message_id": "m1", "caption": "chú thích", **fields}
    update = {"event_name": "message.image.received", "message": message}
    photo = parse_update(update, bot_id=BOT_ID, bot_name="Loa")
    assert isinstance(photo, PhotoReceived) and photo.ref == url and photo.caption == "chú thích"


async def test_unsupported_messages_and_a_failing_handler_do_not_stop_the_poll(
    sandbox: ZaloSandbox,
    polling: ZaloChannel,
    inbox: Inbox,
    people: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    lan = people["lan"]
    inbox.fail_on = "làm hỏng"
    await sandbox.post(lan, lan, kind="unsupported")
    await sandbox.post(lan, lan, "làm hỏng")
    await sandbox.post(lan, lan, "vẫn chạy")
    assert (await inbox.next()).text == "vẫn chạy"
    assert any("handling an update failed" in r.getMessage() for r in caplog.records)


async def test_an_unsupported_message_gets_the_text_only_hint(
    sandbox: ZaloSandbox, polling: ZaloChannel, inbox: Inbox, people: dict[str, str]
) -> None:
    lan = people["lan"]  # a protected user: Zalo shows the bot that something came, not what
    await sandbox.post(lan, lan, kind="unsupported")
    (hint,) = await sandbox.wait_sent(lan, 1)
    assert hint["text"] == render("replies/text_only", private=True, bot_name="Loa Lạc Thủy")
    await inbox.nothing(0.1)


async def test_an_idle_poll_is_not_logged_as_a_problem(
    sandbox: ZaloSandbox, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    channel = ZaloChannel(TOKEN, api_base_url=sandbox.base_url, limits=FAST, poll_timeout=0.2)
    await channel.start(inbox)
    await asyncio.sleep(0.9)
    await channel.stop()
    idle = [e for e in sandbox.errors if e[:2] == ("getUpdates", 408)]
    assert len(idle) >= 3  # the poll really went idle, several times
    assert any("getUpdates idle" in r.getMessage() for r in caplog.records)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("form", IDLE_FORMS)
async def test_every_form_of_an_idle_poll_is_idle(
    sandbox: ZaloSandbox, inbox: Inbox, people: dict[str, str], form: str, caplog
) -> None:
    sandbox.idle_form = form
    api = ZaloBotApi(TOKEN, sandbox.base_url)
    try:
        assert await api.get_updates(0.1) == []
    finally:
        await api.aclose()
    channel = ZaloChannel(TOKEN, api_base_url=sandbox.base_url, limits=FAST, poll_timeout=0.2)
    await channel.start(inbox)
    try:
        await asyncio.sleep(0.5)
        await sandbox.post(people["lan"], people["lan"], "sau khi chờ")
        assert (await inbox.next()).text == "sau khi chờ"
    finally:
        await channel.stop()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert [e for e in sandbox.errors if e[0] == "getUpdates" and e[1] != 408] == []


@pytest.mark.parametrize("form", RATE_LIMIT_FORMS)
async def test_a_429_on_getupdates_backs_off_with_jitter_in_every_form(
    sandbox: ZaloSandbox,
    inbox: Inbox,
    people: dict[str, str],
    form: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(zalo_module, "RETRY_AFTER", 0.6)  # Zalo's 5 s, shortened
    monkeypatch.setattr(zalo_module, "POLL_BACKOFF", (0.05, 1.0))
    sandbox.rate_limit_form = form
    sandbox.fail_next("getUpdates", 1, 429, "Too Many Requests: quota exceeded")
    channel = ZaloChannel(TOKEN, api_base_url=sandbox.base_url, limits=FAST, poll_timeout=1)
    started = time.monotonic()
    await channel.start(inbox)
    try:
        await sandbox.post(people["lan"], people["lan"], "sau 429")
        assert (await inbox.next(timeout=4)).text == "sau 429"
    finally:
        await channel.stop()
    waited = time.monotonic() - started
    expected = 1.0 if form == "retry-after" else 0.6  # the sandbox says 1 s; else RETRY_AFTER
    assert waited >= expected * (1 - zalo_module.JITTER)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("getUpdates failed" in text and "429" in text for text in warnings)


def test_the_wait_after_a_failed_poll_is_jittered_and_respects_a_429() -> None:
    unsaid = ZaloApiError(429, "Too Many Requests")
    waits = [poll_wait(unsaid, 1.0) for _ in range(50)]
    assert all(RETRY_AFTER * 0.5 <= wait <= RETRY_AFTER * 1.5 for wait in waits)
    assert len(set(waits)) > 40  # spread, not in step
    said = ZaloApiError(429, "Too Many Requests", retry_after=12)
    assert 6 <= poll_wait(said, 1.0) <= 18
    assert 1 <= poll_wait(ZaloApiError(502, "Bad Gateway"), 2.0) <= 3


async def test_a_failing_poll_is_logged_and_retried(
    sandbox: ZaloSandbox, inbox: Inbox, people: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.fail_next("getUpdates", 1, 502, "Bad Gateway")
    channel = ZaloChannel(TOKEN, api_base_url=sandbox.base_url, limits=FAST, poll_timeout=1)
    await channel.start(inbox)
    try:
        await sandbox.post(people["lan"], people["lan"], "sau lỗi")
        assert (await inbox.next(timeout=4)).text == "sau lỗi"
    finally:
        await channel.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("getUpdates failed" in text and "502" in text for text in warnings)


# -- webhook -----------------------------------------------------------------------------------


async def test_webhook_mode_receives_wrapped_and_bare_bodies(
    sandbox: ZaloSandbox, inbox: Inbox, people: dict[str, str]
) -> None:
    hook = hook_for(free_port())
    channel = ZaloChannel(TOKEN, api_base_url=sandbox.base_url, webhook=hook, limits=FAST)
    await channel.start(inbox)
    try:
        assert channel.mode == "webhook"
        async with httpx.AsyncClient() as http:
            info = await http.post(f"{sandbox.base_url}/bot{TOKEN}/getWebhookInfo")
        assert info.json()["result"]["url"] == hook.url
        lan = people["lan"]
        await sandbox.post(lan, lan, "bọc trong ok/result")
        assert (await inbox.next()).text == "bọc trong ok/result"
        sandbox.webhook_bare = True
        await sandbox.post(lan, lan, "không bọc")
        assert (await inbox.next()).text == "không bọc"
        await channel.send(lan, "Đã nhận.")
        assert sandbox.sent(lan)[-1]["text"] == "Đã nhận."
    finally:
        await channel.stop()
    assert sandbox.stats.webhook_deliveries == 2 and sandbox.stats.webhook_failures == 0


@pytest.mark.parametrize("secret", [None, "webhook-secret-12", "wrong-secret-value"])
async def test_a_webhook_request_without_the_right_secret_is_refused(
    sandbox: ZaloSandbox, inbox: Inbox, people: dict[str, str], secret: str | None
) -> None:
    hook = hook_for(free_port())
    channel = ZaloChannel(TOKEN, api_base_url=sandbox.base_url, webhook=hook, limits=FAST)
    await channel.start(inbox)
    update = {
        "event_name": "message.text.received",
        "message": {
            "from": {"id": people["lan"], "display_name": "Kẻ giả mạo", "is_bot": False},
            "chat": {"id": people["lan"], "chat_type": "PRIVATE"},
            "text": "/huydangky DV01",
            "message_id": "forged",
            "date": 1750316131602,
        },
    }
    headers = {} if secret is None else {"X-Bot-Api-Secret-Token": secret}
    try:
        async with httpx.AsyncClient() as http:
            answer = await http.post(hook.url, json={"ok": True, "result": update}, headers=headers)
        assert answer.status_code in (401, 403)
        await inbox.nothing()
        assert sandbox.sent() == []
        async with httpx.AsyncClient() as http:  # the same body with the secret goes through
            right = {"X-Bot-Api-Secret-Token": hook.secret}
            assert (await http.post(hook.url, json=update, headers=right)).status_code == 200
        assert (await inbox.next()).text == "/huydangky DV01"
    finally:
        await channel.stop()


# -- sending -----------------------------------------------------------------------------------


async def test_a_long_text_is_split_between_lines(
    sandbox: ZaloSandbox, polling: ZaloChannel, people: dict[str, str]
) -> None:
    group = people["group"]
    lines = [f"{n:03d}. Đơn vị {n} đã nộp báo cáo Tuần lễ học tập suốt đời." for n in range(1, 81)]
    text = "\n".join(lines)
    assert len(text) > 4000
    last_id = await polling.send(group, text)
    parts = [m["text"] for m in sandbox.sent(group)]
    assert len(parts) == 3 and all(len(part) <= 2000 for part in parts)
    assert "\n".join(parts) == text  # cut only where a line ends
    assert all(part.splitlines()[-1] in lines for part in parts)
    assert last_id == sandbox.sent(group)[-1]["message_id"]


async def test_send_returns_the_message_id_as_a_string(
    sandbox: ZaloSandbox, polling: ZaloChannel, people: dict[str, str]
) -> None:
    message_id = await polling.send(people["group"], "Chào các thầy cô.")
    (sent,) = sandbox.sent(people["group"])
    assert isinstance(message_id, str) and message_id == sent["message_id"]


async def test_send_errors_are_mapped_to_the_channels_errors(
    sandbox: ZaloSandbox, polling: ZaloChannel, people: dict[str, str]
) -> None:
    group, lan = people["group"], people["lan"]
    sandbox.remove_bot(group, TOKEN)
    with pytest.raises(ChatMaybeGone):  # Zalo's 403: maybe gone, maybe its own failure
        await polling.send(group, "còn ai không")
    with pytest.raises(ChatMaybeGone):  # she never wrote to the bot
        await polling.send(lan, "chào")
    with pytest.raises(ChatUnreachable):
        await polling.send("0123456789abcdef0123", "ai đây")
    sandbox.add_bot_to_chat(group, TOKEN)
    sandbox.fail_next("sendMessage", 1, 500, "Internal Server Error")
    with pytest.raises(TemporaryFailure):
        await polling.send(group, "lỗi máy chủ")
    sandbox.fail_next("sendMessage", 1, 401, "Unauthorized")
    with pytest.raises(SendError) as failure:
        await polling.send(group, "token")
    assert type(failure.value) is SendError
    sandbox.fail_next("sendMessage", 1, 429, "Too Many Requests")
    with pytest.raises(RetryLater) as later:
        await polling.send(group, "chậm lại")
    assert later.value.retry_after == 1  # from the Retry-After header
    started = time.monotonic()
    await polling.send(group, "sau khi chờ")  # everyone waits out the 429
    assert time.monotonic() - started >= 0.9
    assert [m["text"] for m in sandbox.sent(group)] == ["sau khi chờ"]


@pytest.mark.parametrize(
    ("status", "description", "expected"),
    [
        (403, "Forbidden", ChatMaybeGone),  # Zalo's internal server error, not "blocked"
        (400, "Bad Request: chat not found", ChatUnreachable),
        (404, "Not found", ChatUnreachable),
        (400, "Bad Request: text must be 1 to 2000 characters", SendError),
        (408, "Request timeout", TemporaryFailure),
        (503, "Service Unavailable", TemporaryFailure),
        (429, "Quota exceeded", RetryLater),
    ],
)
def test_zalo_errors_map_onto_send_errors(status: int, description: str, expected: type) -> None:
    error = send_error(ZaloApiError(status, description))
    assert type(error) is expected
    if isinstance(error, RetryLater):
        assert error.retry_after == 5  # Zalo said nothing: the default wait


async def test_a_network_failure_or_timeout_is_temporary() -> None:
    def timing_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    channel = ZaloChannel(TOKEN, transport=httpx.MockTransport(timing_out), limits=FAST)
    with pytest.raises(TemporaryFailure):
        await channel.send("c1", "x")
    await channel.stop()
    port = free_port()  # nothing listens there
    refused = ZaloChannel(TOKEN, api_base_url=f"http://127.0.0.1:{port}", limits=FAST)
    with pytest.raises(TemporaryFailure) as failure:
        await refused.send("c1", "x")
    await refused.stop()
    assert TOKEN not in str(failure.value)


async def test_sends_are_paced_per_chat(
    sandbox: ZaloSandbox, inbox: Inbox, people: dict[str, str]
) -> None:
    limits = ZaloLimits(overall_per_second=1000, chat_per_second=10)
    channel = ZaloChannel(TOKEN, api_base_url=sandbox.base_url, limits=limits)
    try:
        await sandbox.post(people["lan"], people["lan"], "chào")
        started = time.monotonic()
        await asyncio.gather(*(channel.send(people["group"], str(n)) for n in range(4)))
        assert time.monotonic() - started >= 0.28  # four sends, a tenth of a second apart
        started = time.monotonic()
        await channel.send(people["lan"], "chat khác")  # another chat does not queue behind
        assert time.monotonic() - started < 0.1
    finally:
        await channel.stop()


async def test_groups_have_no_admins_to_ask_and_no_command_menu(
    sandbox: ZaloSandbox, polling: ZaloChannel, people: dict[str, str]
) -> None:
    lan, group = people["lan"], people["group"]
    assert await polling.is_admin(lan, lan) is True
    assert await polling.is_admin(group, lan) is False
    requests = sandbox.stats.requests
    await polling.set_commands([("help", "Trợ giúp")], [], [lan])
    await polling.set_coordinator_commands([("help", "Trợ giúp")], lan)
    assert sandbox.stats.requests - requests <= 1  # at most the poll in flight, nothing sent


async def test_a_rejected_token_is_a_configuration_problem(
    sandbox: ZaloSandbox, inbox: Inbox
) -> None:
    channel = ZaloChannel("1:wrong", api_base_url=sandbox.base_url)
    with pytest.raises(Invalid) as invalid:
        await channel.start(inbox)
    await channel.stop()
    (problem,) = invalid.value.problems
    assert problem.path == ("ZALO_BOT_TOKEN",) and "401" in problem.ctx["detail"]


async def test_the_token_never_reaches_the_logs(
    sandbox: ZaloSandbox, inbox: Inbox, people: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox.fail_next("getUpdates", 1, 500, f"echoing bot{TOKEN}")  # even an answer quoting it
    channel = ZaloChannel(TOKEN, api_base_url=sandbox.base_url, limits=FAST, poll_timeout=0.2)
    await channel.start(inbox)
    try:
        await sandbox.post(people["lan"], people["lan"], "chào")
        await inbox.next(timeout=4)
        await channel.send(people["lan"], "chào Lan")
        sandbox.remove_bot(people["group"], TOKEN)
        with pytest.raises(ChatMaybeGone):
            await channel.send(people["group"], "x")
    finally:
        await channel.stop()
    http_lines = [r for r in caplog.records if r.name == "httpx"]
    assert http_lines and all("/bot***/" in r.getMessage() for r in http_lines)
    assert any("getUpdates failed" in r.getMessage() for r in caplog.records)
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


# -- the client's reading of answers -----------------------------------------------------------


def client(answer: Callable[[httpx.Request], httpx.Response]) -> ZaloBotApi:
    return ZaloBotApi(TOKEN, "https://zalo.test", transport=httpx.MockTransport(answer))


async def test_the_client_unwraps_ok_result_and_accepts_bare_bodies() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/getMe"):
            return httpx.Response(200, json={"ok": True, "result": {"id": "1"}})
        return httpx.Response(200, json={"message_id": "abc", "date": 1750316131602})  # bare

    api = client(answer)
    try:
        assert await api.get_me() == {"id": "1"}
        assert await api.send_message("c1", "chào") == {"message_id": "abc", "date": 1750316131602}
    finally:
        await api.aclose()
    assert seen[1].url == httpx.URL(f"https://zalo.test/bot{TOKEN}/sendMessage")
    assert seen[1].method == "POST"
    assert json.loads(seen[1].content) == {"chat_id": "c1", "text": "chào"}


async def test_the_client_reads_one_update_idle_polls_and_lists() -> None:
    update = {"event_name": "message.text.received", "message": {"text": "x"}}
    idle = {"ok": False, "error_code": 408, "description": "Request timeout"}
    answers = iter(
        [
            httpx.Response(200, json={"ok": True, "result": update}),
            httpx.Response(408, json=idle),
            httpx.Response(200, json=idle),  # the same news, in the body only
            httpx.Response(200, json={"ok": True, "result": [update, update]}),
            httpx.Response(200, json=update),  # bare, as a webhook may post it
            httpx.Response(200, json={"ok": True, "result": {}}),  # idle, as an empty result
            httpx.Response(200, json={"error_code": "408", "description": "Request timeout"}),
            httpx.Response(408, text="<html>408 Request Time-out</html>"),
        ]
    )
    api = client(lambda request: next(answers))
    try:
        assert await api.get_updates(1) == [update]
        assert await api.get_updates(1) == []
        assert await api.get_updates(1) == []
        assert await api.get_updates(1) == [update, update]
        assert await api.get_updates(1) == [update]
        assert await api.get_updates(1) == []
        assert await api.get_updates(1) == []
        assert await api.get_updates(1) == []
    finally:
        await api.aclose()


def test_unwrap_raises_zalos_errors_with_their_code_and_wait() -> None:
    with pytest.raises(ZaloApiError) as error:
        unwrap(403, {"ok": False, "error_code": 403, "description": "Forbidden"})
    assert (error.value.status, error.value.description) == (403, "Forbidden")
    with pytest.raises(ZaloApiError) as limited:
        unwrap(429, {"ok": False, "error_code": 429}, httpx.Headers({"Retry-After": "7"}))
    assert limited.value.retry_after == 7 and limited.value.description == "Too Many Requests"
    with pytest.raises(ZaloApiError) as gateway:
        unwrap(502, None)  # an HTML error page from a proxy
    assert gateway.value.status == 502
    assert unwrap(200, {"ok": True}) is None  # sendChatAction
    assert unwrap(200, {"event_name": "x"}) == {"event_name": "x"}


async def test_the_client_masks_the_token_in_network_errors() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    api = client(refuse)
    try:
        with pytest.raises(ZaloNetworkError) as failure:
            await api.get_me()
    finally:
        await api.aclose()
    assert TOKEN not in str(failure.value) and "bot***" in str(failure.value)


# -- settings ----------------------------------------------------------------------------------


def test_settings_read_the_zalo_webhook_and_rates(tmp_path) -> None:
    env = {
        "ZALO_BOT_TOKEN": TOKEN,
        "ZALO_API_BASE_URL": "http://127.0.0.1:9000/",
        "ZALO_WEBHOOK_URL": "https://loa.example/zalo",
        "ZALO_WEBHOOK_PORT": "8443",
        "ZALO_RATE_OVERALL": "3",
        "ZALO_RATE_CHAT": "0.5",
    }
    settings = Settings.from_env(env, env_file=str(tmp_path / "none.env"))
    assert settings.zalo_api_base_url == "http://127.0.0.1:9000"
    assert settings.zalo_webhook_url == "https://loa.example/zalo"
    assert settings.zalo_webhook_port == 8443
    assert (settings.zalo_rate_overall, settings.zalo_rate_chat) == (3, 0.5)
    assert settings.webhook_secret and len(settings.webhook_secret) >= 8  # made up for Zalo too
    assert TOKEN in settings.secrets() and settings.webhook_secret in settings.secrets()
    assert TOKEN not in repr(settings)
    with pytest.raises(Invalid):
        Settings.from_env({"ZALO_WEBHOOK_PORT": "x"}, env_file=str(tmp_path / "none.env"))


async def test_a_429_as_an_html_page_closes_the_gate_with_a_growing_jittered_silence(
    sandbox: ZaloSandbox, polling: ZaloChannel, people: dict[str, str]
) -> None:
    """Zalo's 429 may come as a page with no Retry-After: every send waits, each 429 in a row
    longer (doubling from RETRY_AFTER, times 1 to 1.5), and a send that goes through resets it."""
    lan = people["group"]  # the bot is a member there
    sandbox.rate_limit_form = "html"
    waits = []
    for _ in range(3):
        sandbox.fail_next("sendMessage", 1, 429, "Too Many Requests")
        with pytest.raises(RetryLater) as later:
            await polling.send(lan, "chậm lại")
        waits.append(later.value.retry_after)
        assert polling.gate.until - asyncio.get_running_loop().time() > waits[-1] - 0.1
        polling.gate.until = 0.0  # not waited out here: the test would take half a minute
    assert 5 <= waits[0] <= 7.5 and 10 <= waits[1] <= 15 and 20 <= waits[2] <= 30, waits
    await polling.send(lan, "đã qua")
    sandbox.fail_next("sendMessage", 1, 429, "Too Many Requests")
    with pytest.raises(RetryLater) as again:
        await polling.send(lan, "lại chậm")
    assert again.value.retry_after <= 7.5  # the streak was broken


async def test_idle_per_chat_pacers_are_forgotten() -> None:
    pacers = Pacers(per_second=1000, keep=10)
    for chat in range(100):
        await pacers.wait(chat)
        await asyncio.sleep(0.002)  # its next slot (1 ms on) is past: idle
    assert len(pacers) <= 10
