"""What each function loads at cold start: exactly the pushgate packages its row of
`PUSHGATE_PACKAGES` names; the SQS workers never load the HTTP router, its OpenAPI machinery,
Powertools' parser models or PyJWT; the HTTP functions never load the batch processor.
(`make bench` measures the time; this keeps the boundaries from eroding.)"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WORKERS = ("approval_timeouts", "broadcast_fanout", "deliver", "ntfy_cleanup", "receipts")
HTTP_FUNCTIONS = (
    "approvals",
    "config",
    "console",
    "decisions",
    "interactions",
    "ntfy",
    "register",
    "send",
    "unregister",
)
NOT_IN_WORKERS = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.parser",
    "jwt",
    "pushgate.api",
    "pushgate.params",
)
NOT_IN_HTTP_FUNCTIONS = ("aws_lambda_powertools.utilities.batch", "pushgate.worker")
# The pushgate packages each function loads at import, as `pushgate.<name>` names: a module
# (`clock`) or a whole subpackage (`crypto` stands for every `pushgate.crypto.*`). A new
# import that drags another package into a function, or a dependency dropped, fails
# test_imports_function_loads_exactly_its_pushgate_packages with the names added and removed;
# when the change is meant (a real new need, a rename), edit the row.
PUSHGATE_PACKAGES: dict[str, frozenset[str]] = {
    "config": frozenset(
        {
            "api", "approvals", "apps", "audit", "auth", "aws", "clock", "crypto", "devices",
            "errors", "managed_ntfy", "notifications", "observability", "outbound", "params",
            "policy", "providers", "queues", "rate_limits", "receipts", "retry_policy", "sealing",
            "settings", "snapstart", "storage", "takos", "urls", "vapid_subject",
        }
    ),
    "deliver": frozenset(
        {
            "approvals", "apps", "auth", "aws", "capabilities", "clock", "crypto", "delivery",
            "devices", "errors", "interactions", "managed_ntfy", "notifications", "observability",
            "outbound", "policy", "providers", "queues", "rate_limits", "receipts", "retry_policy",
            "sealing", "settings", "snapstart", "storage", "urls", "vapid_subject", "worker",
        }
    ),
    "receipts": frozenset(
        {
            "approvals", "apps", "audit", "auth", "aws", "clock", "errors", "interactions",
            "notifications", "observability", "outbound", "queues", "receipts", "retry_policy",
            "sealing", "settings", "snapstart", "storage", "urls", "vapid_subject", "worker",
        }
    ),
    "register": frozenset(
        {
            "api", "approvals", "apps", "auth", "aws", "clock", "crypto", "devices", "errors",
            "managed_ntfy", "notifications", "observability", "outbound", "params", "policy",
            "queues", "rate_limits", "retry_policy", "sealing", "settings", "snapstart", "storage",
            "takos", "urls", "vapid_subject",
        }
    ),
    "send": frozenset(
        {
            "api", "approvals", "apps", "audit", "auth", "aws", "broadcasts", "capabilities",
            "clock", "crypto", "devices", "errors", "ids", "interactions", "notifications",
            "observability", "outbound", "params", "policy", "queues", "retry_policy", "settings",
            "snapstart", "storage", "takos", "urls", "vapid_subject",
        }
    ),
    "unregister": frozenset(
        {
            "api", "apps", "auth", "aws", "clock", "crypto", "devices", "errors", "managed_ntfy",
            "observability", "outbound", "params", "policy", "queues", "rate_limits",
            "retry_policy", "sealing", "settings", "snapstart", "storage", "urls", "vapid_subject",
        }
    ),
    "ntfy": frozenset(
        {
            "api", "approvals", "apps", "auth", "aws", "capabilities", "clock", "crypto", "devices",
            "errors", "ids", "interactions", "managed_ntfy", "notifications", "observability",
            "outbound", "params", "policy", "queues", "rate_limits", "retry_policy", "sealing",
            "settings", "snapstart", "storage", "urls", "vapid_subject",
        }
    ),
    "ntfy_cleanup": frozenset(
        {
            "approvals", "apps", "auth", "aws", "capabilities", "clock", "crypto", "devices",
            "errors", "ids", "interactions", "managed_ntfy", "notifications", "observability",
            "outbound", "policy", "queues", "rate_limits", "retry_policy", "sealing", "settings",
            "snapstart", "storage", "urls", "vapid_subject", "worker",
        }
    ),
    "approvals": frozenset(
        {
            "api", "approvals", "apps", "audit", "auth", "aws", "capabilities", "clock", "crypto",
            "devices", "errors", "ids", "interactions", "managed_ntfy", "notifications",
            "observability", "outbound", "params", "policy", "queues", "rate_limits", "receipts",
            "retry_policy", "sealing", "settings", "snapstart", "storage", "urls", "vapid_subject",
        }
    ),
    "decisions": frozenset(
        {
            "api", "approvals", "apps", "audit", "auth", "aws", "capabilities", "clock", "devices",
            "errors", "ids", "interactions", "notifications", "observability", "params", "policy",
            "queues", "rate_limits", "receipts", "retry_policy", "settings", "snapstart", "storage",
            "vapid_subject",
        }
    ),
    "interactions": frozenset(
        {
            "api", "approvals", "apps", "auth", "aws", "capabilities", "clock", "devices", "errors",
            "ids", "interactions", "notifications", "observability", "params", "policy", "queues",
            "rate_limits", "receipts", "retry_policy", "settings", "snapstart", "storage",
            "vapid_subject",
        }
    ),
    # Static files and its configuration: the resolver, settings, nothing of the domain.
    "console": frozenset(
        {"api", "console", "errors", "observability", "settings", "snapstart", "vapid_subject"}
    ),
    # A page of devices, the quota and two queues: no provider client, no outbound HTTP.
    "broadcast_fanout": frozenset(
        {
            "approvals", "apps", "auth", "aws", "broadcasts", "clock", "crypto", "devices",
            "errors", "ids", "notifications", "observability", "policy", "queues", "retry_policy",
            "settings", "snapstart", "storage", "urls", "vapid_subject", "worker",
        }
    ),
    "approval_timeouts": frozenset(
        {
            "approvals", "apps", "audit", "auth", "aws", "capabilities", "clock", "devices",
            "errors", "ids", "interactions", "notifications", "observability", "policy", "queues",
            "rate_limits", "receipts", "retry_policy", "settings", "snapstart", "storage",
            "vapid_subject", "worker",
        }
    ),
}  # fmt: skip
# What a function must never load, with why: the receipts function signs and POSTs, so no
# provider client and no key parsing (it loaded both through a Retry-After parser once).
NEVER_LOADED: dict[str, dict[str, str]] = {
    "receipts": {
        "providers": "receipts only POST to webhooks: no FCM, Web Push or ntfy client",
        "crypto": "receipts sign with HMAC (receipts.signing): no key parsing",
        "devices": "receipts name devices by id only",
        "takos": "receipts have nothing to do with gateway clients",
    },
    # pushgate.params builds a parameter's annotation on first use, so a function loads only
    # the model modules of the parameters its routes take.
    "unregister": {
        "takos": "removing a device takes no gateway-client parameter",
        "approvals": "removing a device takes no approval parameter",
    },
}
_PROBE = (
    "import json, sys; sys.path[:0] = {paths!r}; import app; print(json.dumps(sorted(sys.modules)))"
)


@functools.cache
def _modules_loaded_by(function: str) -> list[str]:
    folder = REPO / "functions" / function
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE.format(paths=[str(folder), str(REPO / "layers/pushgate")])],
        cwd=folder,
        env={"AWS_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "1", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.splitlines()[-1])


def _under(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


def _pushgate_packages(modules: list[str]) -> set[str]:
    return {m.split(".")[1] for m in modules if m.startswith("pushgate.")}


def test_imports_table_has_a_row_per_function():
    functions = {
        path.name for path in (REPO / "functions").iterdir() if (path / "app.py").is_file()
    }

    assert set(PUSHGATE_PACKAGES) == functions


@pytest.mark.parametrize("function", sorted(PUSHGATE_PACKAGES))
def test_imports_function_loads_exactly_its_pushgate_packages(function):
    expected = PUSHGATE_PACKAGES[function]

    loaded = _pushgate_packages(_modules_loaded_by(function))

    assert loaded == expected, (
        f"functions/{function}: loads {sorted(loaded - expected)} beyond its row, no longer "
        f"loads {sorted(expected - loaded)}; cut the import that drags them in, or update "
        "PUSHGATE_PACKAGES"
    )


@pytest.mark.parametrize(
    ("function", "package"),
    [
        pytest.param(function, package, id=f"{function}-{package}")
        for function, packages in NEVER_LOADED.items()
        for package in packages
    ],
)
def test_imports_function_never_loads_what_it_does_not_need(function, package):
    assert package not in _pushgate_packages(_modules_loaded_by(function)), NEVER_LOADED[function][
        package
    ]


@pytest.mark.parametrize("function", WORKERS)
def test_imports_sqs_workers_load_no_http_machinery(function):
    modules = _modules_loaded_by(function)

    assert "pushgate.worker" in modules
    assert _under(modules, NOT_IN_WORKERS) == []


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_imports_http_functions_load_no_batch_processor(function):
    modules = _modules_loaded_by(function)

    assert "pushgate.api" in modules
    assert _under(modules, NOT_IN_HTTP_FUNCTIONS) == []


@pytest.mark.parametrize("function", ["decisions", "interactions"])
def test_imports_capability_url_functions_load_no_token_verifier(function):
    """Their routes take no bearer token (the URL is the capability): no PyJWT at all."""
    modules = _modules_loaded_by(function)

    assert _under(modules, ("jwt", "pushgate.auth.tokens")) == []


def test_imports_the_console_function_loads_no_token_verifier_and_no_domain():
    """It takes no bearer token (the console's browser code sends the user's to the API):
    no PyJWT, no token verifier, no storage."""
    modules = _modules_loaded_by("console")

    assert _under(modules, ("jwt", "pushgate.auth", "pushgate.storage", "pynamodb")) == []


def test_imports_every_pushgate_model_builds_on_first_use():
    """Building a pydantic model's schema at class creation was the largest part of
    pushgate's own cold start: every model defers it to its first use (`defer_build=True`)."""
    import importlib
    import pkgutil

    from pydantic import BaseModel

    import pushgate

    eager = []
    for info in pkgutil.walk_packages(pushgate.__path__, "pushgate."):
        module = importlib.import_module(info.name)
        eager += [
            f"{info.name}.{value.__name__}"
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, BaseModel)
            and value.__module__ == info.name
            and not value.model_config.get("defer_build")
        ]

    assert eager == []
