"""timeline(): exact moments for every seed, and the rules behind them."""

import datetime as dt

import pytest

from bot.campaign.model import Campaign
from bot.campaign.timeline import Kind, in_report_window, timeline
from bot.campaign.units import Unit


def plan(campaign, units=None):
    return [
        (d.at.strftime("%Y-%m-%d %H:%M"), d.kind.value, d.addressee)
        for d in timeline(campaign, units)
    ]


REPORT_001 = "truong-hoc,tthtcd"
REPORT_004 = "so-nganh,ubnd-huyen"

EXPECTED = {
    "gia-lam": [
        ("2020-10-01 07:00", "week_start", "all"),
        ("2020-10-06 07:00", "deadline_reminder", "ubnd-xa,co-so-giao-duc"),
        ("2020-10-07 07:00", "week_end", "all"),
        ("2020-10-08 07:00", "deadline_reminder", "ubnd-xa,co-so-giao-duc"),
        # the standard form, as the plan names none
        *[("2020-10-08 07:00", "data_prompt", "ubnd-xa,co-so-giao-duc")] * 11,
        ("2020-10-09 07:00", "deadline_reminder", "ubnd-xa,co-so-giao-duc"),
    ],
    "khanh-hoa": [
        ("2021-09-28 07:00", "opening_notice", "all"),
        ("2021-09-30 07:00", "opening_notice", "all"),
        ("2021-10-01 07:00", "week_start", "all"),
        ("2021-10-01 07:00", "opening_agenda", "all"),  # no time stated: told that morning
        ("2021-10-07 07:00", "week_end", "all"),
    ],
    "quan-12": [
        # issued 27/09: the 3-days-before reminder of 29/09 (26/09) would predate the plan
        ("2021-09-28 07:00", "opening_notice", "all"),
        ("2021-09-28 07:00", "deadline_reminder", "ubnd-phuong"),
        ("2021-09-29 07:00", "deadline_reminder", "ubnd-phuong"),  # "chậm nhất ngày 29/9"
        ("2021-09-30 07:00", "opening_notice", "all"),
        ("2021-10-01 07:00", "week_start", "all"),
        ("2021-10-01 07:00", "opening_agenda", "all"),  # 8h00 less the 60-minute lead
        ("2021-10-01 07:00", "slogan", "all"),
        ("2021-10-02 07:00", "slogan", "all"),
        ("2021-10-03 07:00", "slogan", "all"),
        ("2021-10-04 07:00", "slogan", "all"),
        ("2021-10-05 07:00", "slogan", "all"),
        ("2021-10-06 07:00", "slogan", "all"),
        (
            "2021-10-06 07:00",
            "deadline_reminder",
            "ubnd-phuong",
        ),  # "trước ngày 10/10": last day 9/10
        ("2021-10-07 07:00", "slogan", "all"),
        ("2021-10-07 07:00", "week_end", "all"),
        ("2021-10-08 07:00", "deadline_reminder", "ubnd-phuong"),
        # the form, for the wards' report only: the district's own report is made from it
        *[("2021-10-08 07:00", "data_prompt", "ubnd-phuong")] * 11,
        ("2021-10-09 07:00", "deadline_reminder", "ubnd-phuong"),
        ("2021-10-11 07:00", "deadline_reminder", "phong-gddt"),  # "trước ngày 15/10"
        ("2021-10-13 07:00", "deadline_reminder", "phong-gddt"),
        ("2021-10-14 07:00", "deadline_reminder", "phong-gddt"),
    ],
    "brvt": [
        # issued 18/10: the 3-days-before ceremony notice (16/10) would predate the plan
        ("2022-10-18 07:00", "opening_notice", "all"),
        ("2022-10-19 06:30", "opening_agenda", "all"),  # an hour before the 7h30 reception
        ("2022-10-19 07:00", "week_start", "all"),
        ("2022-10-25 07:00", "deadline_reminder", REPORT_004),
        ("2022-10-26 07:00", "week_end", "all"),
        ("2022-10-27 07:00", "deadline_reminder", REPORT_004),
        *[("2022-10-27 07:00", "data_prompt", REPORT_004)] * 11,
        ("2022-10-28 07:00", "deadline_reminder", REPORT_004),
    ],
    "lac-thuy": [
        ("2023-09-29 07:00", "opening_notice", "all"),
        ("2023-10-01 07:00", "opening_notice", "all"),
        ("2023-10-02 07:00", "week_start", "all"),
        ("2023-10-02 07:00", "opening_agenda", "all"),
        ("2023-10-08 07:00", "deadline_reminder", REPORT_001),
        ("2023-10-08 07:00", "week_end", "all"),
        *[("2023-10-09 07:00", "data_prompt", REPORT_001)] * 11,  # one per form section
        ("2023-10-10 07:00", "deadline_reminder", REPORT_001),
        ("2023-10-11 07:00", "deadline_reminder", REPORT_001),  # "trước ngày 12/10"
    ],
}


@pytest.mark.parametrize("seed", sorted(EXPECTED))
def test_every_seed_timeline_exactly(seeds, seed):
    assert plan(seeds[seed]) == EXPECTED[seed]


def test_times_carry_the_campaign_zone(seeds):
    for campaign in seeds.values():
        for delivery in timeline(campaign):
            assert delivery.at.utcoffset() == dt.timedelta(hours=7)


def test_quan_12_one_slogan_a_day_in_plan_order(seeds):
    c = seeds["quan-12"]
    slogans = [d for d in timeline(c) if d.kind is Kind.SLOGAN]
    assert [d.at.date() for d in slogans] == [dt.date(2021, 10, day) for day in range(1, 8)]
    assert [d.context["slogan"] for d in slogans] == c.slogans.items[:7]


def test_slogans_rotate_when_the_week_is_longer_than_the_list(seeds):
    c = seeds["quan-12"].model_copy(
        update={"slogans": seeds["quan-12"].slogans.model_copy(update={"items": ["A", "B", "C"]})}
    )
    slogans = [d.context["slogan"] for d in timeline(c) if d.kind is Kind.SLOGAN]
    assert slogans == ["A", "B", "C", "A", "B", "C", "A"]


def test_data_prompts_follow_the_form_order(seeds):
    prompts = [d for d in timeline(seeds["lac-thuy"]) if d.kind is Kind.DATA_PROMPT]
    assert [d.reference for d in prompts] == [f"bao-cao:{n}" for n in range(1, 12)]


def test_units_receive_what_their_audience_receives(seeds):
    units = [
        Unit("th-a", "Trường TH A", "truong-hoc"),
        Unit("tt-b", "TTHTCĐ xã B", "tthtcd"),
    ]
    expanded = plan(seeds["lac-thuy"], units)
    plain = plan(seeds["lac-thuy"])
    assert len(expanded) == 2 * len(plain)
    assert ("2023-10-02 07:00", "opening_agenda", "th-a") in expanded
    assert ("2023-10-11 07:00", "deadline_reminder", "tt-b") in expanded


def test_units_outside_a_deadlines_audience_get_no_reminder(seeds):
    ward = Unit("p1", "UBND phường Tân Chánh Hiệp", "ubnd-phuong")
    office = Unit("pgd", "Phòng GDĐT Quận 12", "phong-gddt")
    reminders = [
        (d.at.date().isoformat(), d.unit.code)
        for d in timeline(seeds["quan-12"], [ward, office])
        if d.kind is Kind.DEADLINE_REMINDER
    ]
    assert reminders == [
        ("2021-09-28", "p1"), ("2021-09-29", "p1"), ("2021-10-06", "p1"), ("2021-10-08", "p1"),
        ("2021-10-09", "p1"), ("2021-10-11", "pgd"), ("2021-10-13", "pgd"), ("2021-10-14", "pgd"),
    ]  # fmt: skip


def _campaign(**changes) -> Campaign:
    data = {
        "name": "Tuần lễ",
        "issuer": "Phòng GDĐT",
        "week": {"start": "2024-10-01", "end": "2024-10-07"},
    }
    return Campaign.model_validate({**data, **changes})


def test_nothing_falls_in_quiet_hours(seeds):
    for campaign in seeds.values():
        quiet = campaign.reminders.quiet_hours
        assert not any(quiet.contains(d.at.time()) for d in timeline(campaign))


def test_an_early_agenda_moves_to_the_end_of_the_quiet_hours():
    c = _campaign(opening={"date": "2024-10-01", "time": "7h00"})
    [agenda] = [d for d in timeline(c) if d.kind is Kind.OPENING_AGENDA]
    assert agenda.at == dt.datetime(2024, 10, 1, 6, 30, tzinfo=agenda.at.tzinfo)


def test_an_agenda_before_the_quiet_hours_end_goes_the_evening_before():
    c = _campaign(opening={"date": "2024-10-01", "time": "6h00"})
    [agenda] = [d for d in timeline(c) if d.kind is Kind.OPENING_AGENDA]
    assert agenda.at.replace(tzinfo=None) == dt.datetime(2024, 9, 30, 20, 0)


def test_a_timed_deadline_gets_no_reminder_after_it_passed():
    c = _campaign(
        reminders={"send_at": "9h00", "before_deadline": [0]},
        deadlines=[{"code": "a", "what": "A", "date": "2024-10-03", "time": "8h00"}],
    )
    assert [d for d in timeline(c) if d.kind is Kind.DEADLINE_REMINDER] == []


def test_announcements_go_out_when_planned():
    c = _campaign(announcements=[{"date": "2024-10-02", "time": "14h30", "text": "Họp lúc 15h"}])
    [note] = [d for d in timeline(c) if d.kind is Kind.ANNOUNCEMENT]
    assert note.at.replace(tzinfo=None) == dt.datetime(2024, 10, 2, 14, 30)
    assert note.context["text"] == "Họp lúc 15h"


def test_the_timeline_is_pure(seeds):
    assert timeline(seeds["lac-thuy"]) == timeline(seeds["lac-thuy"])


def test_quiet_hours_within_one_day_are_honoured_too():
    c = _campaign(
        reminders={"send_at": "7h00", "quiet_hours": {"start": "7h30", "end": "9h00"}},
        opening={"date": "2024-10-01", "time": "9h00"},
    )
    [agenda] = [d for d in timeline(c) if d.kind is Kind.OPENING_AGENDA]
    assert agenda.at.replace(tzinfo=None) == dt.datetime(2024, 10, 1, 6, 30)


# -- the photos' window ----------------------------------------------------------------------


def test_photos_are_welcome_from_the_week_until_a_day_after_the_report(seeds):
    c = seeds["lac-thuy"]  # week 02/10–08/10/2023; the units' report due on 10/10
    at = lambda *args: dt.datetime(*args, tzinfo=c.tz)  # noqa: E731
    deadline = c.report_deadline
    assert deadline is not None
    due = deadline.due().replace(tzinfo=c.tz)
    assert not in_report_window(c, at(2023, 10, 1, 23, 59))
    assert in_report_window(c, at(2023, 10, 2, 0, 0))
    assert in_report_window(c, due + dt.timedelta(hours=23))
    assert not in_report_window(c, due + dt.timedelta(days=1))
    # the same moment told in UTC is read in the campaign's zone
    assert in_report_window(c, dt.datetime(2023, 10, 1, 17, 0, tzinfo=dt.UTC))
    assert not in_report_window(c, dt.datetime(2023, 10, 1, 16, 59, tzinfo=dt.UTC))


def test_without_a_report_the_photos_window_ends_a_day_after_the_week(seeds):
    c = seeds["lac-thuy"].model_copy(update={"deadlines": []})
    end = dt.datetime.combine(c.week.end, dt.time(23, 0), tzinfo=c.tz)
    assert in_report_window(c, end + dt.timedelta(days=1))
    assert not in_report_window(c, end + dt.timedelta(days=1, hours=1))
