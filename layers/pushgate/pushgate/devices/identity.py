"""Device ids: a keyed hash of `(app_id, push address)`, computed inside KMS.

The same token registered twice in one app always maps to the same id, so deduplication is a
conditional write on the primary key (no race can create two rows), and the HMAC key never
leaves KMS, so ids cannot be turned back into tokens or precomputed from guessed ones.
"""

from __future__ import annotations

import base64

from pushgate import aws
from pushgate.settings import get_settings

DEVICE_ID_PREFIX = "dev_"


def device_id_for(app_id: str, identity: str) -> str:
    response = aws.client("kms").generate_mac(
        KeyId=get_settings().token_hash_key_id,
        MacAlgorithm="HMAC_SHA_256",
        Message=f"pushgate-device-v1\n{app_id}\n{identity}".encode(),
    )
    digest = base64.b32encode(response["Mac"][:20]).decode().lower()
    return DEVICE_ID_PREFIX + digest
