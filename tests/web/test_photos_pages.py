"""Units' photos on the web: the console's galleries behind a session, and a unit's upload on
its own form (/f/<token>/photos), bounded before the body is read, its own photos only."""

import asyncio
import io
import os
from dataclasses import replace

import pytest
from PIL import Image

from bot.ops import photos, signin, unitlinks
from bot.store.defaults import PhotoSettings
from tests.ops.support import bound, with_units
from tests.ops.support import jpeg as plain_jpeg
from tests.web.conftest import ADMIN, csrf_of


@pytest.fixture
def env(env, tmp_path):  # the photos in this test's folder, a small limit to reach
    return replace(env, photos=PhotoSettings(tmp_path / "anh", per_unit=3, max_bytes=200_000))


def jpeg(colour=(200, 40, 40), size=(800, 600), gps=False) -> bytes:
    return plain_jpeg(colour, size, gps)


@pytest.fixture
async def school(env):
    """Two schools with registered groups; the first one's form link."""
    await with_units(env, ("th-a", "truong-hoc"), ("th-b", "truong-hoc"))
    a = await bound(env, "th-a", "-1001")
    await bound(env, "th-b", "-1002")
    return await unitlinks.issue(env, a.unit)


async def send(client, token, content, caption="Lễ khai mạc", csrf=None, name="anh.jpg"):
    csrf = csrf if csrf is not None else csrf_of((await client.get(f"/f/{token}")).text)
    return await client.post(
        f"/f/{token}/photos",
        data={"csrf": csrf, "caption": caption},
        files={"photo": (name, content, "image/jpeg")},
    )


async def test_a_unit_uploads_a_photo_and_sees_it_on_its_form(client, env, school):
    sent = await send(client, school, jpeg(gps=True))
    assert sent.status_code == 303 and sent.headers["Location"] == f"/f/{school}?anh=1#anh"
    [kept] = await photos.kept(env, "th-a")
    assert (kept.caption, kept.sender, kept.source) == ("Lễ khai mạc", "web", "web")
    html = (await client.get(f"/f/{school}?anh=1")).text
    assert "📷 Đã nhận ảnh 1/3." in html and f"/f/{school}/photos/{kept.id}.jpg" in html
    served = await client.get(f"/f/{school}/photos/{kept.id}.jpg")
    assert served.headers["Content-Type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(served.content)).getexif()  # no GPS position shown
    again = await send(client, school, jpeg(gps=True))
    assert again.headers["Location"] == f"/f/{school}?anh=trung#anh"
    assert len(await photos.kept(env, "th-a")) == 1


@pytest.mark.parametrize(
    ("content", "status", "words"),
    [
        (b"%PDF-1.7 not a picture", 422, "Tệp này không phải là ảnh"),
        (jpeg()[:400], 422, "Không đọc được ảnh này"),
        (b"\xff" * 250_000, 413, "Ảnh quá lớn: mỗi ảnh không quá 0,2 MB"),
    ],
    ids=["not-image", "truncated", "too-large"],
)
async def test_a_bad_upload_is_refused_in_words(client, env, school, content, status, words):
    refused = await send(client, school, content, name="anh.jpg")
    assert refused.status_code == status and words in refused.text
    assert await photos.kept(env, "th-a") == []


async def test_a_body_announced_too_large_is_refused_before_it_is_read(web, env, school):
    host, port = web.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"POST /f/{school}/photos HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n\r\n".encode()
    )
    await writer.drain()  # nothing of the 50 MB is sent: the answer comes anyway
    status = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert b" 413 " in status


async def test_a_unit_keeps_at_most_its_limit_on_the_web_too(client, env, school):
    for shade in range(3):
        assert (await send(client, school, jpeg((shade * 50, 0, 0)))).status_code == 303
    full = await send(client, school, jpeg((0, 0, 250)))
    assert full.status_code == 422 and "Đơn vị đã có đủ 3 ảnh" in full.text
    assert 'name="photo"' not in (await client.get(f"/f/{school}")).text  # no upload when full


async def test_without_the_forms_token_nothing_is_read_nor_kept(client, env, school):
    assert (await send(client, school, jpeg(), csrf="wrong")).status_code == 403
    no_file = await client.post(f"/f/{school}/photos", data={"csrf": "x"})
    assert no_file.status_code in (400, 403)
    assert (await send(client, "not-a-link", jpeg(), csrf="x")).status_code == 404
    assert await photos.kept(env, "th-a") == []


async def test_a_unit_sees_and_removes_only_its_own_photos(client, env, school):
    other = await photos.add(
        env, "th-b", jpeg((0, 90, 0)), caption="B", sender="zalo:9", source="zalo"
    )
    assert (await client.get(f"/f/{school}/photos/{other.photo.id}.jpg")).status_code == 404
    csrf = csrf_of((await client.get(f"/f/{school}")).text)
    gone = await client.post(f"/f/{school}/photos/{other.photo.id}/remove", data={"csrf": csrf})
    assert gone.status_code == 404 and len(await photos.kept(env, "th-b")) == 1
    await send(client, school, jpeg())
    [mine] = await photos.kept(env, "th-a")
    forged = await client.post(f"/f/{school}/photos/{mine.id}/remove", data={"csrf": "wrong"})
    assert forged.status_code == 403
    removed = await client.post(f"/f/{school}/photos/{mine.id}/remove", data={"csrf": csrf})
    assert removed.status_code == 303 and await photos.kept(env, "th-a") == []


async def test_the_console_gallery_shows_downloads_and_removes(coordinator, env, school):
    kept = await photos.add(
        env, "th-b", jpeg(), caption="Thư viện", sender="zalo:9", source="zalo", sender_name="Cô Hà"
    )
    await photos.add(env, "th-a", jpeg((9, 9, 9)), caption="", sender="web", source="web")
    index = await coordinator.get("/photos")
    assert index.status_code == 200 and '<a href="/units/th-b/photos">Đơn vị th-b</a>' in index.text
    assert "Tổng cộng 2 ảnh của 2 đơn vị." in index.text
    page = await coordinator.get("/units/th-b/photos")
    assert "Ảnh 1.</b> Thư viện" in page.text and "Cô Hà gửi qua Zalo, " in page.text
    web = await coordinator.get("/units/th-a/photos")
    assert "Gửi qua trang nhập số liệu, " in web.text
    download = await coordinator.get(f"/photos/{kept.photo.id}.jpg?tai=1")
    assert download.headers["Content-Disposition"] == 'attachment; filename="anh-th-b-1.jpg"'
    assert download.content == await photos.read(env, kept.photo)
    forged = await coordinator.post(f"/photos/{kept.photo.id}/remove", data={"csrf": "wrong"})
    assert forged.status_code == 403
    removed = await coordinator.post(
        f"/photos/{kept.photo.id}/remove", data={"csrf": coordinator.csrf}
    )
    assert removed.status_code == 303 and removed.headers["Location"] == "/units/th-b/photos?xoa=1"
    assert await photos.kept(env, "th-b") == []
    assert (await coordinator.get(f"/photos/{kept.photo.id}.jpg")).status_code == 404
    assert (await coordinator.get("/units/khong-co/photos")).status_code == 404


async def test_without_a_session_the_galleries_send_to_sign_in(client, env, school):
    kept = await photos.add(env, "th-b", jpeg(), caption="", sender="zalo:9", source="zalo")
    for path in ("/photos", "/units/th-b/photos", f"/photos/{kept.photo.id}.jpg"):
        answer = await client.get(path)
        assert answer.status_code == 303 and answer.headers["Location"] == "/dang-nhap"
    assert (await client.post(f"/photos/{kept.photo.id}/remove")).status_code == 303
    assert len(await photos.kept(env, "th-b")) == 1


# -- in a real browser ---------------------------------------------------------------------------


async def test_in_a_browser_a_unit_uploads_and_a_coordinator_sees_the_gallery(
    browser, web, env, school, tmp_path
):
    (tmp_path / "khai-mac.jpg").write_bytes(jpeg((30, 110, 200), gps=True))
    (tmp_path / "ghi-chu.txt").write_text("không phải ảnh")
    form = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    await form.goto(f"{web}/f/{school}")
    await form.fill("input[name=caption]", "Lễ khai mạc Tuần lễ")
    await form.set_input_files("input[name=photo]", str(tmp_path / "khai-mac.jpg"))
    await form.click("text=Gửi ảnh")
    await form.wait_for_url(f"{web}/f/{school}?anh=1#anh")
    assert "📷 Đã nhận ảnh 1/3." in await form.inner_text("#anh")
    assert await form.eval_on_selector(".photo img", "img => img.naturalWidth") == 800
    await form.set_input_files("input[name=photo]", str(tmp_path / "ghi-chu.txt"))
    await form.click("text=Gửi ảnh")
    await form.wait_for_selector("#anh .error")
    assert "Tệp này không phải là ảnh" in await form.inner_text("#anh .error")
    await form.locator(".photo img").scroll_into_view_if_needed()  # loaded lazily
    await form.wait_for_function("() => document.querySelector('.photo img').naturalWidth === 800")
    await form.locator("#anh").screenshot(path=str(tmp_path / "form.png"))

    await photos.add(
        env,
        "th-a",
        jpeg((220, 150, 40), (600, 900)),
        caption="Thư viện",
        sender="zalo:7",
        source="zalo",
    )
    console = await browser.new_page(viewport={"width": 1100, "height": 800})
    await console.goto(f"{web}/login/{await signin.issue(env, ADMIN)}")
    await console.click("text=Vào trang quản lý")
    await console.wait_for_url(f"{web}/")
    await console.click("nav >> text=Ảnh")
    await console.click("a[href='/units/th-a/photos'] >> nth=0")
    await console.wait_for_url(f"{web}/units/th-a/photos")
    captions = await console.locator("figcaption").all_inner_texts()
    assert len(captions) == 2 and "Lễ khai mạc Tuần lễ" in captions[0] and "Zalo" in captions[1]
    widths = await console.eval_on_selector_all(".photo img", "all => all.map(i => i.naturalWidth)")
    assert widths == [800, 600]  # both served and loaded
    await console.screenshot(path=str(tmp_path / "gallery.png"), full_page=True)
    first = (await photos.kept(env, "th-a"))[0]
    await console.locator(f"#anh-{first.id} button").click()
    await console.wait_for_url(f"{web}/units/th-a/photos?xoa=1")
    assert [p.caption for p in await photos.kept(env, "th-a")] == ["Thư viện"]
    if out := os.environ.get("LOA_KEEP_SCREENSHOTS"):
        for name in ("form.png", "gallery.png"):
            (tmp_path / name).replace(f"{out}/{name}")
