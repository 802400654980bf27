"""The cost bench's critical-path model: calls in flight together count once, calls one after
another each count, and a deliver invocation's jobs are chains of their own."""

from __future__ import annotations

from bench._aws_calls import AwsCall, Recorder, sequential_calls


def _call(started: float, ended: float, job: str | None = None) -> AwsCall:
    return AwsCall("dynamodb", "Query", {}, {}, started, ended, job)


def test_overlapping_calls_count_once_and_calls_in_sequence_each():
    # ten queries together, then a write after the first ended, then one after all ended
    queries = [(0.0, 0.1 * (n + 1)) for n in range(10)]
    assert sequential_calls(queries) == 1
    assert sequential_calls([*queries, (0.15, 0.2)]) == 2
    assert sequential_calls([*queries, (0.15, 0.2), (1.0, 1.1)]) == 3
    assert sequential_calls([(0.0, 1.0), (1.0, 2.0)]) == 2  # one starting as the other ends
    assert sequential_calls([]) == 0


def test_a_deliver_invocation_is_its_longest_job_then_the_batchs_own_calls():
    recorder = Recorder()
    # job a: query then write; job b, slowed down by the emulator: its query ends after a's
    # write began, its write after a's ended. One chain across both would be 3 long.
    for call in [
        _call(0.0, 0.3, "a"),
        _call(0.4, 0.5, "a"),
        _call(0.0, 0.45, "b"),
        _call(0.6, 0.7, "b"),
        _call(0.8, 0.9),  # the batch's statistics, after its jobs
        _call(0.8, 0.95),  # and its receipts, beside them
    ]:
        recorder.add(call)
    assert sequential_calls(recorder.intervals()) == 4
    assert recorder.critical_path_calls() == 3
