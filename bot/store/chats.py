"""Chats the bot has met, which unit each belongs to, and who writes in them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import and_, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Chat, Member, Unit, utcnow
from bot.store.rows import rowcount
from bot.store.units import new_registration_code

# How stale `Member.last_seen` may get: a person answering the form part by part would otherwise
# make every message a write.
SEEN_EVERY = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Visit:
    """A message's chat and sender, as the dispatcher remembers them."""

    platform: str
    external_id: str
    kind: str
    title: str | None
    user_id: str
    name: str
    role: str


async def visit_all(
    session: AsyncSession, visits: Sequence[Visit]
) -> list[tuple[Chat, Unit | None]]:
    """`meet` and `seen` for many messages in one query: each one's chat and unit.

    Most messages change nothing (the same title, a member seen minutes ago), so most batches
    only read.
    """
    chats = sorted({(v.platform, v.external_id) for v in visits})
    users = sorted({v.user_id for v in visits})
    query = (
        select(Chat, Unit, Member)
        .outerjoin(Unit, Unit.id == Chat.unit_id)
        .outerjoin(Member, and_(Member.chat_id == Chat.id, Member.user_id.in_(users)))
        .where(tuple_(Chat.platform, Chat.external_id).in_(chats))
    )
    found: dict[tuple[str, str], tuple[Chat, Unit | None]] = {}
    members: dict[tuple[int, str], Member] = {}
    for known, its_unit, member in await session.execute(query):
        found[known.platform, known.external_id] = known, its_unit
        if member is not None:
            members[known.id, member.user_id] = member
    visited: list[tuple[Chat, Unit | None]] = []
    for v in visits:
        if (v.platform, v.external_id) not in found:
            chat = await meet(session, v.platform, v.external_id, v.kind, v.title)
            found[v.platform, v.external_id] = chat, None
        chat, unit = found[v.platform, v.external_id]
        if v.title and chat.title != v.title:
            chat.title = v.title
        if not chat.active:
            chat.active, chat.left_at = True, None
        members[chat.id, v.user_id] = _seen(session, chat, members.get((chat.id, v.user_id)), v)
        visited.append((chat, unit))
    return visited


def _seen(session: AsyncSession, chat: Chat, member: Member | None, visit: Visit) -> Member:
    """Remember who wrote in the chat, and under which name (when, to `SEEN_EVERY`)."""
    now, who = utcnow(), (visit.name, visit.role)
    if member is None:
        member = Member(chat_id=chat.id, user_id=visit.user_id, name=visit.name, role=visit.role)
        session.add(member)
    elif (member.name, member.role) != who or member.last_seen < now - SEEN_EVERY:
        member.name, member.role, member.last_seen = *who, now
    return member


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
    spent = await rowcount(
        session,
        update(Unit)
        .where(Unit.id == unit.id, Unit.registration_code == unit.registration_code)
        .values(registration_code=new_registration_code()),
    )
    if spent != 1:
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


class UnitRow(NamedTuple):
    """A unit as reports read it: a plain row, as a province's 5,000 are read at every ask."""

    id: int
    code: str
    name: str
    type: str
    parent: str | None


async def unit_rows(session: AsyncSession) -> list[UnitRow]:
    """Every unit by code, as plain rows (`all_units` makes objects: 5,000 take 0.2 s)."""
    query = select(Unit.id, Unit.code, Unit.name, Unit.type, Unit.parent).order_by(Unit.code)
    return [UnitRow(*row) for row in await session.execute(query)]


class ChatRow(NamedTuple):
    """A registered chat as reports read it: a plain row, as `UnitRow`."""

    id: int
    unit_id: int | None
    platform: str
    kind: str
    title: str | None
    active: bool


async def chat_rows(session: AsyncSession) -> list[ChatRow]:
    """Every chat registered to a unit, as plain rows (a province has 6,000)."""
    query = select(Chat.id, Chat.unit_id, Chat.platform, Chat.kind, Chat.title, Chat.active)
    return [ChatRow(*row) for row in await session.execute(query.where(Chat.unit_id.is_not(None)))]


async def all_units(session: AsyncSession) -> list[Unit]:
    return list(await session.scalars(select(Unit).order_by(Unit.code)))


async def unit_parents(session: AsyncSession) -> list[str | None]:
    """Every unit's parent (None: it names none), one per unit: a plain column, not 5,000
    objects."""
    return list(await session.scalars(select(Unit.parent)))


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


async def reach(session: AsyncSession) -> list[tuple[str | None, bool]]:
    """Each unit's parent and whether one of its chats is registered and active: a count of
    registrations without loading a row as an object."""
    reached = select(Chat.id).where(Chat.unit_id == Unit.id, Chat.active.is_(True)).exists()
    return [
        (parent, bool(yes)) for parent, yes in await session.execute(select(Unit.parent, reached))
    ]
