"""Progress: which units Loa reaches, which have sent their figures, how the deliveries went."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple, TypedDict

from bot.campaign.scope import EVERYTHING, Scope
from bot.campaign.units import by_parent
from bot.delivery import outbox
from bot.ops.env import Env
from bot.ops.scoping import unit_ids
from bot.stats import table
from bot.stats.table import Completion
from bot.store import answers, chats
from bot.store.chats import ChatRow, UnitRow
from bot.store.db import Database
from bot.store.models import DeliveryStatus

# The deliveries' states a coordinator is shown; a delivery being sent counts as pending.
DELIVERY_STATES: dict[DeliveryStatus, Literal["sent", "pending", "failed", "missed"]] = {
    DeliveryStatus.SENT: "sent",
    DeliveryStatus.PENDING: "pending",
    DeliveryStatus.SENDING: "pending",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.MISSED: "missed",
}


class DeliveryTotals(TypedDict):
    sent: int
    pending: int
    failed: int
    missed: int


class Totals(TypedDict):
    """The overview in numbers: the web's `/api/progress` (docs/design.md, Contracts)."""

    units: int
    registered: int
    complete: int
    partial: int
    silent: int
    deliveries: DeliveryTotals


class Standing(NamedTuple):
    """Where a unit stands with its figures: how complete, and how many items it has answered.

    A tuple, so templates may read it as `figure[0]`, `figure[1]`."""

    completion: Completion
    answered: int


@dataclass(frozen=True)
class ParentCount:
    """A parent's (commune's or ward's; None: no parent's) units: how many Loa reaches, and how
    many have sent all their figures, some, none."""

    parent: str | None
    units: int
    registered: int
    complete: int
    partial: int
    silent: int


@dataclass(frozen=True)
class Progress:
    units: Sequence[UnitRow]  # by code
    chats: Mapping[int | None, Sequence[ChatRow]]  # unit id -> its registered chats
    active: frozenset[int | None]  # units with a chat Loa can write to
    figures: Mapping[int, Standing]  # unit id -> its figures; empty without a form
    items: int  # answerable items of the form (0 without one)
    deliveries: Mapping[str, int] = field(default_factory=dict)  # status -> count, campaign-wide

    @property
    def missed(self) -> int:
        """Deliveries that fell due while Loa was not running and were no longer useful."""
        return self.deliveries.get(DeliveryStatus.MISSED, 0)

    @property
    def registered(self) -> int:
        """Units Loa reaches: with at least one active registered chat."""
        return sum(unit.id in self.active for unit in self.units)

    def count(self, completion: Completion) -> int:
        return sum(figure.completion is completion for figure in self.figures.values())

    @property
    def complete(self) -> int:
        return self.count(Completion.COMPLETE)

    @property
    def partial(self) -> int:
        return self.count(Completion.PARTIAL)

    @property
    def silent(self) -> int:
        return self.count(Completion.SILENT)

    def delivery_totals(self) -> DeliveryTotals:
        """sent, pending (waiting or being sent), failed, missed: cancelled ones are not shown."""
        totals = DeliveryTotals(sent=0, pending=0, failed=0, missed=0)
        for status, count in self.deliveries.items():
            if status in DELIVERY_STATES:
                totals[DELIVERY_STATES[DeliveryStatus(status)]] += count
        return totals

    def by_parent(self) -> list[ParentCount]:
        """Each parent's counts, parents as the office listed their units, the units without one
        last; none when no unit names a parent."""
        groups = by_parent(sorted(self.units, key=lambda unit: unit.id), lambda u: u.parent)
        if all(parent is None for parent, _ in groups):
            return []
        result = []
        for parent, units in groups:
            states = Counter(
                self.figures[unit.id].completion for unit in units if unit.id in self.figures
            )
            registered = sum(unit.id in self.active for unit in units)
            result.append(
                ParentCount(
                    parent,
                    len(units),
                    registered,
                    states[Completion.COMPLETE],
                    states[Completion.PARTIAL],
                    states[Completion.SILENT],
                )
            )
        return result

    def parents_named(self, text: str) -> list[str]:
        """The parents `text` names: the one it spells (ignoring case and spaces), else every
        one containing it ("An Bình" names "xã An Bình")."""
        wanted = " ".join(text.split()).casefold()
        names = {" ".join(unit.parent.split()): None for unit in self.units if unit.parent}
        exact = [name for name in names if name.casefold() == wanted]
        return exact or [name for name in names if wanted and wanted in name.casefold()]

    def within(self, parents: Collection[str]) -> Progress:
        """This progress for the units of `parents` only (the campaign's deliveries still all)."""
        units = [u for u in self.units if u.parent and " ".join(u.parent.split()) in parents]
        ids = {unit.id for unit in units}
        return replace(
            self,
            units=units,
            figures={key: value for key, value in self.figures.items() if key in ids},
        )

    def totals(self) -> Totals:
        """The overview in numbers (the web's `/api/progress`)."""
        return {
            "units": len(self.units),
            "registered": self.registered,
            "complete": self.complete,
            "partial": self.partial,
            "silent": self.silent,
            "deliveries": self.delivery_totals(),
        }


async def progress(env: Env, scope: Scope = EVERYTHING) -> Progress:
    """Who of the units of `scope` receives Loa's messages, and who has sent their figures."""
    form = env.campaign.form
    items = [row.code for row in table.answerable(form)] if form else []
    # the answers counted on a connection of their own meanwhile: the longest query (185,000
    # answers) runs beside the others
    counting = asyncio.create_task(_answered(env, items, scope)) if form else None
    try:
        async with env.db.session() as session:
            every = await chats.unit_rows(session)
            units = scope.within(every, lambda unit: unit.parent)
            bound = await chats.chat_rows(session)
            went = await outbox.statuses(session, env.campaign_key, await unit_ids(session, scope))
    finally:
        given = await counting if counting is not None else {}
    mine = {unit.id for unit in units}
    bound = [chat for chat in bound if scope.everything or chat.unit_id in mine]
    deliveries: Counter[str] = Counter()
    for counts in went.values():
        deliveries.update(counts)
    by_unit: dict[int | None, list[ChatRow]] = defaultdict(list)
    for chat in bound:
        by_unit[chat.unit_id].append(chat)
    figures = {
        unit.id: Standing(
            table.completion_of(given.get(unit.id, 0), len(items)), given.get(unit.id, 0)
        )
        for unit in units
        if form is not None
    }
    return Progress(
        units=units,
        chats=dict(by_unit),
        active=frozenset(chat.unit_id for chat in bound if chat.active),
        figures=figures,
        items=len(items),
        deliveries=dict(deliveries),
    )


async def _answered(env: Env, items: list[str], scope: Scope) -> dict[int, int]:
    async with env.db.session() as session:
        ids = await unit_ids(session, scope)
        return await answers.answered_counts(session, env.campaign_key, items, ids)


async def how_each_went(db: Database, campaign_key: str) -> dict[tuple[str, str], Counter[str]]:
    """Each planned delivery of the campaign, (kind, reference), with how it went over all its
    chats (`loa preview --status`); nothing for a database no `loa` has set up yet."""
    if await db.revision() is None:  # reading migrates nothing
        return {}
    async with db.session() as session:
        return await outbox.statuses(session, campaign_key)
