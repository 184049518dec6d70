"""`loa run` when Telegram is not there yet, or another process polls the same bot: it says so
once, in Vietnamese, waits and carries on; never a traceback."""

import asyncio
import signal
import time

import httpx

from bot.sandbox.telegram import Limits, TelegramSandbox
from tests.e2e.test_run_process import TOKEN, environment, start
from tests.e2e.test_webhook_and_secrets import free_port


class Unreachable:
    """Stands in for the sandbox while nothing listens: only its base URL is read."""

    def __init__(self, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}"


async def read_until(process, words: str, seen: list[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not any(words in line for line in seen):
        line = await asyncio.wait_for(process.stdout.readline(), deadline - time.monotonic())
        assert line, "".join(seen)
        seen.append(line.decode())


async def stop(process, seen: list[str]) -> str:
    process.send_signal(signal.SIGTERM)
    rest = (await asyncio.wait_for(process.communicate(), 30))[0].decode()
    return "".join(seen) + rest


async def test_telegram_out_of_reach_at_start_is_waited_for(tmp_path):
    port = free_port()
    process = await start(tmp_path, environment(tmp_path, Unreachable(port)))
    seen: list[str] = []
    try:
        await read_until(process, "Chưa kết nối được Telegram", seen)
        async with TelegramSandbox(limits=Limits.off()) as sandbox:
            await sandbox.stop()  # listen on the port Loa was told, not a free one
            await sandbox.start(port=port)
            sandbox.add_bot(TOKEN, username="loa_bot")
            await read_until(process, "Loa đang phục vụ", seen)
            output = await stop(process, seen)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, output
    assert "Traceback" not in output
    waiting = [line for line in output.splitlines() if "Chưa kết nối được Telegram" in line]
    assert waiting and "thử lại sau" in waiting[0]
    assert len(waiting) <= 4  # once per wait, the waits growing
    assert TOKEN not in output


async def test_another_process_polling_the_same_bot_is_said_once(tmp_path):
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        process = await start(tmp_path, environment(tmp_path, sandbox, LOA_LOG_LEVEL="DEBUG"))
        seen: list[str] = []
        try:
            await read_until(process, "Loa đang phục vụ", seen)
            async with httpx.AsyncClient(timeout=10) as rival:  # the same bot started twice
                for _ in range(3):
                    await rival.post(
                        f"{sandbox.base_url}/bot{TOKEN}/getUpdates", json={"timeout": 1}
                    )
            output = await stop(process, seen)
        finally:
            if process.returncode is None:
                process.kill()
    assert process.returncode == 0, output
    assert "Traceback" not in output
    said = [line for line in output.splitlines() if "một tiến trình khác đang nhận tin" in line]
    assert len(said) == 1, output
    assert said[0].startswith("Telegram báo có một tiến trình khác đang nhận tin của bot này")
    assert "telegram: getUpdates conflict 2 " in output  # the next ones only in the debug log


async def test_stopping_while_waiting_for_telegram(tmp_path):
    process = await start(tmp_path, environment(tmp_path, Unreachable(free_port())))
    seen: list[str] = []
    try:
        await read_until(process, "Chưa kết nối được Telegram", seen)
        began = time.monotonic()
        output = await stop(process, seen)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, output
    assert time.monotonic() - began < 5 and "Traceback" not in output
