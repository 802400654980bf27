"""A bounded, thread-safe log that the server thread appends to and tests read and wait on."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Recording(Generic[T]):
    """The last `maxlen` items appended, oldest first."""

    def __init__(self, maxlen: int) -> None:
        self._items: deque[T] = deque(maxlen=maxlen)
        self._changed = threading.Condition()

    def append(self, item: T) -> None:
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    def items(self) -> tuple[T, ...]:
        with self._changed:
            return tuple(self._items)

    def clear(self) -> None:
        with self._changed:
            self._items.clear()

    def __len__(self) -> int:
        with self._changed:
            return len(self._items)

    def wait(self, predicate: Callable[[tuple[T, ...]], bool], timeout: float) -> tuple[T, ...]:
        """Block until `predicate(items)` holds; raises TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(tuple(self._items)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"still waiting after {timeout} s ({len(self._items)} items)"
                    )
                self._changed.wait(remaining)
            return tuple(self._items)
