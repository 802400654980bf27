"""The HTTP routes' parameters: path, query and header annotations, and the caller.

Only the HTTP functions import this. Powertools' OpenAPI parameter classes load its whole
event-handler package (~100 ms of a cold start), which the SQS workers never need; keeping
every `Path`/`Query`/`Header` here keeps the models and services they share HTTP-free.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.request import Request

from pushgate.auth import Principal

# The parameters whose patterns live in the domain's model modules are built on first use
# (PEP 562 `__getattr__` below): a function imports only the model modules of the parameters
# its routes take, not every domain's (pushgate.takos.models alone is ~10% of a cold start).


def _app_id_path() -> object:
    from pushgate.apps.models import APP_ID_PATTERN

    return Annotated[
        str,
        Path(
            pattern=APP_ID_PATTERN,
            description="App id: 1-128 characters of letters, digits, `.`, `_`, `:` and `-`",
        ),
    ]


def _device_id_path() -> object:
    from pushgate.devices.models import DEVICE_ID_PATTERN

    return Annotated[str, Path(pattern=DEVICE_ID_PATTERN, description="A device id")]


def _notification_id_path() -> object:
    from pushgate.notifications.models import NOTIFICATION_ID_PATTERN

    return Annotated[str, Path(pattern=NOTIFICATION_ID_PATTERN)]


def _instance_path() -> object:
    from pushgate.takos.models import INSTANCE_PATTERN

    return Annotated[
        str,
        Path(
            pattern=INSTANCE_PATTERN,
            description="Instance name: lower-case letters, digits, `.`, `_`, `-`, optional "
            "`:port`; or `external:<slug>`",
        ),
    ]


def _approval_id_path() -> object:
    from pushgate.approvals.models import APPROVAL_ID_PATTERN

    return Annotated[str, Path(pattern=APPROVAL_ID_PATTERN, description="An approval id")]


def _admin_app_id() -> object:
    from pushgate.apps.models import APP_ID_PATTERN

    return Annotated[
        str | None,
        Query(pattern=APP_ID_PATTERN, description="Admin tokens only: the app to send as"),
    ]


def _signature_header() -> object:
    from pushgate.takos.models import MAX_SIGNATURE_LENGTH

    return Annotated[
        str | None,
        Header(
            alias="x-push-signature",
            max_length=MAX_SIGNATURE_LENGTH,
            description="base64 of an ES256 signature (raw r‖s or DER) over the RFC 8785 "
            "canonical JSON of the body; a signature over the exact raw body also verifies. Or "
            "send it as the body's `signature` field",
        ),
    ]


_BUILT_ON_FIRST_USE = {
    "AppIdPath": _app_id_path,
    "DeviceIdPath": _device_id_path,
    "NotificationIdPath": _notification_id_path,
    "InstancePath": _instance_path,
    "ApprovalIdPath": _approval_id_path,
    "AdminAppId": _admin_app_id,
    "SignatureHeader": _signature_header,
}


def __getattr__(name: str) -> object:
    build = _BUILT_ON_FIRST_USE.get(name)
    if build is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = build()
    return value


# Here, not in pushgate.broadcasts: only this route parameter checks it, and importing that
# package would load it into every HTTP function.
BROADCAST_ID_PATTERN = r"^brd_[0-9a-z]{26}$"
BroadcastIdPath = Annotated[str, Path(pattern=BROADCAST_ID_PATTERN, description="A broadcast id")]
DecisionTokenPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        description="The capability in a decision URL (as the approval's push gave it)",
    ),
]
InteractionTokenPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        description="The capability in an interactions URL (as the notification's push gave it)",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Replays the first response for the same key and body within 24 h",
    ),
]
PageLimit = Annotated[int, Query(ge=1, le=100, description="Items per page")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the previous page; opaque"),
]
StatsHours = Annotated[
    int,
    Query(ge=1, le=48, description="How many UTC hours, the current one last (1-48)"),
]
PushSecretHeader = Annotated[
    str | None,
    Header(
        alias="x-push-secret",
        max_length=256,
        description="The shared secret of an enrolment that has one (takos' "
        "PUSH_WEBHOOK_SECRET); required on events then, ignored otherwise",
    ),
]


def current_principal(request: Request) -> Principal:
    """Route dependency: the authenticated caller (401 when there is none)."""
    from pushgate.auth.tokens import get_verifier

    headers = request.headers or {}
    authorization = headers.get("authorization") or headers.get("Authorization")
    return get_verifier().authenticate(authorization)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
