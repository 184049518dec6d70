"""Getting updates to the bots: waking the long poll in progress, or posting to the webhook.

Telegram posts one update at a time, in order, and retries the first until the webhook answers
2xx; a failure is what getWebhookInfo reports as `last_error_message`. The Zalo sandbox uses the
same loop with its own secret header and body envelope.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import aiohttp

from bot.sandbox.model import Stats
from bot.sandbox.wire import JSON, dumps

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Bot(Protocol):
    """What delivery needs of a sandbox bot (Telegram's `model.Bot`, Zalo's `ZaloBot`)."""

    updates: list[JSON]
    webhook: Any  # None, or something with `url` and `secret`
    waiter: asyncio.Future[str] | None
    deliverer: asyncio.Task[None] | None
    last_error_date: int | None
    last_error_message: str | None


class Delivery:
    """Long-poll wake-ups and webhook delivery loops for every bot, while the server runs."""

    def __init__(
        self,
        stats: Stats,
        secret_header: str = TELEGRAM_SECRET_HEADER,
        envelope: Callable[[JSON], JSON] = lambda update: update,
    ) -> None:
        self.stats = stats
        self.secret_header = secret_header
        self.envelope = envelope  # the body posted for an update
        self.backoff = (0.1, 5.0)  # first and longest wait between webhook retries
        self._session: aiohttp.ClientSession | None = None

    @property
    def running(self) -> bool:
        """Long polls wait only while this is true; a stopped sandbox answers them at once."""
        return self._session is not None

    def open(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def close(self, bots: Iterable[Bot]) -> None:
        """Answer the waiting long polls and stop the webhook deliveries."""
        session, self._session = self._session, None
        deliverers = []
        for bot in bots:
            self.wake(bot, "closing")
            if bot.deliverer is not None:
                bot.deliverer.cancel()
                deliverers.append(bot.deliverer)
        await asyncio.gather(*deliverers, return_exceptions=True)
        if session is not None:
            await session.close()

    @staticmethod
    def wake(bot: Bot, reason: str) -> None:
        """End the bot's long poll, if one waits: `update`, `conflict`, `webhook`, `closing`."""
        if bot.waiter is not None and not bot.waiter.done():
            bot.waiter.set_result(reason)

    def notify(self, bot: Bot) -> None:
        """The bot has a new update: answer its long poll or start its webhook delivery."""
        self.wake(bot, "update")
        self.kick(bot)

    def kick(self, bot: Bot) -> None:
        if bot.webhook is None or not bot.updates or self._session is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # called from outside the server's loop: the next update starts delivery
        if bot.deliverer is None or bot.deliverer.done():
            bot.deliverer = loop.create_task(self._deliver(bot))

    async def _deliver(self, bot: Bot) -> None:
        """Post the updates one at a time, in order; retry the first with backoff until 2xx."""
        first, longest = self.backoff
        delay = first
        while bot.webhook is not None and bot.updates and self._session is not None:
            hook, update = bot.webhook, bot.updates[0]
            headers = {"Content-Type": "application/json"}
            if hook.secret:
                headers[self.secret_header] = hook.secret
            try:
                async with self._session.post(
                    hook.url, data=dumps(self.envelope(update)).encode(), headers=headers
                ) as answer:
                    error = None
                    if not 200 <= answer.status < 300:
                        error = f"Wrong response from the webhook: {answer.status} {answer.reason}"
            except TimeoutError:
                error = "Connection timed out"
            except aiohttp.ClientConnectorError:
                error = "Connection refused"
            except (aiohttp.ClientError, OSError) as exc:
                error = str(exc) or type(exc).__name__
            if error is None:
                self.stats.webhook_deliveries += 1
                if bot.updates and bot.updates[0] is update:
                    bot.updates.pop(0)
                delay = first
                continue
            self.stats.webhook_failures += 1
            bot.last_error_date, bot.last_error_message = int(time.time()), error
            await asyncio.sleep(delay)
            delay = min(delay * 2, longest)
