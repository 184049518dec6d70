"""Rules that relate several fields of a campaign or form; pure, every problem at once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

from bot.campaign.model import AnswerKind, Campaign, DeadlineKind, Form, Opening
from bot.campaign.yamlfile import FieldPath
from bot.errors import Problem


def check_campaign(campaign: Campaign) -> list[Problem]:
    return [
        *_check_week(campaign),
        *_check_opening(campaign.opening),
        *_check_deadlines(campaign),
        *_check_quiet_hours(campaign),
    ]


def check_form(form: Form) -> list[Problem]:
    problems = []
    seen: Counter[str] = Counter()
    for s_index, section in enumerate(form.sections):
        rows = [(("sections", s_index), section)] + [
            (("sections", s_index, "items", i_index), item)
            for i_index, item in enumerate(section.items)
        ]
        if section.answer is None and not section.items:
            problems.append(
                Problem(("sections", s_index), "form_empty_section", {"code": section.code})
            )
        for path, row in rows:
            seen[row.code] += 1
            if seen[row.code] == 2:
                problems.append(Problem((*path, "code"), "form_duplicate_code", {"code": row.code}))
            if row.answer is AnswerKind.PAIR and len([p for p in row.parts() if p]) != 2:
                problems.append(Problem((*path, "unit"), "form_pair_unit", {"unit": row.unit}))
            if row.answer in (AnswerKind.COUNT, AnswerKind.PAIR, AnswerKind.MONEY) and not row.unit:
                problems.append(Problem((*path, "unit"), "form_missing_unit", {"code": row.code}))
    return problems


def _check_week(campaign: Campaign) -> Iterator[Problem]:
    week = campaign.week
    if week.end < week.start:
        yield Problem(("week", "end"), "week_order", {"start": week.start, "end": week.end})
    if campaign.issued and campaign.issued > week.end:
        yield Problem(
            ("issued",), "issued_after_week", {"issued": campaign.issued, "end": week.end}
        )


def _check_opening(opening: Opening | None) -> Iterator[Problem]:
    if opening is None:
        return
    if opening.time is not None and opening.date is None:
        yield Problem(("opening", "time"), "opening_time_without_date")
    previous: tuple[int, dt.time, dt.time | None] | None = None  # last timed row, its start, end
    for index, row in enumerate(opening.agenda):
        path = ("opening", "agenda", index)
        if row.start and row.end and row.end <= row.start:
            yield Problem(
                (*path, "end"), "agenda_row_backwards", {"start": row.start, "end": row.end}
            )
        if row.start is None:
            continue
        if previous is not None:
            other, before_start, before_end = previous
            ctx = {"row": index + 1, "start": row.start, "other": other + 1}
            if row.start < before_start:
                yield Problem(
                    (*path, "start"), "agenda_order", {**ctx, "other_start": before_start}
                )
            elif before_end is not None and row.start < before_end:
                yield Problem((*path, "start"), "agenda_overlap", {**ctx, "other_end": before_end})
        previous = (index, row.start, row.end)


def _check_deadlines(campaign: Campaign) -> Iterator[Problem]:
    known = {a.code for a in campaign.audiences}
    seen: set[str] = set()
    for index, deadline in enumerate(campaign.deadlines):
        path = ("deadlines", index)
        if deadline.code in seen:
            yield Problem((*path, "code"), "deadline_duplicate_code", {"code": deadline.code})
        seen.add(deadline.code)
        if deadline.kind is DeadlineKind.REPORT and deadline.last_day() < campaign.week.end:
            yield Problem(
                (*path, "date"),
                "report_before_week_end",
                {"date": deadline.date, "end": campaign.week.end},
            )
        yield from _unknown_audiences((*path, "audience"), deadline.audience, known)
    for index, announcement in enumerate(campaign.announcements):
        yield from _unknown_audiences(
            ("announcements", index, "audience"), announcement.audience, known
        )


def _unknown_audiences(path: FieldPath, codes: list[str], known: set[str]) -> Iterator[Problem]:
    for index, code in enumerate(codes):
        if code not in known:
            yield Problem(
                (*path, index), "audience_unknown", {"code": code, "known": sorted(known)}
            )


def _check_quiet_hours(campaign: Campaign) -> Iterator[Problem]:
    reminders = campaign.reminders
    quiet = reminders.quiet_hours
    if quiet.start == quiet.end:
        yield Problem(
            ("reminders", "quiet_hours", "end"), "quiet_hours_empty", {"start": quiet.start}
        )
    if quiet.contains(reminders.send_at):
        yield Problem(
            ("reminders", "send_at"),
            "send_at_quiet",
            {"time": reminders.send_at, "start": quiet.start, "end": quiet.end},
        )
    for index, announcement in enumerate(campaign.announcements):
        if quiet.contains(announcement.time):
            yield Problem(
                ("announcements", index, "time"),
                "announcement_quiet",
                {"time": announcement.time, "start": quiet.start, "end": quiet.end},
            )
