"""The FCM HTTP v1 `messages:send` request schema, checked the way Google's proto3-JSON front
end checks it: unknown names and wrong types are INVALID_ARGUMENT, with Google's wording."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any, str], None]
_FCM = "google.firebase.fcm.v1"

FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
# proto3 JSON google.protobuf.Duration; FCM refuses a TTL beyond four weeks.
_DURATION = re.compile(r"^\d+(\.\d{1,9})?s$")
MAX_TTL_SECONDS = 4 * 7 * 24 * 3600
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
_INTEGER = re.compile(r"^-?\d+$")
_TOPIC = re.compile(r"^[a-zA-Z0-9\-_.~%]{1,900}$")
_ANALYTICS_LABEL = re.compile(r"^[a-zA-Z0-9\-_.~%]{1,50}$")
_WEBPUSH_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_URGENCIES = frozenset({"very-low", "low", "normal", "high"})
# FCM's reserved data keys: "from", "message_type", anything starting with google or gcm.
_RESERVED_KEYS = frozenset({"from", "message_type"})
_RESERVED_PREFIXES = ("google", "gcm")
# Payload data limits, keys and values together (FCM error codes: "message too big").
MAX_DATA_BYTES = 4096
MAX_TOPIC_DATA_BYTES = 2048
APNS_PRIORITIES = frozenset({"1", "5", "10"})
MAX_APNS_COLLAPSE_ID_BYTES = 64
TARGETS = ("token", "topic", "condition")


class InvalidArgumentError(Exception):
    """A request FCM answers with 400 INVALID_ARGUMENT."""

    def __init__(self, message: str, field: str | None = None, *, fcm_error: bool = False):
        super().__init__(message)
        self.message = message
        self.field = field
        self.fcm_error = fcm_error

    def details(self) -> list[dict[str, Any]]:
        violation = {"description": self.message}
        if self.field is not None:
            violation = {"field": self.field, **violation}
        details: list[dict[str, Any]] = []
        if self.fcm_error:
            details.append({"@type": FCM_ERROR_TYPE, "errorCode": "INVALID_ARGUMENT"})
        details.append({"@type": BAD_REQUEST_TYPE, "fieldViolations": [violation]})
        return details


def _invalid_value(path: str, type_name: str, value: Any) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"Invalid value at '{path}' ({type_name}), {json.dumps(value)}", path
    )


def _string(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise _invalid_value(path, "TYPE_STRING", value)


def _bool(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        raise _invalid_value(path, "TYPE_BOOL", value)


def _int(value: Any, path: str) -> None:
    # proto3 JSON takes integers as numbers or as decimal strings.
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and _INTEGER.match(value))
    ):
        raise _invalid_value(path, "TYPE_INT32", value)


def _number(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid_value(path, "TYPE_FLOAT", value)


def _duration(value: Any, path: str) -> None:
    if not isinstance(value, str) or not _DURATION.match(value):
        raise _invalid_value(path, "type.googleapis.com/google.protobuf.Duration", value)


def _timestamp(value: Any, path: str) -> None:
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        raise _invalid_value(path, "type.googleapis.com/google.protobuf.Timestamp", value)


def _struct(value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise _invalid_value(path, "type.googleapis.com/google.protobuf.Struct", value)


def _string_map(value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise _invalid_value(path, "TYPE_MESSAGE", value)
    for index, item in enumerate(value.values()):
        if not isinstance(item, str):
            raise _invalid_value(f"{path}[{index}].value", "TYPE_STRING", item)


def _enum(type_name: str, *names: str) -> Check:
    allowed = frozenset(names)

    def check(value: Any, path: str) -> None:
        if isinstance(value, bool) or not (
            (isinstance(value, str) and value in allowed)
            or (isinstance(value, int) and 0 <= value < len(names))
        ):
            raise _invalid_value(
                path, f"type.googleapis.com/google.firebase.fcm.v1.{type_name}", value
            )

    return check


def _list(item: Check) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise _invalid_value(path, "TYPE_LIST", value)
        for index, element in enumerate(value):
            item(element, f"{path}[{index}]")

    return check


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _message(type_name: str, fields: Mapping[str, Check]) -> Check:
    """A proto message: a JSON object whose names (snake_case or lowerCamelCase) are known."""
    by_name = {**fields, **{_camel(name): check for name, check in fields.items()}}

    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _invalid_value(path, f"type.googleapis.com/{type_name}", value)
        for name, item in value.items():
            field_check = by_name.get(name)
            if field_check is None:
                where = f" at '{path}'" if path else ""
                raise InvalidArgumentError(
                    f'Invalid JSON payload received. Unknown name "{name}"{where}: '
                    "Cannot find field.",
                    path or None,
                )
            if item is not None:  # proto3 JSON: null is the default value
                field_check(item, f"{path}.{name}" if path else name)

    return check


_NOTIFICATION = _message(
    f"{_FCM}.Notification", {"title": _string, "body": _string, "image": _string}
)
_FCM_OPTIONS = _message(f"{_FCM}.FcmOptions", {"analytics_label": _string})
_COLOR = _message(
    "google.type.Color", {"red": _number, "green": _number, "blue": _number, "alpha": _number}
)
_ANDROID_NOTIFICATION = _message(
    f"{_FCM}.AndroidNotification",
    {
        **dict.fromkeys(
            (
                "title",
                "body",
                "icon",
                "color",
                "sound",
                "tag",
                "click_action",
                "body_loc_key",
                "title_loc_key",
                "channel_id",
                "ticker",
                "image",
            ),
            _string,
        ),
        **dict.fromkeys(
            (
                "sticky",
                "local_only",
                "default_sound",
                "default_vibrate_timings",
                "default_light_settings",
                "bypass_proxy_notification",
            ),
            _bool,
        ),
        "body_loc_args": _list(_string),
        "title_loc_args": _list(_string),
        "event_time": _timestamp,
        "notification_priority": _enum(
            "NotificationPriority",
            "PRIORITY_UNSPECIFIED",
            "PRIORITY_MIN",
            "PRIORITY_LOW",
            "PRIORITY_DEFAULT",
            "PRIORITY_HIGH",
            "PRIORITY_MAX",
        ),
        "vibrate_timings": _list(_duration),
        "visibility": _enum("Visibility", "VISIBILITY_UNSPECIFIED", "PRIVATE", "PUBLIC", "SECRET"),
        "notification_count": _int,
        "light_settings": _message(
            f"{_FCM}.LightSettings",
            {"color": _COLOR, "light_on_duration": _duration, "light_off_duration": _duration},
        ),
        "proxy": _enum("Proxy", "PROXY_UNSPECIFIED", "ALLOW", "DENY", "IF_PRIORITY_LOWERED"),
    },
)
_ANDROID = _message(
    f"{_FCM}.AndroidConfig",
    {
        "collapse_key": _string,
        "priority": _enum("AndroidMessagePriority", "NORMAL", "HIGH"),
        "ttl": _duration,
        "restricted_package_name": _string,
        "data": _string_map,
        "notification": _ANDROID_NOTIFICATION,
        "fcm_options": _message(f"{_FCM}.AndroidFcmOptions", {"analytics_label": _string}),
        "direct_boot_ok": _bool,
        "bandwidth_constrained_ok": _bool,
        "restricted_satellite_ok": _bool,
    },
)
_APNS = _message(
    f"{_FCM}.ApnsConfig",
    {
        "headers": _string_map,
        "payload": _struct,
        "fcm_options": _message(
            f"{_FCM}.ApnsFcmOptions", {"analytics_label": _string, "image": _string}
        ),
        "live_activity_token": _string,
    },
)
_WEBPUSH = _message(
    f"{_FCM}.WebpushConfig",
    {
        "headers": _string_map,
        "data": _string_map,
        "notification": _struct,
        "fcm_options": _message(
            f"{_FCM}.WebpushFcmOptions", {"link": _string, "analytics_label": _string}
        ),
    },
)
_MESSAGE = _message(
    f"{_FCM}.Message",
    {
        "name": _string,
        "data": _string_map,
        "notification": _NOTIFICATION,
        "android": _ANDROID,
        "webpush": _WEBPUSH,
        "apns": _APNS,
        "fcm_options": _FCM_OPTIONS,
        "token": _string,
        "topic": _string,
        "condition": _string,
    },
)
_SEND_REQUEST = _message(
    f"{_FCM}.SendMessageRequest", {"validate_only": _bool, "message": _MESSAGE}
)


def validate_send_request(body: Any) -> None:
    """Raise InvalidArgumentError for anything FCM refuses in a `messages:send` body."""
    _SEND_REQUEST(body, "")
    message = body.get("message")
    if not isinstance(message, dict):
        raise InvalidArgumentError("Request contains an invalid argument.", "message")
    _check_target(message)
    to_topic = message.get("topic") is not None
    _check_data(message.get("data"), "message.data", topic=to_topic)
    android = message.get("android") or {}
    _check_data(android.get("data"), "message.android.data", topic=to_topic)
    _check_ttl(android.get("ttl"))
    _check_apns_headers((message.get("apns") or {}).get("headers") or {})
    webpush = message.get("webpush") or {}
    _check_webpush_headers(webpush.get("headers") or {})
    _check_link((webpush.get("fcm_options") or webpush.get("fcmOptions") or {}).get("link"))
    for options, path in (
        (message.get("fcm_options") or message.get("fcmOptions"), "message.fcm_options"),
        (android.get("fcm_options") or android.get("fcmOptions"), "message.android.fcm_options"),
    ):
        label = (options or {}).get("analytics_label") or (options or {}).get("analyticsLabel")
        if label is not None and not _ANALYTICS_LABEL.match(label):
            raise InvalidArgumentError("Invalid analytics label", f"{path}.analytics_label")


def target_of(message: Mapping[str, Any]) -> tuple[str, str]:
    """("token" | "topic" | "condition", value) of a validated message."""
    for kind in TARGETS:
        if message.get(kind) is not None:
            return kind, message[kind]
    raise InvalidArgumentError("Recipient of the message is not set.", "message")


def _check_target(message: Mapping[str, Any]) -> None:
    present = [kind for kind in TARGETS if message.get(kind) is not None]
    if len(present) > 1:
        raise InvalidArgumentError(
            "Invalid value at 'message' (oneof), oneof field 'target' is already set. "
            f"Cannot set '{present[1]}'",
            "message",
        )
    kind, value = target_of(message)
    if kind == "token" and (not value or value != value.strip() or " " in value):
        raise InvalidArgumentError(
            "The registration token is not a valid FCM registration token",
            "message.token",
            fcm_error=True,
        )
    if kind == "topic" and not _TOPIC.match(value.removeprefix("/topics/")):
        raise InvalidArgumentError("Invalid topic name", "message.topic")
    if kind == "condition" and not value.strip():
        raise InvalidArgumentError("Invalid condition", "message.condition")


def _check_data(data: Mapping[str, str] | None, path: str, *, topic: bool) -> None:
    if not data:
        return
    for key in data:
        if key in _RESERVED_KEYS or key.lower().startswith(_RESERVED_PREFIXES):
            raise InvalidArgumentError(f"Invalid data payload key: {key}", path)
    size = sum(len(key.encode()) + len(value.encode()) for key, value in data.items())
    if size > (MAX_TOPIC_DATA_BYTES if topic else MAX_DATA_BYTES):
        raise InvalidArgumentError("Message is too big", path, fcm_error=True)


def _check_ttl(ttl: str | None) -> None:
    if ttl is not None and float(ttl[:-1]) > MAX_TTL_SECONDS:
        raise InvalidArgumentError(
            "Invalid value at 'message.android.ttl': TTL must be at most 4 weeks",
            "message.android.ttl",
        )


def _check_apns_headers(headers: Mapping[str, str]) -> None:
    lowered = {name.lower(): value for name, value in headers.items()}
    expiration = lowered.get("apns-expiration")
    if expiration is not None and not expiration.isdigit():
        raise InvalidArgumentError(
            "Invalid apns-expiration: must be a UNIX epoch date in seconds",
            "message.apns.headers",
        )
    priority = lowered.get("apns-priority")
    if priority is not None and priority not in APNS_PRIORITIES:
        raise InvalidArgumentError(
            "Invalid apns-priority: must be 10, 5 or 1", "message.apns.headers"
        )
    collapse_id = lowered.get("apns-collapse-id")
    if collapse_id is not None and len(collapse_id.encode()) > MAX_APNS_COLLAPSE_ID_BYTES:
        raise InvalidArgumentError(
            "Invalid apns-collapse-id: must not exceed 64 bytes", "message.apns.headers"
        )


def _check_webpush_headers(headers: Mapping[str, str]) -> None:
    lowered = {name.lower(): value for name, value in headers.items()}
    ttl = lowered.get("ttl")
    if ttl is not None and not ttl.isdigit():
        raise InvalidArgumentError("Invalid TTL header value", "message.webpush.headers")
    urgency = lowered.get("urgency")
    if urgency is not None and urgency not in _URGENCIES:
        raise InvalidArgumentError("Invalid Urgency header value", "message.webpush.headers")
    topic = lowered.get("topic")
    if topic is not None and not _WEBPUSH_TOPIC.match(topic):
        raise InvalidArgumentError("Invalid Topic header value", "message.webpush.headers")


def _check_link(link: str | None) -> None:
    if link is not None and not link.lower().startswith("https://"):
        raise InvalidArgumentError(
            "The link must be a HTTPS URL", "message.webpush.fcm_options.link"
        )
