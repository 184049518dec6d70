"""Chats the bot has met, which unit each belongs to, and who writes in them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Chat, Member, Unit, utcnow
from bot.store.units import new_registration_code

# How stale `Member.last_seen` may get: a person answering the form part by part would otherwise
# make every message a write.
SEEN_EVERY = dt.timedelta(minutes=10)

# Every message runs it: built once, as building it costs half as much as running it.
_VISIT = (
    select(Chat, Unit, Member)
    .outerjoin(Unit, Unit.id == Chat.unit_id)
    .outerjoin(Member, and_(Member.chat_id == Chat.id, Member.user_id == bindparam("user_id")))
    .where(Chat.platform == bindparam("platform"), Chat.external_id == bindparam("external_id"))
)


async def visit(
    session: AsyncSession,
    platform: str,
    external_id: str,
    kind: str,
    title: str | None,
    user_id: str,
    name: str,
    role: str,
) -> tuple[Chat, Unit | None, bool]:
    """`meet` and `seen` in one query: the chat, its unit, and whether anything changed (most
    messages change nothing, so the caller need not write)."""
    where = {"platform": platform, "external_id": external_id, "user_id": user_id}
    found = (await session.execute(_VISIT, where)).first()
    if found is None:
        chat = await meet(session, platform, external_id, kind, title)
        _seen(session, chat, None, user_id, name, role)
        return chat, None, True
    chat, unit, member = found
    if title and chat.title != title:
        chat.title = title
    if not chat.active:
        chat.active, chat.left_at = True, None
    _seen(session, chat, member, user_id, name, role)
    return chat, unit, bool(session.new or session.dirty)


def _seen(
    session: AsyncSession, chat: Chat, member: Member | None, user_id: str, name: str, role: str
) -> None:
    """Remember who wrote in the chat, and under which name (when, to `SEEN_EVERY`)."""
    now = utcnow()
    if member is None:
        session.add(Member(chat_id=chat.id, user_id=user_id, name=name, role=role))
    elif (member.name, member.role) != (name, role) or member.last_seen < now - SEEN_EVERY:
        member.name, member.role, member.last_seen = name, role, now


async def meet(
    session: AsyncSession, platform: str, external_id: str, kind: str, title: str | None
) -> Chat:
    """The chat, created on first contact; a chat that writes to the bot is active again."""
    chat = await find(session, platform, external_id)
    if chat is None:
        chat = Chat(platform=platform, external_id=external_id, kind=kind, title=title)
        session.add(chat)
        await session.flush()
        return chat
    chat.title = title or chat.title
    if not chat.active:
        chat.active, chat.left_at = True, None
    return chat


async def find(session: AsyncSession, platform: str, external_id: str) -> Chat | None:
    return await session.scalar(
        select(Chat).where(Chat.platform == platform, Chat.external_id == external_id)
    )


async def move(session: AsyncSession, platform: str, old_id: str, new_id: str) -> Chat | None:
    """Give the chat its new address, keeping its unit, outbox and history. If the bot already
    met the new chat on its own (its first message came first), that empty row gives way."""
    chat = await find(session, platform, old_id)
    if chat is None:
        return None  # already moved: Telegram announces it twice
    newer = await find(session, platform, new_id)
    if newer is not None:
        if newer.unit_id is not None:  # registered on its own meanwhile: keep that one
            deactivate(chat)
            return newer
        await session.delete(newer)
        await session.flush()
    chat.external_id = new_id
    return chat


async def unit_of(session: AsyncSession, chat: Chat) -> Unit | None:
    return await session.get(Unit, chat.unit_id) if chat.unit_id is not None else None


async def bind(session: AsyncSession, chat: Chat, unit: Unit) -> bool:
    """Bind a chat that has no unit yet, spending the unit's one-time code.

    False when the chat already has a unit, or another chat spent the code a moment ago.
    """
    if chat.unit_id is not None:
        return False
    spent = await session.execute(
        update(Unit)
        .where(Unit.id == unit.id, Unit.registration_code == unit.registration_code)
        .values(registration_code=new_registration_code())
    )
    if spent.rowcount != 1:
        return False
    chat.unit_id, chat.registered_at, chat.active = unit.id, utcnow(), True
    await session.refresh(unit)
    return True


def unbind(chat: Chat) -> None:
    chat.unit_id, chat.registered_at = None, None


def deactivate(chat: Chat) -> None:
    chat.active, chat.left_at = False, utcnow()


@dataclass(frozen=True)
class UnitChat:
    chat: Chat
    unit: Unit


async def active_unit_chats(
    session: AsyncSession, types: Collection[str] | None = None
) -> list[UnitChat]:
    """Every registered, active chat with its unit; only units of `types` when given."""
    query = select(Chat, Unit).join(Unit, Chat.unit_id == Unit.id).where(Chat.active.is_(True))
    if types:
        query = query.where(Unit.type.in_(types))
    rows = await session.execute(query.order_by(Unit.code, Chat.id))
    return [UnitChat(chat, unit) for chat, unit in rows]


async def chats_of(session: AsyncSession, unit: Unit) -> list[Chat]:
    return list(await session.scalars(select(Chat).where(Chat.unit_id == unit.id)))


async def all_units(session: AsyncSession) -> list[Unit]:
    return list(await session.scalars(select(Unit).order_by(Unit.code)))


async def registered_chats(session: AsyncSession) -> list[Chat]:
    return list(await session.scalars(select(Chat).where(Chat.unit_id.is_not(None))))


async def active_per_platform(session: AsyncSession) -> dict[str, int]:
    """Registered chats Loa can write to, per platform."""
    rows = await session.execute(
        select(Chat.platform, func.count())
        .where(Chat.unit_id.is_not(None), Chat.active.is_(True))
        .group_by(Chat.platform)
    )
    return {platform: count for platform, count in rows}
