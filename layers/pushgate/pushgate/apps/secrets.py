"""An app's secrets, sealed at rest: the webhook secret (and the one it replaced, which keeps
signing for a day), the VAPID private key and the app's own FCM service account. Each is bound
to its row and attribute, so a ciphertext copied elsewhere does not open. (Bytes and text in
and out: the receipts function, which only signs, loads no key-parsing code through here.)"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from pushgate.receipts.signing import SECRET_PREFIX
from pushgate.sealing import get_cipher
from pushgate.storage.apps import App

# After a rotation the previous webhook secret keeps signing receipts (a second signature).
SECRET_OVERLAP_SECONDS = 24 * 3600


def webhook_secret_binding(app_id: str) -> str:
    return f"apps/{app_id}/webhook_secret"


def previous_secret_binding(app_id: str) -> str:
    return f"apps/{app_id}/webhook_previous_secret"


def vapid_key_binding(app_id: str) -> str:
    return f"apps/{app_id}/vapid_private_key"


def fcm_account_binding(app_id: str) -> str:
    return f"apps/{app_id}/fcm_service_account"


def new_webhook_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (the Standard Webhooks secret format)."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


def seal_webhook_secret(app_id: str, secret: str) -> str:
    return get_cipher().seal(secret.encode(), binding=webhook_secret_binding(app_id))


def seal_previous_secret(app_id: str, secret: bytes) -> str:
    return get_cipher().seal(secret, binding=previous_secret_binding(app_id))


def open_webhook_secret(app_id: str, sealed: str) -> str:
    return get_cipher().open(sealed, binding=webhook_secret_binding(app_id)).decode()


def seal_vapid_key(app_id: str, private_key_pem: str) -> str:
    return get_cipher().seal(private_key_pem.encode(), binding=vapid_key_binding(app_id))


def open_vapid_key(app_id: str, sealed: str) -> str:
    """The VAPID private key's PEM (`crypto.VapidKey.load` takes it)."""
    return get_cipher().open(sealed, binding=vapid_key_binding(app_id)).decode()


def seal_fcm_account(app_id: str, account: dict[str, Any]) -> str:
    return get_cipher().seal(json.dumps(account).encode(), binding=fcm_account_binding(app_id))


def open_fcm_account(app_id: str, sealed: str) -> dict[str, Any]:
    """The app's service-account JSON (`providers.ServiceAccount.parse` takes it)."""
    return json.loads(get_cipher().open(sealed, binding=fcm_account_binding(app_id)))


def signing_secrets(app: App, now: float) -> list[str]:
    """The secrets receipts are signed with right now, newest first."""
    secrets = [open_webhook_secret(app.app_id, app.webhook_secret_sealed or "")]
    rotated_at = app.webhook_secret_rotated_at
    overlapping = rotated_at is not None and now - rotated_at < SECRET_OVERLAP_SECONDS
    if app.webhook_previous_secret_sealed and overlapping:
        sealed = app.webhook_previous_secret_sealed
        opened = get_cipher().open(sealed, binding=previous_secret_binding(app.app_id))
        secrets.append(opened.decode())
    return secrets
