"""The export as a file for someone to download: gathered, written off the event loop, audited."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.documents.formats import FORMATS, written
from bot.ops.env import Env
from bot.ops.figures import gather
from bot.store import audit

EXPORTED = "figures_exported"


@dataclass(frozen=True)
class Exported:
    name: str  # tong-hop-<campaign key>.<format>, as `/xuat` names it in a chat
    fmt: str
    content: bytes


def file_name(env: Env, fmt: str) -> str:
    return f"tong-hop-{env.campaign_key}.{fmt}"


async def export_file(env: Env, fmt: str, actor: str, via: str) -> Exported | None:
    """The statistics table in `fmt` (one of `FORMATS`) for `actor`, who is audited with `via`
    (how they asked: "web", "link"); None when the campaign asks for no figures."""
    if fmt not in FORMATS:
        raise ValueError(f"no such export format: {fmt!r}")
    if env.campaign.form is None:
        return None
    exported = await gather(env)
    content = await asyncio.to_thread(written, exported, fmt)  # seconds for a big province
    async with env.db.session() as session, session.begin():
        audit.record(
            session, actor, EXPORTED, format=fmt, via=via, units=len(exported.sheets)
        )
    return Exported(file_name(env, fmt), fmt, content)
