"""Natural batching: what many tasks ask of the database at once goes in one trip.

A busy minute of the form brings dozens of answers a second, each needing its chat looked up and
its figures stored. Through the asyncio drivers a statement costs the event loop the same
whatever it carries, so one transaction for the twenty answers that arrived together costs
about what one answer cost alone. No timer: a caller alone is served at once, and callers who
ask while a batch runs make up the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class Batched(Generic[T, R]):
    """`await batched(item)` runs `run(items)` for `item` and whatever else is asked meanwhile,
    one run at a time, items in the order asked; `run` returns one result per item.

    A batch that fails is run again one item at a time, so a bad item fails only its caller.
    A caller who stops waiting does not stop the batch: what it asked for is still done.
    """

    def __init__(self, run: Callable[[Sequence[T]], Awaitable[Sequence[R]]]) -> None:
        self._run = run
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                await self._serve(batch)
        finally:
            self._task = None
            for _, future in self._waiting:  # only when cancelled: the loop is closing
                future.cancel()

    async def _serve(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._run([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} items")
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            if len(batch) > 1:
                log.info("a batch of %d failed (%s): running it item by item", len(batch), exc)
                for one in batch:
                    await self._serve([one])
                return
            _, future = batch[0]
            if not future.done():
                future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
