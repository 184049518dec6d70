"""A big campaign for timing the pages: thousands of units, their chats, figures and deliveries,
written in bulk (the operations' own paths take minutes for 5,000 units)."""

import datetime as dt

from sqlalchemy import insert, select

from bot.ops.env import Env
from bot.stats.table import answerable
from bot.store.models import Answer, Chat, Delivery, DeliveryStatus, Unit

TYPES = ("truong-hoc", "tthtcd")


async def crowd(env: Env, count: int) -> None:
    """`count` units: 4 in 5 with an active group (every 10th of those since left), figures from
    every other unit (every 6th only one item), four deliveries per chat in every state."""
    form = env.campaign.form
    assert form is not None
    items = [row.code for row in answerable(form)]
    at = env.clock.now()
    async with env.db.session() as session, session.begin():
        await session.execute(
            insert(Unit),
            [
                {
                    "code": f"dv-{n:05d}",
                    "code_key": f"dv-{n:05d}",
                    "name": f"Đơn vị số {n}",
                    "type": TYPES[n % 3 == 0],
                    "registration_code": f"C{n:09d}",
                }
                for n in range(count)
            ],
        )
        ids = list(await session.scalars(select(Unit.id).order_by(Unit.id)))
        await session.execute(
            insert(Chat),
            [
                {
                    "platform": "zalo",
                    "external_id": f"g{unit}",
                    "kind": "group",
                    "title": f"Nhóm {unit}",
                    "unit_id": unit,
                    "active": n % 10 != 0,
                    "registered_at": at,
                }
                for n, unit in enumerate(ids)
                if n % 5 != 4
            ],
        )
        chats = list(await session.execute(select(Chat.id, Chat.unit_id)))
        statuses = list(DeliveryStatus)
        await session.execute(
            insert(Delivery),
            [
                {
                    "key": f"c:slogan:{day}:{chat}",
                    "campaign": env.campaign_key,
                    "kind": "slogan",
                    "reference": str(day),
                    "chat_id": chat,
                    "unit_id": unit,
                    "due_at": at + dt.timedelta(hours=day * 12 - 30),
                    "status": statuses[(chat + day) % len(statuses)],
                }
                for chat, unit in chats
                for day in range(4)
            ],
        )
        given = [
            {
                "campaign": env.campaign_key,
                "unit_id": unit,
                "item": item,
                "value": [n % 7, n % 50] if n % 2 else [n % 9],
                "raw": "1",
                "author": "zalo:x",
            }
            for n, unit in enumerate(ids)
            if n % 2 == 0
            for item in (items[:1] if n % 6 == 0 else items)
        ]
        for start in range(0, len(given), 10_000):
            await session.execute(insert(Answer), given[start : start + 10_000])
