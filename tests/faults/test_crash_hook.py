"""The deliver function's crash hook: inert unless the local stack asks for it; then it crashes
each process's first invocation and the given fraction of the rest; when it fires, the
invocation fails after its planned sends and leaves nothing running."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from pushgate.delivery import faults
from pushgate.settings import get_settings

EVENT = {"Records": [{"messageId": str(n)} for n in range(3)]}


@pytest.fixture
def crash_settings(monkeypatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    monkeypatch.setattr(faults, "_current", faults._Invocation())  # a fresh worker process
    yield monkeypatch
    get_settings.cache_clear()


def _batch(sends: list[int], tasks_left: list[asyncio.Task]) -> faults.Handler:
    """A handler sending for three records concurrently, one send per 10 ms each."""
    loop = asyncio.new_event_loop()

    async def record(index: int) -> None:
        for _ in range(5):
            faults.before_send()
            sends.append(index)
            await asyncio.sleep(0.01)

    async def batch() -> None:
        tasks = [asyncio.ensure_future(record(n)) for n in range(3)]
        tasks_left.extend(tasks)
        await asyncio.gather(*tasks)

    return lambda event, context: loop.run_until_complete(batch())


def test_crash_hook_is_inert_outside_the_local_stack(crash_settings):
    crash_settings.setenv("PUSHGATE_FAULT_CRASH_RATE", "1")
    crash_settings.delenv("PUSHGATE_LOCAL", raising=False)
    sends: list[int] = []
    faults.crash_injecting(_batch(sends, []))(EVENT, None)
    assert len(sends) == 15


def test_crash_hook_is_inert_without_a_rate(crash_settings):
    crash_settings.setenv("PUSHGATE_LOCAL", "1")
    crash_settings.delenv("PUSHGATE_FAULT_CRASH_RATE", raising=False)
    sends: list[int] = []
    faults.crash_injecting(_batch(sends, []))(EVENT, None)
    assert len(sends) == 15


def test_crash_hook_fails_the_invocation_after_at_most_one_send_per_record(crash_settings):
    crash_settings.setenv("PUSHGATE_LOCAL", "1")
    crash_settings.setenv("PUSHGATE_FAULT_CRASH_RATE", "1")
    sends: list[int] = []
    tasks: list[asyncio.Task] = []
    with pytest.raises(RuntimeError, match="injected crash"):
        faults.crash_injecting(_batch(sends, tasks))(EVENT, None)
    assert len(sends) <= len(EVENT["Records"])
    assert all(task.done() for task in tasks), "nothing of the crashed invocation runs on"
    faults.before_send()  # the next invocation is not affected


def test_crash_hook_crashes_the_first_invocation_of_a_process_whatever_the_rate(crash_settings):
    crash_settings.setenv("PUSHGATE_LOCAL", "1")
    crash_settings.setenv("PUSHGATE_FAULT_CRASH_RATE", "0.000001")
    crash_settings.setattr(faults.random, "random", lambda: 0.5)  # never below the rate
    handler = faults.crash_injecting(_batch([], []))

    with pytest.raises(RuntimeError, match="injected crash"):
        handler(EVENT, None)
    for _ in range(3):
        handler(EVENT, None)  # the rest crash at the rate only
