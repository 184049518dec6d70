"""The pure pieces under the bot: command and broadcast parsing, the calendar, text splitting,
secret masking and settings. No I/O."""

import datetime as dt
import io
import logging

import pytest

from bot.campaign.calendar import EventKind, slogan_of, upcoming
from bot.channels.base import split_text
from bot.config import Settings, parse_admins
from bot.conversation.commands import parse
from bot.conversation.coordinator import parse_broadcast
from bot.errors import Invalid
from bot.logs import Redact
from bot.messages import describe

VN = dt.timezone(dt.timedelta(hours=7))


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("/lich", ("lich", "")),
        ("/DangKy  k7m2qx ", ("dangky", "k7m2qx")),
        (
            "/thongbao truong-hoc Họp lúc 14h\nmang sổ",
            ("thongbao", "truong-hoc Họp lúc 14h\nmang sổ"),
        ),
        ("lich", None),
        ("/", None),
        ("/ lich", None),
        ("", None),
    ],
)
def test_commands_are_parsed_the_way_people_type_them(text, parsed):
    assert parse(text) == parsed


NOW = dt.datetime(2023, 9, 25, 10, tzinfo=VN)


@pytest.mark.parametrize(
    ("args", "types", "text"),
    [
        ("Họp gấp lúc 14h", [], "Họp gấp lúc 14h"),
        ("tthtcd Họp gấp", ["tthtcd"], "Họp gấp"),
        ("TTHTCD Họp gấp", ["tthtcd"], "Họp gấp"),
        ("tthtcd\nHọp gấp\nlúc 14h", ["tthtcd"], "Họp gấp\nlúc 14h"),  # typed on a phone
        ("tthtcd", ["tthtcd"], ""),  # a code alone leaves no text: the usage reply
        ("truong-hoc-x Họp", [], "truong-hoc-x Họp"),
        ("14h00 họp tổ", [], "14h00 họp tổ"),  # a time alone is text: scheduling needs a date
        ("7 giờ 30 họp tổ", [], "7 giờ 30 họp tổ"),
        ("tthtcd 25h họp", ["tthtcd"], "25h họp"),  # no date: not read as a time at all
        ("   ", [], ""),
    ],
)
def test_a_leading_audience_code_narrows_a_broadcast(seeds, args, types, text):
    asked = parse_broadcast(args, seeds["lac-thuy"], NOW)
    assert (asked.types, asked.text, asked.at, asked.problem) == (types, text, None, None)


@pytest.mark.parametrize(
    ("args", "at", "types", "problem"),
    [
        ("02/10 7h00 Khai mạc", dt.datetime(2023, 10, 2, 7, tzinfo=VN), [], None),
        (
            "tthtcd 02/10/2023 14h30 Họp",
            dt.datetime(2023, 10, 2, 14, 30, tzinfo=VN),
            ["tthtcd"],
            None,
        ),
        ("2/10 Khai mạc", dt.datetime(2023, 10, 2, 7, tzinfo=VN), [], None),  # at send_at
        ("02/10 08:15 Họp", dt.datetime(2023, 10, 2, 8, 15, tzinfo=VN), [], None),
        ("02/10 8h Họp", dt.datetime(2023, 10, 2, 8, tzinfo=VN), [], None),
        ("02/10 8g00 Họp", dt.datetime(2023, 10, 2, 8, tzinfo=VN), [], None),
        # two or three words, as phones type them
        ("02/10 7 giờ Họp", dt.datetime(2023, 10, 2, 7, tzinfo=VN), [], None),
        ("02/10 7 giờ 30 Họp", dt.datetime(2023, 10, 2, 7, 30, tzinfo=VN), [], None),
        ("02/10 7 GIỜ 30 Họp", dt.datetime(2023, 10, 2, 7, 30, tzinfo=VN), [], None),
        ("02/10 8 h Họp", dt.datetime(2023, 10, 2, 8, tzinfo=VN), [], None),
        ("02/10 8h 15 Họp", dt.datetime(2023, 10, 2, 8, 15, tzinfo=VN), [], None),
        # numbers that are not times stay in the text
        ("02/10 10 học sinh vắng", dt.datetime(2023, 10, 2, 7, tzinfo=VN), [], None),
        ("02/10 5 gia đình", dt.datetime(2023, 10, 2, 7, tzinfo=VN), [], None),
        ("31/09 7h00 X", None, [], "broadcast_bad_date"),
        ("02/13 X", None, [], "broadcast_bad_date"),
        ("02/10 7:5 X", None, [], "broadcast_bad_time"),
        ("02/10 24h00 X", None, [], "broadcast_bad_time"),
        ("tthtcd 02/10 25h X", None, ["tthtcd"], "broadcast_bad_time"),
        ("02/10 7h5 X", None, [], "broadcast_bad_time"),
        ("02/10 7 giờ 75 X", None, [], "broadcast_bad_time"),
        ("02/10 123h X", None, [], "broadcast_bad_time"),
        ("20/09 7h00 X", dt.datetime(2023, 9, 20, 7, tzinfo=VN), [], "broadcast_past"),
        ("25/09 9h59 X", dt.datetime(2023, 9, 25, 9, 59, tzinfo=VN), [], "broadcast_past"),
        ("02/10 22h00 X", dt.datetime(2023, 10, 2, 22, tzinfo=VN), [], "broadcast_quiet"),
        ("02/10 22 giờ X", dt.datetime(2023, 10, 2, 22, tzinfo=VN), [], "broadcast_quiet"),
    ],
)
def test_a_date_and_time_schedule_a_broadcast(seeds, args, at, types, problem):
    asked = parse_broadcast(args, seeds["lac-thuy"], NOW)
    assert (asked.at, asked.types, asked.problem) == (at, types, problem)
    assert args.endswith(asked.text) and asked.text[0].isalnum()


@pytest.mark.parametrize(
    ("args", "types", "at"),
    [
        ("02/10", [], dt.datetime(2023, 10, 2, 7, tzinfo=VN)),
        ("tthtcd 02/10", ["tthtcd"], dt.datetime(2023, 10, 2, 7, tzinfo=VN)),
        ("02/10 7h00", [], dt.datetime(2023, 10, 2, 7, tzinfo=VN)),
        ("02/10 7 giờ 30", [], dt.datetime(2023, 10, 2, 7, 30, tzinfo=VN)),
        ("02/10 8 h\n", [], dt.datetime(2023, 10, 2, 8, tzinfo=VN)),
    ],
)
def test_a_date_and_time_are_taken_even_with_no_text_after_them(seeds, args, types, at):
    asked = parse_broadcast(args, seeds["lac-thuy"], NOW)
    assert (asked.text, asked.types, asked.at, asked.problem) == ("", types, at, None)


def test_the_text_after_a_date_and_time_keeps_its_line_breaks(seeds):
    asked = parse_broadcast("02/10 7 giờ 30\nKhai mạc\nmang sổ", seeds["lac-thuy"], NOW)
    assert (asked.text, asked.at) == (
        "Khai mạc\nmang sổ",
        dt.datetime(2023, 10, 2, 7, 30, tzinfo=VN),
    )
    # a time is one line: a number on the next line is text
    asked = parse_broadcast("02/10 7\ngiờ họp", seeds["lac-thuy"], NOW)
    assert (asked.text, asked.at) == ("7\ngiờ họp", dt.datetime(2023, 10, 2, 7, tzinfo=VN))


@pytest.mark.parametrize(
    ("args", "at", "problem"),
    [
        ("02/01 7h00 X", dt.datetime(2024, 1, 2, 7, tzinfo=VN), None),  # next year
        ("02/07 7h00 X", dt.datetime(2024, 7, 2, 7, tzinfo=VN), None),  # 181 days ago
        ("03/07 7h00 X", dt.datetime(2023, 7, 3, 7, tzinfo=VN), "broadcast_past"),  # 180
        ("20/12 7h00 X", dt.datetime(2023, 12, 20, 7, tzinfo=VN), "broadcast_past"),
        ("02/01/2023 7h00 X", dt.datetime(2023, 1, 2, 7, tzinfo=VN), "broadcast_past"),
        ("31/12 7h00 X", dt.datetime(2023, 12, 31, 7, tzinfo=VN), None),
    ],
)
def test_a_date_far_enough_in_the_past_means_next_year(seeds, args, at, problem):
    asked = parse_broadcast(args, seeds["lac-thuy"], dt.datetime(2023, 12, 30, 10, tzinfo=VN))
    assert (asked.at, asked.problem, asked.text) == (at, problem, "X")


def test_upcoming_events_for_a_unit_type(seeds):
    quan_12 = seeds["quan-12"]
    before = upcoming(quan_12, "ubnd-phuong", dt.datetime(2021, 9, 20, 8, tzinfo=VN))
    assert [(e.kind, e.day.isoformat()) for e in before] == [
        (EventKind.DEADLINE, "2021-09-29"),
        (EventKind.WEEK_START, "2021-10-01"),
        (EventKind.OPENING, "2021-10-01"),
        (EventKind.WEEK_END, "2021-10-07"),
        (EventKind.DEADLINE, "2021-10-09"),
    ]
    # a deadline "trước ngày 10/10" is still ahead on the 9th and gone on the 10th
    assert upcoming(quan_12, "ubnd-phuong", dt.datetime(2021, 10, 10, tzinfo=VN)) == []
    # the district's own report (phong-gddt) is not a ward's business
    assert all(e.deadline.code != "bao-cao-quan" for e in before if e.deadline)


def test_slogans_rotate_a_day_each_and_only_in_the_week(seeds):
    quan_12 = seeds["quan-12"]
    assert slogan_of(quan_12, dt.date(2021, 10, 1)) == (1, quan_12.slogans.items[0])
    assert slogan_of(quan_12, dt.date(2021, 10, 7))[0] == 7
    assert slogan_of(quan_12, dt.date(2021, 9, 30)) is None
    assert slogan_of(quan_12, dt.date(2021, 10, 8)) is None
    assert slogan_of(seeds["lac-thuy"], dt.date(2023, 10, 3)) is None  # no slogans in the plan


def test_long_texts_are_split_between_lines_and_nothing_is_lost():
    text = "\n".join(f"{i}. " + "chữ " * 20 for i in range(100))
    parts = split_text(text, 500)
    assert all(len(p) <= 500 for p in parts)
    assert [line.rstrip() for p in parts for line in p.splitlines()] == [
        line.rstrip() for line in text.splitlines()
    ]


def test_a_line_longer_than_a_message_is_cut_at_spaces():
    parts = split_text("từ " * 300, 100)
    assert all(len(p) <= 100 for p in parts)
    assert " ".join(parts).split() == ["từ"] * 300
    assert split_text("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]


def test_secrets_are_masked_in_every_record_and_traceback():
    stream = io.StringIO()
    logger = logging.getLogger("test.redact")
    handler = logging.StreamHandler(stream)
    handler.addFilter(Redact(["123:SECRET"]))
    logger.addHandler(handler)
    try:
        logger.warning("POST https://api.telegram.org/bot%s/sendMessage", "123:SECRET")
        try:
            raise RuntimeError("failed url .../bot123:SECRET/getMe")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "SECRET" not in output
    assert "bot***/sendMessage" in output and "bot***/getMe" in output


def test_settings_never_show_their_secrets():
    settings = Settings.from_env(
        {"TELEGRAM_BOT_TOKEN": "1:tok", "WEBHOOK_SECRET": "ssssssss", "LOA_ADMINS": "telegram:1"},
        env_file="/nonexistent",
    )
    assert "1:tok" not in repr(settings) and "ssssssss" not in repr(settings)
    assert settings.secrets() == ["1:tok", "ssssssss"]


@pytest.mark.parametrize("secret", ["short", "has space in it", "x" * 257])
def test_a_webhook_secret_both_platforms_refuse_is_explained(secret):
    with pytest.raises(Invalid) as caught:
        Settings.from_env({"WEBHOOK_SECRET": secret}, env_file="/nonexistent")
    assert "từ 8 đến 256 ký tự" in describe(caught.value.problems[0])


def test_dot_env_fills_in_what_the_environment_does_not_set(tmp_path):
    env = tmp_path / ".env"
    env.write_text("TELEGRAM_BOT_TOKEN=from-file\nLOA_ADMINS=zalo:abc\n", encoding="utf-8")
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": "from-env"}, env_file=str(env))
    assert settings.telegram_token == "from-env"
    assert settings.admins == {"zalo:abc"}


@pytest.mark.parametrize("value", ["bob", "telegram:", "facebook:1", ":1"])
def test_bad_admin_lists_are_explained(value):
    with pytest.raises(Invalid) as caught:
        parse_admins(value)
    assert describe(caught.value.problems[0]).startswith(f"LOA_ADMINS: “{value}” không đúng dạng")


@pytest.mark.parametrize("value", ["0", "70000", "http", "-1"])
def test_a_bad_webhook_port_is_explained(value):
    with pytest.raises(Invalid) as caught:
        Settings.from_env({"WEBHOOK_PORT": value}, env_file="/nonexistent")
    assert "không phải là số cổng" in describe(caught.value.problems[0])
