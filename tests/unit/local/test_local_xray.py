"""The stack's stand-in X-Ray daemon keeps what the X-Ray SDK sends it, and no more."""

from __future__ import annotations

import json
import socket
import time

from local.xray import TraceSink


def _send(address: str, *documents: dict) -> None:
    host, _, port = address.rpartition(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for document in documents:
            header = b'{"format":"json","version":1}\n'
            udp.sendto(header + json.dumps(document).encode(), (host, int(port)))


def _wait_for(sink: TraceSink, count: int) -> list[dict]:
    deadline = time.monotonic() + 5
    while len(sink.documents()) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return sink.documents()


def test_trace_sink_parses_what_the_sdk_sends() -> None:
    sink = TraceSink().start()
    try:
        _send(sink.address, {"name": "## lambda_handler"}, {"name": "dynamodb"})
        documents = _wait_for(sink, 2)
    finally:
        sink.stop()

    assert documents == [{"name": "## lambda_handler"}, {"name": "dynamodb"}]


def test_trace_sink_keeps_only_the_latest_documents() -> None:
    sink = TraceSink(capacity=3).start()
    try:
        _send(sink.address, *({"n": n} for n in range(5)))
        deadline = time.monotonic() + 5
        while sink.documents()[-1:] != [{"n": 4}] and time.monotonic() < deadline:
            time.sleep(0.01)
        documents = sink.documents()
    finally:
        sink.stop()

    assert documents == [{"n": 2}, {"n": 3}, {"n": 4}]
