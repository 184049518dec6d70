"""Photos and files through the Telegram adapter and the sandbox, over real HTTP: the update
becomes a `PhotoReceived`, and `fetch` downloads the file with getFile and a byte cap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.channels.base import Event, FetchFailed, InboundMessage, PhotoReceived, TooLarge
from bot.channels.defaults import TelegramLimits
from bot.channels.telegram import TelegramChannel
from bot.sandbox.telegram import Limits, TelegramSandbox

TOKEN = "123456:TEST-token-that-must-never-be-logged"
FAST = TelegramLimits(overall_per_second=1000, group_per_minute=60_000, private_per_second=1000)
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # the bytes are never looked at here


class Inbox:
    def __init__(self) -> None:
        self.events: asyncio.Queue[Event] = asyncio.Queue()

    async def __call__(self, event: Event) -> None:
        await self.events.put(event)

    async def next(self, timeout: float = 3.0) -> Event:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def photo(self) -> PhotoReceived:
        while True:
            event = await self.next()
            if isinstance(event, PhotoReceived):
                return event


@pytest.fixture
async def sandbox() -> AsyncIterator[TelegramSandbox]:
    async with TelegramSandbox(limits=Limits.off()) as server:
        server.add_bot(TOKEN, username="loa_bot")
        yield server


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


async def started(sandbox: TelegramSandbox, inbox: Inbox, **options: int) -> TelegramChannel:
    channel = TelegramChannel(
        TOKEN, api_base_url=sandbox.base_url, poll_timeout=1, limits=FAST, **options
    )
    await channel.start(inbox)
    return channel


@pytest.fixture
async def channel(sandbox: TelegramSandbox, inbox: Inbox) -> AsyncIterator[TelegramChannel]:
    channel = await started(sandbox, inbox)
    yield channel
    await channel.stop()


async def test_a_photo_arrives_with_its_caption_and_comes_back_whole(
    sandbox: TelegramSandbox, channel: TelegramChannel, inbox: Inbox
) -> None:
    lan = sandbox.add_user("Lan", last_name="Nguyễn")
    posted = await sandbox.post_photo(lan, lan, JPEG, "  Lễ khai mạc\x00 ")
    photo = await inbox.photo()
    assert photo.caption == "Lễ khai mạc" and photo.mime == "image/jpeg"
    assert photo.size == len(JPEG) and photo.file_name is None and photo.maybe_image
    assert (photo.platform, photo.chat_id) == ("telegram", str(lan))
    assert photo.message.user_name == "Lan Nguyễn"
    assert photo.message.message_id == str(posted["message_id"])
    assert await channel.fetch(photo.ref, max_bytes=len(JPEG), timeout=5) == JPEG


async def test_of_a_photos_sizes_the_largest_under_the_cap_is_taken(
    sandbox: TelegramSandbox, inbox: Inbox
) -> None:
    small, large = JPEG[:2000], JPEG * 3
    channel = await started(sandbox, inbox, photo_max_bytes=len(JPEG))
    try:
        lan = sandbox.add_user("Lan")
        await sandbox.post_photo(lan, lan, [small, JPEG, large])
        photo = await inbox.photo()
        assert photo.size == len(JPEG)
        assert await channel.fetch(photo.ref, max_bytes=len(JPEG), timeout=5) == JPEG
        await sandbox.post_photo(lan, lan, [large])  # no size fits: the one there is, refused
        too_big = await inbox.photo()
        assert too_big.size == len(large)
        with pytest.raises(TooLarge) as refused:
            await channel.fetch(too_big.ref, max_bytes=len(JPEG), timeout=5)
        assert refused.value.size == len(large) and refused.value.max_bytes == len(JPEG)
    finally:
        await channel.stop()


async def test_a_file_comes_with_its_stated_type_and_name(
    sandbox: TelegramSandbox, channel: TelegramChannel, inbox: Inbox
) -> None:
    lan = sandbox.add_user("Lan")
    await sandbox.post_document(lan, lan, JPEG, "anh-goc.jpg", "ảnh gốc")
    image = await inbox.photo()
    assert (image.mime, image.file_name, image.caption) == ("image/jpeg", "anh-goc.jpg", "ảnh gốc")
    assert image.maybe_image and await channel.fetch(image.ref, max_bytes=10**6, timeout=5) == JPEG
    await sandbox.post_document(lan, lan, b"%PDF-1.7 report", "bao-cao.pdf")
    pdf = await inbox.photo()
    assert (pdf.mime, pdf.file_name, pdf.caption, pdf.maybe_image) == (
        "application/pdf",
        "bao-cao.pdf",
        "",
        False,
    )


async def test_in_a_group_only_a_photo_that_replies_to_the_bot_reaches_it(
    sandbox: TelegramSandbox, channel: TelegramChannel, inbox: Inbox
) -> None:
    lan = sandbox.add_user("Lan")
    group = sandbox.create_group("Trường TH", admins=[lan], bots=[TOKEN])
    asked = await channel.send(str(group), "Gửi ảnh nhé")
    await sandbox.post_photo(group, lan, JPEG, "không gửi bot")  # privacy mode: not seen
    await sandbox.post_photo(group, lan, JPEG, "trả lời bot", reply_to=int(asked))
    photo = await inbox.photo()
    assert photo.caption == "trả lời bot" and photo.message.reply_to == asked
    assert photo.message.addressed


async def test_a_text_still_arrives_as_a_text(
    sandbox: TelegramSandbox, channel: TelegramChannel, inbox: Inbox
) -> None:
    lan = sandbox.add_user("Lan")
    await sandbox.post(lan, lan, "/anh")
    event = await inbox.next()
    assert isinstance(event, InboundMessage) and event.text == "/anh"


async def test_a_stated_size_over_the_cap_is_refused_before_any_download(
    sandbox: TelegramSandbox, channel: TelegramChannel, inbox: Inbox
) -> None:
    lan = sandbox.add_user("Lan")
    await sandbox.post_document(lan, lan, JPEG, "lon.jpg")
    photo = await inbox.photo()
    with pytest.raises(TooLarge):
        await channel.fetch(photo.ref, max_bytes=100, timeout=5)
    assert sandbox.stats.downloads == 0  # getFile said the size: nothing was downloaded
    assert await channel.fetch(photo.ref, max_bytes=len(JPEG), timeout=5) == JPEG
    assert sandbox.stats.downloads == 1


async def test_an_unknown_file_or_a_failing_telegram_is_a_fetch_failure(
    sandbox: TelegramSandbox, channel: TelegramChannel
) -> None:
    with pytest.raises(FetchFailed):
        await channel.fetch("AgACnot-a-file", max_bytes=100, timeout=5)
    sandbox.fail_next("getFile", status=500)
    with pytest.raises(FetchFailed):
        await channel.fetch("AgACnot-a-file", max_bytes=100, timeout=5)
    sandbox.latency = 0.5
    with pytest.raises(FetchFailed, match="took over"):
        await channel.fetch("AgACnot-a-file", max_bytes=100, timeout=0.1)
    sandbox.latency = 0
