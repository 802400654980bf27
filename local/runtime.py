"""Runs functions the way Lambda does: each in its own worker processes (separate interpreter,
separate environment, module state kept between invocations), a few per function."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from local.errors import (
    FunctionError,
    FunctionTimeoutError,
    InvocationError,
    WorkerCrashedError,
)
from local.template import FunctionSpec

__all__ = ["FunctionPool", "Worker", "new_trace_header"]

logger = logging.getLogger(__name__)

_BOOTSTRAP = Path(__file__).with_name("_bootstrap.py")
_HEADER = struct.Struct(">I")
# Lambda gives a function 10 s to initialise; a busy CI machine starting several workers at
# once needs more before a slow import is a real failure.
INIT_TIMEOUT = 30.0
# A worker's first invocation may run this much past its Timeout before being killed (the
# handler still sees the real deadline, and the overrun is noted in the function's log). On
# Lambda every cold container has a CPU of its own; here a burst of concurrent requests starts
# several workers at once on a couple of shared cores, and lazy first-use setup (clients,
# keys) that takes a fraction of a second alone can take several.
COLD_START_ALLOWANCE = 10.0


def new_trace_header(*, sampled: bool = True) -> str:
    """An X-Ray trace header for one invocation, as Lambda puts in `_X_AMZN_TRACE_ID`: a new
    root and parent. Sampled by default: locally every invocation pays the tracing cost."""
    root = f"1-{int(time.time()):08x}-{os.urandom(12).hex()}"
    return f"Root={root};Parent={os.urandom(8).hex()};Sampled={1 if sampled else 0}"


class Worker:
    """One worker process: started, initialised (handler imported), then invoked in turn."""

    def __init__(self, spec: FunctionSpec, env: Mapping[str, str], log: IO[bytes] | None) -> None:
        self.spec = spec
        self._log = log
        command = [sys.executable, "-I", "-u"]
        if sys.dont_write_bytecode:
            command.append("-B")
        command += [str(_BOOTSTRAP), spec.handler, str(spec.code_dir)]
        command += [str(path) for path in spec.layer_dirs]
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and bootstrap
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=dict(env),
            cwd=spec.code_dir if spec.code_dir.is_dir() else None,
            bufsize=0,
            # Own session: Ctrl-C in the terminal reaches the stack, which stops workers itself.
            start_new_session=True,
        )
        self.pid = self._process.pid
        self._invocations = 0

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def wait_ready(self, timeout: float = INIT_TIMEOUT) -> None:
        """Waits for the handler module to import; raises FunctionError if it cannot."""
        reply = self._receive(time.monotonic() + timeout, "initialise")
        if reply.get("status") == "init_error":
            self.kill()
            raise FunctionError(self.spec.logical_id, reply["error"])
        if reply.get("status") != "ready":
            self.kill()
            raise WorkerCrashedError(self.spec.logical_id, "Runtime.Unknown", f"got {reply!r}")

    def invoke(self, event: Any, request_id: str) -> Any:
        """Runs one invocation under the function's Timeout; returns the handler's result."""
        deadline = time.time() + self.spec.timeout
        frame = json.dumps(
            {
                "request_id": request_id,
                "deadline_ms": int(deadline * 1000),
                "invoked_function_arn": self.spec.arn,
                "trace_id": new_trace_header(),
                "event": event,
            }
        ).encode()
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(_HEADER.pack(len(frame)) + frame)
            self._process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self.kill()
            raise self._crashed(f"worker gone before the invocation: {exc}") from exc
        started = time.monotonic()
        cold = self._invocations == 0
        self._invocations += 1
        allowance = COLD_START_ALLOWANCE if cold else 0.0
        reply = self._receive(started + self.spec.timeout + allowance, "run", request_id)
        elapsed = time.monotonic() - started
        if elapsed > self.spec.timeout:
            self._note(
                f"{request_id} cold invocation took {elapsed:.2f} s, over the function's Timeout"
                f" of {self.spec.timeout:.2f} s: allowed locally, it would time out on Lambda"
            )
        if reply.get("status") == "ok":
            return reply.get("result")
        raise FunctionError(self.spec.logical_id, reply.get("error") or {})

    def _receive(self, deadline: float, phase: str, request_id: str = "") -> dict[str, Any]:
        try:
            (length,) = _HEADER.unpack(self._read_exact(_HEADER.size, deadline))
            return json.loads(self._read_exact(length, deadline))
        except TimeoutError:
            self.kill()
            seconds = self.spec.timeout if phase == "run" else INIT_TIMEOUT
            message = f"Task timed out after {seconds:.2f} seconds"
            self._note(f"{request_id} {message}".strip())
            raise FunctionTimeoutError(self.spec.logical_id, "Sandbox.Timedout", message) from None
        except (EOFError, OSError, ValueError) as exc:
            self.kill()
            raise self._crashed(f"worker exited while trying to {phase}: {exc}") from None

    def _read_exact(self, size: int, deadline: float) -> bytes:
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        data = bytearray()
        while len(data) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                raise TimeoutError
            chunk = os.read(fd, size - len(data))
            if not chunk:
                raise EOFError(f"exit code {self._process.wait()}")
            data += chunk
        return bytes(data)

    def _crashed(self, message: str) -> InvocationError:
        self._note(message)
        return WorkerCrashedError(self.spec.logical_id, "Runtime.ExitError", message)

    def _note(self, message: str) -> None:
        """A line from the runtime itself in the function's log (like Lambda's platform lines)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        line = f"{stamp} [local runtime] pid {self.pid}: {message}\n"
        if self._log is not None:
            try:
                self._log.write(line.encode())
                self._log.flush()
            except (OSError, ValueError):
                pass
        else:
            logger.warning("%s: %s", self.spec.logical_id, line.strip())

    def kill(self) -> None:
        if self.alive:
            self._process.kill()
        self._reap()

    def end_input(self) -> None:
        """Closes the worker's input: an idle worker exits as soon as it reads the end."""
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()

    def close(self, timeout: float = 2.0) -> None:
        """Lets the worker exit on end of input; kills it if it does not."""
        self.end_input()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._reap()

    def _reap(self) -> None:
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            logger.warning("worker %s did not exit", self.pid)
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class FunctionPool:
    """Up to `max_workers` workers of one function, started on demand and reused; a call
    takes an idle worker, starts one, or waits for one to come back."""

    def __init__(
        self,
        spec: FunctionSpec,
        env: Mapping[str, str],
        *,
        max_workers: int = 4,
        log_path: Path | None = None,
    ) -> None:
        self.spec = spec
        self._env = dict(env)
        self._max_workers = max_workers
        self._log_path = log_path
        self._log: IO[bytes] | None = None
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._starting = 0
        self._closed = False
        self._changed = threading.Condition()

    @property
    def worker_count(self) -> int:
        with self._changed:
            return len(self._idle) + len(self._busy) + self._starting

    def invoke(self, event: Any, request_id: str | None = None) -> Any:
        """Invokes the function once; raises an InvocationError subclass when Lambda would
        report a failed invocation."""
        request_id = request_id or str(uuid.uuid4())
        worker = self._acquire()
        healthy = False
        try:
            result = worker.invoke(event, request_id)
            healthy = True
            return result
        except FunctionError:
            healthy = worker.alive
            raise
        finally:
            self._release(worker, healthy)

    def _acquire(self) -> Worker:
        with self._changed:
            while True:
                if self._closed:
                    raise WorkerCrashedError(self.spec.logical_id, "Runtime.Stopped", "stopping")
                if self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                    return worker
                if len(self._busy) + self._starting < self._max_workers:
                    self._starting += 1
                    break
                self._changed.wait()
        try:
            worker = self._start_worker()
        except BaseException:
            with self._changed:
                self._starting -= 1
                self._changed.notify()
            raise
        with self._changed:
            self._starting -= 1
            if self._closed:
                worker.kill()
                raise WorkerCrashedError(self.spec.logical_id, "Runtime.Stopped", "stopping")
            self._busy.add(worker)
        return worker

    def _start_worker(self) -> Worker:
        env = dict(self._env)
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = (
            time.strftime("%Y/%m/%d", time.gmtime()) + f"/[$LATEST]{uuid.uuid4().hex}"
        )
        worker = Worker(self.spec, env, self._log_file())
        logger.debug("%s: started worker %s", self.spec.logical_id, worker.pid)
        worker.wait_ready()
        return worker

    def _log_file(self) -> IO[bytes] | None:
        if self._log_path is None:
            return None
        with self._changed:
            if self._log is None:
                self._log_path.parent.mkdir(parents=True, exist_ok=True)
                self._log = self._log_path.open("ab", buffering=0)
            return self._log

    def _release(self, worker: Worker, healthy: bool) -> None:
        with self._changed:
            self._busy.discard(worker)
            keep = healthy and worker.alive and not self._closed
            if keep:
                self._idle.append(worker)
            self._changed.notify()
        if not keep:
            worker.kill()

    def close(self) -> None:
        """Stops every worker: idle ones exit on end of input, busy ones are killed."""
        with self._changed:
            self._closed = True
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
            self._changed.notify_all()
        for worker in busy:
            worker.kill()
        for worker in idle:  # all at once, then wait: stopping stays quick with many workers
            worker.end_input()
        for worker in idle:
            worker.close()
        if self._log is not None:
            self._log.close()
            self._log = None
