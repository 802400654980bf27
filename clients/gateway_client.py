"""Reference client for pushgate's gateway-client ("takos") protocol, for operators of
instances that use pushgate as their push gateway.

It needs only Python 3.11+ and `cryptography`; copy this file into your instance if you like.

    python -m clients.gateway_client keygen --dir keys/
    python -m clients.gateway_client wellknown --instance social.example --dir keys/ \\
        > /srv/www/.well-known/takos-push.json
    python -m clients.gateway_client register --instance social.example --dir keys/ \\
        --user alice --platform android --token "$FCM_TOKEN" --send https://push.example.com
    python -m clients.gateway_client event --instance social.example --dir keys/ \\
        --user alice --title Hello --body "You have a reply" --send https://push.example.com

`--wire takos` sends what takos instances send instead: registrations with the signature in
the body's `signature` field, and events `{instance, userId, notification: {id, type,
message, ...}}` without an envelope (`event --wire takos --type reply --message ...`).

As a library:

    client = GatewayClient.from_directory("social.example", "keys/")
    request = client.register("alice", fcm_token, "android")
    status, answer = request.send("https://push.example.com")

Each request is signed with ES256 (P-256) over the RFC 8785 canonical JSON of its payload
and sent as exactly those bytes, so the signature also covers the raw body (in the takos wire
form, registrations carry it in the body: it signs the body without that field).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

WELL_KNOWN_PATH = "/.well-known/takos-push.json"
REGISTER_PATH = "/push/register"
EVENTS_PATH = "/push/webhook"
TAKOS_EVENTS_PATH = "/internal/push/events"  # where takos instances post their events
SIGNATURE_HEADER = "X-Push-Signature"
WIRES = ("pushgate", "takos")
DEFAULT_LIFETIME_SECONDS = 300  # pushgate accepts at most 600
REGISTRATION_KEY_FILE = "registration.pem"
WEBHOOK_KEY_FILE = "webhook.pem"


def generate_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> str:
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_private_key(path: str | Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"{path} is not a P-256 private key")
    return key


def canonical_json(value: Any) -> bytes:
    """RFC 8785 for the values this protocol uses (objects, arrays, strings, integers,
    booleans, null): keys sorted by UTF-16 code units, no whitespace, minimal escaping."""
    return _canonical(value).encode("utf-8")


def _canonical(value: Any) -> str:
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda item: item[0].encode("utf-16-be"))
        return "{" + ",".join(f"{_canonical(k)}:{_canonical(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    if isinstance(value, str | bool | int) or value is None:
        # json.dumps escapes exactly what RFC 8785 escapes when ensure_ascii is off.
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"{type(value).__name__} has no canonical form in this client")


def sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> str:
    """base64 of the raw r‖s ES256 signature (what WebCrypto produces)."""
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode("ascii")


def rfc3339(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class SignedRequest:
    """A request ready to POST: the path, the exact body bytes and the signature (in the
    X-Push-Signature header, or inside the body when `signature_in_body`)."""

    path: str
    payload: dict[str, Any]
    body: bytes
    signature: str
    signature_in_body: bool = False

    @property
    def headers(self) -> dict[str, str]:
        if self.signature_in_body:
            return {"content-type": "application/json"}
        return {"content-type": "application/json", SIGNATURE_HEADER: self.signature}

    def send(self, base_url: str, *, timeout: float = 10.0) -> tuple[int, Any]:
        """POST to `base_url` + path; returns the status and the JSON answer."""
        request = urllib.request.Request(  # noqa: S310 - the operator's pushgate URL
            base_url.rstrip("/") + self.path, data=self.body, headers=self.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


@dataclass(frozen=True)
class GatewayClient:
    """One instance's signing keys and name. `webhook_key` signs events when set (pushgate
    then refuses events signed with the registration key)."""

    instance: str
    registration_key: ec.EllipticCurvePrivateKey = field(repr=False)
    webhook_key: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    tenant: str | None = None

    @classmethod
    def generate(cls, instance: str, *, tenant: str | None = None) -> GatewayClient:
        return cls(instance, generate_key(), generate_key(), tenant)

    @classmethod
    def from_directory(
        cls, instance: str, directory: str | Path, *, tenant: str | None = None
    ) -> GatewayClient:
        folder = Path(directory)
        webhook = folder / WEBHOOK_KEY_FILE
        return cls(
            instance,
            load_private_key(folder / REGISTRATION_KEY_FILE),
            load_private_key(webhook) if webhook.exists() else None,
            tenant,
        )

    def save(self, directory: str | Path) -> None:
        """Private keys as PKCS#8 PEM (owner-only), public keys beside them."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        keys = {REGISTRATION_KEY_FILE: self.registration_key, WEBHOOK_KEY_FILE: self.webhook_key}
        for name, key in keys.items():
            if key is None:
                continue
            path = folder / name
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(private_pem(key))
            path.with_suffix(".pub.pem").write_text(public_pem(key))

    def wellknown(self) -> dict[str, Any]:
        """The document to publish at https://{domain}/.well-known/takos-push.json."""
        document: dict[str, Any] = {
            "instance": self.instance,
            "registrationPublicKey": public_pem(self.registration_key),
        }
        if self.tenant is not None:
            document["tenant"] = self.tenant
        if self.webhook_key is not None:
            document["webhook"] = {"algorithm": "ES256", "publicKey": public_pem(self.webhook_key)}
        return document

    def register(
        self,
        user_id: str,
        token: str | Mapping[str, Any],
        platform: str,
        *,
        app_id: str | None = None,
        wire: str = "pushgate",
        **timing: Any,
    ) -> SignedRequest:
        return self._registration(
            "register", user_id, token, platform, app_id=app_id, wire=wire, timing=timing
        )

    def deregister(
        self,
        user_id: str,
        token: str | Mapping[str, Any],
        platform: str,
        *,
        app_id: str | None = None,
        wire: str = "pushgate",
        **timing: Any,
    ) -> SignedRequest:
        return self._registration(
            "deregister", user_id, token, platform, app_id=app_id, wire=wire, timing=timing
        )

    def takos_event(
        self, user_id: str, notification: Mapping[str, Any], *, path: str = TAKOS_EVENTS_PATH
    ) -> SignedRequest:
        """An event the way takos instances send it: `notification` is takos' record (`id`
        unique per instance, `type`, `message`, `ref_type`, `ref_id`, `created_at`, ...);
        `id` and `created_at` (now) are filled in when missing."""
        record = {
            "id": secrets.token_hex(16),
            "created_at": rfc3339(datetime.now(UTC).timestamp()),
            **notification,
        }
        payload = {"instance": self.instance, "userId": user_id, "notification": record}
        return self.signed(path, payload, self.webhook_key or self.registration_key)

    def event(
        self,
        user_id: str,
        title: str,
        body: str,
        *,
        data: Mapping[str, str] | None = None,
        url: str | None = None,
        path: str = EVENTS_PATH,
        **timing: Any,
    ) -> SignedRequest:
        payload: dict[str, Any] = {"userId": user_id, "title": title, "body": body}
        if data is not None:
            payload["data"] = dict(data)
        if url is not None:
            payload["url"] = url
        key = self.webhook_key or self.registration_key
        return self.signed(path, self.envelope(payload, **timing), key)

    def envelope(
        self,
        payload: Mapping[str, Any],
        *,
        now: float | None = None,
        lifetime: float = DEFAULT_LIFETIME_SECONDS,
        nonce: str | None = None,
    ) -> dict[str, Any]:
        """`payload` plus instance, issuedAt, expiresAt (RFC 3339) and a fresh nonce."""
        issued = datetime.now(UTC).timestamp() if now is None else now
        return {
            **payload,
            "instance": self.instance,
            "issuedAt": rfc3339(issued),
            "expiresAt": rfc3339(issued + lifetime),
            "nonce": nonce or secrets.token_urlsafe(24),
        }

    def signed(
        self, path: str, payload: Mapping[str, Any], key: ec.EllipticCurvePrivateKey | None = None
    ) -> SignedRequest:
        """Sign any payload as is (no fields added)."""
        body = canonical_json(payload)
        return SignedRequest(path, dict(payload), body, sign(key or self.registration_key, body))

    def _registration(
        self,
        action: str,
        user_id: str,
        token: str | Mapping[str, Any],
        platform: str,
        *,
        app_id: str | None,
        wire: str,
        timing: dict[str, Any],
    ) -> SignedRequest:
        if wire not in WIRES:
            raise ValueError(f"wire must be one of {', '.join(WIRES)}")
        payload: dict[str, Any] = {
            "action": action,
            "userId": user_id,
            "token": token if isinstance(token, str) else dict(token),
            "platform": platform,
        }
        if app_id is not None:
            payload["appId"] = app_id
        signed = self.signed(REGISTER_PATH, self.envelope(payload, **timing))
        if wire == "pushgate":
            return signed
        body = {**signed.payload, "signature": signed.signature}  # takos: {...envelope, signature}
        return SignedRequest(REGISTER_PATH, body, json.dumps(body).encode(), signed.signature, True)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m clients.gateway_client", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    keygen = commands.add_parser("keygen", help="write registration and webhook P-256 keys")
    keygen.add_argument("--dir", required=True, help="folder for the PEM files")

    def instance_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--instance", required=True, help="your instance name (domain)")
        command.add_argument("--dir", required=True, help="folder holding the keys")
        command.add_argument("--tenant", help="tenant to publish (default: the instance)")

    wellknown = commands.add_parser("wellknown", help="print the well-known document")
    instance_options(wellknown)

    def wire_option(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--wire",
            choices=WIRES,
            default="pushgate",
            help="pushgate's envelope (default) or what takos instances send",
        )

    for action in ("register", "deregister"):
        command = commands.add_parser(action, help=f"build (and send) a signed {action}")
        instance_options(command)
        wire_option(command)
        command.add_argument("--user", required=True)
        command.add_argument(
            "--platform", required=True, choices=["android", "ios", "web", "ntfy", "unknown"]
        )
        command.add_argument("--token", required=True, help="token, or JSON for web/ntfy")
        command.add_argument("--app-id")
        command.add_argument("--send", metavar="PUSHGATE_URL", help="POST it there")

    event = commands.add_parser("event", help="build (and send) a signed notification event")
    instance_options(event)
    wire_option(event)
    event.add_argument("--user", required=True)
    event.add_argument("--title", help="pushgate wire: the title (required)")
    event.add_argument("--body", help="pushgate wire: the body (required)")
    event.add_argument("--link", help="pushgate wire: URL the notification opens")
    event.add_argument("--data", action="append", default=[], metavar="KEY=VALUE")
    event.add_argument("--type", default="test", help="takos wire: the notification type")
    event.add_argument("--message", default="", help="takos wire: the notification text")
    event.add_argument("--ref-type", help="takos wire: what it is about (post, user, ...)")
    event.add_argument("--ref-id", help="takos wire: the id of what it is about")
    event.add_argument("--send", metavar="PUSHGATE_URL", help="POST it there")
    args = parser.parse_args(argv)
    if args.command == "event" and args.wire == "pushgate" and not (args.title and args.body):
        parser.error("event needs --title and --body (or --wire takos)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.command == "keygen":
        GatewayClient.generate("unused").save(args.dir)
        print(f"wrote {REGISTRATION_KEY_FILE} and {WEBHOOK_KEY_FILE} (+ .pub.pem) to {args.dir}")
        return 0
    client = GatewayClient.from_directory(args.instance, args.dir, tenant=args.tenant)
    if args.command == "wellknown":
        print(json.dumps(client.wellknown(), indent=2))
        return 0
    if args.command == "event" and args.wire == "takos":
        record = {"type": args.type, "message": args.message}
        record |= {"ref_type": args.ref_type, "ref_id": args.ref_id} if args.ref_type else {}
        request = client.takos_event(args.user, record)
    elif args.command == "event":
        data = dict(item.split("=", 1) for item in args.data) or None
        request = client.event(args.user, args.title, args.body, data=data, url=args.link)
    else:
        token: Any = args.token
        if args.platform in ("web", "ntfy") and token.lstrip().startswith("{"):
            token = json.loads(token)
        build = client.register if args.command == "register" else client.deregister
        request = build(args.user, token, args.platform, app_id=args.app_id, wire=args.wire)
    if not args.send:
        print(json.dumps({"path": request.path, "headers": request.headers}, indent=2))
        print(request.body.decode())
        return 0
    status, answer = request.send(args.send)
    print(status, json.dumps(answer))
    return 0 if status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
