"""Commune coordinators' scopes (pure): a parent's code, what a scope covers, and `LOA_ADMINS`
entries scoped with `@`, good and bad."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.address import Address
from bot.campaign.scope import EVERYTHING, Scope, parent_code
from bot.config import Settings, parse_admins, parse_coordinators
from bot.errors import Invalid
from bot.messages import describe

PARENT_CODES = st.from_regex(r"\A[A-Z0-9]{1,6}(-[A-Z0-9]{1,6}){0,3}\Z")
ADDRESSES = st.builds(
    Address, st.sampled_from(["telegram", "zalo"]), st.from_regex(r"\A[a-z0-9]{1,12}\Z")
)


@pytest.mark.parametrize(
    ("parent", "code"),
    [
        ("xã Phú Thành", "XA-PHU-THANH"),
        ("  Xã  Phú   Thành ", "XA-PHU-THANH"),
        ("xã Đồng Tâm", "XA-DONG-TAM"),
        ("TT Chi Nê", "TT-CHI-NE"),
        ("phường 7 (cũ: P.7)", "PHUONG-7-CU-P-7"),
        ("XA-PHU-THANH", "XA-PHU-THANH"),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_a_parents_code_is_its_name_without_accents_in_capitals(parent, code):
    assert parent_code(parent) == code


def test_a_scope_covers_its_parents_units_whatever_their_spelling():
    scope = Scope.of("XA-PHU-THANH")
    assert scope.covers("xã Phú Thành") and scope.covers("Xã phú thành ")
    assert not scope.covers("xã Phú Lâm")
    assert not scope.covers(None) and not scope.covers("")  # units of no commune: the province's
    assert EVERYTHING.covers(None) and EVERYTHING.covers("xã Phú Lâm")
    assert scope.within(["xã Phú Thành", "xã Phú Lâm", None], lambda p: p) == ["xã Phú Thành"]


def test_scopes_join_and_compare():
    a, b = Scope.of("XA-A"), Scope.of("XA-B")
    assert (a | b) == Scope.of("XA-A", "XA-B")
    assert (a | EVERYTHING) is EVERYTHING and (EVERYTHING | b) is EVERYTHING
    assert a <= a | b and not (a | b) <= a
    assert a <= EVERYTHING and not EVERYTHING <= a  # noqa: SIM300  # the order is the point


def test_entries_with_a_parent_coordinate_its_units():
    found = parse_coordinators(
        "telegram:1, zalo:abc@XA-PHU-THANH; zalo:abc@XA-PHU-LAM, zalo:def@TT-CHI-NE, zalo:xyz"
    )
    assert found == {
        Address("telegram", "1"): EVERYTHING,
        Address("zalo", "abc"): Scope.of("XA-PHU-THANH", "XA-PHU-LAM"),  # listed twice: both
        Address("zalo", "def"): Scope.of("TT-CHI-NE"),
        Address("zalo", "xyz"): EVERYTHING,
    }


def test_one_unscoped_entry_makes_a_coordinator_the_whole_campaigns():
    found = parse_coordinators("zalo:abc@XA-PHU-THANH, zalo:abc")
    assert found == {Address("zalo", "abc"): EVERYTHING}


def test_settings_keep_the_address_in_admins_and_the_scope_beside_it():
    settings = Settings.from_env(
        {"LOA_ADMINS": "telegram:1,zalo:abc@XA-PHU-THANH"}, env_file="/nonexistent"
    )
    assert settings.admins == {"telegram:1", "zalo:abc"}
    assert settings.scopes == {"zalo:abc": Scope.of("XA-PHU-THANH")}
    assert settings.scope_of("zalo:abc") == Scope.of("XA-PHU-THANH")
    assert settings.scope_of("telegram:1") is EVERYTHING
    assert settings.coordinators == {Address("telegram", "1"), Address("zalo", "abc")}


@pytest.mark.parametrize(
    ("entry", "hint"),
    [
        ("zalo:abc@", "zalo:abc@XA-PHU-THANH"),
        ("zalo:abc@  ", "zalo:abc@XA-PHU-THANH"),
        ("zalo:abc@xã Phú Thành", "XA-PHU-THANH"),
        ("zalo:abc@xa-phu-thanh", "XA-PHU-THANH"),
        ("zalo:abc@XA PHU THANH", "XA-PHU-THANH"),
        ("zalo:abc@@XA", "XA"),
    ],
)
def test_a_parent_not_written_as_a_code_is_refused_with_the_code_to_write(entry, hint):
    with pytest.raises(Invalid) as refused:
        parse_admins(f"telegram:1, {entry}")
    [problem] = refused.value.problems
    said = describe(problem)
    assert said.startswith(f"LOA_ADMINS: “{entry.strip()}”: sau @ là mã xã, phường")
    assert hint in said


@pytest.mark.parametrize("entry", ["@XA-PHU-THANH", "signal:1@XA", "zalo:@XA"])
def test_an_entry_without_an_address_before_the_parent_is_refused_by_name(entry):
    with pytest.raises(Invalid) as refused:
        parse_admins(entry)
    assert describe(refused.value.problems[0]).startswith(f"LOA_ADMINS: “{entry}” không đúng dạng")


@given(st.lists(st.tuples(ADDRESSES, st.none() | PARENT_CODES), max_size=6))
def test_any_list_of_entries_reads_back_as_each_persons_union(entries):
    text = ", ".join(f"{a}@{code}" if code else str(a) for a, code in entries)
    expected: dict[Address, Scope] = {}
    for address, code in entries:
        scope = Scope.of(code) if code else EVERYTHING
        expected[address] = expected[address] | scope if address in expected else scope
    assert parse_coordinators(text) == expected
    assert parse_admins(text) == {str(a) for a, _ in entries}
