"""A restart's plan (`bot.delivery.replan`) on SQLite and PostgreSQL: skipped while the campaign
and the chats are as at the last full plan, made in full when either changed while Loa was down,
and when the outbox holds what only a full plan sets right."""

import datetime as dt

from sqlalchemy import func, select, update

from bot.campaign.loader import load_campaign
from bot.campaign.units import Unit as CsvUnit
from bot.delivery import outbox, replan
from bot.store import chats
from bot.store.models import Chat, Delivery, DeliveryStatus, Unit
from bot.store.units import import_units, unit_by_code
from tests.conftest import SCHEDULES, SEEDS
from tests.store.test_outbox import BEFORE_THE_WEEK, VN, registered

CAMPAIGN = load_campaign(SCHEDULES / SEEDS["lac-thuy"])


async def start(db, campaign=CAMPAIGN, now=BEFORE_THE_WEEK):
    """What `Loa.start` plans: the rows added or changed, None when not planned again."""
    async with db.session() as session, session.begin():
        return await replan.plan(session, "c", campaign, now)


async def pending(db):
    async with db.session() as session:
        query = select(func.count()).where(Delivery.status == DeliveryStatus.PENDING)
        return await session.scalar(query)


async def test_a_restart_with_the_same_campaign_and_chats_plans_nothing(db):
    await registered(db, "a", "b")
    assert await start(db) == 2 * 19
    assert await start(db) is None
    assert await start(db, now=BEFORE_THE_WEEK + dt.timedelta(days=3)) is None  # time passing
    assert await pending(db) == 2 * 19


async def test_a_campaign_file_changed_while_down_is_planned_in_full(db):
    await registered(db, "a")
    await start(db)
    [report] = CAMPAIGN.deadlines
    moved = report.model_copy(update={"date": dt.date(2023, 10, 14)})
    edited = CAMPAIGN.model_copy(update={"deadlines": [moved]})
    assert await start(db, edited) == 3 + 3 + 11  # old reminders out, new in, the form longer
    assert await start(db, edited) is None
    assert await start(db) == 3 + 3 + 11  # and back


async def test_a_chat_registered_while_down_is_planned_at_the_next_start(db):
    await registered(db, "a")
    await start(db)
    async with db.session() as session, session.begin():  # bound with no Loa running to plan it
        await import_units(session, [CsvUnit("b", "Trường b", "truong-hoc")])
        chat = await chats.meet(session, "zalo", "g-b", "group", "Nhóm b")
        assert await chats.bind(session, chat, await unit_by_code(session, "b"))
    assert await start(db) == 19
    assert await pending(db) == 2 * 19


async def test_a_unit_changing_type_while_down_is_planned_again(db):
    await registered(db, "a")
    await start(db)
    async with db.session() as session, session.begin():
        await session.execute(update(Unit).values(type="thu-vien"))  # no audience of the campaign
    assert await start(db) == 19 - 5  # what goes to every unit stays, the rest is cancelled
    assert await pending(db) == 5


async def test_a_chat_that_left_and_came_back_by_a_message_gets_its_rows_again(db):
    [target] = await registered(db, "a")
    await start(db)
    async with db.session() as session, session.begin():
        await outbox.cancel_chat(session, target.chat)  # it left: its rows cancelled...
        await session.execute(update(Chat).values(active=True))  # ...and a message brought it back
    assert await pending(db) == 0
    assert await start(db) == 19
    assert await pending(db) == 19


async def test_a_waiting_announcement_is_joined_by_a_chat_that_came_back(db):
    [a, b] = await registered(db, "a", "b")
    await start(db)
    week = dt.datetime(2023, 10, 5, 9, tzinfo=VN)
    async with db.session() as session, session.begin():
        await session.execute(update(Chat).where(Chat.id == b.chat.id).values(active=False))
        await outbox.broadcast(session, "c", "Lễ khai mạc dời sang thứ Sáu", [], week)
        await session.execute(update(Chat).where(Chat.id == b.chat.id).values(active=True))
    assert await start(db) == 1  # b joins the announcement it missed
    async with db.session() as session:
        kinds = select(Delivery.chat_id).where(Delivery.payload.is_not(None))
        assert sorted(await session.scalars(kinds)) == sorted([a.chat.id, b.chat.id])
