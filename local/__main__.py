"""`python -m local` (what `make run` calls): starts the local stack until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from local.errors import LocalStackError, TemplateError

if TYPE_CHECKING:
    from local.stack import LocalStack


# Lambda starts five concurrent batches per SQS queue and adds more while the queue is
# deep; locally a fixed number, enough for a few hundred notifications a second.
DEFAULT_CONCURRENCY = 8


def _port(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"error: {name}={value!r} is not a port number") from None


def _concurrency(value: int | None) -> int:
    if value is None:
        text = os.environ.get("PUSHGATE_LOCAL_CONCURRENCY", "")
        try:
            value = int(text) if text else DEFAULT_CONCURRENCY
        except ValueError:
            raise SystemExit(
                f"error: PUSHGATE_LOCAL_CONCURRENCY={text!r} is not a number"
            ) from None
    if value < 1:
        raise SystemExit(f"error: concurrency {value} is not a positive number")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local",
        description="Run template.yaml locally: AWS emulator, HTTP API, SQS pollers, dev issuer.",
    )
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--port", type=int, default=None, help="API port (env PORT, 3000)")
    parser.add_argument(
        "--aws-port", type=int, default=None, help="emulator port (env AWS_PORT, 4566)"
    )
    parser.add_argument(
        "--log-dir", type=Path, default=None, help="function logs (default .local/logs)"
    )
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a template parameter (repeatable)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="most invocations at once per function, and SQS batches in flight per queue"
        f" (env PUSHGATE_LOCAL_CONCURRENCY, {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=os.environ.get("PUSHGATE_LOCAL_VERBOSE", "") not in ("", "0"),
        help="stream function logs and requests to the console (env PUSHGATE_LOCAL_VERBOSE=1)",
    )
    return parser.parse_args(argv)


def _banner(api_url: str, aws_url: str, log_dir: Path, verbose: bool) -> str:
    token_request = (
        f'curl -s -XPOST {api_url}/_local/token -d \'{{"sub":"ops","scope":"push:admin"}}\''
    )
    extract = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
    auth = '-H "authorization: Bearer $TOKEN"'
    # curl -d alone sends application/x-www-form-urlencoded, which the functions parse as a form.
    json_body = "-H 'content-type: application/json' -d '{\"enabled\":true}'"
    try:
        logs = log_dir.relative_to(Path.cwd())
    except ValueError:
        logs = log_dir
    return "\n".join(
        [
            "pushgate local stack is up",
            f"  API        {api_url}",
            f"  AWS        {aws_url}   (aws --endpoint-url {aws_url} dynamodb list-tables)",
            f"  issuers    {api_url}/_local   (POST /token, GET /jwks.json; every role)",
            f"             {api_url}/_local/second   "
            '(POST /_local/token with "issuer": "second"; user and service roles)',
            "  logs       " + ("this console" if verbose else f"{logs}/<Function>.log"),
            "",
            "Quick start:",
            f"  TOKEN=$({token_request} | {extract})",
            f"  curl -XPATCH {api_url}/push/config/demo {auth} {json_body}",
            f"  curl {api_url}/push/config/demo {auth}",
            "",
            "Ctrl-C to stop.",
        ]
    )


def build_stack(args: argparse.Namespace, parameters: dict[str, str]) -> LocalStack:
    """The stack `make run` starts for these arguments (also what `bench.stack` runs)."""
    from local.stack import LocalStack

    concurrency = _concurrency(args.concurrency)
    return LocalStack(
        port=args.port if args.port is not None else _port("PORT", 3000),
        aws_port=args.aws_port if args.aws_port is not None else _port("AWS_PORT", 4566),
        template_path=args.template,
        parameters=parameters,
        allow_private_urls=os.environ.get("PUSHGATE_ALLOW_PRIVATE_URLS", "1") != "0",
        verbose=args.verbose,
        log_dir=args.log_dir,
        max_workers=concurrency,
        pollers_per_source=concurrency,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    parameters = {}
    for item in args.parameter:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"error: --parameter wants KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        parameters[key] = value

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():  # a second Ctrl-C: the user is in a hurry
            os._exit(130)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    # `kill -USR1 <pid>` prints every thread's stack: how to see where a stuck stack waits.
    faulthandler.register(signal.SIGUSR1, all_threads=True)

    stack = build_stack(args, parameters)
    try:
        stack.start()
    except (LocalStackError, TemplateError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        print(_banner(stack.api_url, stack.aws_url, stack.log_dir, args.verbose), flush=True)
        # A timed wait: the kernel may hand SIGINT to any thread, and then only a main thread
        # that wakes up on its own gets to run the handler.
        while not stop.wait(0.25):
            pass
        print("stopping...", flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
