"""Fault injection end to end: failing, resetting and dead providers plus deliver invocations
that crash mid-batch lose nothing; every outcome is final and reported once per device; and
each of those faults did happen, so neither run can pass by having injected nothing."""

from __future__ import annotations

import pytest

from tests.faults.harness import FaultMix, FaultReport, FaultRun, fault_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("faults")]


def run(
    tmp_path, mix: FaultMix, notifications: int, *, timeout: float, seed: int, visibility: int
) -> FaultReport:
    with fault_stack(mix, tmp_path / "logs", visibility_timeout=visibility) as (stack, standins):
        fault_run = FaultRun(stack, standins, mix, notifications, seed)
        try:
            fault_run.prepare()
            fault_run.send()
            fault_run.wait(timeout)
            report = fault_run.report()
        finally:
            fault_run.close()
    print("\n" + "\n".join(report.lines()))
    return report


def assert_books_balance(report: FaultReport) -> None:
    assert report.notifications > 0
    assert report.final_notifications == report.notifications, "every notification is final"
    assert report.not_final == 0
    assert report.lost == 0
    assert report.gone_not_reported == 0
    assert report.stray == 0
    assert report.receipts_unique == sum(report.statuses.values()), "a receipt per outcome"
    assert report.receipt_mismatches == 0
    assert report.dead_letters == 0
    assert report.device_count == report.devices_left
    assert set(report.statuses) <= {"delivered", "invalid_token"}


def assert_faults_injected(report: FaultReport, mix: FaultMix) -> None:
    missing = [kind for kind, count in report.injected.items() if count == 0]
    assert missing == [], f"the run injected no {missing}: it proves nothing about them"
    # About the planned share of provider requests failed (the never-twice rule lowers it).
    assert report.injected_share >= (mix.failure + mix.reset) / 2


def test_faults_small_run_loses_nothing(tmp_path):
    # A crash rate well above the full run's 1%, so that its ~25 invocations see a few crashes
    # beyond the one per deliver process that FaultMix guarantees.
    mix = FaultMix(crash_rate=0.15, per_user=8)
    report = run(tmp_path, mix, 200, timeout=120, seed=8, visibility=8)
    assert_books_balance(report)
    assert_faults_injected(report, mix)


@pytest.mark.faults
def test_faults_full_run_of_10000_notifications_loses_nothing(tmp_path, full_fault_run):
    # Crashed batches come back after 30 s: longer than any invocation takes here, so the
    # duplicates counted are the crashes' (a batch still running is never handed out twice).
    mix = FaultMix(per_user=20)
    report = run(tmp_path, mix, 10_000, timeout=3600, seed=10_000, visibility=30)
    assert_books_balance(report)
    assert_faults_injected(report, mix)
    assert report.duplicate_rate < 0.05
