"""The typed values the layers pass each other: references, delivery contexts, addresses,
settings defined once, errors shared from one module. Pure: no database, no network."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import errors
from bot.address import Address, ids_on
from bot.campaign.loader import load_campaign
from bot.campaign.timeline import (
    DeadlineRef,
    Kind,
    NoContext,
    ReminderContext,
    ReminderRef,
    timeline,
)
from bot.channels import base, defaults
from bot.config import Settings, parse_addresses, parse_admins
from bot.errors import Invalid
from tests.conftest import SCHEDULES, SEEDS

CODES = st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,20}\Z")  # a campaign's codes (model.Code)
DAYS = st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31))


@given(CODES, DAYS, st.integers(0, 60))
def test_a_reminder_reference_reads_back_as_it_was_written(code, day, days):
    reference = ReminderRef(DeadlineRef(code, day), days)
    assert ReminderRef.parse(str(reference)) == reference
    assert DeadlineRef.parse(str(reference.deadline)) == reference.deadline


@given(CODES, DAYS, st.integers(0, 60))
def test_a_reminder_reference_is_spelled_as_the_outbox_always_stored_it(code, day, days):
    assert str(ReminderRef(DeadlineRef(code, day), days)) == f"{code}@{day.isoformat()}-{days}"


@pytest.mark.parametrize(
    "text", ["", "week", "report@2023-10-10", "report@2023-10-10-", "@2023-10-10-2", "a@b-2"]
)
def test_what_is_no_reminder_reference_is_refused(text):
    with pytest.raises(ValueError):
        ReminderRef.parse(text)


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_every_reminder_of_the_seeds_names_its_deadline(seed):
    campaign = load_campaign(SCHEDULES / SEEDS[seed])
    for delivery in timeline(campaign):
        if delivery.kind is Kind.DEADLINE_REMINDER:
            assert delivery.deadline is not None
            reference = ReminderRef.parse(delivery.reference)
            assert reference.deadline == DeadlineRef.of(delivery.deadline)
            assert isinstance(delivery.context, ReminderContext)
            assert reference.days == delivery.context.days


def test_a_context_renders_as_its_fields_and_leaves_out_what_is_unset():
    campaign = load_campaign(SCHEDULES / SEEDS["lac-thuy"])
    deadline = campaign.deadlines[0]
    planned = ReminderContext(deadline, 2)
    assert dict(planned) == {"deadline": deadline, "days": 2}  # `missing is defined`: false
    assert "missing" not in planned
    late = ReminderContext(deadline, 1, missing=[])
    assert dict(late) == {"deadline": deadline, "days": 1, "missing": []}
    assert dict(NoContext()) == {}
    with pytest.raises(KeyError):
        planned["missing"]


ADDRESSES = st.builds(
    Address,
    st.sampled_from(["telegram", "zalo"]),
    st.from_regex(r"\A-?[0-9A-Za-z_]{1,20}\Z"),
)


@given(ADDRESSES)
def test_an_address_reads_back_as_it_was_written(address):
    assert Address.parse(str(address)) == address


@given(st.lists(ADDRESSES, max_size=5))
def test_admins_are_the_addresses_written_as_text(addresses):
    text = " ; ".join(str(a) for a in addresses)
    assert parse_addresses(text) == frozenset(addresses)
    assert parse_admins(text) == frozenset(str(a) for a in addresses)
    settings = Settings(admins=parse_admins(text))
    assert settings.coordinators == frozenset(addresses)


@pytest.mark.parametrize("entry", ["telegram", "signal:1", "zalo:", ":1"])
def test_an_admin_that_is_no_address_is_refused_by_name(entry):
    with pytest.raises(Invalid) as refused:
        parse_admins(f"telegram:1, {entry}")
    [problem] = refused.value.problems
    assert (problem.path, problem.code, problem.ctx) == (
        ("LOA_ADMINS",),
        "admins_format",
        {"entry": entry},
    )


def test_each_send_rate_is_defined_once_with_the_channels():
    settings = Settings.from_env({}, env_file="/nonexistent")
    assert settings.telegram_limits() == defaults.TelegramLimits()
    assert settings.zalo_limits() == defaults.ZaloLimits()
    assert (settings.webhook_host, settings.webhook_port, settings.zalo_webhook_port) == (
        defaults.DEFAULT_WEBHOOK_HOST,
        defaults.TELEGRAM_WEBHOOK_PORT,
        defaults.ZALO_WEBHOOK_PORT,
    )
    assert (settings.telegram_api_base_url, settings.zalo_api_base_url) == (
        defaults.TELEGRAM_API,
        defaults.ZALO_API,
    )


def test_rates_set_in_the_environment_reach_the_channels_limits():
    settings = Settings.from_env(
        {"TELEGRAM_RATE_GROUP": "10", "ZALO_RATE_CHAT": "0.5"}, env_file="/nonexistent"
    )
    assert settings.telegram_limits() == defaults.TelegramLimits(group_per_minute=10)
    assert settings.zalo_limits() == defaults.ZaloLimits(chat_per_second=0.5)


def test_the_shared_errors_have_one_home():
    """Every layer imports them from bot.errors: no module defines or re-exports one."""
    import ast
    import pathlib

    shared = {"Problem", "Invalid", "DatabaseLost", "Fault", "SendError", "ChatUnreachable"}
    shared |= {"ChatMaybeGone", "ChatAddressChanged", "RetryLater", "TemporaryFailure"}
    shared |= {"Unsupported"}
    homes = []
    for path in pathlib.Path(errors.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name in shared:
                homes.append((path.name, node.name))
            if isinstance(node, ast.ImportFrom) and node.module == "bot.errors":
                again = [a.name for a in node.names if a.asname == a.name]
                assert not again, f"{path}: re-exports {again}"
    assert {name for _, name in homes} == shared
    assert {file for file, _ in homes} == {"errors.py"}
    assert issubclass(errors.DatabaseLost, errors.Invalid)
    assert errors.RetryLater(3).fault is errors.Fault.WAIT


def test_an_inbound_message_names_its_sender_and_chat_as_addresses():
    message = base.InboundMessage(
        "zalo", "c1", base.ChatType.PRIVATE, None, "u1", "An", "hi", "m1", dt.datetime.now(dt.UTC)
    )
    assert message.sender == "zalo:u1" and message.sender_address == Address("zalo", "u1")
    assert message.chat_address == Address("zalo", "c1")


def test_the_events_name_their_chats_and_actors_as_addresses():
    removed = base.BotRemoved("telegram", "-1001", by_user="42")
    assert removed.chat_address == Address("telegram", "-1001")
    assert removed.by_address == Address("telegram", "42")
    assert base.BotAdded("zalo", "g", base.ChatType.GROUP, None).by_address is None
    moved = base.ChatMoved("telegram", "-1", "-1002")
    assert (moved.chat_address, moved.new_address) == (
        Address("telegram", "-1"),
        Address("telegram", "-1002"),
    )


def test_the_ids_of_a_platforms_addresses_keep_their_order():
    addresses = [Address("zalo", "b"), Address("telegram", "1"), Address("zalo", "a")]
    assert ids_on("zalo", addresses) == ["b", "a"]
    assert ids_on("telegram", addresses) == ["1"]
