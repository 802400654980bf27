"""What each function may do in AWS, read from template.yaml as SAM expands it (the local
emulator does not enforce IAM, so nothing else would notice a grant too many): every
DynamoDB, KMS, SQS and Secrets Manager action of every function, pinned, and the conditions
that keep functions other than config from writing any attribute of any app."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("dynamodb:", "kms:", "sqs:", "secretsmanager:")
DEVICE_COUNT = ["app_id", "device_count"]
GATEWAY_ROWS = ["takos:*", "instance#*"]
DELIVERY_STATS = ["counter_key", "delivered", "failed", "invalid_token", "expired", "expires_at"]
BROADCAST_COUNTS = ["broadcast_key", "delivered", "failed", "invalid_token", "expired"]

# (action, resource) -> condition, for every grant the function needs: read from each code
# path (PynamoDB get = GetItem, save = PutItem, update = UpdateItem, delete = DeleteItem,
# batch_get = BatchGetItem, a GSI query = Query on table/index/<name>, a scan = Scan on the
# table or table/index/<name>; transactions need the per-item actions).
ALLOWED: dict[str, dict[tuple[str, str], Any]] = {
    "ConfigFunction": {
        ("dynamodb:GetItem", "AppsTable"): None,
        ("dynamodb:UpdateItem", "AppsTable"): None,  # the owner of app configuration
        ("dynamodb:DeleteItem", "AppsTable"): {
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["instance#*"]}
        },
        ("dynamodb:Scan", "AppsTable"): None,  # GET /push/apps
        ("dynamodb:BatchGetItem", "AppsTable"): None,  # a page of instances' tenant apps
        ("dynamodb:Scan", "AppsTable/index/instances"): None,  # GET /push/instances
        ("dynamodb:GetItem", "CountersTable"): None,
        ("dynamodb:BatchGetItem", "CountersTable"): None,  # a page's counts, delivery stats
        ("dynamodb:Query", "DevicesTable/index/by_app"): None,
        ("kms:Encrypt", "FieldEncryptionKey"): None,
        ("kms:Decrypt", "FieldEncryptionKey"): None,
        ("sqs:SendMessage*", "NtfyCleanupQueue"): None,  # an app's disable
    },
    "RegisterFunction": {
        ("dynamodb:GetItem", "AppsTable"): None,
        ("dynamodb:UpdateItem", "AppsTable"): [
            {"ForAllValues:StringEquals": {"dynamodb:Attributes": DEVICE_COUNT}},
            {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": GATEWAY_ROWS}},
        ],
        ("dynamodb:GetItem", "DevicesTable"): None,
        ("dynamodb:PutItem", "DevicesTable"): None,
        ("dynamodb:UpdateItem", "DevicesTable"): None,
        ("dynamodb:DeleteItem", "DevicesTable"): None,
        ("dynamodb:Query", "DevicesTable/index/by_user"): None,
        ("dynamodb:GetItem", "CountersTable"): None,
        ("dynamodb:PutItem", "CountersTable"): None,
        ("dynamodb:PutItem", "NoncesTable"): None,
        ("dynamodb:GetItem", "NtfyChannelsTable"): None,  # a managed channel's device trimmed
        ("kms:Encrypt", "FieldEncryptionKey"): None,
        ("kms:GenerateMac", "TokenHashKey"): None,
        ("sqs:SendMessage*", "NtfyCleanupQueue"): None,
    },
    "UnregisterFunction": {
        ("dynamodb:GetItem", "DevicesTable"): None,
        ("dynamodb:DeleteItem", "DevicesTable"): None,
        ("dynamodb:UpdateItem", "AppsTable"): [
            {"ForAllValues:StringEquals": {"dynamodb:Attributes": DEVICE_COUNT}}
        ],
        ("dynamodb:GetItem", "NtfyChannelsTable"): None,  # a managed channel's device removed
        ("sqs:SendMessage*", "NtfyCleanupQueue"): None,
    },
    "SendFunction": {
        ("dynamodb:GetItem", "AppsTable"): None,
        ("dynamodb:UpdateItem", "AppsTable"): [
            {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": GATEWAY_ROWS}}
        ],
        ("dynamodb:GetItem", "CountersTable"): None,
        ("dynamodb:PutItem", "CountersTable"): None,
        ("dynamodb:UpdateItem", "CountersTable"): None,
        ("dynamodb:GetItem", "NotificationsTable"): None,
        ("dynamodb:PutItem", "NotificationsTable"): None,
        ("dynamodb:BatchGetItem", "NotificationsTable"): None,  # a status's interactions
        ("dynamodb:GetItem", "IdempotencyTable"): None,
        ("dynamodb:PutItem", "IdempotencyTable"): None,
        ("dynamodb:UpdateItem", "IdempotencyTable"): None,
        ("dynamodb:DeleteItem", "IdempotencyTable"): None,
        ("dynamodb:PutItem", "NoncesTable"): None,
        ("dynamodb:GetItem", "NoncesTable"): None,
        ("dynamodb:DeleteItem", "NoncesTable"): None,
        # A broadcast with its app's lock (start, undo, read, cancel).
        ("dynamodb:GetItem", "BroadcastsTable"): None,
        ("dynamodb:PutItem", "BroadcastsTable"): None,
        ("dynamodb:UpdateItem", "BroadcastsTable"): None,
        ("dynamodb:DeleteItem", "BroadcastsTable"): None,
        ("kms:Encrypt", "FieldEncryptionKey"): None,
        ("kms:Decrypt", "FieldEncryptionKey"): None,
        ("sqs:SendMessage*", "DeliveryQueue"): None,
        ("sqs:SendMessage*", "BroadcastQueue"): None,  # a broadcast's first page
    },
    "DeliverFunction": {
        ("dynamodb:GetItem", "AppsTable"): None,
        ("dynamodb:UpdateItem", "AppsTable"): [
            {"ForAllValues:StringEquals": {"dynamodb:Attributes": DEVICE_COUNT}}
        ],
        ("dynamodb:BatchGetItem", "DevicesTable"): None,
        ("dynamodb:DeleteItem", "DevicesTable"): None,
        ("dynamodb:Query", "DevicesTable/index/by_user"): None,
        ("dynamodb:BatchGetItem", "NotificationsTable"): None,  # a batch's outcomes so far
        ("dynamodb:PutItem", "NotificationsTable"): None,
        ("dynamodb:UpdateItem", "NotificationsTable"): None,
        ("dynamodb:UpdateItem", "CountersTable"): {  # hourly delivery statistics only
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["stats#*"]},
            "ForAllValues:StringEquals": {"dynamodb:Attributes": DELIVERY_STATS},
        },
        ("dynamodb:UpdateItem", "BroadcastsTable"): {  # broadcasts' outcome counts only
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["brd_*"]},
            "ForAllValues:StringEquals": {"dynamodb:Attributes": BROADCAST_COUNTS},
        },
        ("kms:Decrypt", "FieldEncryptionKey"): None,
        ("sqs:SendMessage*", "DeliveryQueue"): None,
        ("sqs:SendMessage*", "ReceiptQueue"): None,
        ("secretsmanager:GetSecretValue", "FcmCredentialsSecretArn"): None,  # when set
        ("secretsmanager:GetSecretValue", "NtfyPublishTokenSecretArn"): None,  # when set
        ("kms:GenerateMac", "TokenHashKey"): None,  # decision-token keys, interactions' key
    },
    "ReceiptsFunction": {
        ("dynamodb:GetItem", "AppsTable"): None,
        ("dynamodb:UpdateItem", "AppsTable"): [
            {
                "ForAllValues:StringEquals": {
                    "dynamodb:Attributes": [
                        "app_id",
                        "webhook_url",
                        "webhook_disabled_at",
                        "webhook_disabled_reason",
                    ]
                }
            }
        ],
        ("kms:Decrypt", "FieldEncryptionKey"): None,
        ("sqs:SendMessage*", "ReceiptQueue"): None,
        ("sqs:SendMessage*", "ReceiptDLQ"): None,
    },
    "NtfyFunction": {
        ("dynamodb:GetItem", "AppsTable"): None,
        ("dynamodb:UpdateItem", "AppsTable"): [
            {"ForAllValues:StringEquals": {"dynamodb:Attributes": DEVICE_COUNT}}
        ],
        ("dynamodb:GetItem", "DevicesTable"): None,
        ("dynamodb:PutItem", "DevicesTable"): None,
        ("dynamodb:UpdateItem", "DevicesTable"): None,
        ("dynamodb:DeleteItem", "DevicesTable"): None,
        ("dynamodb:Query", "DevicesTable/index/by_user"): None,
        ("dynamodb:GetItem", "NtfyChannelsTable"): None,
        ("dynamodb:PutItem", "NtfyChannelsTable"): None,
        ("dynamodb:UpdateItem", "NtfyChannelsTable"): None,
        ("dynamodb:DeleteItem", "NtfyChannelsTable"): None,
        ("dynamodb:GetItem", "CountersTable"): None,
        ("dynamodb:PutItem", "CountersTable"): None,
        ("dynamodb:UpdateItem", "CountersTable"): None,
        ("dynamodb:PutItem", "NotificationsTable"): None,
        ("kms:Encrypt", "FieldEncryptionKey"): None,
        ("kms:Decrypt", "FieldEncryptionKey"): None,
        ("kms:GenerateMac", "TokenHashKey"): None,
        ("sqs:SendMessage*", "DeliveryQueue"): None,  # a test notification
        ("sqs:SendMessage*", "NtfyCleanupQueue"): None,  # a set-up that could not be undone
        ("secretsmanager:GetSecretValue", "NtfyAdminTokenSecretArn"): None,  # when set
    },
    "ApprovalsFunction": {
        ("dynamodb:GetItem", "AppsTable"): None,
        ("dynamodb:Query", "DevicesTable/index/by_user"): None,
        ("dynamodb:GetItem", "ApprovalsTable"): None,
        ("dynamodb:PutItem", "ApprovalsTable"): None,
        ("dynamodb:UpdateItem", "ApprovalsTable"): None,
        ("dynamodb:DeleteItem", "ApprovalsTable"): None,
        ("dynamodb:UpdateItem", "CountersTable"): None,
        ("dynamodb:PutItem", "NotificationsTable"): None,
        ("dynamodb:GetItem", "IdempotencyTable"): None,
        ("dynamodb:PutItem", "IdempotencyTable"): None,
        ("dynamodb:UpdateItem", "IdempotencyTable"): None,
        ("dynamodb:DeleteItem", "IdempotencyTable"): None,
        ("sqs:SendMessage*", "DeliveryQueue"): None,
        ("sqs:SendMessage*", "ApprovalTimeoutQueue"): None,
        ("sqs:SendMessage*", "ReceiptQueue"): None,
    },
    "DecisionsFunction": {
        ("dynamodb:GetItem", "ApprovalsTable"): None,
        ("dynamodb:UpdateItem", "ApprovalsTable"): None,
        ("dynamodb:GetItem", "CountersTable"): None,
        ("dynamodb:PutItem", "CountersTable"): None,
        ("dynamodb:GetItem", "AppsTable"): None,
        ("dynamodb:GetItem", "NotificationsTable"): None,
        ("kms:GenerateMac", "TokenHashKey"): None,
        ("sqs:SendMessage*", "ReceiptQueue"): None,
        ("sqs:SendMessage*", "DeliveryQueue"): None,
    },
    "InteractionsFunction": {
        ("dynamodb:GetItem", "NotificationsTable"): None,
        ("dynamodb:UpdateItem", "NotificationsTable"): None,
        ("dynamodb:GetItem", "CountersTable"): None,
        ("dynamodb:PutItem", "CountersTable"): None,
        ("dynamodb:GetItem", "AppsTable"): None,
        ("dynamodb:GetItem", "DevicesTable"): None,
        ("kms:GenerateMac", "TokenHashKey"): None,
        ("sqs:SendMessage*", "ReceiptQueue"): None,
    },
    "ApprovalTimeoutsFunction": {
        ("dynamodb:GetItem", "ApprovalsTable"): None,
        ("dynamodb:UpdateItem", "ApprovalsTable"): None,
        ("dynamodb:GetItem", "AppsTable"): None,
        ("dynamodb:GetItem", "NotificationsTable"): None,
        ("sqs:SendMessage*", "ApprovalTimeoutQueue"): None,
        ("sqs:SendMessage*", "ReceiptQueue"): None,
        ("sqs:SendMessage*", "DeliveryQueue"): None,
    },
    "BroadcastFanoutFunction": {
        ("dynamodb:GetItem", "AppsTable"): None,
        ("dynamodb:Query", "DevicesTable/index/by_app"): None,
        ("dynamodb:GetItem", "CountersTable"): {  # the daily quota only
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["quota#*"]}
        },
        ("dynamodb:UpdateItem", "CountersTable"): {
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["quota#*"]}
        },
        ("dynamodb:PutItem", "NotificationsTable"): None,  # a page's send-request item
        ("dynamodb:GetItem", "BroadcastsTable"): None,
        ("dynamodb:UpdateItem", "BroadcastsTable"): None,
        ("dynamodb:DeleteItem", "BroadcastsTable"): None,  # the app's lock, released
        ("sqs:SendMessage*", "DeliveryQueue"): None,
        ("sqs:SendMessage*", "BroadcastQueue"): None,  # the next page
    },
    "ConsoleFunction": {},  # static files and its configuration: logs only
    "NtfyCleanupFunction": {
        ("dynamodb:UpdateItem", "AppsTable"): [
            {"ForAllValues:StringEquals": {"dynamodb:Attributes": DEVICE_COUNT}}
        ],
        ("dynamodb:GetItem", "DevicesTable"): None,
        ("dynamodb:DeleteItem", "DevicesTable"): None,
        ("dynamodb:GetItem", "NtfyChannelsTable"): None,
        ("dynamodb:UpdateItem", "NtfyChannelsTable"): None,
        ("dynamodb:DeleteItem", "NtfyChannelsTable"): None,
        ("dynamodb:Query", "NtfyChannelsTable/index/by_app"): None,
        ("kms:GenerateMac", "TokenHashKey"): None,
        ("sqs:SendMessage*", "NtfyCleanupQueue"): None,  # the rest of a long removal
        ("secretsmanager:GetSecretValue", "NtfyAdminTokenSecretArn"): None,  # when set
    },
}


@cache
def _expanded() -> dict[str, Any]:
    """template.yaml translated by SAM (as `sam deploy` would) into CloudFormation."""
    template = yaml_parse((REPO / "template.yaml").read_text())
    for resource in template["Resources"].values():
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):  # what `sam package` replaces
            if isinstance(properties.get(key), str):
                properties[key] = "s3://bucket/key"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    saved = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    try:
        return transform(template, {"VapidSubject": "mailto:ops@pushgate.dev"}, NoManagedPolicies())
    finally:
        if saved is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = saved


def _statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every statement of a policy document, both branches of an Fn::If included."""
    if isinstance(node, dict):
        if "Effect" in node and "Action" in node:
            yield node
            return
        for value in node.values():
            yield from _statements(value)
    elif isinstance(node, list):
        for item in node:
            yield from _statements(item)


def _names(node: Any) -> list[str]:
    """The logical ids and parameters a resource expression refers to."""
    if isinstance(node, dict):
        if "Ref" in node:
            return [node["Ref"]]
        if "Fn::GetAtt" in node:
            return [node["Fn::GetAtt"][0]]
        if "Fn::Sub" in node:
            text, variables = (
                node["Fn::Sub"] if isinstance(node["Fn::Sub"], list) else (node["Fn::Sub"], {})
            )
            names = [name for value in variables.values() for name in _names(value)]
            if not names and text.startswith("${"):
                names = [text[2:].split("}")[0].split(".")[0]]
            suffix = text.split("/index/", 1)[1] if "/index/" in text else None
            return [f"{name}/index/{suffix}" if suffix else name for name in names]
        return [name for value in node.values() for name in _names(value)]
    if isinstance(node, list):
        return [name for item in node for name in _names(item)]
    return []


def function_grants(function: str) -> dict[tuple[str, str], list[Any]]:
    """(action, resource) -> the conditions of the statements granting it (None: none)."""
    role = _expanded()["Resources"][f"{function}Role"]["Properties"]
    grants: dict[tuple[str, str], list[Any]] = {}
    for statement in _statements(role.get("Policies") or []):
        actions = statement["Action"]
        for action in actions if isinstance(actions, list) else [actions]:
            if not action.startswith(SERVICES):
                continue
            resources = statement["Resource"]
            for resource in resources if isinstance(resources, list) else [resources]:
                for name in _names(resource):
                    conditions = grants.setdefault((action, name), [])
                    conditions.append(statement.get("Condition"))
    return grants


@pytest.mark.parametrize("function", sorted(ALLOWED))
def test_template_grants_each_function_exactly_what_its_code_uses(function: str) -> None:
    granted = {
        key: (None if conds == [None] else conds)
        for key, conds in function_grants(function).items()
    }
    expected = {
        key: (value if value is None or isinstance(value, list) else [value])
        for key, value in ALLOWED[function].items()
    }

    assert granted == expected


def test_template_never_lets_register_decrypt_nor_deliver_or_unregister_put_devices() -> None:
    register, deliver, unregister = (
        function_grants(f) for f in ("RegisterFunction", "DeliverFunction", "UnregisterFunction")
    )

    assert ("kms:Decrypt", "FieldEncryptionKey") not in register
    assert ("dynamodb:PutItem", "DevicesTable") not in deliver
    assert ("dynamodb:PutItem", "DevicesTable") not in unregister


APPS_WRITERS = sorted(
    function
    for function, grants in ALLOWED.items()
    if function != "ConfigFunction"
    and any(r == "AppsTable" and a != "dynamodb:GetItem" for a, r in grants)
)


@pytest.mark.parametrize("function", APPS_WRITERS)
def test_template_conditions_every_apps_write_outside_the_config_function(function: str) -> None:
    grants = function_grants(function)
    writes = [
        conditions
        for (action, resource), conditions in grants.items()
        if resource == "AppsTable" and action != "dynamodb:GetItem"
    ]

    assert writes
    assert all(condition is not None for conditions in writes for condition in conditions)


def test_template_throttles_each_unauthenticated_route() -> None:
    stage = next(
        resource["Properties"]
        for resource in _expanded()["Resources"].values()
        if resource["Type"] == "AWS::ApiGatewayV2::Stage"
    )
    limits = {
        "ThrottlingBurstLimit": {"Ref": "PublicRouteBurstLimit"},
        "ThrottlingRateLimit": {"Ref": "PublicRouteRateLimit"},
    }

    interaction_limits = {
        "ThrottlingBurstLimit": {"Ref": "InteractionRouteBurstLimit"},
        "ThrottlingRateLimit": {"Ref": "InteractionRouteRateLimit"},
    }

    assert stage["RouteSettings"] == {
        "GET /push/vapid-public-key/{app_id}": limits,
        "POST /push/register": limits,
        "POST /push/webhook": limits,
        "POST /internal/push/events": limits,
        "POST /push/approvals/{approval_id}/decisions/{token}": limits,
        # Every delivered push reports here: limits of their own, the preflight's too.
        "POST /push/notifications/{notification_id}/interactions/{token}": interaction_limits,
        "OPTIONS /push/notifications/{notification_id}/interactions/{token}": interaction_limits,
    }


@pytest.mark.parametrize(
    ("function", "parameter", "condition"),
    [
        ("DeliverFunction", "DeliverReservedConcurrency", "ReservesDeliverConcurrency"),
        ("ReceiptsFunction", "ReceiptsReservedConcurrency", "ReservesReceiptsConcurrency"),
    ],
)
def test_template_reserves_worker_concurrency_only_when_asked(function, parameter, condition):
    expanded = _expanded()
    properties = expanded["Resources"][function]["Properties"]

    assert properties["ReservedConcurrentExecutions"] == {
        "Fn::If": [condition, {"Ref": parameter}, {"Ref": "AWS::NoValue"}]
    }
    assert expanded["Parameters"][parameter]["Default"] == 0


def test_template_gives_the_console_function_logs_and_nothing_else() -> None:
    role = _expanded()["Resources"]["ConsoleFunctionRole"]["Properties"]

    assert role["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    ]
    assert "Policies" not in role


def test_template_leaves_cors_to_the_browser_facing_functions():
    """An API-wide CORS configuration would answer every route's preflight itself and drop
    the functions' headers: the routes browsers call from tenants' pages (register and
    remove a device, report an interaction) answer CORS themselves (any origin, no
    credentials) through OPTIONS routes of their own; every other token-bearing route stays
    same-origin."""
    resources = _expanded()["Resources"]
    api = resources["PushApi"]["Properties"]
    with_options = {
        path: re.search(
            r"\$\{\w+\}", item["options"]["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        ).group()
        for path, item in api["Body"]["paths"].items()
        if "options" in item
    }

    assert "CorsConfiguration" not in api
    assert "x-amazon-apigateway-cors" not in api["Body"]
    assert with_options == {
        "/push/devices/register": "${RegisterFunctionAliaslive}",
        "/push/devices/{device_id}": "${UnregisterFunctionAliaslive}",
        "/push/notifications/{notification_id}/interactions/{token}": (
            "${InteractionsFunctionAliaslive}"
        ),
    }


def test_template_invokes_every_function_through_its_published_alias():
    """SnapStart applies to published versions only: every API route and every SQS event
    source mapping invokes a function's `live` alias, never $LATEST."""
    resources = _expanded()["Resources"]
    functions = {k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"}
    uris = {
        method["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        for item in resources["PushApi"]["Properties"]["Body"]["paths"].values()
        for method in item.values()
        if isinstance(method, dict) and "x-amazon-apigateway-integration" in method
    }
    mappings = [v for v in resources.values() if v["Type"] == "AWS::Lambda::EventSourceMapping"]
    permissions = [v for v in resources.values() if v["Type"] == "AWS::Lambda::Permission"]

    assert {f"{k}Aliaslive" for k in functions} <= set(resources)
    workers = {m["Properties"]["FunctionName"]["Ref"].removesuffix("Aliaslive") for m in mappings}
    assert {re.search(r"functions/\$\{(\w+)\}/", uri).group(1) for uri in uris} == {
        f"{k}Aliaslive" for k in functions - workers
    }
    assert sorted(m["Properties"]["FunctionName"]["Ref"] for m in mappings) == [
        "ApprovalTimeoutsFunctionAliaslive",
        "BroadcastFanoutFunctionAliaslive",
        "DeliverFunctionAliaslive",
        "NtfyCleanupFunctionAliaslive",
        "ReceiptsFunctionAliaslive",
    ]
    assert {p["Properties"]["FunctionName"]["Ref"] for p in permissions} <= {
        f"{k}Aliaslive" for k in functions
    }


def test_template_snapstart_is_a_parameter_off_by_default():
    """Enabled, every function's published versions get SnapStart; Disabled (the default:
    SnapStart's caching charge runs whether or not cold starts happen), none do."""
    template = yaml_parse((REPO / "template.yaml").read_text())
    functions = [
        v for v in _expanded()["Resources"].values() if v["Type"] == "AWS::Lambda::Function"
    ]

    assert template["Parameters"]["SnapStart"]["AllowedValues"] == ["Enabled", "Disabled"]
    assert template["Parameters"]["SnapStart"]["Default"] == "Disabled"
    assert template["Conditions"]["SnapStartEnabled"] == {
        "Fn::Equals": [{"Ref": "SnapStart"}, "Enabled"]
    }
    assert len(functions) == 14
    assert {json.dumps(f["Properties"]["SnapStart"]) for f in functions} == {
        json.dumps({"ApplyOn": {"Fn::If": ["SnapStartEnabled", "PublishedVersions", "None"]}})
    }
    assert {f["Properties"]["Runtime"] for f in functions} == {"python3.13"}
    assert {tuple(f["Properties"]["Architectures"]) for f in functions} == {("arm64",)}
    # What SnapStart does not support: provisioned concurrency, EFS, ephemeral storage > 512 MB.
    assert [
        f for f in functions if {"FileSystemConfigs", "EphemeralStorage"} & set(f["Properties"])
    ] == []
    assert [
        k
        for k, v in _expanded()["Resources"].items()
        if "ProvisionedConcurrencyConfig" in (v.get("Properties") or {})
    ] == []
