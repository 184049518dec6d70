"""`python -m bot.sandbox`: the sandbox Telegram Bot API server on its own (and Zalo's).

For a bot in another process (`loa run`, the demo, benchmarks): point python-telegram-bot's
`base_url` at the printed URL plus `/bot`, and drive the chats through `/sandbox/` endpoints.
With `--zalo-port`, a sandbox Zalo Bot API server runs beside it; its URL is printed on a second
line and is what ZALO_API_BASE_URL is set to.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from bot.sandbox.telegram import Limits, TelegramSandbox
from bot.sandbox.zalo import ZaloSandbox


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.sandbox", description="Sandbox Telegram Bot API server"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument(
        "--no-limits", action="store_true", help="no flood control (no 429 answers)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to every Bot API answer"
    )
    parser.add_argument(
        "--bot",
        action="append",
        default=[],
        metavar="TOKEN[=USERNAME]",
        help="register a bot at start (repeatable); bots can also be added over /sandbox/bots",
    )
    parser.add_argument(
        "--zalo-port", type=int, default=None, help="also serve the Zalo Bot API (0: a free port)"
    )
    parser.add_argument(
        "--zalo-bot",
        action="append",
        default=[],
        metavar="TOKEN[=NAME]",
        help="register a Zalo bot at start (repeatable); NAME is how groups mention it",
    )
    return parser


async def _serve(args: argparse.Namespace) -> None:
    sandbox = TelegramSandbox(Limits.off() if args.no_limits else None, latency=args.latency)
    for spec in args.bot:
        token, _, username = spec.partition("=")
        sandbox.add_bot(token, username or "loa_bot")
    await sandbox.start(args.host, args.port)
    zalo = None
    if args.zalo_port is not None:
        zalo = ZaloSandbox(Limits.off() if args.no_limits else None, latency=args.latency)
        for spec in args.zalo_bot:
            token, _, name = spec.partition("=")
            zalo.add_bot(token, name or "Loa")
        await zalo.start(args.host, args.zalo_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signum, stop.set)
    print(sandbox.base_url, flush=True)
    if zalo is not None:
        print(zalo.base_url, flush=True)
    try:
        await stop.wait()
    finally:
        if zalo is not None:
            await zalo.stop()
        await sandbox.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
