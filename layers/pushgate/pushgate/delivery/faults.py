"""TEST HOOK, local stack only: make the deliver function crash mid-batch.

The fault-injection run (`make test-faults`, tests/faults/) needs invocations that die after
some sends went out but before their outcomes were written, the way a Lambda timeout or an
out-of-memory kill would leave them. With `PUSHGATE_FAULT_CRASH_RATE` set (0..1) and
`PUSHGATE_LOCAL=1` (only the local stack sets it), that fraction of invocations, and the
first of each worker process so that even a short run sees a crash, picks a number of sends
in 0..len(batch); when the invocation reaches it, the next send raises
`InjectedCrash`, the invocation's tasks are cancelled, and the handler fails. An invocation
that finishes first fails at the end instead (done, but never reported). Either way SQS gives
the whole batch out again after its visibility timeout. Anywhere else this module costs one
settings lookup per invocation.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Callable
from typing import Any

from pushgate.observability import logger
from pushgate.settings import get_settings

Handler = Callable[[dict[str, Any], Any], Any]


class InjectedCrash(BaseException):
    """Raised by the test hook; a BaseException so no `except Exception` absorbs it."""


class _Invocation:
    """The crash plan of the invocation in progress (sends left before crashing, if any), and
    whether the process has had its first crash."""

    sends_left: int | None = None
    loop: asyncio.AbstractEventLoop | None = None
    crashed_once: bool = False  # for the process: its guaranteed first crash is done


_current = _Invocation()


def _crash_rate() -> float:
    settings = get_settings()
    return settings.fault_crash_rate if settings.local_mode else 0.0


def before_send() -> None:
    """Called by delivery before each provider request: raises when the plan says so."""
    if _current.sends_left is None:
        return
    if _current.sends_left <= 0:
        _current.loop = asyncio.get_running_loop()
        raise InjectedCrash("injected crash before a send (PUSHGATE_FAULT_CRASH_RATE)")
    _current.sends_left -= 1


def crash_injecting(handler: Handler) -> Handler:
    """Wraps an SQS handler so the test hook can fail whole invocations."""

    @functools.wraps(handler)
    def wrapper(event: dict[str, Any], context: Any) -> Any:
        rate = _crash_rate()
        first = not _current.crashed_once
        if rate <= 0 or not (first or random.random() < rate):  # noqa: S311 - a test hook
            return handler(event, context)
        _current.crashed_once = True
        _current.sends_left = random.randint(0, len(event.get("Records") or ()))  # noqa: S311
        _current.loop = None
        try:
            handler(event, context)
        except InjectedCrash:
            pass
        finally:
            _current.sends_left = None
            _cancel_orphans(_current.loop)  # set only when the crash fired mid-batch
        logger.warning("injected crash: the whole batch returns after its visibility timeout")
        raise RuntimeError("injected crash (PUSHGATE_FAULT_CRASH_RATE test hook)")

    return wrapper


def _cancel_orphans(loop: asyncio.AbstractEventLoop | None) -> None:
    """A crashed process runs nothing more: cancel what the crash left behind on the loop."""
    if loop is None or loop.is_closed():
        return
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
