"""Units' photos of their week (issue 20): keep one a unit sends, list and remove its own, read
one back, and hand the report its photos.

Every face adds through `add`: the chat (a photo in a registered chat), the unit's web form.
The content is checked to be an image by Pillow (`bot.images`), never by its name; it is kept
upright, stripped of its metadata (EXIF and its GPS position), at most 1600 px, as JPEG.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot import images
from bot.campaign.scope import EVERYTHING, Scope
from bot.ops.env import Env
from bot.store import audit, chats
from bot.store import photos as stored
from bot.store.models import Photo as PhotoRow
from bot.store.models import Unit
from bot.store.units import unit_by_code

REMOVED = "photo_removed"  # the audit log's action

Reason = Literal["not_image", "too_large", "full", "unreadable"]


@dataclass(frozen=True)
class Photo:
    id: int
    number: int  # 1-based among the unit's kept photos, in received order
    unit_code: str
    caption: str
    sender: str  # platform:user id, or "web"
    source: str  # "telegram", "zalo" or "web"
    received_at: dt.datetime
    width: int
    height: int
    size: int  # bytes of the stored JPEG
    file: str  # its file's name: the content's SHA-256, hex, and ".jpg"
    sender_name: str = ""  # as the chat showed the sender when the photo came; "" from the web


@dataclass(frozen=True)
class Kept:
    """The photo is kept (or was already: `duplicate`); the unit now has `count` of `limit`."""

    photo: Photo
    count: int
    limit: int
    duplicate: bool = False


@dataclass(frozen=True)
class Refused:
    """Not kept: not an image, larger than `max_bytes` (or in pixels), the unit has `limit`
    already, or an image that cannot be read (cut short, HEIC)."""

    reason: Reason
    limit: int
    max_bytes: int


async def add(
    env: Env,
    unit_code: str,
    content: bytes,
    *,
    caption: str,
    sender: str,
    source: str,
    sender_name: str = "",
) -> Kept | Refused:
    """Keep `content` as a photo of the unit. Raises `LookupError` for an unknown unit (a face
    only ever adds for the unit of a registered chat or of a valid form link)."""
    limits = env.photos
    if len(content) > limits.max_bytes:
        return _refused(env, "too_large")
    async with env.db.session() as session:  # full already: refused without the image work
        unit = await unit_by_code(session, unit_code)
        if unit is None:
            raise LookupError(unit_code)
        if len(await stored.live(session, env.campaign_key, unit.id)) >= limits.per_unit:
            return _refused(env, "full")
    try:
        image = await asyncio.to_thread(images.normalized, content)
    except images.ImageRefused as refused:
        return _refused(env, refused.reason)
    file = stored.file_name(image.digest, unit.id)
    async with env.db.session() as session, session.begin():
        await stored.hold_unit(session, unit)  # two photos at once: the second counts the first
        rows = await stored.live(session, env.campaign_key, unit.id)
        same = next((number for number, row in enumerate(rows, 1) if row.file == file), None)
        if same is not None:
            return Kept(_photo(rows[same - 1], same, unit.code), len(rows), limits.per_unit, True)
        if len(rows) >= limits.per_unit:
            return _refused(env, "full")
        await asyncio.to_thread(stored.write, env.photos_folder, file, image.jpeg)
        row = PhotoRow(
            campaign=env.campaign_key,
            unit_id=unit.id,
            file=file,
            width=image.width,
            height=image.height,
            size=len(image.jpeg),
            caption=caption.strip(),
            sender=sender,
            sender_name=sender_name[:255],
            source=source,
            received_at=env.clock.now(),
        )
        session.add(row)
        await session.flush()
    return Kept(_photo(row, len(rows) + 1, unit.code), len(rows) + 1, limits.per_unit)


async def kept(env: Env, unit_code: str) -> list[Photo]:
    """The unit's photos, numbered in the order they came; [] for an unknown unit."""
    async with env.db.session() as session:
        unit = await unit_by_code(session, unit_code)
        if unit is None:
            return []
        rows = await stored.live(session, env.campaign_key, unit.id)
    return [_photo(row, number, unit.code) for number, row in enumerate(rows, 1)]


async def of_unit(
    env: Env, unit_code: str, scope: Scope = EVERYTHING
) -> tuple[Unit, list[Photo]] | None:
    """The unit and its photos (a gallery's page); None for a unit not known in `scope`."""
    async with env.db.session() as session:
        unit = await unit_by_code(session, unit_code)
        if unit is None or not scope.covers(unit.parent):
            return None
        rows = await stored.live(session, env.campaign_key, unit.id)
    return unit, [_photo(row, number, unit.code) for number, row in enumerate(rows, 1)]


async def remove(
    env: Env, unit_code: str, number: int, *, actor: str | None = None
) -> Photo | None:
    """Remove the unit's photo `number` (as `kept` numbers them); None when it has no such one.
    The file goes too once no unit's live photo shows it. `actor` (platform:id) is audited."""

    def numbered(rows: list[PhotoRow]) -> int | None:
        return number if 1 <= number <= len(rows) else None

    return await _remove(env, unit_code, numbered, actor)


async def remove_id(
    env: Env, unit_code: str, photo_id: int, *, actor: str | None = None
) -> Photo | None:
    """Remove the unit's photo with this id (a page's button: a number would shift under a
    second click); None when the unit has no such live photo."""

    def numbered(rows: list[PhotoRow]) -> int | None:
        return next((n for n, row in enumerate(rows, 1) if row.id == photo_id), None)

    return await _remove(env, unit_code, numbered, actor)


async def find(
    env: Env, photo_id: int, unit_code: str | None = None, scope: Scope = EVERYTHING
) -> Photo | None:
    """The live photo with this id, numbered among its unit's; with `unit_code`, only if it is
    that unit's (a unit's form shows its own photos alone); only a unit of `scope`'s."""
    async with env.db.session() as session:
        row = await session.get(PhotoRow, photo_id)
        if row is None or row.removed_at is not None or row.campaign != env.campaign_key:
            return None
        unit = await session.get(Unit, row.unit_id)
        if unit is None or (unit_code is not None and unit.code.lower() != unit_code.lower()):
            return None
        if not scope.covers(unit.parent):
            return None
        rows = await stored.live(session, env.campaign_key, unit.id)
    number = next(n for n, live in enumerate(rows, 1) if live.id == row.id)
    return _photo(row, number, unit.code)


async def _remove(
    env: Env, unit_code: str, pick: Callable[[list[PhotoRow]], int | None], actor: str | None
) -> Photo | None:
    async with env.db.session() as session:
        unit = await unit_by_code(session, unit_code)
    if unit is None:
        return None
    async with env.db.session() as session, session.begin():
        await stored.hold_unit(session, unit)  # a write first: SQLite takes its lock at once
        rows = await stored.live(session, env.campaign_key, unit.id)
        number = pick(rows)
        if number is None:
            return None
        row = rows[number - 1]
        stored.mark_removed(row)
        if actor is not None:
            audit.record(session, actor, REMOVED, unit=unit, photo=row.id, file=row.file)
        await session.flush()
        if not await stored.in_use(session, row.file):
            # while the unit is held: a photo of the unit kept now cannot lose its file to this
            await asyncio.to_thread(stored.delete, env.photos_folder, row.file)
    return _photo(row, number, unit.code)


async def read(env: Env, photo: Photo) -> bytes:
    """The stored JPEG. Raises `FileNotFoundError` when its file is gone (removed meanwhile)."""
    return await asyncio.to_thread(stored.path_of(env.photos_folder, photo.file).read_bytes)


async def for_report(
    env: Env, units: Collection[str] | None = None, scope: Scope = EVERYTHING
) -> dict[str, list[Photo]]:
    """Each unit's kept photos by unit code (only units with some), for the report's appendix;
    `units` None: every unit's of `scope`."""
    async with env.db.session() as session:
        every = {
            unit.id: unit for unit in await chats.unit_rows(session) if scope.covers(unit.parent)
        }
        if units is not None:
            wanted = {code.lower() for code in units}
            every = {key: unit for key, unit in every.items() if unit.code.lower() in wanted}
        some = units is not None or not scope.everything
        found = await stored.live_of_units(session, env.campaign_key, list(every) if some else None)
    return {
        every[unit_id].code: [_photo(row, n, every[unit_id].code) for n, row in enumerate(rows, 1)]
        for unit_id, rows in found.items()
        if unit_id in every
    }


@dataclass(frozen=True)
class UnitPhotos:
    """A unit that sent photos, as the console's index of galleries shows it."""

    code: str
    name: str
    parent: str | None
    photos: list[Photo]


async def by_unit(env: Env, scope: Scope = EVERYTHING) -> list[UnitPhotos]:
    """The units of `scope` that sent photos, with them: by commune, then by name."""
    async with env.db.session() as session:
        units = {unit.code: unit for unit in await chats.unit_rows(session)}
    kept = await for_report(env, scope=scope)
    found = [
        UnitPhotos(code, units[code].name, units[code].parent, photos)
        for code, photos in kept.items()
    ]
    return sorted(found, key=lambda unit: (unit.parent is None, unit.parent or "", unit.name))


def path(env: Env, photo: Photo) -> Path:
    """Where the photo's file is, for a writer that reads it itself (the report)."""
    return stored.path_of(env.photos_folder, photo.file)


def _photo(row: PhotoRow, number: int, unit_code: str) -> Photo:
    return Photo(
        row.id,
        number,
        unit_code,
        row.caption,
        row.sender,
        row.source,
        row.received_at,
        row.width,
        row.height,
        row.size,
        row.file,
        row.sender_name,
    )


def _refused(env: Env, reason: Reason) -> Refused:
    return Refused(reason, env.photos.per_unit, env.photos.max_bytes)
