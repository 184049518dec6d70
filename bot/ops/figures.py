"""The units' figures: the export's data, read once."""

from __future__ import annotations

from bot.ops.env import Env
from bot.stats.export import Export
from bot.stats.grammar import printable
from bot.stats.table import UnitSheet
from bot.store import answers, chats


async def gather(env: Env) -> Export:
    """Every unit and its answers, by the campaign's unit types, then as the units were listed."""
    campaign = env.campaign
    async with env.db.session() as session:
        units = await chats.all_units(session)
        given = await answers.every_unit(session, env.campaign_key)
    order = {audience.code: index for index, audience in enumerate(campaign.audiences)}
    units.sort(key=lambda u: (order.get(u.type, len(order)), u.id))  # as the office listed them
    sheets = [UnitSheet(u.code, printable(u.name), u.type, given.get(u.id, {})) for u in units]
    return Export(campaign, sheets, env.clock.now().astimezone(campaign.tz))
