"""Who took the export, and how: every download of the statistics table is audited.

The file itself is written by the face (`bot.documents.formats.written`, off the event loop), from
`bot.ops.figures.gather`; operations do not write documents.
"""

from __future__ import annotations

from bot.campaign.scope import EVERYTHING, Scope
from bot.ops.env import Env
from bot.store import audit

EXPORTED = "figures_exported"


def file_name(env: Env, fmt: str, scope: Scope = EVERYTHING) -> str:
    """`tong-hop-<campaign key>.<format>`, as `/xuat` names the file in a chat; a commune's
    coordinator's table names its commune (`tong-hop-<key>-XA-PHU-THANH.xlsx`)."""
    parents = "".join(f"-{code}" for code in sorted(scope.parents or ()))
    return f"tong-hop-{env.campaign_key}{parents}.{fmt}"


async def exported(env: Env, actor: str, fmt: str, via: str, units: int) -> None:
    """`actor` took the table of `units` units as `fmt`; `via` says how ("web": the console's
    button, "link": a download link from `/xuat`)."""
    async with env.db.session() as session, session.begin():
        audit.record(session, actor, EXPORTED, format=fmt, via=via, units=units)
