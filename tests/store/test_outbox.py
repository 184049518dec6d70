"""The outbox and chat queries on SQLite and PostgreSQL: planning is idempotent, a row is claimed
once however many senders ask, a spent code cannot be spent again."""

import asyncio
import datetime as dt

from sqlalchemy import delete, select

from bot.campaign.loader import load_campaign
from bot.campaign.units import Unit as CsvUnit
from bot.delivery import outbox
from bot.store import audit, chats
from bot.store.chats import UnitChat
from bot.store.models import Delivery, DeliveryStatus
from bot.store.units import import_units, unit_by_code
from tests.conftest import SCHEDULES, SEEDS

VN = dt.timezone(dt.timedelta(hours=7))
BEFORE_THE_WEEK = dt.datetime(2023, 9, 1, tzinfo=VN)


async def registered(db, *codes):
    """Units with a group each, bound."""
    async with db.session() as session, session.begin():
        await import_units(session, [CsvUnit(c, f"Trường {c}", "truong-hoc") for c in codes])
        targets = []
        for number, code in enumerate(codes):
            chat = await chats.meet(session, "telegram", f"-100{number}", "group", f"Nhóm {code}")
            unit = await unit_by_code(session, code)
            assert await chats.bind(session, chat, unit)
            targets.append(UnitChat(chat, unit))
    return targets


async def statuses(db):
    async with db.session() as session:
        return [row.status for row in await session.scalars(select(Delivery).order_by(Delivery.id))]


async def test_planning_twice_adds_nothing_and_revives_cancelled_rows(db):
    campaign = load_campaign(SCHEDULES / SEEDS["lac-thuy"])
    [target] = await registered(db, "a")
    async with db.session() as session, session.begin():
        first = await outbox.plan_chat(session, "c", campaign, target, BEFORE_THE_WEEK)
    async with db.session() as session, session.begin():
        again = await outbox.plan_chat(session, "c", campaign, target, BEFORE_THE_WEEK)
        await outbox.cancel_chat(session, target.chat)
    assert (first, again) == (19, 0)  # notices 29/09, 01/10, week start, agenda, end, 3 reminders
    # and the form's 11 parts
    assert set(await statuses(db)) == {DeliveryStatus.CANCELLED}
    async with db.session() as session, session.begin():
        revived = await outbox.plan_chat(session, "c", campaign, target, BEFORE_THE_WEEK)
    assert revived == 19 and set(await statuses(db)) == {DeliveryStatus.PENDING}


async def test_a_row_is_claimed_once_however_many_senders_ask(db):
    targets = await registered(db, "a", "b", "c")
    now = dt.datetime(2023, 10, 3, 9, tzinfo=VN)
    async with db.session() as session, session.begin():
        for _ in range(10):
            await outbox.broadcast(session, "c", "x", [], now)

    async def claim():
        async with db.session() as session, session.begin():
            return [row.id for row in await outbox.claim_due(session, now)]

    claims = await asyncio.gather(*(claim() for _ in range(5)))
    ids = [i for claimed in claims for i in claimed]
    assert len(ids) == len(set(ids)) == 10 * len(targets)
    assert set(await statuses(db)) == {DeliveryStatus.SENDING}
    async with db.session() as session, session.begin():
        assert await outbox.release_claims(session) == 30
    assert set(await statuses(db)) == {DeliveryStatus.PENDING}


async def test_rows_not_yet_due_are_not_claimed(db):
    await registered(db, "a")
    now = dt.datetime(2023, 10, 3, 9, tzinfo=VN)
    async with db.session() as session, session.begin():
        await outbox.broadcast(session, "c", "later", [], now + dt.timedelta(minutes=5))
    async with db.session() as session, session.begin():
        assert await outbox.claim_due(session, now) == []
        assert await outbox.next_due(session) == now + dt.timedelta(minutes=5)


async def test_a_code_read_by_two_chats_at_once_binds_only_one(db):
    async with db.session() as session, session.begin():
        await import_units(session, [CsvUnit("a", "Trường A", "truong-hoc")])
    async with db.session() as one, db.session() as two:
        unit_one, unit_two = await unit_by_code(one, "a"), await unit_by_code(two, "a")
        assert unit_one.registration_code == unit_two.registration_code
        chat_one = await chats.meet(one, "telegram", "-1", "group", "Một")
        assert await chats.bind(one, chat_one, unit_one)
        await one.commit()
        chat_two = await chats.meet(two, "telegram", "-2", "group", "Hai")
        assert await chats.bind(two, chat_two, unit_two) is False
        await two.commit()
    async with db.session() as session:
        bound = await chats.registered_chats(session)
    assert [chat.external_id for chat in bound] == ["-1"]


async def test_recent_counts_an_action_by_chat_or_by_person(db):
    [target] = await registered(db, "a")
    async with db.session() as session, session.begin():
        other = await chats.meet(session, "telegram", "-5", "group", "Khác")
        audit.record(session, "telegram:1", "registration_refused", target.chat)
        audit.record(session, "telegram:1", "registration_refused", other)
        audit.record(session, "telegram:2", "registration_refused", other)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    async with db.session() as session:
        by_chat = await audit.recent(
            session, "registration_refused", since, chat=target.chat, actor="telegram:9"
        )
        by_person = await audit.recent(
            session, "registration_refused", since, chat=other, actor="telegram:1"
        )
    assert (len(by_chat), len(by_person)) == (1, 3)  # the person's two, and the chat's other one


async def test_editing_the_campaign_moves_and_cancels_only_what_is_pending(db):
    campaign = load_campaign(SCHEDULES / SEEDS["lac-thuy"])
    [target] = await registered(db, "a")
    async with db.session() as session, session.begin():
        await outbox.plan_chat(session, "c", campaign, target, BEFORE_THE_WEEK)
    async with db.session() as session, session.begin():  # one notice already went out
        sent = await session.scalar(
            select(Delivery).where(Delivery.reference == "opening@2023-10-02-3")
        )
        sent.status = DeliveryStatus.SENT

    [report] = campaign.deadlines
    edited = campaign.model_copy(
        update={
            "opening": None,  # the office dropped the ceremony
            "deadlines": [report.model_copy(update={"date": dt.date(2023, 10, 14)})],
        }
    )
    async with db.session() as session, session.begin():
        changed = await outbox.plan_chat(session, "c", edited, target, BEFORE_THE_WEEK)

    async with db.session() as session:
        rows = {r.reference: r for r in await session.scalars(select(Delivery))}
    assert rows["opening@2023-10-02-3"].status == DeliveryStatus.SENT  # history is never rewritten
    assert (rows["opening@2023-10-02-1"].status, rows["opening"].status) == (
        "cancelled",
        "cancelled",
    )
    old = [rows[f"bao-cao@2023-10-12-{n}"].status for n in (3, 1, 0)]
    new = [rows[f"bao-cao@2023-10-14-{n}"] for n in (3, 1, 0)]
    assert old == ["cancelled"] * 3
    assert [(r.status, r.due_at.astimezone(VN).day) for r in new] == [
        ("pending", 10), ("pending", 12), ("pending", 13),  # last day 13/10 ("trước ngày 14/10")
    ]  # fmt: skip
    # ceremony rows cancelled, old reminders cancelled, new planned, the form useful for longer
    assert changed == 2 + 3 + 3 + 11


async def test_a_postponed_ceremony_is_announced_again(db):
    campaign = load_campaign(SCHEDULES / SEEDS["lac-thuy"])
    [target] = await registered(db, "a")
    async with db.session() as session, session.begin():
        await outbox.plan_chat(session, "c", campaign, target, BEFORE_THE_WEEK)
        await session.flush()
        for row in await session.scalars(select(Delivery).where(Delivery.kind == "opening_notice")):
            row.status = DeliveryStatus.SENT  # both notices went out for 02/10
    later = campaign.opening.model_copy(update={"date": dt.date(2023, 10, 16)})
    async with db.session() as session, session.begin():
        await outbox.plan_chat(
            session, "c", campaign.model_copy(update={"opening": later}), target, BEFORE_THE_WEEK
        )
    async with db.session() as session:
        notices = {
            r.reference: r.status
            for r in await session.scalars(
                select(Delivery).where(Delivery.kind == "opening_notice")
            )
        }
    assert notices == {
        "opening@2023-10-02-3": "sent",
        "opening@2023-10-02-1": "sent",
        "opening@2023-10-16-3": "pending",
        "opening@2023-10-16-1": "pending",
    }


async def test_rows_of_another_campaign_key_are_cancelled_not_sent_twice(db):
    """The campaign file was renamed: its rows come back under the new name, the old ones go."""
    campaign = load_campaign(SCHEDULES / SEEDS["lac-thuy"])
    await registered(db, "a")
    async with db.session() as session, session.begin():
        await outbox.plan(session, "old-name", campaign, BEFORE_THE_WEEK)
    async with db.session() as session, session.begin():
        await outbox.plan(session, "new-name", campaign, BEFORE_THE_WEEK)
    async with db.session() as session:
        rows = list(await session.scalars(select(Delivery)))
    assert {r.status for r in rows if r.campaign == "old-name"} == {DeliveryStatus.CANCELLED}
    assert {r.status for r in rows if r.campaign == "new-name"} == {DeliveryStatus.PENDING}
    async with db.session() as session, session.begin():
        due = await outbox.claim_due(
            session, dt.datetime(2023, 12, 1, tzinfo=VN), campaign="new-name"
        )
    assert {row.campaign for row in due} == {"new-name"}


async def test_planning_every_chat_at_once_joins_a_waiting_announcement_once_per_chat(db):
    """`plan` over many chats (one pass, rows inserted in bulk) gives each chat the campaign's
    19 rows and a scheduled announcement of its type once, and planning again adds nothing."""
    campaign = load_campaign(SCHEDULES / SEEDS["lac-thuy"])
    first, *others = await registered(db, "a", "b", "c")
    at = BEFORE_THE_WEEK + dt.timedelta(days=2)
    async with db.session() as session, session.begin():
        await outbox.plan_chat(session, "c", campaign, first, BEFORE_THE_WEEK)
        await outbox.broadcast(session, "c", "Họp lúc 15h", ["truong-hoc"], at)
        await outbox.broadcast(session, "c", "Chỉ cho trung tâm", ["tthtcd"], at)
        later = [target.chat.id for target in others]  # as if b and c registered after it
        await session.execute(delete(Delivery).where(Delivery.chat_id.in_(later)))
    async with db.session() as session, session.begin():
        added = await outbox.plan(session, "c", campaign, BEFORE_THE_WEEK)
    async with db.session() as session, session.begin():
        again = await outbox.plan(session, "c", campaign, BEFORE_THE_WEEK)
    async with db.session() as session:
        rows = list(await session.scalars(select(Delivery)))
    assert (added, again) == (2 * 19 + 2, 0)  # b and c: the form and notices, the meeting
    for target in (first, *others):
        own = [r for r in rows if r.chat_id == target.chat.id]
        assert len(own) == 20 and {r.status for r in own} == {DeliveryStatus.PENDING}
        assert [r.announcement.text for r in own if r.payload] == ["Họp lúc 15h"]
        assert all(r.payload is None for r in own if r.kind != "announcement")


async def test_upcoming_counts_the_first_moments_chats_by_kind(db):
    campaign = load_campaign(SCHEDULES / SEEDS["lac-thuy"])
    targets = await registered(db, "a", "b")
    async with db.session() as session, session.begin():
        for target in targets:
            await outbox.plan_chat(session, "c", campaign, target, BEFORE_THE_WEEK)
        await outbox.broadcast(session, "c", "x", [], BEFORE_THE_WEEK + dt.timedelta(days=1))
        await outbox.broadcast(session, "other", "y", [], BEFORE_THE_WEEK)  # another campaign
    async with db.session() as session:
        rows = list(await session.scalars(select(Delivery).where(Delivery.campaign == "c")))
        for limit in (1, 3, 5, 50):
            found = await outbox.upcoming(session, "c", limit)
            counted: dict = {}
            for row in rows:
                counted[row.due_at, row.kind] = counted.get((row.due_at, row.kind), 0) + 1
            expected = [(at, kind, n) for (at, kind), n in sorted(counted.items())][:limit]
            assert found == expected
    assert found[0] == (BEFORE_THE_WEEK + dt.timedelta(days=1), "announcement", 2)
