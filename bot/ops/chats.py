"""The chats the bot is in: who wrote where, unbinding a chat or a whole unit, and what the
platforms tell of a chat (the bot added, the chat moved, the bot gone from it).

Each operation returns what happened; telling the people concerned is the caller's part.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from bot.address import Address
from bot.campaign.scope import EVERYTHING, Scope
from bot.delivery import outbox
from bot.ops import unitlinks
from bot.ops.env import Env
from bot.store import audit
from bot.store import chats as store
from bot.store.chats import UnitChat
from bot.store.chats import Visit as Visit  # what a face fills in for `visit`
from bot.store.models import Chat, Unit
from bot.store.units import unit_by_code


async def visit(env: Env, seen: Visit) -> tuple[Chat, Unit | None]:
    """Remember a message's chat and sender (`store.visit_all`): its chat and that chat's unit.
    The visits of a busy moment share one transaction with the other batched work."""
    return await env.db.batched(store.visit_all)(seen)


async def unit_of_chat(env: Env, chat: Address) -> Unit | None:
    async with env.db.session() as session:
        found = await store.find(session, chat.platform, chat.id)
        return await store.unit_of(session, found) if found else None


async def note_refused(env: Env, by: Address, chat: Chat, command: str) -> None:
    """Someone asked for a command they may not run: the audit log keeps it."""
    async with env.db.session() as session, session.begin():
        audit.record(session, str(by), "refused", chat, command=command)


class Unregistered(enum.Enum):
    NOT_REGISTERED = "not_registered"  # the chat has no unit (or the bot never met it)
    REFUSED = "refused"  # the person may not unbind it
    UNREGISTERED = "unregistered"


@dataclass(frozen=True)
class Unregistering:
    outcome: Unregistered
    unit: Unit | None  # the chat's unit, when it had one


async def unregister(env: Env, chat: Address, by: Address, allowed: bool) -> Unregistering:
    """Unbind the chat from its unit and cancel what was planned for it. `allowed`: whether
    `by` may (a coordinator, or an admin of the group: the caller asks the platform)."""
    async with env.db.session() as session, session.begin():
        found = await store.find(session, chat.platform, chat.id)
        unit = await store.unit_of(session, found) if found else None
        if found is None or unit is None:
            return Unregistering(Unregistered.NOT_REGISTERED, unit)
        if not allowed:
            audit.record(session, str(by), "refused", found, unit, command="huydangky")
            return Unregistering(Unregistered.REFUSED, unit)
        store.unbind(found)
        await outbox.cancel_chat(session, found)
        audit.record(session, str(by), "unregistered", found, unit)
        await unitlinks.revoke_if_unreachable(session, unit, env.clock.now())
    return Unregistering(Unregistered.UNREGISTERED, unit)


@dataclass(frozen=True)
class UnitUnregistered:
    unit: Unit | None  # None: no unit has that code
    chats: list[Chat]  # every chat the unit had, now unbound

    @property
    def reachable(self) -> list[Address]:
        """The unbound chats the bot can still write to, to tell them."""
        return [Address(c.platform, c.external_id) for c in self.chats if c.active]


async def unregister_unit(
    env: Env, code: str, by: Address, scope: Scope = EVERYTHING
) -> UnitUnregistered:
    """Unbind every chat of the unit `code` (a coordinator revoking a leaked code); a unit
    beyond `scope` is as none."""
    async with env.db.session() as session, session.begin():
        unit = await unit_by_code(session, code)
        unit = unit if unit is not None and scope.covers(unit.parent) else None
        bound = await store.chats_of(session, unit) if unit else []
        for chat in bound:
            store.unbind(chat)
            await outbox.cancel_chat(session, chat)
            audit.record(session, str(by), "unregistered", chat, unit)
        if unit is not None:  # its form's links too: they came through those chats
            await unitlinks.revoke(session, unit, env.clock.now())
    return UnitUnregistered(unit, bound)


@dataclass(frozen=True)
class Added:
    chat: Chat
    unit: Unit | None  # a registered chat that had removed the bot is back: its plan resumes


async def bot_added(
    env: Env, chat: Address, kind: str, title: str | None, by: Address | None
) -> Added:
    """The bot was added to a chat (again). When it is a unit's, its deliveries are planned
    again: wake the sender once the chat has been greeted."""
    async with env.db.session() as session, session.begin():
        found = await store.meet(session, chat.platform, chat.id, kind, title)
        unit = await store.unit_of(session, found)
        audit.record(session, str(by) if by else "loa", "bot_added", found, unit)
        if unit is not None:
            target = UnitChat(found, unit)
            await outbox.plan_chat(session, env.campaign_key, env.campaign, target, env.clock.now())
    return Added(found, unit)


async def chat_moved(env: Env, old: Address, new_id: str) -> Chat | None:
    """The chat got a new id (a group became a supergroup): same unit, new address. The chat
    at its new address; None when the bot does not know the old one (already moved)."""
    try:
        return await _move(env, old, new_id)
    except IntegrityError:  # someone's first message there created the new chat meanwhile
        return await _move(env, old, new_id)


async def _move(env: Env, old: Address, new_id: str) -> Chat | None:
    async with env.db.session() as session, session.begin():
        chat = await store.move(session, old.platform, old.id, new_id)
        if chat is not None:
            unit = await store.unit_of(session, chat)
            audit.record(session, "loa", "chat_moved", chat, unit, old=old.id, new=new_id)
    return chat


@dataclass(frozen=True)
class Gone:
    chat: Chat
    unit: Unit | None


async def chat_gone(env: Env, chat: Address, by: Address | None) -> Gone | None:
    """The bot can no longer write in the chat (removed, blocked, the chat deleted): nothing is
    sent there any more. None when nothing changed (a chat unknown or already gone); else the
    coordinators should hear of it. `by`: who removed the bot, when the platform says."""
    async with env.db.session() as session, session.begin():
        found = await store.find(session, chat.platform, chat.id)
        if found is None or not found.active:
            return None
        store.deactivate(found)
        unit = await store.unit_of(session, found)
        audit.record(session, str(by) if by else "loa", "bot_removed", found, unit)
        if unit is not None:
            await unitlinks.revoke_if_unreachable(session, unit, env.clock.now())
    return Gone(found, unit)
