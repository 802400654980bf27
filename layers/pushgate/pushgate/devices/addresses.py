"""Push addresses: what a `push_token` names, validated strictly per platform.

- android, ios, web: an FCM registration token (a string);
- web: a Web Push subscription `{endpoint, keys: {p256dh, auth}}`, as an object or a JSON
  string, keys optional (keyless subscriptions get payload-less pushes);
- ntfy: `{url: "https://server/topic", token?}`.

Errors never repeat the token: it is a credential.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pushgate.crypto import InvalidKeyError, SubscriptionKeys
from pushgate.crypto._base64 import b64url_encode
from pushgate.errors import BadRequestError
from pushgate.settings import Settings
from pushgate.urls import (
    MAX_URL_LENGTH,
    Resolver,
    UnsafeUrlError,
    check_outbound_url,
    is_public_address,
    system_resolver,
)

Platform = Literal["android", "ios", "web", "ntfy"]
Channel = Literal["fcm", "webpush", "ntfy"]

MAX_TOKEN_LENGTH = 4096
_FCM_TOKEN = re.compile(r"^[A-Za-z0-9_:.\-]{32,4096}$")
_NTFY_TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
_NTFY_ACCESS_TOKEN = re.compile(r"^[\x21-\x7e]{1,256}$")


class InvalidPushTokenError(BadRequestError):
    default_code = "invalid_push_token"


@dataclass(frozen=True, slots=True)
class FcmAddress:
    token: str
    channel: Channel = "fcm"

    @property
    def identity(self) -> str:
        return f"fcm\n{self.token}"


@dataclass(frozen=True, slots=True)
class WebPushAddress:
    endpoint: str
    p256dh: str | None = None
    auth: str | None = None
    channel: Channel = "webpush"

    @property
    def identity(self) -> str:
        # The endpoint names the subscription; keys may be refreshed under the same endpoint.
        return f"webpush\n{self.endpoint}"


@dataclass(frozen=True, slots=True)
class NtfyAddress:
    url: str
    token: str | None = None
    channel: Channel = "ntfy"
    # A managed private channel's topic (pushgate.managed_ntfy): published to with the
    # deployment's publisher token of the day, not a token stored with the device.
    managed: bool = False

    @property
    def identity(self) -> str:
        return f"ntfy\n{self.url}"


PushAddress = FcmAddress | WebPushAddress | NtfyAddress
_BY_CHANNEL: dict[str, type[PushAddress]] = {
    "fcm": FcmAddress,
    "webpush": WebPushAddress,
    "ntfy": NtfyAddress,
}


def serialize(address: PushAddress) -> bytes:
    """The address as JSON bytes, for sealing."""
    return json.dumps(asdict(address), separators=(",", ":")).encode()


def deserialize(data: bytes) -> PushAddress:
    fields = json.loads(data)
    return _BY_CHANNEL[fields["channel"]](**fields)


def infer_platform(push_token: str | dict[str, Any]) -> Platform:
    """The platform a token's form says: `{url}` is ntfy, `{endpoint}` (object or JSON text)
    a Web Push subscription, anything else an FCM token, taken as `android` (FCM sends to
    android, ios and web tokens alike)."""
    value: object = push_token
    if isinstance(push_token, str) and push_token.lstrip().startswith("{"):
        try:
            value = json.loads(push_token)
        except ValueError:
            return "android"  # not JSON: parse_push_token says why
    if isinstance(value, dict):
        return "ntfy" if "url" in value and "endpoint" not in value else "web"
    return "android"


def parse_push_token(
    platform: Platform,
    push_token: str | dict[str, Any],
    settings: Settings,
    *,
    resolver: Resolver = system_resolver,
) -> PushAddress:
    """Validate a registration's `push_token` for `platform`; raises `InvalidPushTokenError`
    or `UnsafeUrlError` (both 400)."""
    if isinstance(push_token, str) and len(push_token) > MAX_TOKEN_LENGTH:
        raise InvalidPushTokenError(f"push_token is longer than {MAX_TOKEN_LENGTH} characters")
    if platform == "ntfy":
        return _ntfy(_as_object(push_token), settings, resolver)
    if platform == "web" and (isinstance(push_token, dict) or push_token.lstrip().startswith("{")):
        return _web_push(_as_object(push_token), settings, resolver)
    if not isinstance(push_token, str) or not _FCM_TOKEN.match(push_token):
        raise InvalidPushTokenError(
            "push_token must be an FCM registration token (32-4096 characters of letters, "
            "digits, '_', '-', ':' and '.')"
        )
    return FcmAddress(push_token)


def _as_object(push_token: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(push_token, dict):
        return push_token
    try:
        value = json.loads(push_token)
    except ValueError:
        raise InvalidPushTokenError("push_token is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidPushTokenError("push_token must be a JSON object")
    return value


def _web_push(
    subscription: dict[str, Any], settings: Settings, resolver: Resolver
) -> WebPushAddress:
    unknown = set(subscription) - {"endpoint", "keys", "expirationTime"}
    if unknown:
        raise InvalidPushTokenError("push_token has unknown fields: " + ", ".join(sorted(unknown)))
    endpoint = subscription.get("endpoint")
    if not isinstance(endpoint, str):
        raise InvalidPushTokenError("push_token.endpoint is required")
    field = "push_token.endpoint"
    # The URL checks below give the same answers; this only keeps a bad URL from raising.
    try:
        parts = urlsplit(endpoint) if len(endpoint) <= MAX_URL_LENGTH else None
        host, port = (parts.hostname or "", parts.port) if parts else ("", None)
    except ValueError:
        raise UnsafeUrlError(f"{field} is not a valid URL") from None
    allowed = any(host == h or host.endswith("." + h) for h in settings.webpush_allowed_hosts)
    # Allowing private URLs (the local stack) admits push services on private or loopback
    # addresses, such as stand-ins; a public host must be on the allow-list in every mode.
    if not allowed and not (
        settings.allow_private_urls and _private_host(host, port or 443, resolver)
    ):
        raise UnsafeUrlError(f"{field} is not on a known push service")
    # Allow-listed push services are resolved and checked again when a push is sent.
    check_outbound_url(
        endpoint, allow_private=settings.allow_private_urls, field=field, resolve=False
    )
    keys = subscription.get("keys")
    if keys is None or keys == {}:
        return WebPushAddress(endpoint)
    if not isinstance(keys, dict) or set(keys) != {"p256dh", "auth"}:
        raise InvalidPushTokenError("push_token.keys must hold exactly p256dh and auth")
    if not all(isinstance(v, str) and len(v) <= 256 for v in keys.values()):
        raise InvalidPushTokenError("push_token.keys values must be base64url strings")
    try:
        parsed = SubscriptionKeys.parse(keys["p256dh"], keys["auth"])
    except InvalidKeyError as exc:
        raise InvalidPushTokenError(f"push_token.keys: {exc}") from None
    return WebPushAddress(endpoint, b64url_encode(parsed.p256dh), b64url_encode(parsed.auth))


def _private_host(host: str, port: int, resolver: Resolver) -> bool:
    """Whether `host` is, or resolves only to, addresses that are not public."""
    if not host:
        return False
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolver(host, port)]
        except (OSError, UnicodeError, ValueError):
            return False
    return bool(addresses) and not any(is_public_address(a) for a in addresses)


def _ntfy(value: dict[str, Any], settings: Settings, resolver: Resolver) -> NtfyAddress:
    unknown = set(value) - {"url", "token"}
    if unknown:
        raise InvalidPushTokenError("push_token has unknown fields: " + ", ".join(sorted(unknown)))
    url, token = value.get("url"), value.get("token")
    if not isinstance(url, str):
        raise InvalidPushTokenError("push_token.url is required")
    check_outbound_url(
        url, allow_private=settings.allow_private_urls, field="push_token.url", resolver=resolver
    )
    parts = urlsplit(url)
    topic = parts.path[1:] if parts.path.startswith("/") else ""
    if parts.query or parts.fragment or not _NTFY_TOPIC.match(topic):
        raise InvalidPushTokenError(
            "push_token.url must be https://server/topic, the topic 1-64 of A-Z a-z 0-9 _ -"
        )
    if token is not None and (not isinstance(token, str) or not _NTFY_ACCESS_TOKEN.match(token)):
        raise InvalidPushTokenError("push_token.token must be 1-256 printable ASCII characters")
    return NtfyAddress(url, token)
