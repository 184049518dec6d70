"""People send photos and files in both sandboxes: the updates look like the platforms', and the
files come back over HTTP as the platforms serve them (Telegram: getFile, then /file/bot…;
Zalo: the image URL in the update)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
import telegram

from bot.sandbox.telegram import SandboxError, TelegramSandbox
from bot.sandbox.zalo import Limits, ZaloSandbox
from tests.sandbox.support import OTHER, TOKEN, drain

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


# -- Telegram --------------------------------------------------------------------------------


async def test_a_photo_is_an_update_with_its_sizes_that_ptb_reads(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    lan = people["lan"]
    await drain(bot)
    small = JPEG[:300]
    posted = await sandbox.post_photo(lan, lan, [small, JPEG], "Ngày hội", size=(1600, 1200))
    (update,) = await drain(bot)
    message = update.message
    assert message is not None and message.caption == "Ngày hội" and message.text is None
    assert [(p.width, p.height, p.file_size) for p in message.photo] == [
        (800, 600, len(small)),
        (1600, 1200, len(JPEG)),
    ]
    assert message.photo[-1].file_id == posted["photo"][-1]["file_id"]
    assert len({p.file_unique_id for p in message.photo}) == 2
    file = await bot.get_file(message.photo[-1].file_id)
    assert file.file_size == len(JPEG) and file.file_path
    assert file.file_path.startswith(f"{sandbox.base_url}/file/bot{TOKEN}/photos/")
    assert bytes(await file.download_as_bytearray()) == JPEG
    assert sandbox.stats.downloads == 1


async def test_a_document_keeps_its_name_and_type(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    lan = people["lan"]
    await drain(bot)
    await sandbox.post_document(lan, lan, b"%PDF-1.7", "bao cao.pdf")
    await sandbox.post_document(lan, lan, PNG, "anh", mime_type="image/png")
    pdf, png = [u.message for u in await drain(bot)]
    assert pdf.document.file_name == "bao cao.pdf"
    assert pdf.document.mime_type == "application/pdf"
    assert (png.document.mime_type, png.document.file_size) == ("image/png", len(PNG))
    file = await bot.get_file(png.document.file_id)
    assert file.file_path and "/documents/" in file.file_path
    assert bytes(await file.download_as_bytearray()) == PNG


async def test_in_a_group_a_photo_reaches_a_private_bot_when_it_replies_or_mentions(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    group, lan = people["group"], people["lan"]
    await drain(bot)
    asked = await bot.send_message(group, "Gửi ảnh")
    await sandbox.post_photo(group, lan, JPEG, "chỉ cho nhóm")
    await sandbox.post_photo(group, lan, JPEG, "trả lời", reply_to=asked.message_id)
    await sandbox.post_photo(group, lan, JPEG, "@loa_bot ảnh đây")
    captions = [u.message.caption for u in await drain(bot)]
    assert captions == ["trả lời", "@loa_bot ảnh đây"]


async def test_files_are_served_only_to_the_bots_and_only_when_they_exist(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    sandbox.add_bot(OTHER, username="other_bot")
    lan = people["lan"]
    posted = await sandbox.post_photo(lan, lan, JPEG)
    file = await bot.get_file(posted["photo"][-1]["file_id"])
    assert file.file_path
    path = file.file_path.split(f"/file/bot{TOKEN}/", 1)[1]
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        assert (await http.get(f"/file/bot{TOKEN}/{path}")).content == JPEG
        assert (
            await http.get(f"/file/bot{OTHER}/{path}")
        ).status_code == 200  # the sandbox does not tie files to bots
        assert (await http.get(f"/file/bot999:nobody/{path}")).status_code == 401
        assert (await http.get(f"/file/bot{TOKEN}/photos/none.jpg")).status_code == 404
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("AgACnot-a-file")


async def test_get_file_refuses_what_is_over_twenty_megabytes(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    lan = people["lan"]
    posted = await sandbox.post_document(lan, lan, b"x" * (20 * 2**20 + 1), "lon.jpg")
    with pytest.raises(telegram.error.BadRequest, match="too big"):
        await bot.get_file(posted["document"]["file_id"])


async def test_empty_or_malformed_files_are_refused(
    sandbox: TelegramSandbox, people: dict[str, int]
) -> None:
    lan = people["lan"]
    with pytest.raises(SandboxError, match="empty"):
        await sandbox.post_photo(lan, lan, b"")
    with pytest.raises(SandboxError, match="one content"):
        sandbox._world.post_file(  # a document is one file, never sizes
            lan,
            lan,
            [JPEG, JPEG],
            caption="",
            as_document=True,
            file_name="x.jpg",
            mime_type=None,
            size=(0, 0),
            reply_to=None,
        )
    with pytest.raises(SandboxError, match="only user"):
        await sandbox.post_photo(lan, people["minh"], JPEG)


async def test_the_control_api_sends_photos_and_documents(
    sandbox: TelegramSandbox, bot: telegram.Bot, people: dict[str, int]
) -> None:
    lan = people["lan"]
    await drain(bot)
    async with httpx.AsyncClient(base_url=f"{sandbox.base_url}/sandbox") as http:
        photo = await http.post(
            f"/chats/{lan}/photos",
            json={"user_id": lan, "content_base64": b64(JPEG), "caption": "Lớp 5A"},
        )
        sizes = await http.post(
            f"/chats/{lan}/photos",
            json={"user_id": lan, "sizes_base64": [b64(JPEG[:10]), b64(JPEG)], "width": 90},
        )
        document = await http.post(
            f"/chats/{lan}/documents",
            json={"user_id": lan, "content_base64": b64(PNG), "file_name": "a.png"},
        )
        assert photo.json()["caption"] == "Lớp 5A"
        assert [p["width"] for p in sizes.json()["photo"]] == [45, 90]
        assert document.json()["document"]["mime_type"] == "image/png"
        bad = await http.post(
            f"/chats/{lan}/photos", json={"user_id": lan, "content_base64": "%%%"}
        )
        assert bad.status_code == 400 and "base64" in bad.json()["error"]
        missing = await http.post(f"/chats/{lan}/documents", json={"user_id": lan})
        assert missing.status_code == 400 and "missing" in missing.json()["error"]
    assert len(await drain(bot)) == 3


# -- Zalo ------------------------------------------------------------------------------------


@pytest.fixture
async def zalo() -> AsyncIterator[ZaloSandbox]:
    async with ZaloSandbox(limits=Limits.off()) as server:
        server.add_bot(TOKEN, display_name="Loa")
        yield server


async def zalo_update(zalo: ZaloSandbox) -> dict:
    async with httpx.AsyncClient(base_url=f"{zalo.base_url}/bot{TOKEN}") as api:
        return (await api.post("/getUpdates", json={"timeout": "0"})).json()["result"]


async def test_a_zalo_image_carries_a_url_the_sandbox_serves(zalo: ZaloSandbox) -> None:
    lan = zalo.add_user("Lan")
    posted = await zalo.post(lan, lan, "Ảnh lớp", kind="image", content=PNG, mime_type="image/png")
    update = await zalo_update(zalo)
    assert update["event_name"] == "message.image.received"
    url = update["message"]["photo_url"]
    assert url == posted["photo_url"] and url.startswith(f"{zalo.base_url}/sandbox/files/")
    assert update["message"]["caption"] == "Ảnh lớp"
    async with httpx.AsyncClient() as http:
        served = await http.get(url)
        assert served.content == PNG and served.headers["content-type"] == "image/png"
        assert (await http.get(f"{zalo.base_url}/sandbox/files/none.jpg")).status_code == 404
    assert zalo.stats.downloads == 1


async def test_zalo_content_is_for_images_and_never_empty(zalo: ZaloSandbox) -> None:
    lan = zalo.add_user("Lan")
    with pytest.raises(SandboxError, match="only an image"):
        await zalo.post(lan, lan, "chữ", content=JPEG)
    with pytest.raises(SandboxError, match="empty"):
        await zalo.post(lan, lan, kind="image", content=b"")


async def test_the_zalo_control_api_sends_an_image_with_its_content(zalo: ZaloSandbox) -> None:
    lan = zalo.add_user("Lan")
    async with httpx.AsyncClient(base_url=f"{zalo.base_url}/sandbox") as http:
        posted = await http.post(
            f"/chats/{lan}/messages",
            json={
                "user_id": lan,
                "kind": "image",
                "text": "chú thích",
                "content_base64": b64(JPEG),
            },
        )
        url = posted.json()["photo_url"]
        assert (await http.get(url)).content == JPEG
        bad = await http.post(
            f"/chats/{lan}/messages",
            json={"user_id": lan, "kind": "image", "content_base64": "not base64!"},
        )
        assert bad.status_code == 400 and "base64" in bad.json()["error"]
