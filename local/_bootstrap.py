"""The runtime loop of one worker process, like a Lambda execution environment.

Run as a script (`python -I -u _bootstrap.py HANDLER PATH...`), standard library only: the
worker's `sys.path` is the function's code folder and its layers, nothing of the stack. The
parent talks to it over stdin/stdout with length-prefixed JSON frames; the handler's own
stdout and stderr both go to the worker's stderr (the function's log)."""

from __future__ import annotations

import decimal
import importlib
import json
import os
import struct
import sys
import time
import traceback
from typing import Any, BinaryIO

_HEADER = struct.Struct(">I")


class LambdaContext:
    """The context object the Python Lambda runtime passes to a handler."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _read_frame(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (length,) = _HEADER.unpack(header)
    data = stream.read(length)
    if len(data) < length:
        return None
    return json.loads(data)


def _write_frame(stream: BinaryIO, message: dict[str, Any]) -> None:
    try:
        data = json.dumps(message, default=_json_default).encode()
    except (TypeError, ValueError) as exc:  # the handler returned something JSON cannot hold
        print(f"[ERROR] Runtime.MarshalError: {exc}", file=sys.stderr)
        error = _error("Runtime.MarshalError", exc)
        data = json.dumps({"status": "error", "error": error}).encode()
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _json_default(value: Any) -> Any:
    # The Python runtime serialises Decimal (what boto3 returns for DynamoDB numbers).
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _error(error_type: str, exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": error_type,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _load_handler(spec: str) -> Any:
    module_name, _, function_name = spec.rpartition(".")
    module = importlib.import_module(module_name.replace("/", "."))
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise AttributeError(f"Handler '{function_name}' missing on module '{module_name}'")
    return handler


def main() -> int:
    handler_spec, *paths = sys.argv[1:]
    # Keep the protocol on private copies of fd 0/1, then point fd 1 at the log (fd 2) so
    # nothing the handler prints can corrupt a frame, and give it an empty stdin.
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.path[:0] = paths

    try:
        handler = _load_handler(handler_spec)
    except ImportError as exc:
        error = _error("Runtime.ImportModuleError", exc)
        error["errorMessage"] = f"Unable to import module '{handler_spec}': {exc}"
    except AttributeError as exc:
        error = _error("Runtime.HandlerNotFound", exc)
    except BaseException as exc:
        error = _error(f"Runtime.{type(exc).__name__}", exc)
    else:
        error = None
    if error is not None:
        print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", file=sys.stderr)
        traceback.print_exc()
        _write_frame(replies, {"status": "init_error", "error": error})
        return 1
    _write_frame(replies, {"status": "ready"})

    while True:
        request = _read_frame(requests)
        if request is None:
            # The stack is stopping: leave at once, like a Lambda environment being reclaimed
            # (no waiting for threads a handler's libraries left running).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        request_id = request["request_id"]
        started = time.monotonic()
        print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
        reply = _invoke(handler, request)
        duration = (time.monotonic() - started) * 1000
        print(f"END RequestId: {request_id}", flush=True)
        print(f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms", flush=True)
        sys.stderr.flush()
        _write_frame(replies, reply)


def _invoke(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    context = LambdaContext(
        request["request_id"], request["deadline_ms"], request["invoked_function_arn"]
    )
    # The Python runtime gives each invocation its trace header in the environment, where the
    # X-Ray SDK reads it (a new header: a new trace).
    if request.get("trace_id"):
        os.environ["_X_AMZN_TRACE_ID"] = request["trace_id"]
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    try:
        result = handler(request["event"], context)
    except Exception as exc:
        return _failure(exc)
    return {"status": "ok", "result": result}


def _failure(exc: Exception) -> dict[str, Any]:
    print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
    traceback.print_exc()
    return {"status": "error", "error": _error(type(exc).__name__, exc)}


if __name__ == "__main__":
    sys.exit(main())
