"""The fault-injection run: notifications through the local stack to provider stand-ins that
answer about a third of attempts with 503 or 429 + Retry-After or a reset connection and
refuse dead devices for good, while deliver invocations crash after a random number of sends;
then the books are balanced from three independent records — the Notifications table, the
tenant's webhook and what the stand-ins accepted — and the faults counted, so that a run in
which some kind of fault never happened cannot pass."""

from __future__ import annotations

import json
import random
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from local.stack import LocalStack
from tests.standins import OK, FcmStandin, NtfyStandin, Script, Step, WebPushStandin, always
from tests.standins.webhook import WebhookReceiver

FINAL = frozenset({"delivered", "failed", "invalid_token", "expired"})
PLATFORMS = ("web", "android", "ntfy")  # Web Push, FCM, ntfy
# What each stand-in answers for each fault (ntfy has no dead-token answer).
SCRIPTS: dict[str, dict[str, Any]] = {
    "web": {"503": 503, "429": 429, "reset": "reset", "gone": 410},
    "android": {
        "503": "UNAVAILABLE",
        "429": "QUOTA_EXCEEDED",
        "reset": "reset",
        "gone": "UNREGISTERED",
    },
    "ntfy": {"503": 503, "429": 429, "reset": "reset"},
}
# Notifications per batch request: on a loaded machine, with deliveries running beside it,
# a large batch can outlast the send function's timeout, which is not what this run is about.
SEND_CHUNK = 50
# Deliveries in flight (sent, no receipt yet) before the next batch is sent. The emulator's
# SQS looks through a whole queue on every receive: a backlog of thousands slows every AWS
# call of the run until sends time out, which would measure the emulator, not pushgate.
MAX_BACKLOG = 1000
CRASH_MARK = '"message":"injected crash'  # the hook's one warning per crashed invocation


@dataclass(frozen=True, slots=True)
class FaultMix:
    """The faults of one run (fractions of deliveries, devices or invocations).

    Each kind with a rate above zero happens at least once, whatever the draws: the first
    devices registered include a dead one and ones whose first attempt is answered 503, 429
    and reset, and the crash hook crashes each deliver process's first invocation. A rate of
    zero switches its kind off.
    """

    failure: float = 0.30  # attempts answered 503, or 429 with Retry-After
    reset: float = 0.05  # attempts whose connection (or HTTP/2 stream) is reset
    gone: float = 0.02  # devices answering 410 / UNREGISTERED for ever
    crash_rate: float = 0.01  # deliver invocations that crash after a random number of sends
    retry_after: int = 1
    second_device: float = 0.25  # users with a device on a second platform
    per_user: int = 5  # notifications per user (each to all of the user's devices)


class FlakyScript(Script):
    """A device's answers: each request fails (`failure`: 503 or 429 with Retry-After, half
    each) or is reset (`reset`) at random, but never twice running, so the attempt after a
    failure — usually the retry — gets through, the way a briefly overloaded service behaves.
    `first` ("503", "429" or "reset") answers the first request, whatever the draw. Counts
    what it answered, by kind: ok, 503, 429, reset."""

    def __init__(
        self,
        rng: random.Random,
        mix: FaultMix,
        answers: dict[str, Any],
        first: str | None = None,
    ) -> None:
        super().__init__((), Step(OK))
        self._rng, self._mix = rng, mix
        self._steps = {
            "ok": Step(OK),
            "503": Step(answers["503"]),
            "429": Step(answers["429"], retry_after=mix.retry_after),
            "reset": Step(answers["reset"]),
        }
        self._first = first
        self._failed_last = False
        self.answered: Counter[str] = Counter()

    def next_step(self) -> Step:
        with self._lock:
            kind, self._first = self._first or self._draw(), None
            self._failed_last = kind != "ok"
            self.answered[kind] += 1
            return self._steps[kind]

    def _draw(self) -> str:
        draw = self._rng.random()
        if self._failed_last or draw >= self._mix.failure + self._mix.reset:
            return "ok"
        if draw < self._mix.reset:
            return "reset"
        return self._rng.choice(("503", "429"))

    def outcomes(self) -> set[Any]:
        return {step.outcome for step in self._steps.values()}


@dataclass(slots=True)
class Device:
    user: str
    platform: str
    key: str  # what the stand-in records it by: subscription id, FCM token or ntfy topic
    push_token: Any
    gone: bool  # answers 410 / UNREGISTERED: ends invalid_token and is removed
    script: FlakyScript | None
    device_id: str = ""


@dataclass(slots=True)
class FaultReport:
    notifications: int
    expected: int  # (notification, device) pairs that must end delivered
    final_notifications: int
    statuses: Counter[str]  # final statuses of every (notification, device) entry
    not_final: int  # entries still queued, or expected pairs with no entry at all
    receipts_received: int
    receipts_unique: int
    receipt_mismatches: int  # final outcomes without their receipt, or with another status
    lost: int  # expected pairs not delivered, or recorded delivered but never accepted
    gone_not_reported: int  # dead devices without an invalid_token outcome
    stray: int  # messages a stand-in accepted that no notification asked for
    duplicates: int
    duplicated_pairs: int
    crashes: int
    dead_devices: int  # devices answering 410 / UNREGISTERED for ever
    dead_letters: int
    device_count: int  # the app's maintained count after the run
    devices_left: int  # registered minus dead
    answers: Counter[str]  # what the scripts answered: ok, 503, 429, reset
    timings: dict[str, float]  # seconds per phase: register, send, settle

    @property
    def duplicate_rate(self) -> float:
        return self.duplicates / self.expected if self.expected else 0.0

    @property
    def injected(self) -> dict[str, int]:
        """How often each kind of fault happened."""
        return {
            "503": self.answers["503"],
            "429": self.answers["429"],
            "reset": self.answers["reset"],
            "dead device": self.dead_devices,
            "crash": self.crashes,
        }

    @property
    def injected_share(self) -> float:
        """The share of provider requests answered with a fault (the never-twice-running rule
        keeps it below the planned rates)."""
        faults = self.answers["503"] + self.answers["429"] + self.answers["reset"]
        return faults / (sum(self.answers.values()) or 1)

    def lines(self) -> list[str]:
        return [
            f"fault run: {self.notifications} notifications, {self.expected} deliveries "
            f"expected; seconds: "
            + ", ".join(f"{phase} {seconds:.1f}" for phase, seconds in self.timings.items()),
            f"  injected: {self.answers['503']} 503s, {self.answers['429']} 429s and "
            f"{self.answers['reset']} resets in {sum(self.answers.values())} provider requests "
            f"({self.injected_share:.1%}); {self.dead_devices} dead devices; "
            f"{self.crashes} deliver invocations crashed (after a random number of sends)",
            f"  final: {self.final_notifications}/{self.notifications} notifications; "
            f"outcomes {dict(sorted(self.statuses.items()))}; not final: {self.not_final}",
            f"  receipts: {self.receipts_unique} unique of {self.receipts_received} received; "
            f"missing or mismatched: {self.receipt_mismatches}",
            f"  lost: {self.lost}; dead devices unreported: {self.gone_not_reported}; "
            f"stray: {self.stray}; dead letters: {self.dead_letters}; "
            f"device_count {self.device_count} (expected {self.devices_left})",
            f"  duplicates at the stand-ins: {self.duplicates} extra messages on "
            f"{self.duplicated_pairs} (notification, device) pairs = "
            f"{self.duplicate_rate:.3%} of deliveries",
        ]


@dataclass(slots=True)
class Standins:
    fcm: FcmStandin
    webpush: WebPushStandin
    ntfy: NtfyStandin
    receiver: WebhookReceiver


@contextmanager
def fault_stack(
    mix: FaultMix, log_dir: Path, *, visibility_timeout: int = 10
) -> Iterator[tuple[LocalStack, Standins]]:
    """A local stack whose deliver function talks to the stand-ins and crashes as `mix` says,
    with a short DeliveryQueue visibility timeout so crashed batches come back soon."""
    with (
        FcmStandin() as fcm,
        WebPushStandin() as webpush,
        NtfyStandin() as ntfy,
        WebhookReceiver() as receiver,
    ):
        account = fcm.new_service_account("demo-project")
        env = {
            "PUSHGATE_FCM_API_URL": fcm.url,
            "PUSHGATE_GOOGLE_TOKEN_URL": fcm.token_uri,
            "PUSHGATE_FCM_CREDENTIALS": json.dumps(account),
            "PUSHGATE_RETRY_BASE_SECONDS": "0.5",
            "PUSHGATE_FAULT_CRASH_RATE": str(mix.crash_rate),
        }
        with LocalStack(env=env, log_dir=log_dir) as stack:
            stack.client("sqs").set_queue_attributes(
                QueueUrl=stack.resources["DeliveryQueue"],
                Attributes={"VisibilityTimeout": str(visibility_timeout)},
            )
            yield stack, Standins(fcm, webpush, ntfy, receiver)


class FaultRun:
    """One run: `prepare()` registers the devices, `send()` the notifications, `wait()`
    until the books can balance, `report()` balances them."""

    def __init__(
        self, stack: LocalStack, standins: Standins, mix: FaultMix, notifications: int, seed: int
    ) -> None:
        self.stack, self.standins, self.mix = stack, standins, mix
        self.count = notifications
        self.random = random.Random(seed)
        self.http = httpx.Client(base_url=stack.api_url, timeout=120)
        self.app_id = f"faults-{secrets.token_hex(4)}"
        self.admin = stack.mint_token("ops", scope="push:admin")
        self.hook = standins.receiver.new_url()
        self.devices: dict[str, list[Device]] = {}  # user -> devices
        self.notification_users: dict[str, str] = {}  # notification id -> user
        self.titles: dict[str, str] = {}  # title -> notification id (ntfy carries no id)
        self.timings: dict[str, float] = {}
        # The faults the first devices are given whatever the draws (see FaultMix).
        self.guaranteed: list[str] = [
            kind
            for kind, rate in (
                ("gone", mix.gone),
                ("503", mix.failure),
                ("429", mix.failure),
                ("reset", mix.reset),
            )
            if rate > 0
        ]

    def close(self) -> None:
        self.http.close()

    # -- set-up --------------------------------------------------------------------------

    def prepare(self) -> None:
        started = time.monotonic()
        configured = self.http.patch(
            f"/push/config/{self.app_id}",
            headers={"authorization": f"Bearer {self.admin}"},
            json={"enabled": True, "webhook_url": self.hook, "daily_quota": self.count * 2},
        )
        assert configured.status_code == 200, configured.text
        for index in range(-(-self.count // self.mix.per_user)):
            user = f"u{index}"
            platforms = [self.random.choice(PLATFORMS)]
            if self.random.random() < self.mix.second_device:
                platforms.append(self.random.choice([p for p in PLATFORMS if p != platforms[0]]))
            self.devices[user] = [self._new_device(user, platform) for platform in platforms]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(self._register, [d for ds in self.devices.values() for d in ds]))
        self.timings[f"register {self.device_total} devices"] = time.monotonic() - started

    def _new_device(self, user: str, platform: str) -> Device:
        answers = SCRIPTS[platform]
        gone = "gone" in answers and bool(
            self._take_guaranteed("gone") or self.random.random() < self.mix.gone
        )
        script = None
        if not gone:
            first = self._take_guaranteed("503", "429", "reset")
            script = FlakyScript(random.Random(self.random.random()), self.mix, answers, first)
        behaviour = always(answers["gone"]) if gone else script
        if platform == "web":
            subscription = self.standins.webpush.new_subscription(behaviour)
            key = subscription["endpoint"].rsplit("/", 1)[-1]
            return Device(user, platform, key, subscription, gone, script)
        if platform == "android":
            token = f"fault-{secrets.token_hex(8)}:APA91b" + "f" * 100
            self.standins.fcm.script(token, behaviour)
            return Device(user, platform, token, token, gone, script)
        topic = "f" + secrets.token_hex(8)
        self.standins.ntfy.script(topic, behaviour)
        url = f"{self.standins.ntfy.url}/{topic}"
        return Device(user, platform, topic, {"url": url}, gone, script)

    def _take_guaranteed(self, *kinds: str) -> str | None:
        """The first of `kinds` still owed to a device (see FaultMix), now given to one."""
        for kind in self.guaranteed:
            if kind in kinds:
                self.guaranteed.remove(kind)
                return kind
        return None

    def _register(self, device: Device) -> None:
        token = self.stack.mint_token(device.user, aud=[self.app_id])
        response = self.http.post(
            "/push/devices/register",
            headers={"authorization": f"Bearer {token}"},
            json={
                "app_id": self.app_id,
                "platform": device.platform,
                "push_token": device.push_token,
            },
        )
        assert response.status_code == 201, response.text
        device.device_id = response.json()["device_id"]

    @property
    def device_total(self) -> int:
        return sum(len(devices) for devices in self.devices.values())

    # -- the run -------------------------------------------------------------------------

    def send(self) -> None:
        started = time.monotonic()
        token = self.stack.mint_token(self.app_id, scope="push:send")
        users = list(self.devices)
        planned = [(f"n{i}", users[i % len(users)]) for i in range(self.count)]
        chunks = [planned[i : i + SEND_CHUNK] for i in range(0, len(planned), SEND_CHUNK)]

        def send_chunk(chunk: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
            notifications = [
                {"user_id": user, "title": title, "body": "b", "ttl": 3600} for title, user in chunk
            ]
            response = self.http.post(
                "/push/send/batch",
                headers={"authorization": f"Bearer {token}"},
                json={"notifications": notifications},
            )
            assert response.status_code == 202, response.text
            ids = response.json()["notification_ids"]
            return [(nid, user, title) for nid, (title, user) in zip(ids, chunk, strict=True)]

        queued = 0  # deliveries sent so far (a device per notification and user)
        for chunk in chunks:  # one at a time: deliveries already compete with the sends
            while queued - len(self.standins.receiver.calls(self.hook)) > MAX_BACKLOG:
                time.sleep(0.5)
            for nid, user, title in send_chunk(chunk):
                self.notification_users[nid] = user
                self.titles[title] = nid
                queued += len(self.devices[user])
        self.timings["send"] = time.monotonic() - started

    def outcomes(self) -> dict[tuple[str, str], str]:
        """(notification id, device id) -> status, from the Notifications table."""
        client = self.stack.client("dynamodb")
        outcomes: dict[tuple[str, str], str] = {}
        pages = client.get_paginator("scan").paginate(
            TableName=self.stack.resources["NotificationsTable"],
            ProjectionExpression="notification_id, deliveries",
        )
        for page in pages:
            for item in page["Items"]:
                nid = item["notification_id"]["S"]
                if nid not in self.notification_users:
                    continue
                for device_id, entry in (item.get("deliveries") or {}).get("M", {}).items():
                    outcomes[(nid, device_id)] = entry["M"]["status"]["S"]
        return outcomes

    def receipts(self) -> list[dict[str, Any]]:
        return [call.json() for call in self.standins.receiver.calls(self.hook)]

    def expected_pairs(self) -> set[tuple[str, str]]:
        """(notification id, device id) of every delivery that must end delivered."""
        return {
            (nid, device.device_id)
            for nid, user in self.notification_users.items()
            for device in self.devices[user]
            if not device.gone
        }

    def wait(self, timeout: float) -> None:
        """Until every delivery is final and has its receipt (or `timeout` passes: the
        report then shows what is missing). Receipts are watched (cheap, in this process);
        the table is only scanned to confirm once they look complete."""
        expected = self.expected_pairs()
        gone = {d.device_id for ds in self.devices.values() for d in ds if d.gone}
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            receipts = {
                (r["notification_id"], r["device_id"]): r["status"] for r in self.receipts()
            }
            reported_gone = {device for (_, device), s in receipts.items() if s == "invalid_token"}
            if expected <= receipts.keys() and gone <= reported_gone:
                outcomes = self.outcomes()
                if (
                    expected <= outcomes.keys()
                    and all(status in FINAL for status in outcomes.values())
                    and receipts.keys() >= outcomes.keys()
                ):
                    self.timings["settle"] = time.monotonic() - started
                    time.sleep(2)  # late duplicates, if any, arrive too
                    return
            time.sleep(1)
        self.timings["settle (timed out)"] = time.monotonic() - started

    # -- the books -----------------------------------------------------------------------

    def _delivered_counts(self) -> Counter[tuple[str | None, str]]:
        """Delivered messages per (notification id, stand-in key)."""
        counts: Counter[tuple[str | None, str]] = Counter()
        counts.update(self.standins.webpush.deliveries())
        counts.update(self.standins.fcm.deliveries())
        for message in self.standins.ntfy.delivered():
            counts[(self.titles.get(message.title or ""), message.topic)] += 1
        return counts

    def _crashes(self) -> int:
        log = self.stack.log_path("DeliverFunction")
        if not log.exists():
            return 0
        return sum(1 for line in log.read_text(errors="replace").splitlines() if CRASH_MARK in line)

    def _dead_letters(self) -> int:
        sqs = self.stack.client("sqs")
        total = 0
        for queue in ("DeliveryDLQ", "ReceiptDLQ"):
            attributes = sqs.get_queue_attributes(
                QueueUrl=self.stack.resources[queue],
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            total += sum(int(value) for value in attributes.values())
        return total

    def report(self) -> FaultReport:
        outcomes = self.outcomes()
        expected = self.expected_pairs()
        counts = self._delivered_counts()
        receipts = self.receipts()
        receipt_status = {(r["notification_id"], r["device_id"]): r["status"] for r in receipts}
        devices = {d.device_id: d for ds in self.devices.values() for d in ds}
        # What the stand-ins count by: (notification id, subscription/token/topic).
        keys = {(nid, devices[device_id].key): (nid, device_id) for nid, device_id in expected}
        undelivered = sum(1 for pair in expected if outcomes.get(pair) != "delivered")
        never_accepted = sum(
            1
            for key, pair in keys.items()
            if outcomes.get(pair) == "delivered" and counts[key] == 0
        )
        gone_reported = {
            device_id for (_, device_id), status in outcomes.items() if status == "invalid_token"
        }
        not_final = sum(1 for status in outcomes.values() if status not in FINAL)
        not_final += len(expected - outcomes.keys())
        final_notifications = sum(
            1
            for nid, user in self.notification_users.items()
            if all(
                # A dead device may have no entry: removed before this notification's turn.
                outcomes.get((nid, d.device_id), "invalid_token" if d.gone else "missing") in FINAL
                for d in self.devices[user]
            )
        )
        extra = {key: n - 1 for key, n in counts.items() if key in keys and n > 1}
        answers: Counter[str] = Counter()
        for device in devices.values():
            if device.script is not None:
                answers.update(device.script.answered)
        config = self.http.get(
            f"/push/config/{self.app_id}", headers={"authorization": f"Bearer {self.admin}"}
        ).json()
        return FaultReport(
            notifications=len(self.notification_users),
            expected=len(expected),
            final_notifications=final_notifications,
            statuses=Counter(outcomes.values()),
            not_final=not_final,
            receipts_received=len(receipts),
            receipts_unique=len(receipt_status),
            receipt_mismatches=sum(
                1 for pair, status in outcomes.items() if receipt_status.get(pair) != status
            )
            + len(receipt_status.keys() - outcomes.keys()),
            lost=undelivered + never_accepted,
            gone_not_reported=sum(
                1 for d in devices.values() if d.gone and d.device_id not in gone_reported
            ),
            stray=sum(n for key, n in counts.items() if key not in keys),
            duplicates=sum(extra.values()),
            duplicated_pairs=len(extra),
            crashes=self._crashes(),
            dead_devices=sum(1 for d in devices.values() if d.gone),
            dead_letters=self._dead_letters(),
            device_count=config["device_count"],
            devices_left=sum(1 for d in devices.values() if not d.gone),
            answers=answers,
            timings=self.timings,
        )
