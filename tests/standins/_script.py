"""Scripted outcomes: what a stand-in answers for one device, request after request.

An outcome is "ok", "reset" (no answer at all), an HTTP status (Web Push, ntfy) or a
provider error name (FCM's "UNREGISTERED", ...). Each stand-in says which it accepts.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass

OK = "ok"
RESET = "reset"
Outcome = str | int


@dataclass(frozen=True, slots=True)
class Step:
    outcome: Outcome
    retry_after: int | None = None

    @property
    def succeeds(self) -> bool:
        return self.outcome == OK


class Script:
    """Answer `steps` in order, then `then` for every later request. Safe across threads."""

    def __init__(self, steps: Iterable[Step], then: Step) -> None:
        self._steps = deque(steps)
        self._then = then
        self._lock = threading.Lock()

    def next_step(self) -> Step:
        with self._lock:
            return self._steps.popleft() if self._steps else self._then

    @property
    def remaining(self) -> int:
        """Steps left before the script settles on `then`."""
        with self._lock:
            return len(self._steps)

    def outcomes(self) -> set[Outcome]:
        with self._lock:
            return {step.outcome for step in (*self._steps, self._then)}


Behaviour = Script | Outcome


def always(outcome: Outcome, *, retry_after: int | None = None) -> Script:
    return Script((), Step(outcome, retry_after))


def fail_first(
    count: int, outcome: Outcome, *, retry_after: int | None = None, then: Outcome = OK
) -> Script:
    """The first `count` requests get `outcome`, every later one `then` (success by default)."""
    if count < 0:
        raise ValueError("count must be >= 0")
    return Script([Step(outcome, retry_after)] * count, Step(then))


def sequence(*outcomes: Outcome | Step, then: Outcome = OK) -> Script:
    """These outcomes in order, then `then` for ever."""
    steps = [item if isinstance(item, Step) else Step(item) for item in outcomes]
    return Script(steps, Step(then))


def as_script(behaviour: Behaviour, allowed: Collection[Outcome]) -> Script:
    """A script from a behaviour, refusing outcomes this stand-in cannot produce."""
    script = behaviour if isinstance(behaviour, Script) else always(behaviour)
    unknown = {outcome for outcome in script.outcomes() if outcome not in allowed}
    if unknown:
        raise ValueError(
            f"unknown outcome(s) {sorted(map(str, unknown))}; use {sorted(map(str, allowed))}"
        )
    return script
