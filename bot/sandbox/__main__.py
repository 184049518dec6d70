"""`python -m bot.sandbox`: the sandbox Telegram Bot API server on its own.

For a bot in another process (`loa run`, the demo, benchmarks): point python-telegram-bot's
`base_url` at the printed URL plus `/bot`, and drive the chats through `/sandbox/` endpoints.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from bot.sandbox.telegram import Limits, TelegramSandbox


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
    return parser


async def _serve(args: argparse.Namespace) -> None:
    sandbox = TelegramSandbox(Limits.off() if args.no_limits else None, latency=args.latency)
    for spec in args.bot:
        token, _, username = spec.partition("=")
        sandbox.add_bot(token, username or "loa_bot")
    await sandbox.start(args.host, args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signum, stop.set)
    print(sandbox.base_url, flush=True)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
