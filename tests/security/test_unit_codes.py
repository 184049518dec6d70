"""Unit codes compare without case everywhere and are unique without case (issue 14, item 3)."""

import pytest
from alembic.util import CommandError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from bot.campaign.units import Unit as Row
from bot.store.db import Database
from bot.store.models import Chat, Unit, utcnow
from bot.store.units import ImportResult, import_units, unit_by_code
from tests.e2e.conftest import start_world

ROWS = [Row("TH-UPPER", "Trường TH Upper", "truong-hoc"), Row("th-a", "Trường TH A", "truong-hoc")]


async def imported(db, rows) -> ImportResult:
    async with db.session() as session, session.begin():
        return await import_units(session, rows)


@pytest.mark.parametrize("typed", ["TH-UPPER", "th-upper", " Th-Upper "])
async def test_a_unit_with_capitals_is_found_however_its_code_is_typed(db, typed):
    await imported(db, ROWS)
    async with db.session() as session:
        unit = await unit_by_code(session, typed)
    assert unit is not None and unit.code == "TH-UPPER"


async def test_reimporting_a_code_in_another_case_is_the_same_unit(db):
    await imported(db, ROWS)
    again = [Row("th-upper", "Trường Tiểu học Upper", "truong-hoc"), ROWS[1]]
    assert await imported(db, again) == ImportResult(created=0, updated=1, unchanged=1)
    async with db.session() as session:
        assert len(list(await session.scalars(select(Unit)))) == 2


async def test_the_database_refuses_two_codes_differing_only_in_case(db):
    await imported(db, ROWS)
    with pytest.raises(IntegrityError):
        async with db.session() as session, session.begin():
            session.add(Unit(code="th-UPPER", name="x", type="t", registration_code="ZZZZZZ"))


async def test_an_upgrade_over_codes_differing_only_in_case_is_refused_then_done(tmp_path):
    async with Database(f"sqlite:///{tmp_path / 'old.db'}") as db:
        await db.upgrade("0005")
        async with db.engine.begin() as connection:
            for code, reg in (("TH-A", "AAAAAA"), ("th-a", "BBBBBB"), ("thcs-b", "CCCCCC")):
                await connection.execute(
                    text(
                        "INSERT INTO units (code, name, type, registration_code, created_at,"
                        " updated_at) VALUES (:code, :code, 't', :reg, :now, :now)"
                    ),
                    {"code": code, "reg": reg, "now": utcnow().isoformat()},
                )
        with pytest.raises(CommandError, match=r"mã đơn vị chỉ khác nhau .*TH-A / th-a"):
            await db.upgrade()
        assert await db.revision() == "0005"  # nothing changed
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql("UPDATE units SET code = 'th-a2' WHERE code = 'th-a'")
        await db.upgrade()
        async with db.session() as session:
            assert (await unit_by_code(session, "th-A")).code == "TH-A"


@pytest.fixture
async def upper_world(sandbox, database, clock):
    async with database.session() as session, session.begin():
        await import_units(session, [Row("TH-UPPER", "Trường TH Upper", "truong-hoc")])
    world = await start_world(sandbox, database, clock)
    yield world
    await world.loa.stop()


@pytest.mark.parametrize("typed", ["TH-UPPER", "th-upper"])
async def test_the_coordinator_revokes_and_views_a_unit_with_capitals(upper_world, typed):
    world = upper_world
    principal = world.person("Thầy Hùng")
    group = await world.group("Nhóm Upper", admins=(principal,))
    assert (await world.register(group, "TH-UPPER", principal)).startswith("✅")
    coordinator = world.coordinator

    view = await coordinator.asks(coordinator.id, f"/xem {typed}")
    assert "Trường TH Upper" in view and "Không có đơn vị" not in view

    revoked = await coordinator.asks(coordinator.id, f"/huydangky {typed}")
    assert "Không có đơn vị" not in revoked
    async with world.db.session() as session:
        unit = await unit_by_code(session, typed)
        assert await session.scalar(select(Chat).where(Chat.unit_id == unit.id)) is None
