"""The webhooks under the floods of issue 14: memory, and how fast a genuine update is answered.

```
.venv/bin/python bench/webhook_flood.py                  # the full size: 20 x 90 MB, 1,100 slow
.venv/bin/python bench/webhook_flood.py --posts 5 --post-mb 20 --slow 300 --hold 5
```

A server process runs Loa's two channels (Telegram and Zalo, each on its sandbox, in webhook
mode) with the usual 1,024 open files. This process attacks it, while a prober posts a genuine
update (with the secret) to each webhook every `--probe` seconds and times the answer:

1. `posts` parallel POSTs of `post-mb` MB each, without the secret, to Telegram's webhook, then
   as many to Zalo's;
2. `slow` connections to Telegram's webhook sending a byte of headers every 5 s for `hold`
   seconds (with `--reconnect`, each reopened at once whenever the server closes it).

It prints, per phase, the server's resident memory before and at its peak (sampled every 50 ms),
the slowest and the median answer to a genuine update, how many genuine updates went
unanswered, and the server's log lines about open files. Goals (issue 14): memory grows by less
than 50 MB and every genuine update is answered within 1 s. Exit 0 when both are met.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-webhook-secret"
TELEGRAM_TOKEN = "123456:bench-telegram-token"
ZALO_TOKEN = "7000:bench-zalo-token"
OPEN_FILES = 1024
HEADERS = {"telegram": "X-Telegram-Bot-Api-Secret-Token", "zalo": "X-Bot-Api-Secret-Token"}
GOAL_MEMORY_MB = 50
GOAL_ANSWER_S = 1.0


# -- the server process ------------------------------------------------------------------------


async def serve(telegram_port: int, zalo_port: int) -> None:
    """Both channels on their webhooks, each on its own sandbox, until SIGTERM."""
    from bot.channels.telegram import TelegramChannel
    from bot.channels.webhook import Webhook
    from bot.channels.zalo import ZaloChannel
    from bot.sandbox.telegram import Limits, TelegramSandbox
    from bot.sandbox.zalo import ZaloSandbox

    handled = itertools.count(1)

    async def handle(event: object) -> None:
        next(handled)

    def hook(port: int) -> Webhook:
        return Webhook(f"http://127.0.0.1:{port}/hook", SECRET, listen="127.0.0.1", port=port)

    async with TelegramSandbox(limits=Limits.off()) as tg, ZaloSandbox(limits=Limits.off()) as zl:
        tg.add_bot(TELEGRAM_TOKEN, username="loa_bot")
        zl.add_bot(ZALO_TOKEN)
        channels = [
            TelegramChannel(TELEGRAM_TOKEN, api_base_url=tg.base_url, webhook=hook(telegram_port)),
            ZaloChannel(ZALO_TOKEN, api_base_url=zl.base_url, webhook=hook(zalo_port)),
        ]
        for channel in channels:
            await channel.start(handle)
        print("ready", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        for channel in channels:
            await channel.stop()


# -- the attacker and the prober ---------------------------------------------------------------


@dataclass
class Phase:
    name: str
    rss_before: int = 0
    rss_peak: int = 0
    answers: list[float] = field(default_factory=list)
    unanswered: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # why genuine updates went unanswered

    def line(self) -> str:
        grown = (self.rss_peak - self.rss_before) / 2**20
        worst = max(self.answers, default=float("nan"))
        median = statistics.median(self.answers) if self.answers else float("nan")
        return (
            f"{self.name:<34} memory {self.rss_before / 2**20:6.1f} -> {self.rss_peak / 2**20:6.1f}"
            f" MB (+{grown:5.1f}) | genuine updates {len(self.answers):3d} answered, slowest "
            f"{worst * 1000:6.1f} ms, median {median * 1000:5.1f} ms, {self.unanswered} unanswered"
            + (f" {self.failures}" if self.failures else "")
        )

    @property
    def met(self) -> bool:
        grown = (self.rss_peak - self.rss_before) / 2**20
        return (
            grown < GOAL_MEMORY_MB
            and not self.unanswered
            and max(self.answers, default=99) < GOAL_ANSWER_S
        )


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def sample_memory(pid: int, phase: Phase, stop: asyncio.Event) -> None:
    while not stop.is_set():
        phase.rss_peak = max(phase.rss_peak, rss(pid))
        await asyncio.sleep(0.05)


_ids = itertools.count(1)


def genuine(platform: str) -> bytes:
    n = next(_ids)
    if platform == "telegram":
        update = {
            "update_id": n,
            "message": {
                "message_id": n, "date": 1696212000, "text": "/help",
                "chat": {"id": 77, "type": "private", "first_name": "Lan"},
                "from": {"id": 77, "is_bot": False, "first_name": "Lan"},
            },
        }  # fmt: skip
    else:
        update = {
            "event_name": "message.text.received",
            "message": {
                "from": {"id": "u77", "display_name": "Lan"}, "chat": {"id": "u77"},
                "text": "/help", "message_id": f"m{n}", "date": 1750316131602,
            },
        }  # fmt: skip
    return json.dumps(update).encode()


async def post_once(port: int, platform: str, timeout: float = 5.0) -> float | str:
    """One genuine update over a fresh connection; seconds to a 200, else what went wrong."""
    started = time.monotonic()
    body = genuine(platform)
    head = (
        f"POST /hook HTTP/1.1\r\nHost: loa\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{HEADERS[platform]}: {SECRET}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head + body)
            await writer.drain()
            status = await reader.readline()
            writer.close()
    except (TimeoutError, OSError) as exc:
        return type(exc).__name__
    if b" 200 " not in status:
        return repr(status[:20]) if status else "closed"
    return time.monotonic() - started


async def probe(ports: dict[str, int], phase: Phase, every: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        for platform, port in ports.items():
            answered = await post_once(port, platform)
            if isinstance(answered, str):
                phase.unanswered += 1
                phase.failures[answered] = phase.failures.get(answered, 0) + 1
            else:
                phase.answers.append(answered)
        await asyncio.sleep(every)


async def big_post(port: int, megabytes: int) -> None:
    """A POST of `megabytes` MB without the secret, sent as fast as the server takes it."""
    chunk = b"x" * 2**20
    with contextlib.suppress(OSError):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"POST /hook HTTP/1.1\r\nHost: loa\r\nContent-Type: application/json\r\n"
            f"Content-Length: {megabytes * 2**20}\r\n\r\n".encode()
        )
        try:
            for _ in range(megabytes):
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.close()


async def slow_loris(port: int, hold: float, reconnect: bool) -> None:
    """A byte of headers every 5 s until `hold` has passed or the server closes the connection;
    with `reconnect`, a new connection at once whenever the server closes one."""
    deadline = time.monotonic() + hold
    request = b"POST /hook HTTP/1.1\r\nHost: loa\r\nContent-Length: 10\r\nX-Pad: " + b"a" * 4096
    first = True
    while time.monotonic() < deadline and (first or reconnect):
        first = False
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        try:
            for byte in request:
                if time.monotonic() >= deadline:
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(5):
                        if await reader.read(1024) == b"":  # closed by the server
                            break
        except OSError:
            pass
        finally:
            writer.close()


async def run_phase(
    name: str, pid: int, ports: dict[str, int], attack: list, every: float
) -> Phase:
    phase = Phase(name, rss_before=rss(pid))
    phase.rss_peak = phase.rss_before
    stop = asyncio.Event()
    watchers = [
        asyncio.create_task(sample_memory(pid, phase, stop)),
        asyncio.create_task(probe(ports, phase, every, stop)),
    ]
    await asyncio.sleep(every)
    await asyncio.gather(*attack)
    await asyncio.sleep(1)  # the aftermath counts too
    stop.set()
    await asyncio.gather(*watchers)
    return phase


def free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return probe_socket.getsockname()[1]


async def attack(args: argparse.Namespace) -> int:
    ports = {"telegram": free_port(), "zalo": free_port()}
    log = Path(args.log)

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.slow + 2048)), hard))
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(ports["telegram"]), str(ports["zalo"])],
            stdout=subprocess.PIPE,
            stderr=log_file,
            preexec_fn=limit_files,
            text=True,
        )
        try:
            assert server.stdout is not None
            if server.stdout.readline().strip() != "ready":
                print(f"the server did not start; see {log}")
                return 2
            phases = []
            for platform in ("telegram", "zalo"):
                posts = [big_post(ports[platform], args.post_mb) for _ in range(args.posts)]
                name = f"{args.posts} x {args.post_mb} MB, no secret, {platform}"
                phases.append(await run_phase(name, server.pid, ports, posts, args.probe))
                print(phases[-1].line(), flush=True)
            slow = [
                slow_loris(ports["telegram"], args.hold, args.reconnect) for _ in range(args.slow)
            ]
            again = ", reopened" if args.reconnect else ""
            name = f"{args.slow} slow connections{again}, {args.hold:g} s"
            phases.append(await run_phase(name, server.pid, ports, slow, args.probe))
            print(phases[-1].line(), flush=True)
        finally:
            server.terminate()
            server.wait(10)
    text = log.read_text(errors="replace")
    print(
        f"server log: {len(text):,} bytes, {text.count('Too many open files')} 'Too many open "
        f"files', {text.count('Traceback')} tracebacks ({log})"
    )
    met = all(phase.met for phase in phases)
    print(
        f"goals (memory +{GOAL_MEMORY_MB} MB, every genuine update within {GOAL_ANSWER_S:g} s): "
        + ("met" if met else "NOT met")
    )
    return 0 if met else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--post-mb", type=int, default=90)
    parser.add_argument("--slow", type=int, default=1100)
    parser.add_argument("--hold", type=float, default=15.0)
    parser.add_argument(
        "--reconnect", action="store_true", help="slow connections reopen at once when closed"
    )
    parser.add_argument("--probe", type=float, default=0.2, help="seconds between probes")
    parser.add_argument("--log", default="var/bench-webhook-flood.log")
    parser.add_argument("--serve", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(*args.serve))
        return 0
    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    return asyncio.run(attack(args))


if __name__ == "__main__":
    sys.exit(main())
