"""Web Push crypto per message (1 KB payload): pushgate beside pywebpush and the raw-crypto floor,
measured in one run; plus ES256 verifications per second.

pywebpush is timed as the issue defines it: `WebPusher(...).encode(...)` plus py_vapid's
`Vapid.sign` (its whole `webpush()` call, session stubbed, is reported beside it). The floor is
P-256 keygen + ECDH + two HKDFs + AES-GCM called on `cryptography` directly. Targets
(docs/performance.md): pywebpush / pushgate >= 3 and pushgate / floor <= 1.5.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable
from urllib.parse import urlparse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pushgate.crypto import (
    SubscriptionKeys,
    VapidHeaderCache,
    VapidKey,
    canonicalize,
    encrypt,
    sign,
    vapid_audience,
    verify_payload,
)
from pushgate.crypto._base64 import b64url_encode

PAYLOAD = os.urandom(1024)
ENDPOINT = "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bHxyzEXAMPLE"
SUBJECT = "mailto:bench@pushgate.dev"
WARMUP = 300
BATCH = 100
ROUNDS = 51
MIN_SPEEDUP_OVER_PYWEBPUSH = 3.0
MAX_RATIO_TO_FLOOR = 1.5

Timed = Callable[[], object]


def run() -> dict[str, float | str]:
    samples = _samples(_message_candidates())
    per_message = {name: statistics.median(values) for name, values in samples.items()}
    # Ratios are taken batch by batch (the batches of one round run back to back), then the
    # median: a burst of load from elsewhere on the machine then skews numerator and
    # denominator alike instead of whichever candidate it happened to hit.
    speedup = _median_ratio(samples["pywebpush"], samples["pushgate"])
    overhead = _median_ratio(samples["pushgate"], samples["floor"])
    verify_us = statistics.median(_samples({"verify": _es256_verification()})["verify"])
    return {
        "pushgate_us_per_message": round(per_message["pushgate"], 1),
        "pywebpush_us_per_message": round(per_message["pywebpush"], 1),
        "floor_us_per_message": round(per_message["floor"], 1),
        "pushgate_incl_key_parse_us_per_message": round(per_message["pushgate+parse"], 1),
        "pywebpush_webpush_call_us_per_message": round(per_message["pywebpush.webpush"], 1),
        "pywebpush_over_pushgate": round(speedup, 2),
        "pushgate_over_floor": round(overhead, 2),
        "pywebpush_over_floor": round(_median_ratio(samples["pywebpush"], samples["floor"]), 2),
        "es256_verifications_per_s": round(1e6 / verify_us),
        "target:pywebpush_over_pushgate>=3": _verdict(speedup >= MIN_SPEEDUP_OVER_PYWEBPUSH),
        "target:pushgate_over_floor<=1.5": _verdict(overhead <= MAX_RATIO_TO_FLOOR),
    }


def _message_candidates() -> dict[str, Timed]:
    """One callable per implementation, each preparing one Web Push request (network stubbed)."""
    from py_vapid import Vapid
    from pywebpush import WebPusher, webpush

    user_agent = ec.generate_private_key(ec.SECP256R1())
    p256dh = user_agent.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = os.urandom(16)
    p256dh_text, auth_text = b64url_encode(p256dh), b64url_encode(auth)
    subscription = {"endpoint": ENDPOINT, "keys": {"p256dh": p256dh_text, "auth": auth_text}}

    vapid_key = VapidKey.generate()
    cache = VapidHeaderCache()
    keys = SubscriptionKeys.parse(p256dh_text, auth_text)

    def pushgate() -> object:
        # The deliver fn parses a device's keys once; the header comes from the cache.
        header = cache.authorization(vapid_key, vapid_audience(ENDPOINT), SUBJECT)
        return encrypt(PAYLOAD, keys), header

    def pushgate_with_parse() -> object:
        header = cache.authorization(vapid_key, vapid_audience(ENDPOINT), SUBJECT)
        return encrypt(PAYLOAD, SubscriptionKeys.parse(p256dh_text, auth_text)), header

    their_vapid = Vapid.from_raw(vapid_key.export_private_key().encode())

    def pywebpush() -> object:
        # What pywebpush.webpush() does per message, minus the HTTP request.
        endpoint = urlparse(ENDPOINT)
        audience = f"{endpoint.scheme}://{endpoint.netloc}"
        claims = {"sub": SUBJECT, "aud": audience, "exp": int(time.time()) + 12 * 3600}
        return WebPusher(subscription).encode(PAYLOAD, "aes128gcm"), their_vapid.sign(claims)

    def pywebpush_call() -> object:
        # The whole pywebpush.webpush() as an app calls it, the HTTP session stubbed.
        return webpush(
            subscription,
            PAYLOAD,
            vapid_private_key=their_vapid,
            vapid_claims={"sub": SUBJECT},
            ttl=3600,
            requests_session=_StubSession(),
        )

    peer = user_agent.public_key()
    key_info = b"WebPush: info\x00" + p256dh + p256dh
    salt, nonce = os.urandom(16), os.urandom(12)
    curve, ecdh, sha256 = ec.SECP256R1(), ec.ECDH(), hashes.SHA256()

    def floor() -> object:
        # The crypto a push message cannot avoid, straight from `cryptography`.
        secret = ec.generate_private_key(curve).exchange(ecdh, peer)
        ikm = HKDF(sha256, 32, auth, key_info).derive(secret)
        cek = HKDF(sha256, 16, salt, b"Content-Encoding: aes128gcm\x00").derive(ikm)
        return AESGCM(cek).encrypt(nonce, PAYLOAD, None)

    return {
        "pushgate": pushgate,
        "pywebpush": pywebpush,
        "floor": floor,
        "pushgate+parse": pushgate_with_parse,
        "pywebpush.webpush": pywebpush_call,
    }


class _StubResponse:
    status_code = 201
    text = ""
    headers: dict[str, str] = {}


class _StubSession:
    """Stands in for requests.Session: the benchmark times preparation, not the network."""

    def post(self, url: str, **kwargs: object) -> _StubResponse:
        return _StubResponse()


def _es256_verification() -> Timed:
    private_key = ec.generate_private_key(ec.SECP256R1())
    payload = {
        "action": "register",
        "instance": "social.example",
        "userId": "user-123",
        "token": "f" * 160,
        "platform": "android",
        "issuedAt": 1_750_000_000,
        "expiresAt": 1_750_000_300,
        "nonce": "3b0c5f1e-6a7d-4c1e-9a55-0d7b2f4c8e11",
    }
    signature = b64url_encode(sign(private_key, canonicalize(payload)))
    public_key = private_key.public_key()

    def verify() -> object:
        return verify_payload(public_key, signature, payload)

    return verify


def _samples(candidates: dict[str, Timed]) -> dict[str, list[float]]:
    """µs per call for each of ROUNDS batches; every round runs each candidate once, in a
    rotating order, so that all of them see the same machine."""
    for timed in candidates.values():
        for _ in range(WARMUP):
            timed()
    names = list(candidates)
    samples: dict[str, list[float]] = {name: [] for name in names}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for round_number in range(ROUNDS):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                timed = candidates[name]
                started = time.perf_counter()
                for _ in range(BATCH):
                    timed()
                samples[name].append((time.perf_counter() - started) / BATCH * 1e6)
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


def _median_ratio(numerators: list[float], denominators: list[float]) -> float:
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"
