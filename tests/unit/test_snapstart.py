"""SnapStart hooks: registered only where the runtime's library exists; after a restore,
`random` is reseeded and every container-level cache and client is dropped."""

from __future__ import annotations

import importlib
import random
import sys
import types

import pytest
from aws_lambda_powertools.event_handler import Response

from pushgate import snapstart
from pushgate.api import create_resolver
from pushgate.devices.models import RegisterDeviceRequest


@pytest.fixture
def fake_runtime(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple]]:
    """A stand-in for the Lambda runtime's `snapshot_restore_py` that records what is
    registered."""
    registered: dict[str, list[tuple]] = {"before_snapshot": [], "after_restore": []}
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = lambda f, *a, **k: registered["before_snapshot"].append(
        (f, a, k)
    )
    module.register_after_restore = lambda f, *a, **k: registered["after_restore"].append((f, a, k))
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return registered


def test_snapstart_install_registers_both_hooks_with_the_runtime_library(fake_runtime):
    def warm() -> None:
        pass

    assert snapstart.install(warm) is True
    assert fake_runtime == {
        "before_snapshot": [(snapstart.before_snapshot, (warm,), {})],
        "after_restore": [(snapstart.after_restore, (), {})],
    }


def test_snapstart_install_registers_nothing_without_the_runtime_library(monkeypatch):
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails

    assert snapstart.install() is False


def test_snapstart_resets_name_every_container_cache_and_client():
    """A new cache or client kept for the container's life belongs in this table."""
    assert sorted(snapstart.RESETS) == [
        "aws_lambda_powertools.utilities.parameters",
        "pushgate.auth.tokens",
        "pushgate.aws",
        "pushgate.delivery.app_keys",
        "pushgate.delivery.dispatch",
        "pushgate.delivery.runtime",
        "pushgate.interactions.capabilities",
        "pushgate.notifications.idempotency",
        "pushgate.outbound._client",
        "pushgate.providers.webpush",
        "pushgate.sealing",
        "pushgate.storage.base",
        "pushgate.takos.wellknown",
        "pynamodb.models",
    ]


def test_snapstart_after_restore_reseeds_random_and_drops_every_cache(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    modules = {name: importlib.import_module(name) for name in snapstart.RESETS}
    capabilities = modules["pushgate.interactions.capabilities"]
    app_keys = modules["pushgate.delivery.app_keys"]
    runtime = modules["pushgate.delivery.runtime"]
    webpush = modules["pushgate.providers.webpush"]
    aws = modules["pushgate.aws"]
    wellknown = modules["pushgate.takos.wellknown"]
    parameters = modules["aws_lambda_powertools.utilities.parameters"]
    seeds: list[tuple] = []
    monkeypatch.setattr(random, "seed", lambda *args: seeds.append(args))
    monkeypatch.setitem(capabilities._roots, "key", b"root")
    monkeypatch.setitem(app_keys._cache, "app", object())
    monkeypatch.setitem(runtime._runtimes, 1, object())
    monkeypatch.setitem(webpush._VAPID_HEADERS._entries, ("k", "a", "s"), ("vapid", 0.0))
    monkeypatch.setitem(wellknown.get_cache()._documents, "takos.example", object())
    aws.client("sqs")
    cached: list = []
    monkeypatch.setattr(parameters, "clear_caches", lambda: cached.append("cleared"))

    class Table(modules["pynamodb.models"].Model):
        class Meta:
            table_name = "snapstart-test"

    Table._connection = object()

    snapstart.after_restore()

    assert seeds == [()]  # random.seed() with no argument: from os.urandom
    assert capabilities._roots == {}
    assert app_keys._cache == {}
    assert runtime._runtimes == {}
    assert webpush._VAPID_HEADERS._entries == {}
    assert wellknown.get_cache()._documents == {}
    assert aws.client.cache_info().currsize == 0
    assert modules["pushgate.sealing"].get_cipher.cache_info().currsize == 0
    assert modules["pushgate.auth.tokens"].get_verifier.cache_info().currsize == 0
    assert modules["pushgate.delivery.dispatch"]._approval_key.cache_info().currsize == 0
    assert modules["pushgate.storage.base"]._connection.cache_info().currsize == 0
    assert modules["pushgate.notifications.idempotency"]._idempotent_call.cache_info() == (
        modules["pushgate.notifications.idempotency"]
        ._idempotent_call.cache_info()
        ._replace(currsize=0)
    )
    assert cached == ["cleared"]
    assert Table._connection is None


def test_snapstart_after_restore_imports_nothing(monkeypatch):
    """A module not loaded has nothing cached: the hook leaves it unloaded."""
    monkeypatch.delitem(sys.modules, "pushgate.takos.wellknown", raising=False)
    monkeypatch.setattr(random, "seed", lambda *args: None)

    snapstart.after_restore()

    assert "pushgate.takos.wellknown" not in sys.modules


def test_snapstart_before_snapshot_builds_the_routes_validation_models():
    app = create_resolver(authenticated=False)

    @app.post("/things")
    def make(request: RegisterDeviceRequest) -> Response[None]:
        return Response(status_code=204)

    route = next(iter(app._static_routes))
    assert route._dependant is None

    snapstart.before_snapshot(lambda: snapstart.warm_routes(app))

    assert route._dependant is not None
    assert route._body_field is not None
    assert RegisterDeviceRequest.__pydantic_complete__ is True
