"""Worker processes behave like Lambda execution environments."""

from __future__ import annotations

import os
import re
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from local.errors import FunctionError, FunctionTimeoutError, WorkerCrashedError
from local.runtime import FunctionPool
from local.template import FunctionSpec

HANDLER = textwrap.dedent(
    """
    import os, sys, time

    CALLS = 0

    def handler(event, context):
        global CALLS
        CALLS += 1
        action = event.get("action")
        if action == "exit":
            os._exit(1)
        if action == "raise":
            raise ValueError("bad input")
        if action == "sleep":
            time.sleep(event["seconds"])
        if action == "print":
            print("to stdout")
            print("to stderr", file=sys.stderr)
        if action == "object":
            return object()
        return {
            "pid": os.getpid(),
            "calls": CALLS,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "function_name": context.function_name,
            "env": dict(os.environ),
            "path": sys.path[:2],
        }
    """
)


def _spec(code_dir: Path, *, handler: str = "app.handler", timeout: float = 3) -> FunctionSpec:
    return FunctionSpec(
        logical_id="TestFunction",
        name="local-TestFunction",
        arn="arn:aws:lambda:us-east-1:123456789012:function:local-TestFunction",
        code_dir=code_dir,
        handler=handler,
        layer_dirs=(code_dir / "layer",),
        timeout=timeout,
        memory_size=128,
        runtime="python3.13",
        variables={},
    )


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("function")
    (directory / "app.py").write_text(HANDLER)
    (directory / "broken.py").write_text("import does_not_exist\n")
    return directory


@pytest.fixture
def pool(code_dir: Path, tmp_path: Path) -> Iterator[FunctionPool]:
    env = {"PATH": os.environ.get("PATH", ""), "AWS_LAMBDA_FUNCTION_NAME": "local-TestFunction"}
    pool = FunctionPool(
        _spec(code_dir, timeout=1), env, max_workers=2, log_path=tmp_path / "fn.log"
    )
    yield pool
    pool.close()


def test_pool_reuses_a_worker_and_its_module_state(pool: FunctionPool) -> None:
    first, second = pool.invoke({}), pool.invoke({})
    assert second["pid"] == first["pid"]
    assert second["calls"] == first["calls"] + 1


def test_pool_runs_at_most_max_workers_at_once(pool: FunctionPool) -> None:
    with ThreadPoolExecutor(4) as executor:
        results = list(
            executor.map(lambda _: pool.invoke({"action": "sleep", "seconds": 0.3}), range(4))
        )
    assert len({result["pid"] for result in results}) == 2
    assert pool.worker_count == 2


def test_pool_replaces_a_worker_that_exits(pool: FunctionPool) -> None:
    before = pool.invoke({})["pid"]
    with pytest.raises(WorkerCrashedError):
        pool.invoke({"action": "exit"})
    assert pool.invoke({})["pid"] != before


def test_pool_kills_a_worker_that_overruns_its_timeout(pool: FunctionPool) -> None:
    before = pool.invoke({})["pid"]
    started = time.monotonic()
    with pytest.raises(FunctionTimeoutError, match=r"timed out after 1\.00 seconds"):
        pool.invoke({"action": "sleep", "seconds": 10})
    assert time.monotonic() - started < 5  # the 1 s timeout, not the 10 s sleep
    assert pool.invoke({})["pid"] != before


def test_pool_lets_a_cold_invocation_overrun_and_notes_it(
    pool: FunctionPool, tmp_path: Path
) -> None:
    # Given a fresh worker, when its first invocation runs past the 1 s Timeout
    result = pool.invoke({"action": "sleep", "seconds": 1.3})
    # Then it completes, and the log says Lambda would have timed it out
    assert result["calls"] == 1
    assert "it would time out on Lambda" in (tmp_path / "fn.log").read_text()


def test_pool_reports_handler_errors_and_keeps_the_worker(pool: FunctionPool) -> None:
    before = pool.invoke({})["pid"]
    with pytest.raises(FunctionError) as raised:
        pool.invoke({"action": "raise"})
    assert (raised.value.error_type, raised.value.message) == ("ValueError", "bad input")
    assert pool.invoke({})["pid"] == before


def test_pool_reports_results_json_cannot_hold(pool: FunctionPool) -> None:
    with pytest.raises(FunctionError) as raised:
        pool.invoke({"action": "object"})
    assert raised.value.error_type == "Runtime.MarshalError"


def test_pool_reports_import_errors(code_dir: Path) -> None:
    pool = FunctionPool(_spec(code_dir, handler="broken.handler"), {"PATH": os.environ["PATH"]})
    try:
        with pytest.raises(FunctionError) as raised:
            pool.invoke({})
        assert raised.value.error_type == "Runtime.ImportModuleError"
        assert pool.worker_count == 0
    finally:
        pool.close()


def test_worker_sees_only_the_environment_it_is_given(
    pool: FunctionPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUSHGATE_PARENT_ONLY", "leak")
    env = pool.invoke({})["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "local-TestFunction"
    assert "PUSHGATE_PARENT_ONLY" not in env


def test_worker_path_starts_with_code_then_layers(pool: FunctionPool, code_dir: Path) -> None:
    assert pool.invoke({})["path"] == [str(code_dir), str(code_dir / "layer")]


def test_worker_context_counts_down_from_the_timeout(pool: FunctionPool) -> None:
    result = pool.invoke({})
    assert 0 < result["remaining_ms"] <= 1000
    assert result["function_name"] == "local-TestFunction"


def test_worker_output_goes_to_the_function_log(pool: FunctionPool, tmp_path: Path) -> None:
    pool.invoke({"action": "print"})
    deadline = time.monotonic() + 5
    log: Any = ""
    while time.monotonic() < deadline:
        log = (tmp_path / "fn.log").read_text()
        if "to stderr" in log:
            break
        time.sleep(0.05)
    assert "to stdout" in log
    assert "to stderr" in log
    assert "START RequestId:" in log


def test_pool_gives_each_invocation_a_new_sampled_trace_header(pool: FunctionPool) -> None:
    first, second = (pool.invoke({})["env"]["_X_AMZN_TRACE_ID"] for _ in range(2))

    pattern = r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1"
    assert re.fullmatch(pattern, first)
    assert re.fullmatch(pattern, second)
    assert first.split(";")[0] != second.split(";")[0]
