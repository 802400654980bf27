"""The services a bench talks to, each in its own process: the local stack's AWS emulator and
the provider stand-ins.

A deliver function shares no CPU with DynamoDB or FCM, so neither may share this process's
interpreter lock: moto handling a call or a stand-in parsing a request would be timed as
pushgate. `Service` starts one child (spawned), builds the named objects there and forwards
calls: `webpush.call("new_subscription")`, `stack.get("aws_url")`.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Self

Factory = Callable[[], Any]
START_TIMEOUT_SECONDS = 180


class ServiceError(RuntimeError):
    """The child failed to start or a forwarded call raised (the child's traceback inside)."""


class Service:
    """One object living in a child process; see the module docstring."""

    def __init__(self, factory: Factory, *, name: str) -> None:
        self.name = name
        context = multiprocessing.get_context("spawn")
        self._connection, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child_end, factory), name=f"bench-{name}", daemon=True
        )
        self._process.start()
        child_end.close()
        if not self._connection.poll(START_TIMEOUT_SECONDS):
            self.close()
            raise ServiceError(f"{name} did not start")
        self._answer()

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        self._connection.send(("call", method, args, kwargs))
        return self._answer()

    def get(self, attribute: str) -> Any:
        self._connection.send(("get", attribute, (), {}))
        return self._answer()

    def set(self, attribute: str, value: Any) -> None:
        self._connection.send(("set", attribute, (value,), {}))
        self._answer()

    def close(self) -> None:
        if self._process.is_alive():
            try:
                self._connection.send(("stop", "", (), {}))
                self._process.join(30)
            except (BrokenPipeError, OSError):
                pass
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)
        self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _answer(self) -> Any:
        try:
            ok, value = self._connection.recv()
        except EOFError:
            raise ServiceError(f"{self.name} exited") from None
        if not ok:
            raise ServiceError(f"{self.name}: {value}")
        return value


def _serve(connection: Connection, factory: Factory) -> None:
    try:
        target = factory()
        if hasattr(target, "start"):
            target.start()
    except BaseException:
        connection.send((False, traceback.format_exc()))
        return
    connection.send((True, None))
    try:
        while True:
            try:
                operation, name, args, kwargs = connection.recv()
            except EOFError:
                return
            if operation == "stop":
                return
            try:
                if operation == "call":
                    value = getattr(target, name)(*args, **kwargs)
                elif operation == "get":
                    value = getattr(target, name)
                else:
                    setattr(target, name, args[0])
                    value = None
                connection.send((True, value))
            except BaseException:
                connection.send((False, traceback.format_exc()))
    finally:
        if hasattr(target, "stop"):
            target.stop()
