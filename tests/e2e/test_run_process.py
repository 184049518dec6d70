"""`loa run` as operators start it: a real process, settings from the environment, SIGTERM to
stop. Its whole output must never contain the token or the webhook secret, even at DEBUG."""

import asyncio
import os
import signal
import sys

import httpx

from bot.sandbox.telegram import Limits, TelegramSandbox
from bot.sandbox.zalo import Limits as ZaloLimitsOff
from bot.sandbox.zalo import ZaloSandbox
from tests.conftest import ROOT, SCHEDULES, SEEDS
from tests.e2e.test_webhook_and_secrets import free_port

TOKEN = "987654:process-token-that-must-never-be-printed"
SECRET = "process-secret-never-printed"


def environment(tmp_path, sandbox, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "WEBHOOK", "LOA"))}
    return env | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'loa.db'}",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": sandbox.base_url,
        "LOA_CAMPAIGN": str(SCHEDULES / SEEDS["lac-thuy"]),
        "PYTHONPATH": str(ROOT),
        "LOA_WEB_PORT": str(free_port()),  # the web console beside it, on a port of its own
        **extra,
    }


async def start(tmp_path, env) -> asyncio.subprocess.Process:
    """`loa run`, after `loa db upgrade` has made its database (`loa run` never makes one)."""
    upgrade = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "db", "upgrade", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert await upgrade.wait() == 0
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def test_a_token_telegram_rejects_is_explained_without_printing_it(tmp_path):
    async with TelegramSandbox() as sandbox:  # the token is unknown to it: 401
        process = await start(tmp_path, environment(tmp_path, sandbox))
        output = (await asyncio.wait_for(process.communicate(), 30))[0].decode()
    assert process.returncode == 2
    assert "TELEGRAM_BOT_TOKEN: Telegram từ chối token này" in output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output


async def test_serving_at_debug_in_webhook_mode_never_prints_a_secret(tmp_path):
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        port = free_port()
        env = environment(
            tmp_path,
            sandbox,
            WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_PORT=str(port),
            LOA_LOG_LEVEL="DEBUG",
        )
        process = await start(tmp_path, env)
        try:
            teacher = sandbox.add_user("Cô Hoa")
            for _ in range(100):  # until the bot has set its webhook
                if sandbox.commands(TOKEN):
                    break
                await asyncio.sleep(0.1)
            await sandbox.post(teacher, teacher, "/khaimac")
            [reply] = await sandbox.wait_sent(teacher, 1, timeout=10)
            assert reply["text"].startswith(
                "🎤 Lễ khai mạc Tuần lễ hưởng ứng học tập suốt đời năm 2023"
            )
        finally:
            process.send_signal(signal.SIGTERM)
            output = (await asyncio.wait_for(process.communicate(), 30))[0].decode()
    assert process.returncode == 0, output
    assert "telegram: @loa_bot connected (webhook)" in output
    assert "Loa đang phục vụ: Tuần lễ hưởng ứng học tập suốt đời năm 2023" in output
    assert "- Telegram (webhook): 0 nhóm/cuộc trò chuyện đã đăng ký" in output
    assert "DEBUG" in output  # it did log at DEBUG
    for secret in (TOKEN, TOKEN.split(":")[1], SECRET):
        assert secret not in output


async def test_loa_run_serves_zalo_on_a_webhook_and_rejects_a_wrong_secret(tmp_path):
    """Zalo alone, on its webhook: a chat is answered, a forged update is refused, and neither
    the token nor the secret is printed."""
    zalo_token, secret = "5500:zalo-process-token-never-printed", "zalo-webhook-secret-42"
    async with ZaloSandbox(limits=ZaloLimitsOff.off()) as zalo:
        zalo.add_bot(zalo_token, display_name="Loa")
        port = free_port()
        env = {
            k: v for k, v in environment(tmp_path, zalo).items() if not k.startswith("TELEGRAM")
        } | {
            "ZALO_BOT_TOKEN": zalo_token,
            "ZALO_API_BASE_URL": zalo.base_url,
            "ZALO_WEBHOOK_URL": f"http://127.0.0.1:{port}/zalo",
            "ZALO_WEBHOOK_PORT": str(port),
            "WEBHOOK_SECRET": secret,
            "LOA_LOG_LEVEL": "DEBUG",
        }
        process = await start(tmp_path, env)
        try:
            teacher = zalo.add_user("Cô Hoa")
            for _ in range(100):  # until the bot has set its webhook
                if zalo.webhook_url(zalo_token):
                    break
                await asyncio.sleep(0.1)
            await zalo.post(teacher, teacher, "/khaimac")
            [reply] = await zalo.wait_sent(teacher, 1, timeout=10)
            assert reply["text"].startswith("🎤 Lễ khai mạc")
            async with httpx.AsyncClient() as client:
                forged = await client.post(
                    f"http://127.0.0.1:{port}/zalo",
                    json={"event_name": "message.text.received", "message": {}},
                    headers={"X-Bot-Api-Secret-Token": "not-the-secret"},
                )
            assert forged.status_code == 403
        finally:
            process.send_signal(signal.SIGTERM)
            output = (await asyncio.wait_for(process.communicate(), 30))[0].decode()
    assert process.returncode == 0, output
    assert "- Zalo (webhook): 0 nhóm/cuộc trò chuyện đã đăng ký" in output
    for hidden in (zalo_token, zalo_token.split(":")[1], secret):
        assert hidden not in output
