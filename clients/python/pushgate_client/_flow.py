"""One implementation for both clients: every operation is a generator that yields what it
needs done (an HTTP request, a pause, a value to await) and gets the outcome sent back. The
synchronous and asynchronous drivers below are the only code that does I/O."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
# Looked up at each pause (tests replace them): the drivers' only clocks.
_sleep = time.sleep
_asleep = asyncio.sleep


@dataclass(frozen=True)
class Call:
    """Send this request; the flow gets the read response, or the transport error thrown in."""

    request: httpx.Request


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Resolve:
    """A value that may be awaitable (what a token callable returned): the flow gets the
    value, awaited if need be."""

    value: Any


Step = Call | Sleep | Resolve
Flow = Generator[Step, Any, T]


def run_sync(flow: Flow[T], http: httpx.Client) -> T:
    """Drive a flow with a blocking client."""
    outcome: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(outcome)
        except StopIteration as done:
            return done.value
        outcome, error = None, None
        if isinstance(step, Call):
            try:
                outcome = http.send(step.request)
                outcome.read()
            except httpx.TransportError as exc:
                error = exc
        elif isinstance(step, Sleep):
            _sleep(step.seconds)
        else:
            if inspect.isawaitable(step.value):
                raise TypeError("the synchronous client needs a token callable that returns a str")
            outcome = step.value


async def run_async(flow: Flow[T], http: httpx.AsyncClient) -> T:
    """Drive a flow with an asynchronous client."""
    outcome: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(outcome)
        except StopIteration as done:
            return done.value
        outcome, error = None, None
        if isinstance(step, Call):
            try:
                outcome = await http.send(step.request)
                await outcome.aread()
            except httpx.TransportError as exc:
                error = exc
        elif isinstance(step, Sleep):
            await _asleep(step.seconds)
        else:
            outcome = await step.value if inspect.isawaitable(step.value) else step.value
