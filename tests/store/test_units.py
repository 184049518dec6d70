"""Importing, listing and finding units: codes are unique, kept on re-import, found as typed."""

import pytest
from sqlalchemy import func, select

from bot.campaign.units import Unit as Row
from bot.campaign.units import read_units
from bot.store import units as store_units
from bot.store.models import Chat, Unit
from bot.store.units import (
    ALPHABET,
    ImportResult,
    import_units,
    list_units,
    new_registration_code,
    unit_by_registration_code,
)

ROWS = [
    Row("th-a", "Trường TH A", "truong-hoc", "xã A"),
    Row("thcs-b", "Trường THCS B", "truong-hoc", "xã B"),
    Row("tt-c", "TTHTCĐ xã C", "tthtcd"),
]


def test_registration_codes_are_ten_typeable_characters_in_two_halves():
    codes = {new_registration_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
    assert all(set(code.replace("-", "")) <= set(ALPHABET) for code in codes)
    assert not set("0O1I") & set(ALPHABET)


async def imported(db, rows) -> ImportResult:
    async with db.session() as session, session.begin():
        return await import_units(session, rows)


async def codes(db) -> dict[str, str]:
    async with db.session() as session:
        return {u.code: u.registration_code for u in await session.scalars(select(Unit))}


async def test_import_creates_units_with_unique_codes(db):
    assert await imported(db, ROWS) == ImportResult(created=3, updated=0, unchanged=0)
    found = await codes(db)
    assert set(found) == {"th-a", "thcs-b", "tt-c"}
    assert len(set(found.values())) == 3


async def test_reimport_updates_keeps_codes_and_never_duplicates(db):
    await imported(db, ROWS)
    before = await codes(db)
    changed = [
        Row("th-a", "Trường Tiểu học A", "truong-hoc", "xã A"),  # renamed
        ROWS[1],
        Row("tt-c", "TTHTCĐ xã C", "tthtcd", "huyện X"),  # given a parent
        Row("mn-d", "Trường MN D", "truong-hoc"),  # new
    ]
    assert await imported(db, changed) == ImportResult(created=1, updated=2, unchanged=1)
    after = await codes(db)
    assert {code: after[code] for code in before} == before
    assert len(set(after.values())) == 4
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Unit)) == 4
        renamed = await session.scalar(select(Unit).where(Unit.code == "th-a"))
        assert renamed.name == "Trường Tiểu học A"
    assert await imported(db, changed) == ImportResult(created=0, updated=0, unchanged=4)


async def test_units_left_out_of_a_csv_are_kept(db):
    await imported(db, ROWS)
    assert await imported(db, ROWS[:1]) == ImportResult(created=0, updated=0, unchanged=1)
    assert len(await codes(db)) == 3


async def test_a_code_already_taken_is_drawn_again(db, monkeypatch):
    draws = iter(["AAAAAA", "AAAAAA", "BBBBBB", "BBBBBB", "AAAAAA", "CCCCCC"])
    monkeypatch.setattr(store_units, "new_registration_code", lambda: next(draws))
    await imported(db, ROWS[:2])
    await imported(db, ROWS[2:])
    assert await codes(db) == {"th-a": "AAAAAA", "thcs-b": "BBBBBB", "tt-c": "CCCCCC"}


@pytest.mark.parametrize("typed", ["K7M2QX", "k7m2qx", "K7M-2QX", " k7m 2qx ", "K7M–2QX"])
async def test_a_unit_is_found_by_its_code_as_people_type_it(db, typed):
    async with db.session() as session, session.begin():
        session.add(Unit(code="th-a", name="TH A", type="truong-hoc", registration_code="K7M2QX"))
    async with db.session() as session:
        unit = await unit_by_registration_code(session, typed)
    assert unit is not None and unit.code == "th-a"


@pytest.mark.parametrize("typed", ["K7M2QY", "K7M2Q", "K7M2QXX", "", "K0M2QX", "/dangky"])
async def test_a_wrong_code_finds_nothing(db, typed):
    async with db.session() as session, session.begin():
        session.add(Unit(code="th-a", name="TH A", type="truong-hoc", registration_code="K7M2QX"))
    async with db.session() as session:
        assert await unit_by_registration_code(session, typed) is None


async def test_list_shows_units_by_code_with_their_chats_active_first(db):
    await imported(db, [Row("z-last", "Z", "truong-hoc"), Row("a-first", "A", "truong-hoc")])
    async with db.session() as session, session.begin():
        first = await session.scalar(select(Unit).where(Unit.code == "a-first"))
        session.add_all(
            [
                Chat(
                    platform="zalo",
                    external_id="u1",
                    kind="private",
                    unit_id=first.id,
                    active=False,
                    title="Cô Lan",
                ),
                Chat(
                    platform="telegram",
                    external_id="-100",
                    kind="group",
                    unit_id=first.id,
                    title="Nhóm A",
                ),
                Chat(platform="telegram", external_id="-200", kind="group", title="Chưa gắn"),
            ]
        )
    async with db.session() as session:
        listings = await list_units(session)
    assert [listing.unit.code for listing in listings] == ["a-first", "z-last"]
    assert [(c.title, c.active) for c in listings[0].chats] == [("Nhóm A", True), ("Cô Lan", False)]
    assert listings[1].chats == ()


def test_area_is_read_as_parent():
    text = "code,name,type,area\nth-a,Trường TH A,truong-hoc,xã A\n"
    assert read_units(text) == [Row("th-a", "Trường TH A", "truong-hoc", "xã A")]
    both = "code,name,type,parent,area\nth-a,Trường TH A,truong-hoc,TT Chi Nê,xã A\n"
    assert read_units(both)[0].parent == "TT Chi Nê"
