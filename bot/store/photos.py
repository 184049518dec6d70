"""Units' photos: their rows, and their JPEG files under the photos folder.

A file is named by its content's SHA-256 and its unit (`<hex>-<unit id>.jpg`), kept at
`<folder>/<hex[:2]>/`: each unit's copy is its own file, so a unit removing a photo (done while
the unit is held) never races another unit keeping the same picture. A row is only marked
removed; the file goes when no live row uses it any more.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Collection
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Photo, Unit, utcnow

PRIVATE_FOLDER = 0o700  # units' pictures of people: for Loa's user alone, as the database is


async def hold_unit(session: AsyncSession, unit: Unit) -> None:
    """Take the unit's row for this transaction (a write that changes nothing): a second photo
    of the same unit, sent at the same moment, waits here and then counts the first."""
    same = update(Unit).where(Unit.id == unit.id).values(updated_at=Unit.updated_at)
    await session.execute(same)  # its own value named: `onupdate` does not stamp it


async def live(session: AsyncSession, campaign: str, unit_id: int) -> list[Photo]:
    """The unit's photos not removed, in the order they came."""
    found = await session.scalars(
        select(Photo)
        .where(Photo.campaign == campaign, Photo.unit_id == unit_id, Photo.removed_at.is_(None))
        .order_by(Photo.received_at, Photo.id)
    )
    return list(found)


async def live_of_units(
    session: AsyncSession, campaign: str, unit_ids: Collection[int] | None = None
) -> dict[int, list[Photo]]:
    """Each unit's live photos in the order they came (only units with some); `unit_ids`
    None: every unit's."""
    query = select(Photo).where(Photo.campaign == campaign, Photo.removed_at.is_(None))
    if unit_ids is not None:
        query = query.where(Photo.unit_id.in_(list(unit_ids)))
    found: dict[int, list[Photo]] = {}
    for photo in await session.scalars(query.order_by(Photo.received_at, Photo.id)):
        found.setdefault(photo.unit_id, []).append(photo)
    return found


async def in_use(session: AsyncSession, file: str) -> bool:
    """Whether any live row, of any unit or campaign, shows this file."""
    used = await session.scalar(
        select(Photo.id).where(Photo.file == file, Photo.removed_at.is_(None)).limit(1)
    )
    return used is not None


def mark_removed(photo: Photo) -> None:
    photo.removed_at = utcnow()


def file_name(digest: str, unit_id: int) -> str:
    """The unit's file for a picture with this content digest (hex)."""
    return f"{digest}-{unit_id}.jpg"


def path_of(folder: Path, file: str) -> Path:
    return folder / file[:2] / file


def write(folder: Path, file: str, content: bytes) -> None:
    """The file whole or not at all (a temporary file beside it, renamed); one that is already
    there has the same content, its name holding its digest."""
    target = path_of(folder, file)
    if target.exists():
        return
    target.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".jpg")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def delete(folder: Path, file: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        path_of(folder, file).unlink()
