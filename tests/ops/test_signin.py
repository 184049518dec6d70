"""Sign-in links, sessions and download links over a real store (SQLite and PostgreSQL)."""

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from bot.ops import signin
from bot.ops.env import Env
from bot.ops.signin import Refusal, TicketKind
from bot.store.models import AuditEntry, WebTicket
from tests.ops.support import StillClock

ADMIN = "zalo:abc"
COORDINATORS = frozenset({ADMIN})
START = dt.datetime(2023, 9, 25, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def env(db, seeds):
    return Env(db, seeds["lac-thuy"], "lac-thuy", StillClock(START))


async def test_a_link_opens_one_session_then_is_spent(env):
    token = await signin.issue(env, ADMIN)
    started = await signin.sign_in(env, token, COORDINATORS, "203.0.113.5")
    assert isinstance(started, signin.Session)
    assert started.holder == ADMIN
    assert started.expires_at == START + signin.SESSION_LIFETIME
    assert await signin.visitor(env, started.token, COORDINATORS) == signin.Visitor(
        ADMIN, started.csrf
    )
    assert await signin.sign_in(env, token, COORDINATORS, "203.0.113.5") is Refusal.USED


async def test_two_clicks_at_once_start_one_session(env):
    token = await signin.issue(env, ADMIN)
    results = await asyncio.gather(
        *(signin.sign_in(env, token, COORDINATORS, "203.0.113.5") for _ in range(5))
    )
    assert sum(isinstance(r, signin.Session) for r in results) == 1
    assert all(r is Refusal.USED for r in results if not isinstance(r, signin.Session))


async def test_only_digests_are_stored(env):
    token = await signin.issue(env, ADMIN)
    async with env.db.session() as session:
        stored = (await session.scalars(select(WebTicket.digest))).all()
    assert stored == [signin.digest(token)]
    assert token not in stored


async def test_an_expired_link_and_an_unknown_one_are_refused_and_audited(env):
    token = await signin.issue(env, ADMIN)
    env.clock.at = START + signin.LINK_LIFETIME
    assert await signin.sign_in(env, token, COORDINATORS, "198.51.100.7") is Refusal.EXPIRED
    assert await signin.sign_in(env, "nonsense", COORDINATORS, "198.51.100.7") is Refusal.UNKNOWN
    async with env.db.session() as session:
        refused = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == signin.REFUSED))
        ).all()
    assert [(e.actor, e.detail) for e in refused] == [
        ("198.51.100.7", {"reason": "expired"}),
        ("198.51.100.7", {"reason": "unknown"}),
    ]


async def test_a_coordinator_removed_from_loa_admins_cannot_sign_in_or_stay(env):
    token = await signin.issue(env, ADMIN)
    assert await signin.sign_in(env, token, frozenset(), "203.0.113.5") is Refusal.NOT_COORDINATOR
    other = await signin.issue(env, ADMIN)
    started = await signin.sign_in(env, other, COORDINATORS, "203.0.113.5")
    assert isinstance(started, signin.Session)
    assert await signin.visitor(env, started.token, frozenset()) is None


async def test_guessing_from_one_address_is_throttled_not_the_others(env):
    for _ in range(signin.REFUSALS_PER_WINDOW):
        assert await signin.sign_in(env, "guess", COORDINATORS, "192.0.2.1") is Refusal.UNKNOWN
    token = await signin.issue(env, ADMIN)
    assert await signin.sign_in(env, token, COORDINATORS, "192.0.2.1") is Refusal.THROTTLED
    assert isinstance(await signin.sign_in(env, token, COORDINATORS, "192.0.2.2"), signin.Session)
    async with env.db.session() as session, session.begin():  # the window passes
        for entry in await session.scalars(select(AuditEntry)):
            entry.at -= signin.REFUSAL_WINDOW
    again = await signin.issue(env, ADMIN)
    assert isinstance(await signin.sign_in(env, again, COORDINATORS, "192.0.2.1"), signin.Session)


async def test_a_session_ends_at_its_time_and_on_sign_out(env):
    started = await signin.sign_in(env, await signin.issue(env, ADMIN), COORDINATORS, "ip")
    assert isinstance(started, signin.Session)
    env.clock.at = started.expires_at
    assert await signin.visitor(env, started.token, COORDINATORS) is None
    env.clock.at = START
    await signin.sign_out(env, started.token)
    assert await signin.visitor(env, started.token, COORDINATORS) is None


async def test_a_sign_in_link_is_no_session_and_a_session_no_link(env):
    link = await signin.issue(env, ADMIN)
    assert await signin.visitor(env, link, COORDINATORS) is None
    started = await signin.sign_in(env, link, COORDINATORS, "ip")
    assert isinstance(started, signin.Session)
    assert await signin.sign_in(env, started.token, COORDINATORS, "ip") is Refusal.UNKNOWN


async def test_a_download_link_opens_its_own_file_for_a_day(env):
    token = await signin.issue(env, ADMIN, TicketKind.DOWNLOAD, "/figures/export.xlsx")
    assert await signin.download(env, token, "/figures/export.xlsx") == ADMIN
    assert await signin.download(env, token, "/figures/export.csv") is None
    env.clock.at = START + signin.DOWNLOAD_LIFETIME
    assert await signin.download(env, token, "/figures/export.xlsx") is None


async def test_expired_tickets_are_forgotten_a_day_later(env):
    await signin.issue(env, ADMIN)
    env.clock.at = START + signin.LINK_LIFETIME + dt.timedelta(hours=23)
    assert await signin.forget_expired(env) == 0
    env.clock.at = START + signin.LINK_LIFETIME + dt.timedelta(days=1, seconds=1)
    assert await signin.forget_expired(env) == 1
