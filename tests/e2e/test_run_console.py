"""`loa run` serves the web console beside the chats, in the same process: the summary says
where; a sign-in link from `loa web-link` opens it; LOA_WEB=0 turns it off; a port another
program holds is said in Vietnamese, with an exit code, never a traceback."""

import asyncio
import gc
import socket
import sys

import httpx
import pytest

from bot import service
from bot.app import Loa
from bot.campaign.loader import load_campaign
from bot.channels.telegram import TelegramChannel
from bot.config import Settings
from bot.errors import Invalid
from bot.messages import describe
from bot.sandbox.telegram import Limits, TelegramSandbox
from tests.conftest import SCHEDULES, SEEDS
from tests.e2e.test_run_process import TOKEN, environment, start
from tests.e2e.test_run_start import read_until, stop
from tests.e2e.test_webhook_and_secrets import free_port


async def web_link(tmp_path, env, holder: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web-link", holder, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output = (await asyncio.wait_for(process.communicate(), 30))[0].decode()
    assert process.returncode is not None
    return process.returncode, output


async def test_loa_run_serves_the_console_and_a_web_link_signs_in(tmp_path):
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        env = environment(
            tmp_path, sandbox, LOA_WEB_PORT=str(port), LOA_ADMINS="telegram:42",
            LOA_API_TOKEN="process-api-token-never-printed",
        )  # fmt: skip
        process = await start(tmp_path, env)
        seen: list[str] = []
        try:
            await read_until(process, "Trang quản lý trên web", seen)
            code, printed = await web_link(tmp_path, env, "telegram:42")
            assert code == 0, printed
            link = printed.strip().splitlines()[-1]
            assert link.startswith(f"{public}/login/")
            async with httpx.AsyncClient(base_url=public) as browser:
                assert (await browser.get("/deliveries")).status_code == 303  # no session yet
                signed = await browser.post(link.removeprefix(public))
                assert signed.status_code == 303 and "loa_session" in signed.cookies
                assert (await browser.get("/deliveries")).status_code == 200
        finally:
            output = await stop(process, seen)
    assert process.returncode == 0, output
    assert f"Trang quản lý trên web: {public} (phục vụ tại 127.0.0.1:{port})" in output
    assert "Traceback" not in output
    assert "process-api-token-never-printed" not in output
    assert link.rsplit("/", 1)[1] not in output  # the access log masks the token


async def test_loa_web_0_serves_no_console(tmp_path):
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        port = free_port()
        process = await start(tmp_path, environment(tmp_path, sandbox, LOA_WEB="0",
                                                    LOA_WEB_PORT=str(port)))  # fmt: skip
        seen: list[str] = []
        try:
            await read_until(process, "Trang quản lý trên web", seen)
            with pytest.raises(httpx.ConnectError):
                async with httpx.AsyncClient() as browser:
                    await browser.get(f"http://127.0.0.1:{port}/dang-nhap")
        finally:
            output = await stop(process, seen)
    assert process.returncode == 0, output
    assert "Trang quản lý trên web: đang tắt (LOA_WEB=0)." in output


async def test_a_console_port_in_use_is_said_in_vietnamese(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with TelegramSandbox(limits=Limits.off()) as sandbox:
            sandbox.add_bot(TOKEN, username="loa_bot")
            process = await start(tmp_path, environment(tmp_path, sandbox, LOA_WEB_PORT=str(port)))
            output = (await asyncio.wait_for(process.communicate(), 30))[0].decode()
    assert process.returncode == 2, output
    assert (
        output.strip()
        .splitlines()[-1]
        .startswith(
            f"LOA_WEB_PORT: cổng {port} trên 127.0.0.1 đang được một chương trình khác dùng"
        )
    ), output
    assert "Traceback" not in output


async def test_serve_cleans_the_console_up_when_it_stops(database, tmp_path):
    """In the process: the console answers while serving, and its port is free again after."""
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        site = service.Site("127.0.0.1", free_port())
        loa = Loa(
            load_campaign(SCHEDULES / SEEDS["lac-thuy"]),
            "lac-thuy-2023",
            database,
            {"telegram": TelegramChannel(TOKEN, api_base_url=sandbox.base_url, poll_timeout=1)},
            public_url=f"http://{site}",
        )
        stopping = asyncio.Event()
        serving = asyncio.create_task(service.serve(loa, stopping, site))
        async with httpx.AsyncClient(base_url=f"http://{site}") as browser:
            for _ in range(100):
                try:
                    answer = await browser.get("/dang-nhap")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            assert answer.status_code == 200
        for _ in range(100):  # the console answers before Loa has started: wait for that
            if gc.get_freeze_count():
                break
            await asyncio.sleep(0.05)
        assert gc.get_freeze_count() > 0  # what start made is kept out of full collections
        stopping.set()
        await asyncio.wait_for(serving, 30)
    assert gc.get_freeze_count() == 0
    with socket.socket() as again:
        again.bind(("127.0.0.1", site.port))  # nothing holds it


async def test_a_host_the_machine_does_not_have_is_said_in_vietnamese(database):
    loa = Loa(
        load_campaign(SCHEDULES / SEEDS["lac-thuy"]), "k", database, {}, public_url="http://x"
    )
    site = service.Site("203.0.113.7", free_port())  # TEST-NET-3: on no machine
    with pytest.raises(Invalid) as caught:
        async with service.web_console(service.console_of(loa, site), site):
            pass
    said = describe(caught.value.problems[0])
    assert said.startswith("LOA_WEB_PORT: trang quản lý trên web không mở được tại 203.0.113.7")
    assert "máy này không có địa chỉ 203.0.113.7" in said


def test_the_site_is_what_the_settings_ask_for():
    on = Settings.from_env({"LOA_WEB_PORT": "9001", "LOA_API_TOKEN": "x" * 20}, env_file="/x")
    assert service.Site.of(on) == service.Site("127.0.0.1", 9001, "x" * 20)
    assert "x" * 20 not in repr(service.Site.of(on))
    assert service.Site.of(Settings.from_env({"LOA_WEB": "0"}, env_file="/x")) is None
    assert str(service.Site("::1", 8088)) == "[::1]:8088"
