import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright
from sqlalchemy import text

from bot.campaign.loader import load_campaign
from bot.campaign.model import Campaign
from bot.store.db import Database, throwaway_postgres
from bot.store.models import Base

ROOT = Path(__file__).resolve().parent.parent
SCHEDULES = ROOT / "schedules"

NO_POSTGRES = "TEST_DATABASE_URL is not set: the PostgreSQL variants did not run"

SEEDS = {
    "gia-lam": "2020-gia-lam.yaml",
    "lac-thuy": "2023-lac-thuy.yaml",
    "quan-12": "2021-quan-12.yaml",
    "khanh-hoa": "2021-khanh-hoa.yaml",
    "brvt": "2022-ba-ria-vung-tau.yaml",
}


@pytest.fixture(scope="session")
def seeds() -> dict[str, Campaign]:
    return {key: load_campaign(SCHEDULES / name) for key, name in SEEDS.items()}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test session's own on TEST_DATABASE_URL's server, dropped at the end.

    Skips when TEST_DATABASE_URL is not set; fails (never skips) when it is set but unusable.
    """
    given = os.environ.get("TEST_DATABASE_URL")
    if not given:
        pytest.skip(NO_POSTGRES)
    with throwaway_postgres(given, "loa_test") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An upgraded, empty database: a fresh SQLite file, or the session's PostgreSQL database
    truncated (cheaper than creating a database per test; the upgrade is a no-op at head)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'loa.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    async with Database(url) as database:
        await database.upgrade()  # a no-op at head; repairs what a failed test left behind
        if request.param == "postgresql":
            tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
            async with database.engine.begin() as connection:
                await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        yield database


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Every test skipped for want of PostgreSQL is reported at one place, so `-ra` folds them
    into one summary line instead of one per test function."""
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple) and NO_POSTGRES in report.longrepr[2]:
        report.longrepr = (__file__, None, report.longrepr[2])
    return report


# Pages in a real browser: Debian's chromium driven by Playwright; nothing downloads a browser.
# Without chromium the browser tests are skipped, except where LOA_REQUIRE_BROWSER is set (CI
# sets it, having installed the package), so a skip can never pass for a run.
CHROMIUM = ("chromium", "chromium-browser")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    path = os.environ.get("LOA_CHROMIUM") or next(filter(None, map(shutil.which, CHROMIUM)), None)
    if path is None:
        if os.environ.get("LOA_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        # root in a container has no user namespaces for chromium's sandbox
        launched = await playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()
