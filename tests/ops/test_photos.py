"""Units' photos as operations: kept, refused, counted, removed, read back, for the report."""

import asyncio
import threading
from dataclasses import replace

import pytest
from PIL import Image

from bot.ops import photos
from bot.ops.photos import Kept, Refused
from bot.store import photos as stored
from bot.store.defaults import PhotoSettings
from tests.ops.support import environment, jpeg, with_units


@pytest.fixture
async def env(db, tmp_path):
    env = replace(environment(db), photos=PhotoSettings(tmp_path / "anh", per_unit=3))
    await with_units(env, ("th-a", "truong-hoc"), ("th-b", "truong-hoc"))
    return env


async def add(env, unit, content, caption="", sender="telegram:1", source="telegram"):
    return await photos.add(env, unit, content, caption=caption, sender=sender, source=source)


async def test_a_photo_is_kept_numbered_and_stored_by_its_digest(env):
    kept = await add(env, "th-a", jpeg(gps=True), caption="  Lễ khai mạc  ")
    assert isinstance(kept, Kept) and (kept.count, kept.limit, kept.duplicate) == (1, 3, False)
    photo = kept.photo
    assert (photo.number, photo.unit_code, photo.caption) == (1, "th-a", "Lễ khai mạc")
    assert (photo.sender, photo.source, photo.width, photo.height) == (
        "telegram:1",
        "telegram",
        640,
        480,
    )
    assert photo.received_at == env.clock.now()
    on_disk = env.photos_folder / photo.file[:2] / photo.file
    assert on_disk.read_bytes() == await photos.read(env, photo)
    assert photo.size == on_disk.stat().st_size and photo.file.endswith(".jpg")
    assert not Image.open(on_disk).getexif()  # no position, nothing of the camera
    assert [p.id for p in await photos.kept(env, "TH-A")] == [photo.id]


async def test_the_same_photo_twice_is_acknowledged_as_kept_not_stored_twice(env):
    first = await add(env, "th-a", jpeg())
    again = await add(env, "th-a", jpeg(), caption="lần nữa")
    assert isinstance(again, Kept) and again.duplicate and again.photo.id == first.photo.id
    assert again.count == 1 and len(await photos.kept(env, "th-a")) == 1
    other = await add(env, "th-b", jpeg())  # another unit's copy is its own photo and file
    assert isinstance(other, Kept) and not other.duplicate and other.photo.file != first.photo.file


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"xin chao", "not_image"), (jpeg()[:300], "unreadable"), (b"\xff" * 2048, "not_image")],
    ids=["text", "truncated", "noise"],
)
async def test_what_is_not_a_usable_image_is_refused_with_its_reason(env, content, reason):
    refused = await add(env, "th-a", content)
    assert refused == Refused(reason, 3, env.photos.max_bytes)
    assert await photos.kept(env, "th-a") == []


async def test_a_file_larger_than_the_limit_is_refused_unread(env):
    small = replace(env, photos=replace(env.photos, max_bytes=1024))
    assert await add(small, "th-a", jpeg(size=(800, 800))) == Refused("too_large", 3, 1024)
    assert not env.photos_folder.exists()


async def test_a_unit_keeps_at_most_its_limit(env):
    for shade in range(3):
        assert isinstance(await add(env, "th-a", jpeg((shade * 60, 0, 0))), Kept)
    assert await add(env, "th-a", jpeg((0, 0, 250))) == Refused("full", 3, env.photos.max_bytes)
    assert isinstance(await add(env, "th-b", jpeg((0, 0, 250))), Kept)  # another unit's count


async def test_photos_sent_at_the_same_moment_never_exceed_the_limit(env):
    results = await asyncio.gather(
        *(add(env, "th-a", jpeg((0, shade * 40, 0))) for shade in range(6))
    )
    assert sum(isinstance(r, Kept) for r in results) == 3
    assert [r.reason for r in results if isinstance(r, Refused)] == ["full"] * 3
    assert [p.number for p in await photos.kept(env, "th-a")] == [1, 2, 3]


async def test_a_removed_photo_goes_and_the_others_are_numbered_again(env):
    one = await add(env, "th-a", jpeg((10, 0, 0)), caption="ảnh 10")
    two = await add(env, "th-a", jpeg((200, 0, 0)), caption="ảnh 200")
    removed = await photos.remove(env, "th-a", 1)
    assert removed is not None and removed.id == one.photo.id
    assert not (env.photos_folder / one.photo.file[:2] / one.photo.file).exists()
    [left] = await photos.kept(env, "th-a")
    assert (left.id, left.number, left.caption) == (two.photo.id, 1, "ảnh 200")
    assert await photos.remove(env, "th-a", 2) is None
    assert await photos.remove(env, "th-a", 0) is None
    assert await photos.remove(env, "khong-co", 1) is None
    with pytest.raises(FileNotFoundError):
        await photos.read(env, removed)


async def test_the_same_picture_of_another_unit_stays_when_one_removes_it(env):
    await add(env, "th-a", jpeg())
    theirs = await add(env, "th-b", jpeg())
    await photos.remove(env, "th-a", 1)
    assert await photos.read(env, theirs.photo)  # th-b's copy is its own
    assert await photos.remove(env, "th-b", 5) is None  # a unit removes only among its own
    assert len(await photos.kept(env, "th-b")) == 1


async def test_the_report_gets_each_units_photos_by_code(env):
    await add(env, "th-a", jpeg((1, 2, 3)), caption="a1")
    await add(env, "th-a", jpeg((90, 2, 3)), caption="a2")
    await add(env, "th-b", jpeg((1, 200, 3)), caption="b1")
    every = await photos.for_report(env)
    assert {code: [p.caption for p in found] for code, found in every.items()} == {
        "th-a": ["a1", "a2"],
        "th-b": ["b1"],
    }
    assert list(await photos.for_report(env, ["TH-B"])) == ["th-b"]
    assert await photos.for_report(env, []) == {}
    assert photos.path(env, every["th-b"][0]).is_file()


async def test_an_unknown_unit_cannot_add(env):
    with pytest.raises(LookupError):
        await add(env, "khong-co", jpeg())


def test_the_folder_defaults_to_photos_beside_the_sqlite_file(tmp_path):
    assert PhotoSettings().folder_for(str(tmp_path / "loa.db")) == tmp_path / "photos"
    assert str(PhotoSettings().folder_for(None)) == "var/photos"
    assert PhotoSettings(tmp_path / "x").folder_for(str(tmp_path / "loa.db")) == tmp_path / "x"


async def test_a_photo_is_found_by_id_only_for_its_own_unit_and_removed_by_id(env):
    from sqlalchemy import select

    from bot.store.models import AuditEntry

    first = await add(env, "th-a", jpeg((10, 0, 0)))
    second = await add(env, "th-a", jpeg((200, 0, 0)))
    found = await photos.find(env, second.photo.id)
    assert found is not None and (found.number, found.unit_code) == (2, "th-a")
    assert await photos.find(env, second.photo.id, "TH-A") == found
    assert await photos.find(env, second.photo.id, "th-b") is None
    assert await photos.find(env, 999_999) is None
    assert await photos.remove_id(env, "th-b", second.photo.id) is None  # not th-b's
    removed = await photos.remove_id(env, "th-a", second.photo.id, actor="zalo:coordinator")
    assert removed is not None and removed.number == 2
    assert await photos.find(env, second.photo.id) is None
    unit, left = await photos.of_unit(env, "th-a")
    assert unit.code == "th-a" and [p.id for p in left] == [first.photo.id]
    assert await photos.of_unit(env, "khong-co") is None
    async with env.db.session() as session:
        [entry] = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "photo_removed")
        )
    assert entry.actor == "zalo:coordinator" and entry.detail["photo"] == second.photo.id


async def test_taking_the_units_row_leaves_it_as_it_was(env):
    from bot.store.units import unit_by_code

    async with env.db.session() as session:
        before = await unit_by_code(session, "th-a")
    await add(env, "th-a", jpeg())
    async with env.db.session() as session:
        after = await unit_by_code(session, "th-a")
    assert (after.code, after.code_key, after.updated_at) == (
        before.code,
        before.code_key,
        before.updated_at,
    )


async def test_a_removal_never_takes_the_file_of_a_photo_kept_meanwhile(env, monkeypatch):
    """Unit A removes a photo while unit B keeps the same picture: B's file stays, whichever
    comes first (A's file is deleted after A's row is marked, B's written before B's row)."""
    await add(env, "th-a", jpeg())
    entered, go = threading.Event(), threading.Event()
    delete = stored.delete

    def slow_delete(folder, file):
        entered.set()
        go.wait(timeout=5)  # B's photo comes now, between A's row and A's file
        delete(folder, file)

    monkeypatch.setattr(stored, "delete", slow_delete)
    removing = asyncio.create_task(photos.remove(env, "th-a", 1))
    await asyncio.to_thread(entered.wait, 5)
    adding = asyncio.create_task(add(env, "th-b", jpeg()))
    await asyncio.sleep(0.3)
    go.set()
    await removing
    kept = await adding
    assert isinstance(kept, Kept)
    [photo] = await photos.kept(env, "th-b")
    assert (await photos.read(env, photo)).startswith(b"\xff\xd8")  # B's JPEG is there
