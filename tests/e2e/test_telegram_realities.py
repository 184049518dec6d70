"""Things Telegram does that a bot must live with: a group silently becomes a supergroup with a
new id; a group's admin writes anonymously, as the group itself."""

import asyncio

from sqlalchemy import select

from bot.delivery import outbox
from bot.store.models import Chat
from tests.e2e.conftest import TOKEN


async def chat_rows(world) -> list[Chat]:
    async with world.db.session() as session:
        return list(await session.scalars(select(Chat).order_by(Chat.id)))


async def migration_seen(world, new) -> None:
    """Wait until Loa has read the two migration messages."""
    for _ in range(100):
        if str(new) in {c.external_id for c in await chat_rows(world)}:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the migration was not seen")


async def registered_basic_group(world):
    principal = world.person("Thầy Hùng")
    group = world.sandbox.create_group(
        "Tổ chuyên môn",
        members=[principal.id],
        bots=[TOKEN],
        admins=[principal.id],
        supergroup=False,
    )
    await world.sandbox.wait_sent(group, 1)
    await world.register(group, "th-chi-ne", principal)
    return group, principal


async def test_a_group_upgraded_to_a_supergroup_keeps_its_registration(world):
    group, principal = await registered_basic_group(world)

    new = world.sandbox.migrate(group)
    await migration_seen(world, new)
    assert "Lịch sắp tới của Trường Tiểu học Chi Nê" in await principal.asks(new, "/lich")

    moved = [c for c in await chat_rows(world) if c.external_id == str(new)]
    assert [(c.unit_id is not None, c.active) for c in moved] == [(True, True)]
    assert str(group) not in {c.external_id for c in await chat_rows(world)}


async def test_a_send_to_the_old_id_follows_the_group_to_its_new_one(world):
    group, _ = await registered_basic_group(world)
    new = world.sandbox.migrate(group)
    await migration_seen(world, new)
    # as if the migration updates had been lost: Loa still knows the old id
    async with world.db.session() as session, session.begin():
        [chat] = [
            c
            for c in await session.scalars(select(Chat))
            if c.external_id in (str(group), str(new))
        ]
        chat.external_id = str(group)
    async with world.db.session() as session, session.begin():
        [row] = await outbox.broadcast(
            session, world.loa.campaign_key, "Họp tổ", [], world.loa.clock.now()
        )

    await world.loa.dispatcher.send_due([row.id])

    assert "Họp tổ" in world.sandbox.sent(new)[-1]["text"]
    assert str(new) in {c.external_id for c in await chat_rows(world)}


async def test_an_anonymous_admin_registers_and_unregisters_the_group(world):
    admin = world.person("Hiệu trưởng")
    group = await world.group("Nhóm trường", admins=(admin,))
    code = await world.code_of("thcs-chi-ne")

    await world.sandbox.post(group, admin.id, f"/dangky {code}", anonymous=True)
    [*_, reply] = await world.sandbox.wait_sent(group, 2)
    assert reply["text"].startswith("✅ Đã đăng ký nhóm này cho Trường THCS Chi Nê.")

    await world.sandbox.post(group, admin.id, "/huydangky", anonymous=True)
    [*_, reply] = await world.sandbox.wait_sent(group, 3)
    assert reply["text"].startswith("Đã hủy đăng ký")
