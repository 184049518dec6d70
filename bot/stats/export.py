"""What every export shows, read once from the store (`bot.ops.figures.gather`) and written by
`bot.documents.formats` as XLSX, CSV or DOCX."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bot.campaign.model import Campaign, Form
from bot.campaign.units import by_parent
from bot.stats import table
from bot.stats.grammar import Value
from bot.stats.table import UnitSheet


@dataclass(frozen=True)
class Group:
    """The units of one parent (a commune or ward; None: the units that name none) and their
    subtotals, summed as the province's totals are."""

    parent: str | None
    sheets: list[UnitSheet]
    totals: dict[str, Value]
    counts: dict[table.Completion, int]


@dataclass(frozen=True)
class ExportPhoto:
    """A unit's photo for the report's appendix: its JPEG's file (read by the writer, which
    never asks the database) and its caption."""

    path: Path
    caption: str
    width: int
    height: int


@dataclass(frozen=True)
class Export:
    """What every export shows: the form, each unit's answers in campaign order, when; and the
    units' photos by unit code (the report's appendix; units without photos left out)."""

    campaign: Campaign
    sheets: list[UnitSheet]
    made_at: dt.datetime  # aware, in the campaign's zone
    photos: Mapping[str, list[ExportPhoto]] = field(default_factory=dict)

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

    @cached_property
    def groups(self) -> list[Group]:
        """The units by parent, parents as they first come and the units without one last;
        none when no unit names a parent (the province's totals say it all)."""
        found = by_parent(self.sheets, lambda sheet: sheet.parent)
        if all(parent is None for parent, _ in found):
            return []
        return [
            Group(parent, sheets, table.totals(self.form, sheets), table.counts(self.form, sheets))
            for parent, sheets in found
        ]
