"""Broadcasts in-process, with the page and delivery queues the test's own: pages of 500 reach
every device exactly once (a page delivered twice, or whose worker died after committing it,
changes nothing), platforms filter, the quota runs out mid-broadcast, one broadcast per app at
a time (a stalled one gives way when its lease runs out), cancel, who may read it, and the
deliver function's counts."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from pushgate import clock, ids
from pushgate.apps.models import AppConfigPatchRequest
from pushgate.apps.service import update_app_config
from pushgate.auth import Principal
from pushgate.broadcasts import fanout, service
from pushgate.broadcasts.handler import handle_record
from pushgate.broadcasts.models import BroadcastPage, BroadcastRequest
from pushgate.delivery import tally
from pushgate.errors import ConflictError, ForbiddenError, NotFoundError
from pushgate.notifications.models import DeliveryJob
from pushgate.notifications.service import sending_app
from pushgate.storage import broadcasts as records
from pushgate.storage import devices as registry
from pushgate.storage.apps import AppRecord
from pushgate.storage.counters import daily_quota_key, read_count, reserve

ISSUER = "https://issuer.test"
ADMIN = Principal("admin", "ops", ISSUER, frozenset({"push:admin"}))


@pytest.fixture
def app_id(pushgate_env) -> str:
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=True))
    return app_id


@pytest.fixture
def queues(own_queue):
    """(the page queue, the delivery queue): the test's own, nothing else reads them."""
    return own_queue("BROADCAST_QUEUE_URL"), own_queue("DELIVERY_QUEUE_URL")


def _service(app_id: str) -> Principal:
    return Principal("service", app_id, ISSUER, frozenset({"push:send"}))


def _devices(app_id: str, count: int, platform: str = "web", per_user: int = 2) -> set[str]:
    """`count` devices of the app (`per_user` to a user), written straight into the table and
    counted in the app (one write each, not the registry's transaction: the emulator copies
    every table for each transaction); the fan-out never opens their addresses."""
    now = clock.rfc3339()

    def put(index: int) -> str:
        device_id = ids.new_id("dev")
        registry.DeviceRecord(
            device_id,
            app_id=app_id,
            user_id=f"{platform}-user-{index // per_user}",
            app_device=registry.app_device_key(app_id, device_id),
            platform=platform,
            channel="webpush" if platform == "web" else "fcm",
            address_sealed="sealed",
            owner_issuer=ISSUER,
            created_at=now,
            last_seen_at=now,
        ).save()
        return device_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = set(pool.map(put, range(count)))
    AppRecord(app_id).update(actions=[AppRecord.device_count.add(count)])
    return made


def _start(app_id: str, **fields) -> str:
    request = BroadcastRequest(title="Hello", body="everyone", **fields)
    return service.start(_service(app_id), app_id, request)


def _run_pages(pages_queue, *, twice: bool = False) -> list[BroadcastPage]:
    """Work the page queue as the fan-out worker would until it is empty (`twice`: every
    page message is delivered a second time); the pages it took, in order."""
    taken = []
    while records_ := pages_queue.take():
        for record in records_:
            page = BroadcastPage.model_validate_json(record.body)
            taken.append(page)
            fanout.fan_out(page)
            if twice:
                fanout.fan_out(page)
    return taken


def _jobs(delivery_queue) -> list[DeliveryJob]:
    return [DeliveryJob.model_validate_json(r.body) for r in delivery_queue.take()]


def _reached(jobs: list[DeliveryJob]) -> Counter[str]:
    return Counter(device_id for job in jobs for device_id in job.device_ids or [])


def _quota_used(app_id: str) -> int:
    return read_count(daily_quota_key(app_id, clock.utc_day()))


def test_broadcast_reaches_every_device_exactly_once_across_pages_of_500(app_id, queues):
    pages_queue, delivery_queue = queues
    devices = _devices(app_id, 1200)
    broadcast_id = _start(app_id)

    pages = _run_pages(pages_queue, twice=True)
    jobs = _jobs(delivery_queue)
    status = service.status(_service(app_id), broadcast_id)

    assert [p.page for p in pages] == [0, 1, 2]
    assert set(_reached(jobs)) == devices
    assert set(_reached(jobs).values()) == {1}
    assert len(jobs) == 600  # one job per user, their two devices named
    assert {job.broadcast_id for job in jobs} == {broadcast_id}
    assert (status.status, status.total, status.reached) == ("finished", 1200, 1200)
    assert status.finished is False  # nothing delivered yet
    assert status.finished_at is not None
    assert _quota_used(app_id) == 1200


def test_broadcast_page_redelivered_after_its_worker_died_queues_its_jobs_once_more(
    app_id, queues, monkeypatch
):
    """The page was committed (quota reserved), then queuing its jobs failed: SQS delivers
    it again, its jobs and the next page are queued, and the quota is not reserved again."""
    pages_queue, delivery_queue = queues
    devices = _devices(app_id, 10)
    _start(app_id)
    (record,) = pages_queue.take()
    page = BroadcastPage.model_validate_json(record.body)
    original = fanout.send_all
    monkeypatch.setattr(fanout, "send_all", lambda url, messages: [m.id for m in messages])
    with pytest.raises(fanout.BroadcastQueueError):
        fanout.fan_out(page)
    monkeypatch.setattr(fanout, "send_all", original)

    fanout.fan_out(page)
    fanout.fan_out(page)

    assert _reached(_jobs(delivery_queue)) == Counter(dict.fromkeys(devices, 1))
    assert _quota_used(app_id) == 10


def test_broadcast_reaches_only_the_platforms_asked_for(app_id, queues):
    pages_queue, delivery_queue = queues
    _devices(app_id, 3, "web")
    android = _devices(app_id, 2, "android")
    broadcast_id = _start(app_id, platforms=["android"])

    _run_pages(pages_queue)

    assert set(_reached(_jobs(delivery_queue))) == android
    status = service.status(_service(app_id), broadcast_id)
    assert (status.status, status.total, status.reached) == ("finished", 5, 2)


def test_broadcast_stops_quota_exhausted_when_the_daily_quota_runs_out(app_id, queues):
    pages_queue, delivery_queue = queues
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(daily_quota=700))
    _devices(app_id, 1200)
    broadcast_id = _start(app_id)

    pages = _run_pages(pages_queue)
    status = service.status(_service(app_id), broadcast_id)

    assert [p.page for p in pages] == [0, 1]
    assert len(_reached(_jobs(delivery_queue))) == 700
    assert (status.status, status.reached) == ("quota_exhausted", 700)
    assert "daily quota of 700" in (status.reason or "")
    assert _quota_used(app_id) == 700


def test_broadcast_is_refused_409_while_another_of_the_app_runs(app_id, queues):
    pages_queue, _ = queues
    _devices(app_id, 2)
    _start(app_id)

    with pytest.raises(ConflictError) as refused:
        _start(app_id)
    _run_pages(pages_queue)
    after_it_finished = _start(app_id)

    assert (refused.value.status, refused.value.code) == (409, "broadcast_running")
    assert after_it_finished.startswith("brd_")


def test_broadcast_whose_lease_ran_out_reads_cancelled_and_gives_way(app_id, queues, monkeypatch):
    _devices(app_id, 2)
    stalled = _start(app_id)  # its page is never processed
    now = clock.epoch()
    monkeypatch.setattr(clock, "_source", lambda: now + service.LEASE_SECONDS + 1)

    shown = service.status(_service(app_id), stalled)
    replacement = _start(app_id)

    assert (shown.status, shown.reason) == ("cancelled", service.STALLED_REASON)
    assert replacement != stalled
    assert records.get(stalled).status == "cancelled"


def test_broadcast_cancelled_stops_at_its_next_page(app_id, queues):
    pages_queue, delivery_queue = queues
    _devices(app_id, 600)
    broadcast_id = _start(app_id)
    (first,) = pages_queue.take()
    fanout.fan_out(BroadcastPage.model_validate_json(first.body))

    cancelled = service.cancel(_service(app_id), broadcast_id)
    _run_pages(pages_queue)

    assert (cancelled.status, cancelled.reached) == ("cancelled", 500)
    assert len(_reached(_jobs(delivery_queue))) == 500  # the first page still delivers
    assert service.status(_service(app_id), broadcast_id).reached == 500
    with pytest.raises(ConflictError) as again:
        service.cancel(_service(app_id), broadcast_id)
    assert (again.value.status, again.value.code) == (409, "broadcast_finished")
    assert _start(app_id).startswith("brd_")  # the app's lock was released


def test_broadcast_of_another_app_is_not_found_and_user_tokens_are_forbidden(app_id, queues):
    broadcast_id = _start(app_id)
    other = f"app-{uuid.uuid4().hex[:12]}"
    update_app_config(ADMIN, other, AppConfigPatchRequest(enabled=True))
    user = Principal("user", "alice", ISSUER, frozenset(), (app_id,))

    with pytest.raises(NotFoundError) as foreign:
        service.status(_service(other), broadcast_id)
    with pytest.raises(NotFoundError):
        service.cancel(_service(other), broadcast_id)
    with pytest.raises(ForbiddenError) as as_user:
        service.status(user, broadcast_id)
    with pytest.raises(ForbiddenError) as user_starts:
        sending_app(user, app_id)

    assert foreign.value.status == 404
    assert as_user.value.status == user_starts.value.status == 403
    assert service.status(ADMIN, broadcast_id).app_id == app_id


def test_deliver_counts_a_broadcasts_outcomes_with_one_write_per_invocation(
    app_id, queues, monkeypatch
):
    broadcast_id = _start(app_id)
    writes = []
    original = records.add_outcomes
    monkeypatch.setattr(
        records,
        "add_outcomes",
        lambda b, counts: writes.append((b, dict(counts))) or original(b, counts),
    )

    def batch(event, context):  # three jobs of the broadcast in one invocation
        tally.count_outcomes(app_id, ["delivered", "delivered"], broadcast_id=broadcast_id)
        tally.count_outcomes(app_id, ["invalid_token"], broadcast_id=broadcast_id)
        tally.count_outcomes(app_id, ["failed", "expired"], broadcast_id=broadcast_id)

    tally.tallying_outcomes(batch)({}, None)
    shown = service.status(_service(app_id), broadcast_id)

    assert writes == [
        (broadcast_id, {"delivered": 2, "invalid_token": 1, "failed": 1, "expired": 1})
    ]
    assert shown.by_outcome.model_dump() == {
        "delivered": 2,
        "failed": 1,
        "invalid_token": 1,
        "expired": 1,
    }


def test_broadcast_page_handler_takes_the_record_body(app_id, queues):
    """The SQS record handler parses the page message (events/broadcast-page.json's shape)."""
    pages_queue, delivery_queue = queues
    _devices(app_id, 2, per_user=1)
    broadcast_id = _start(app_id)
    (record,) = pages_queue.take()

    asyncio.run(handle_record(SQSRecord({"body": record.body, "messageId": "m"})))

    assert len(_jobs(delivery_queue)) == 2
    assert json.loads(record.body) == {
        "v": 1,
        "broadcast_id": broadcast_id,
        "app_id": app_id,
        "page": 0,
        "after": None,
    }


def test_broadcast_page_commit_tells_a_second_copy_the_quota_and_a_lost_lock_apart(app_id, queues):
    """Two copies of one page racing: the second finds it committed (`stale`); a page the
    quota cannot take changes nothing (`quota`); a broadcast whose app's lock another took
    (`lease_lost`)."""
    broadcast = records.get(_start(app_id))
    lease = clock.epoch() + 60
    key = daily_quota_key(app_id, clock.utc_day())
    assert reserve(key, 5, limit=10, expires_at=int(lease))  # a send took half
    too_much = records.Reservation(key, 6, 10, int(lease))

    def commit(reservation=None, page=0):
        return records.commit_page(
            broadcast, page=page, take=1, lease_until=lease, reservation=reservation, ending=None
        )

    refused = commit(too_much)
    first, second = commit(), commit()
    records.release_lock(app_id, broadcast.broadcast_id)

    assert (refused, first, second) == ("quota", "committed", "stale")
    assert commit(page=1) == "lease_lost"
    assert records.get(broadcast.broadcast_id).reached == 1
    assert read_count(key) == 5
