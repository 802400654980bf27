"""A browser's side of a push subscription, for the tests that encrypt to one or decrypt as
one: its ECDH key pair (p256dh) and auth secret, as a real user agent makes them."""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


@dataclass(frozen=True)
class UserAgent:
    private_key: ec.EllipticCurvePrivateKey
    p256dh: bytes
    auth: bytes


def new_user_agent() -> UserAgent:
    private_key = ec.generate_private_key(ec.SECP256R1())
    p256dh = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return UserAgent(private_key, p256dh, os.urandom(16))
