"""Natural batching (`Batched`): who shares a run, what a failure or a cancelled caller does."""

import asyncio
from collections.abc import Sequence

import pytest

from bot.store.batch import Batched
from bot.store.db import Database


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


async def test_database_works_asked_together_share_one_transaction(tmp_path):
    sessions: list[tuple[str, object, list[int]]] = []  # kept alive: each one distinct

    def work(name: str):
        async def run(session, items: Sequence[int]) -> list[str]:
            sessions.append((name, session, list(items)))
            if 13 in items:
                raise ValueError("13")
            return [f"{name} {item}" for item in items]

        return run

    async with Database(f"sqlite:///{tmp_path / 'loa.db'}") as db:
        visit, record = db.batched(work("visit")), db.batched(work("record"))
        first = asyncio.create_task(visit(0))
        await asyncio.sleep(0)  # the first transaction starts with it alone
        together = [visit(1), record(2), visit(3), record(13)]
        results = await asyncio.gather(first, *together, return_exceptions=True)
    assert results[:4] == ["visit 0", "visit 1", "record 2", "visit 3"]
    assert isinstance(results[4], ValueError)
    shared = [(name, items) for name, session, items in sessions if session is sessions[1][1]]
    assert shared == [("visit", [1, 3]), ("record", [2, 13])]  # one session, each work once
    assert [(name, items) for name, _, items in sessions[3:]] == [  # then one by one
        ("visit", [1]),
        ("record", [2]),
        ("visit", [3]),
        ("record", [13]),
    ]
