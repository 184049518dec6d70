"""The answers store as the running bot uses it: many messages' chats, prompts and figures
read and written in one transaction, with the same outcome as one at a time."""

import datetime as dt

from sqlalchemy import select

from bot.store import answers, chats
from bot.store.models import Answer, Chat, Member, Prompt, PromptKind, Unit
from bot.store.payloads import Unconfirmed

T0 = dt.datetime(2023, 10, 9, 2, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


async def two_units(db) -> tuple[int, int, int]:
    """Units A and B, and a chat of A: their ids."""
    async with db.session() as session, session.begin():
        a = Unit(code="a", name="A", type="truong-hoc", registration_code="AAAAAA")
        b = Unit(code="b", name="B", type="truong-hoc", registration_code="BBBBBB")
        session.add_all([a, b])
        await session.flush()
        chat = Chat(platform="telegram", external_id="-1", kind="group", unit_id=a.id)
        session.add(chat)
        await session.flush()
        return a.id, b.id, chat.id


async def batch(db, records):
    async with db.session() as session, session.begin():
        return await answers.record_all(session, "k", records)


async def rows(db, unit_id: int) -> list[tuple[str, object, bool]]:
    async with db.session() as session:
        found = await session.scalars(
            select(Answer).where(Answer.unit_id == unit_id).order_by(Answer.id)
        )
        return [(a.item, a.value, a.replaced_at is None) for a in found]


async def test_records_of_several_units_in_one_batch_are_each_applied_in_order(db):
    a, b, chat = await two_units(db)
    await batch(db, [answers.Record(a, [("1", (5,), "5")], chat, "telegram:1", at(0))])
    done = await batch(
        db,
        [
            answers.Record(a, [("1", (6,), "6"), ("2", (1, 30), "1/30")], chat, "t:1", at(1)),
            answers.Record(b, [("1", (9,), "9")], None, "t:2", at(1)),
            answers.Record(a, [("1", (7,), "7")], chat, "t:1", at(2)),  # same unit, same batch
            answers.Record(a, [], chat, "t:1", at(2)),  # no figures: only the values
        ],
    )
    assert [d.befores for d in done] == [[(5,), None], [None], [(6,)], []]
    assert done[0].answered == {"1", "2"}
    assert done[1].answered == {"1"}
    assert done[2].answered == done[3].answered == {"1", "2"}
    assert await rows(db, a) == [
        ("1", [5], False),
        ("1", [6], False),  # replaced within the batch it was stored in
        ("2", [1, 30], True),
        ("1", [7], True),
    ]
    assert await rows(db, b) == [("1", [9], True)]
    async with db.session() as session:
        assert await answers.values(session, "k", a) == {"2": (1, 30), "1": (7,)}
        history = await answers.history(session, "k", a, "1")
    assert [h.replaced_at for h in history] == [at(1), at(2), None]


async def test_a_record_settles_the_read_back_it_confirms(db):
    a, _, chat = await two_units(db)
    async with db.session() as session, session.begin():
        answers.asked(session, "k", chat, a, "77", PromptKind.CONFIRM, ["1"], Unconfirmed(()))
    async with db.session() as session:
        [prompt] = await answers.prompts(session, "k", [(chat, "77")])
    assert prompt is not None and prompt.pending == {"answers": []}
    await batch(db, [answers.Record(a, [("1", (20000,), "20000")], chat, "t:1", at(0), prompt.id)])
    async with db.session() as session:
        settled = await session.get(Prompt, prompt.id)
    assert settled is not None and settled.pending is None


async def test_prompts_are_found_by_reply_or_as_the_chat_latest_in_one_call(db):
    a, _, chat = await two_units(db)
    async with db.session() as session, session.begin():
        answers.asked(session, "k", chat, a, "10", PromptKind.SECTION, ["1", "1.1"], at=at(0))
        answers.asked(session, "k", chat, a, "11", PromptKind.SECTION, ["2"], at=at(0))
        answers.asked(session, "other", chat, a, "12", PromptKind.ITEM, ["3"], at=at(1))
    async with db.session() as session:
        found = await answers.prompts(
            session, "k", [(chat, "11"), (chat, "10"), (chat, None), (chat, "12"), (999, None)]
        )
    assert [p.message_id if p else None for p in found] == ["11", "10", "11", None, None]


async def test_visits_meet_new_chats_and_members_and_write_only_what_changed(db):
    _, _, chat_id = await two_units(db)
    group = chats.Visit("telegram", "-1", "group", "Nhóm A", "5", "Lan", "staff")
    new = chats.Visit("telegram", "-2", "group", "Nhóm mới", "6", "Hùng", "staff")
    async with db.session() as session, session.begin():
        visited = await chats.visit_all(session, [group, new])
    assert [(c.external_id, u.code if u else None) for c, u in visited] == [
        ("-1", "a"),
        ("-2", None),
    ]
    assert visited[0][0].title == "Nhóm A"
    async with db.session() as session, session.begin():
        again = await chats.visit_all(session, [group, new])
        assert not session.dirty and not session.new  # seen a moment ago: nothing to write
    assert [c.id for c, _ in again] == [c.id for c, _ in visited]
    renamed = chats.Visit("telegram", "-1", "group", "Nhóm A", "5", "Lan Anh", "staff")
    async with db.session() as session, session.begin():
        await chats.visit_all(session, [renamed])
    async with db.session() as session:
        members = {(m.chat_id, m.user_id): m.name for m in await session.scalars(select(Member))}
    assert members == {(chat_id, "5"): "Lan Anh", (visited[1][0].id, "6"): "Hùng"}


async def test_answered_counts_count_current_answers_of_the_items_asked_only(db):
    first, second, _chat = await two_units(db)
    async with db.session() as session, session.begin():
        for unit, item, replaced in [
            (first, "1", at(1)), (first, "1", None), (first, "2", None), (first, "9", None),
            (second, "2", at(2)),
        ]:  # fmt: skip
            session.add(
                Answer(
                    campaign="k",
                    unit_id=unit,
                    item=item,
                    value=[1],
                    raw="1",
                    author="t:1",
                    replaced_at=replaced,
                )
            )
    async with db.session() as session:
        counts = await answers.answered_counts(session, "k", ["1", "2"])
        other = await answers.answered_counts(session, "other", ["1", "2"])
        second_only = await answers.answered_counts(
            session, "k", ["1", "2"], select(Unit.id).where(Unit.id == second)
        )
        first_only = await answers.answered_counts(
            session, "k", ["1", "2"], select(Unit.id).where(Unit.id == first)
        )
    # "1" corrected counts once, "9" is not asked for, the second unit's only answer replaced
    assert (counts, other) == ({first: 2}, {})
    assert (first_only, second_only) == ({first: 2}, {})  # the units asked for only
