"""Stand-ins for the push providers pushgate delivers to, for tests and benchmarks.

Each one is an asyncio HTTP server on 127.0.0.1 (port 0) in a background thread that checks
what the real service checks and can answer every error class it has:

    with FcmStandin(latency_ms=50) as fcm:
        account = fcm.new_service_account("demo-project")
        fcm.script("token-1", "UNREGISTERED")
        fcm.script("token-2", fail_first(2, "UNAVAILABLE", retry_after=1))
        ...
        assert fcm.deliveries()[("ntf_1", "token-3")] == 1

The ntfy stand-in also has ntfy's users and access control and its admin API:

    with NtfyStandin(default_access="deny-all") as ntfy:
        admin = ntfy.new_admin_token()              # for /v1/users, /v1/users/access
        ntfy.script_admin("PUT /v1/users/access", fail_first(1, 500))
        ...
        assert [user.username for user in ntfy.users()] == ["admin"]  # the rest rolled back

It checks action buttons as ntfy does (at most three; view, broadcast or http; label, url and
body rules; 40018), and taps an `http` one as the ntfy Android app would:

        (message,) = ntfy.messages("pg_alice")
        assert ntfy.tap(message, "Approve").status_code == 200

`MozillaPushStandin` is Mozilla's push service for a real Firefox: the WebSocket protocol
Firefox's push client speaks (hello, register, notification, ack, nack) on `ws_url`, and
autopush's HTTP checks (VAPID, TTL, Content-Encoding, 4096 bytes) on its endpoints; it
records the browser's acks, so a test sees a decryption failure (code 101).

Scripts: an outcome string/status answered every time, or `always`, `fail_first`,
`sequence`. "reset" drops the connection (HTTP/1.1) or resets the stream (HTTP/2).
`tests.standins.reference` builds correct requests without pushgate's code.

Needs `layers/pushgate` on sys.path (pytest's `pythonpath` has it): the Web Push stand-in
verifies VAPID and decrypts with its own `_webpush_crypto` (pushgate only signs and
encrypts), built on `pushgate.crypto`'s constants and ES256 check, and all use
`pushgate.clock`.
"""

from tests.standins._script import OK, RESET, Script, Step, always, fail_first, sequence
from tests.standins._server import Rejection, Request, Response, StandinServer
from tests.standins.fcm import FcmMessage, FcmStandin, make_service_account
from tests.standins.mozpush import MozillaPushStandin, MozPush
from tests.standins.ntfy import NtfyAdminCall, NtfyMessage, NtfyStandin
from tests.standins.ntfy_users import NtfyGrant, NtfyToken, NtfyUser
from tests.standins.webpush import PushMessage, WebPushStandin, subscription_id

__all__ = [
    "OK",
    "RESET",
    "FcmMessage",
    "FcmStandin",
    "MozPush",
    "MozillaPushStandin",
    "NtfyAdminCall",
    "NtfyGrant",
    "NtfyMessage",
    "NtfyStandin",
    "NtfyToken",
    "NtfyUser",
    "PushMessage",
    "Rejection",
    "Request",
    "Response",
    "Script",
    "StandinServer",
    "Step",
    "WebPushStandin",
    "always",
    "fail_first",
    "make_service_account",
    "sequence",
    "subscription_id",
]
