"""Activity photos end to end (issue 20): people send photos in registered chats on Telegram and
Zalo through the sandboxes, Loa fetches them (capped), keeps them for the unit and says so;
an oversized file or one that is no image is refused with the reason; /anh lists and removes."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io

import pytest
from docx import Document
from PIL import Image

from bot.ops import photos
from bot.store.defaults import PhotoSettings
from tests.e2e.conftest import VN, Running, start_world
from tests.e2e.test_zalo import clock, mixed, zalo  # noqa: F401  (the Zalo world's fixtures)

MB = 2**20


def jpeg(color: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


async def said(sandbox, chat, needle: str, after: int = 0, timeout: float = 10.0) -> str:
    """The first bot message in the chat, from index `after` on, that contains `needle`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for message in sandbox.sent(chat)[after:]:
            if needle in message.get("text", ""):
                return message["text"]
        remaining = deadline - loop.time()
        if remaining <= 0:
            texts = [m.get("text", "")[:60] for m in sandbox.sent(chat)[after:]]
            raise AssertionError(f"no {needle!r} in {texts}")
        with contextlib.suppress(TimeoutError):
            await sandbox.wait_sent(chat, len(sandbox.sent(chat)) + 1, timeout=remaining)


async def ask(sandbox, person, chat, text: str, needle: str) -> str:
    """Write in a chat; the bot's answer that contains `needle` (the form may come between)."""
    before = len(sandbox.sent(chat))
    await person.says(chat, text)
    return await said(sandbox, chat, needle, before)


async def appendix(world) -> list[str]:
    """The captions under the pictures of the report's appendix, as the coordinator's /xuat docx
    gives it in the private chat (each picture an inline shape in the document)."""
    chat = world.coordinator.id
    before = len(world.sandbox.sent(chat))
    await world.coordinator.says(chat, "/xuat docx")
    _, report = (await world.sandbox.wait_sent(chat, before + 2))[before:]
    document = Document(io.BytesIO(report["sandbox"]["file_bytes"]))
    texts = [p.text for p in document.paragraphs]
    assert "PHỤ LỤC: HÌNH ẢNH HOẠT ĐỘNG" in texts
    cells = {c._tc: c for t in document.tables for row in t.rows for c in row.cells}  # merged once
    texts += [p.text for cell in cells.values() for p in cell.paragraphs]
    captions = [text for text in texts if text.startswith("Ảnh ")]
    assert len(document.inline_shapes) == len(captions)
    return [caption.split(" — ")[0] for caption in captions]


def last_bot_message(sandbox, chat) -> int:
    return sandbox.sent(chat)[-1]["message_id"]


# -- Telegram ---------------------------------------------------------------------------------


async def test_a_telegram_unit_sends_two_photos_and_a_too_large_file(world):
    groups = await world.registered_groups("th-chi-ne")
    group = groups["th-chi-ne"]
    principal = world.person("Cô Mai")
    sandbox = world.sandbox
    asking = last_bot_message(sandbox, group)  # a photo reaches a privacy-mode bot as a reply

    before = len(sandbox.sent(group))
    await sandbox.post_photo(group, principal.id, jpeg("red"), "Lễ khai mạc", reply_to=asking)
    first = await said(sandbox, group, "📷", before)
    assert first.startswith("📷 Đã nhận ảnh 1/10: “Lễ khai mạc”.")

    before = len(sandbox.sent(group))
    await sandbox.post_document(
        group, principal.id, jpeg("blue", (200, 100)), "lop-5a.jpg", "Lớp 5A", reply_to=asking
    )
    assert (await said(sandbox, group, "📷", before)).startswith("📷 Đã nhận ảnh 2/10")

    before = len(sandbox.sent(group))
    big = b"\xff\xd8\xff" + bytes(11 * MB)
    await sandbox.post_document(group, principal.id, big, "to.jpg", reply_to=asking)
    refused = await said(sandbox, group, "⚠️", before)
    assert "quá lớn: tối đa 10 MB" in refused
    assert sandbox.stats.downloads == 2  # the stated size was enough to refuse it

    before = len(sandbox.sent(group))
    await sandbox.post_document(group, principal.id, b"%PDF-1.7", "bao-cao.pdf", reply_to=asking)
    assert "không phải ảnh" in await said(sandbox, group, "⚠️", before)

    kept = await photos.kept(world.loa.env, "th-chi-ne")
    assert [(p.number, p.caption, p.source) for p in kept] == [
        (1, "Lễ khai mạc", "telegram"),
        (2, "Lớp 5A", "telegram"),
    ]
    assert (kept[0].sender, kept[0].sender_name) == (f"telegram:{principal.id}", "Cô Mai")

    assert await appendix(world) == ["Ảnh 1. Lễ khai mạc", "Ảnh 2. Lớp 5A"]

    listing = await ask(sandbox, principal, group, "/anh", "📷 Ảnh của")
    assert "Ảnh của Trường Tiểu học Chi Nê: 2 ảnh" in listing
    assert "1. Lễ khai mạc" in listing and "2. Lớp 5A" in listing
    removed = await ask(sandbox, principal, group, "/anh xoá 1", "🗑️")
    assert "Đã xoá ảnh 1 (“Lễ khai mạc”). Đơn vị còn 1 ảnh." in removed
    assert await ask(sandbox, principal, group, "/anh xoa 5", "Không có ảnh số 5")
    assert await ask(sandbox, principal, group, "/anh bỏ hết", "/anh xoa SỐ")
    assert await appendix(world) == ["Ảnh 1. Lớp 5A"]  # the next export has the one left
    assert [p.caption for p in await photos.kept(world.loa.env, "th-chi-ne")] == ["Lớp 5A"]


async def test_a_photo_in_a_chat_of_no_unit_is_not_kept(world):
    stranger = world.person("Người lạ")
    await stranger.asks(stranger.id, "/start")
    before = len(world.sandbox.sent(stranger.id))
    await world.sandbox.post_photo(stranger.id, stranger.id, jpeg("green"))
    hint = await said(world.sandbox, stranger.id, "chưa đăng ký", before)
    assert "Cuộc trò chuyện này chưa đăng ký cho đơn vị nào nên Loa chưa nhận ảnh" in hint
    assert world.sandbox.stats.downloads == 0
    assert await photos.kept(world.loa.env, "th-chi-ne") == []
    assert await ask(world.sandbox, stranger, stranger.id, "/anh", "chưa đăng ký")


@pytest.fixture
def early():
    """Before the Lạc Thủy week: outside the report window."""

    return Running(dt.datetime(2023, 9, 20, 9, 0, tzinfo=VN))


async def test_outside_the_report_window_only_a_reply_to_the_bot_is_kept(sandbox, database, early):
    world = await start_world(sandbox, database, early)
    try:
        director = world.person("Bà Hoa")
        await world.register(director.id, "th-chi-ne", director)
        before = len(sandbox.sent(director.id))
        await sandbox.post_photo(director.id, director.id, jpeg("red"))
        assert "từ ngày đầu Tuần lễ đến hạn báo cáo" in await said(
            sandbox, director.id, "📷", before
        )
        asking = last_bot_message(sandbox, director.id)
        before = len(sandbox.sent(director.id))
        await sandbox.post_photo(director.id, director.id, jpeg("red"), reply_to=asking)
        assert (await said(sandbox, director.id, "Đã nhận", before)).startswith(
            "📷 Đã nhận ảnh 1/10."
        )
    finally:
        await world.loa.stop()


# -- Zalo -------------------------------------------------------------------------------------


async def test_a_zalo_unit_sends_two_photos_and_a_too_large_one(mixed):  # noqa: F811
    director = mixed.person("Bà Hoa")
    await mixed.register(director.id, "tthtcd-an-binh", director, mention="")
    server = mixed.zalo

    before = len(server.sent(director.id))
    await server.post(
        director.id, director.id, "Ngày hội đọc sách", kind="image", content=jpeg("red")
    )
    assert (await said(server, director.id, "📷", before)).startswith(
        "📷 Đã nhận ảnh 1/10: “Ngày hội đọc sách”."
    )
    before = len(server.sent(director.id))
    await server.post(director.id, director.id, kind="image", content=jpeg("blue"))
    assert (await said(server, director.id, "📷", before)).startswith("📷 Đã nhận ảnh 2/10.")
    before = len(server.sent(director.id))
    await server.post(director.id, director.id, kind="image", content=jpeg("blue"))
    assert "đã có (ảnh 2/10)" in await said(server, director.id, "📷", before)

    before = len(server.sent(director.id))
    await server.post(director.id, director.id, kind="image", content=bytes(11 * MB))
    assert "quá lớn: tối đa 10 MB" in await said(server, director.id, "⚠️", before)
    before = len(server.sent(director.id))
    await server.post(director.id, director.id, kind="image", content=b"not an image at all")
    assert "không phải ảnh" in await said(server, director.id, "⚠️", before)

    kept = await photos.kept(mixed.world.loa.env, "tthtcd-an-binh")
    assert [(p.caption, p.source) for p in kept] == [("Ngày hội đọc sách", "zalo"), ("", "zalo")]
    listing = await ask(server, director, director.id, "/anh", "📷 Ảnh của")
    assert "2 ảnh" in listing and "(không chú thích)" in listing


async def test_a_photo_in_a_zalo_group_is_kept_with_its_caption_without_the_mention(
    mixed,  # noqa: F811
):
    principal = mixed.person("Thầy Hùng")
    group = await mixed.group("Trường TH Chi Nê", principal)
    await mixed.register(group, "th-chi-ne", principal, mention="@Loa ")
    before = len(mixed.zalo.sent(group))
    await mixed.zalo.post(group, principal.id, "@Loa Lớp 3B", kind="image", content=jpeg("red"))
    assert (await said(mixed.zalo, group, "📷", before)).startswith(
        "📷 Đã nhận ảnh 1/10: “Lớp 3B”."
    )


async def test_a_unit_at_its_limit_is_told_to_remove_one_first(
    sandbox,
    database,
    clock,  # noqa: F811  (the Zalo tests' clock: within the week)
    tmp_path,
):
    one = PhotoSettings(tmp_path / "anh", per_unit=1)
    world = await start_world(sandbox, database, clock, photos=one)
    try:
        group = (await world.registered_groups("th-chi-ne"))["th-chi-ne"]
        principal = world.person("Cô Mai")
        asking = last_bot_message(sandbox, group)
        before = len(sandbox.sent(group))
        await sandbox.post_photo(group, principal.id, jpeg("red"), "Khai mạc", reply_to=asking)
        assert (await said(sandbox, group, "📷", before)).startswith("📷 Đã nhận ảnh 1/1")
        before = len(sandbox.sent(group))
        await sandbox.post_photo(group, principal.id, jpeg("blue"), "Thư viện", reply_to=asking)
        full = await said(sandbox, group, "⚠️", before)
        assert "Đơn vị đã đủ 1 ảnh — gửi /anh để xem và xoá bớt" in full
        kept = await photos.kept(world.loa.env, "th-chi-ne")
        assert [p.caption for p in kept] == ["Khai mạc"]
    finally:
        await world.loa.stop()
