"""`python -m local`'s options become the stack's settings."""

from __future__ import annotations

import pytest

from local.__main__ import DEFAULT_CONCURRENCY, build_stack, parse_args


def test_build_stack_uses_concurrency_for_workers_and_pollers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PUSHGATE_LOCAL_CONCURRENCY", raising=False)
    stack = build_stack(parse_args(["--concurrency", "3"]), {})
    assert (stack._max_workers, stack._pollers_per_source) == (3, 3)


def test_build_stack_reads_concurrency_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PUSHGATE_LOCAL_CONCURRENCY", "5")
    assert build_stack(parse_args([]), {})._max_workers == 5
    monkeypatch.delenv("PUSHGATE_LOCAL_CONCURRENCY")
    assert build_stack(parse_args([]), {})._pollers_per_source == DEFAULT_CONCURRENCY


@pytest.mark.parametrize("value", ["0", "many"])
def test_build_stack_refuses_a_bad_concurrency(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PUSHGATE_LOCAL_CONCURRENCY", value)
    with pytest.raises(SystemExit, match=r"(?i)concurrency"):
        build_stack(parse_args([]), {})
