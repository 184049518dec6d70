"""The web face served on loopback over a real store, and a client that keeps its cookies."""

import contextlib
import datetime as dt
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.ops import signin
from bot.ops.env import Env
from bot.web.app import serve
from bot.web.console import Console
from tests.ops.support import StillClock

ADMIN = "zalo:coordinator-1"
START = dt.datetime(2023, 9, 25, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def env(db, seeds) -> Env:
    return Env(db, seeds["lac-thuy"], "lac-thuy", StillClock(START))


@contextlib.asynccontextmanager
async def served(console: Console) -> AsyncIterator[str]:
    """`console` served on loopback while inside: its base address."""
    runner = await serve(console, "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def web(env) -> AsyncIterator[str]:
    """The console's base address."""
    console = Console(env, frozenset({ADMIN}), "http://127.0.0.1", api_token="api-token-for-tests")
    async with served(console) as address:
        yield address


@pytest.fixture
async def client(web) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=web, follow_redirects=False) as http:
        yield http


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found[1]


@pytest.fixture
async def coordinator(client, env) -> httpx.AsyncClient:
    """The client, signed in as a coordinator; `coordinator.csrf` is the session's form token."""
    token = await signin.issue(env, ADMIN)
    assert (await client.post(f"/login/{token}")).status_code == 303
    client.csrf = csrf_of((await client.get("/dang-nhap")).text)  # type: ignore[attr-defined]
    return client
