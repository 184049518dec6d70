"""What every export shows, read once from the store (`bot.ops.figures.gather`) and written by
`bot.documents.formats` as XLSX, CSV or DOCX."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from bot.campaign.model import Campaign, Form
from bot.stats import table
from bot.stats.grammar import Value
from bot.stats.table import UnitSheet


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
