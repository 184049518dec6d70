"""`loa export` and /xuat: the campaign's answers read once, then written as XLSX, CSV or DOCX."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import BinaryIO

from bot.campaign.model import Campaign, Form
from bot.conversation.grammar import Value, printable
from bot.stats import table
from bot.stats.table import UnitSheet
from bot.store import answers, chats
from bot.store.db import Database


@dataclass(frozen=True)
class Export:
    """What every export shows: the form, each unit's answers in campaign order, when."""

    campaign: Campaign
    sheets: list[UnitSheet]
    made_at: dt.datetime  # aware, in the campaign's zone

    @property
    def form(self) -> Form:
        assert self.campaign.form is not None
        return self.campaign.form

    @cached_property
    def totals(self) -> dict[str, Value]:
        return table.totals(self.form, self.sheets)

    @cached_property
    def counts(self) -> dict[table.Completion, int]:
        return table.counts(self.form, self.sheets)


async def gather(db: Database, campaign: Campaign, campaign_key: str, now: dt.datetime) -> Export:
    """Every unit and its answers, by the campaign's unit types, then as the units were listed."""
    async with db.session() as session:
        units = await chats.all_units(session)
        given = await answers.every_unit(session, campaign_key)
    order = {audience.code: index for index, audience in enumerate(campaign.audiences)}
    units.sort(key=lambda u: (order.get(u.type, len(order)), u.id))  # as the office listed them
    sheets = [UnitSheet(u.code, printable(u.name), u.type, given.get(u.id, {})) for u in units]
    return Export(campaign, sheets, now.astimezone(campaign.tz))


def writer(fmt: str) -> Callable[[Export, BinaryIO], None]:
    """The function that writes `fmt` ("xlsx", "csv" or "docx") to a binary stream."""
    from bot.stats import longform, report, workbook  # openpyxl and python-docx load on demand

    return {"xlsx": workbook.build, "csv": longform.build, "docx": report.build}[fmt]


FORMATS = ("xlsx", "csv", "docx")
