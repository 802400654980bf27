"""Lambda SnapStart runtime hooks (template parameter `SnapStart`, docs/operations.md).

With SnapStart, Lambda initialises a published version once, snapshots the execution
environment's memory, and resumes every new environment of that version from the same
snapshot. Whatever the snapshot holds is then shared by every restored environment: the
`random` module's state (each would draw the same "random" jitter), and anything cached
before the snapshot — KMS data keys and key roots, secrets, tokens, signed VAPID headers,
JWKS keys — plus HTTP and AWS clients whose connections were opened in another machine's
network namespace and are dead on arrival.

`install()` registers the hooks through the runtime's `snapshot_restore_py` library (part
of the Python managed runtimes); elsewhere (tests, the local stack, SnapStart off) that
library is absent and nothing is registered. The after-restore hook reseeds `random` and
drops every container-level cache and client of the modules that are loaded (a module not
yet imported has nothing cached; the hook imports nothing new). The before-snapshot hook
builds what the first request would otherwise build (the settings, the route models
Powertools' validation needs, pushgate's deferred pydantic models), so restored environments
start with it done.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

# module -> what the after-restore hook does to it when it is loaded, and why.
RESETS: dict[str, tuple[Callable[[ModuleType], None], str]] = {
    "pushgate.sealing": (
        lambda m: m.get_cipher.cache_clear(),
        "the field cipher's unwrapped KMS data keys",
    ),
    "pushgate.interactions.capabilities": (
        lambda m: m._roots.clear(),
        "the interaction tokens' root key read from KMS",
    ),
    "pushgate.delivery.app_keys": (
        lambda m: m.clear(),
        "apps' VAPID keys and FCM service accounts",
    ),
    "pushgate.delivery.dispatch": (
        lambda m: m._approval_key.cache_clear(),
        "approval decision keys derived from KMS",
    ),
    "pushgate.delivery.runtime": (
        lambda m: (
            m._runtimes.clear(),
            m._parsed.cache_clear(),
            m._local_fcm_account.cache_clear(),
        ),
        "the provider senders (FCM access tokens) and the parsed default FCM account",
    ),
    "pushgate.providers.webpush": (
        lambda m: m._VAPID_HEADERS.clear(),
        "signed VAPID headers",
    ),
    "pushgate.outbound._client": (
        lambda m: m.client.cache_clear(),
        "the outbound HTTP client and its connection pools",
    ),
    "pushgate.auth.tokens": (
        lambda m: m.get_verifier.cache_clear(),
        "the token verifier's JWKS keys",
    ),
    "pushgate.takos.wellknown": (
        lambda m: m.get_cache().clear(),
        "gateway instances' well-known documents",
    ),
    "pushgate.notifications.idempotency": (
        lambda m: m._idempotent_call.cache_clear(),
        "the idempotency store and its DynamoDB client",
    ),
    "pushgate.aws": (
        lambda m: m.client.cache_clear(),
        "boto3 clients and their connection pools",
    ),
    "pushgate.storage.base": (
        lambda m: m._connection.cache_clear(),
        "the shared PynamoDB connection",
    ),
    "pynamodb.models": (
        lambda m: _reset_pynamodb_connections(m.Model),
        "each PynamoDB model's own connection",
    ),
    "aws_lambda_powertools.utilities.parameters": (
        lambda m: m.clear_caches(),
        "secrets cached by Powertools' parameters utility",
    ),
}


def install(warm: Callable[[], None] | None = None) -> bool:
    """Register the hooks when the Lambda runtime offers SnapStart's library; `warm` runs
    before the snapshot (after the settings are read). True when registered."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot, warm)
    register_after_restore(after_restore)
    return True


def before_snapshot(warm: Callable[[], None] | None = None) -> None:
    from pushgate.settings import get_settings

    get_settings()
    if warm is not None:
        warm()
    build_models()


def build_models() -> None:
    """Build every pushgate pydantic model loaded so far: they are declared with
    `defer_build=True` (a cold start builds only those its request uses), and a snapshot
    should carry them built."""
    from pydantic import BaseModel

    for name, module in list(sys.modules.items()):
        if not name.startswith("pushgate.") or module is None:
            continue
        for value in list(vars(module).values()):
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == name
                and not value.__pydantic_complete__
            ):
                value.model_rebuild()


def after_restore() -> None:
    random.seed()  # from os.urandom: each restored environment draws its own sequence
    for name, (reset, _why) in RESETS.items():
        module = sys.modules.get(name)
        if module is not None:
            reset(module)


def warm_routes(app: Any) -> None:
    """Build what Powertools' validation builds on a route's first request (its dependant
    and body model), for every route of `app`."""
    for route in [*app._static_routes, *app._dynamic_routes]:
        route.dependant  # noqa: B018 - a lazily built property
        route.body_field  # noqa: B018


def _reset_pynamodb_connections(model: type) -> None:
    for subclass in model.__subclasses__():
        if "_connection" in vars(subclass):
            subclass._connection = None
        _reset_pynamodb_connections(subclass)
