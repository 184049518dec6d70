"""Natural batching (`Batched`): who shares a run, what a failure or a cancelled caller does."""

import asyncio
from collections.abc import Sequence

import pytest

from bot.store.batch import Batched


class Recorder:
    """A `run` that remembers its batches and can be held until released."""

    def __init__(self, bad: object = None) -> None:
        self.batches: list[list[object]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.bad = bad

    async def __call__(self, items: Sequence[object]) -> list[str]:
        self.batches.append(list(items))
        await self.gate.wait()
        if self.bad in items:
            raise ValueError(f"bad item {self.bad}")
        return [f"done {item}" for item in items]


async def test_a_caller_alone_is_served_at_once():
    run = Recorder()
    assert await Batched(run)(1) == "done 1"
    assert run.batches == [[1]]


async def test_callers_asking_during_a_run_share_the_next_one_in_order():
    run = Recorder()
    batched = Batched(run)
    run.gate.clear()
    first = asyncio.create_task(batched(0))
    await asyncio.sleep(0)  # the first run starts and waits at the gate
    rest = [asyncio.create_task(batched(i)) for i in range(1, 6)]
    await asyncio.sleep(0)
    run.gate.set()
    assert await asyncio.gather(first, *rest) == [f"done {i}" for i in range(6)]
    assert run.batches == [[0], [1, 2, 3, 4, 5]]


async def test_a_failed_batch_is_retried_item_by_item_so_only_the_bad_item_fails():
    run = Recorder(bad=3)
    batched = Batched(run)
    run.gate.clear()
    first = asyncio.create_task(batched(0))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(batched(i)) for i in (1, 2, 3, 4)]
    await asyncio.sleep(0)
    run.gate.set()
    results = await asyncio.gather(first, *rest, return_exceptions=True)
    assert results[:3] == ["done 0", "done 1", "done 2"] and results[4] == "done 4"
    assert isinstance(results[3], ValueError)
    assert run.batches == [[0], [1, 2, 3, 4], [1], [2], [3], [4]]
    assert await batched(5) == "done 5"  # and it goes on serving


async def test_a_run_giving_the_wrong_number_of_results_fails_its_callers():
    async def short(items: Sequence[int]) -> list[int]:
        return []

    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        await Batched(short)(1)


async def test_a_caller_who_stops_waiting_does_not_stop_the_batch():
    run = Recorder()
    batched = Batched(run)
    run.gate.clear()
    first = asyncio.create_task(batched(0))
    await asyncio.sleep(0)
    leaving, staying = asyncio.create_task(batched(1)), asyncio.create_task(batched(2))
    await asyncio.sleep(0)
    leaving.cancel()
    run.gate.set()
    assert await first == "done 0" and await staying == "done 2"
    assert run.batches == [[0], [1, 2]]  # 1 was still recorded, as it would have been alone
    assert leaving.cancelled()
