"""The local stack itself, over real HTTP: resources from the template, API Gateway routing
and events, Lambda-like workers, the dev issuer, SQS pollers and the CLI.

Function behaviour comes from the test-only bundle in tests/fixtures/local_stack/, never
from the real functions (which have their own tests)."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import boto3
import httpx
import jwt
import pytest

from local.cfn import TemplateError, load_template
from local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local-stack")]

REPO = Path(__file__).resolve().parents[2]
FIXTURE_TEMPLATE = REPO / "tests" / "fixtures" / "local_stack" / "template.yaml"
SIX_MB = 6 * 1024 * 1024

T = TypeVar("T")


def eventually(check: Callable[[], T | None], timeout: float = 15, interval: float = 0.1) -> T:
    """Polls `check` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture(scope="module")
def batch_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("batch") / "records.jsonl"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, batch_log: Path) -> Iterator[LocalStack]:
    """The fixture bundle running locally (echo, faulty and SQS batch functions), started
    while the caller's environment has two PUSHGATE_* variables."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUSHGATE_FROM_PARENT", "parent")
        patch.setenv("PUSHGATE_GREETING", "parent")
        running = LocalStack(
            template_path=FIXTURE_TEMPLATE,
            env={"BATCH_LOG_PATH": str(batch_log), "EXTRA_SETTING": "from-env"},
            log_dir=tmp_path_factory.mktemp("logs"),
            stack_name="local-stack-tests",
        ).start()
    with running:
        yield running


@pytest.fixture(scope="module")
def http(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        yield client


def _echo(http: httpx.Client, path: str, **kwargs: Any) -> dict[str, Any]:
    response = http.request(kwargs.pop("method", "GET"), path, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


# ------------------------------------------------------------------ resources from the template


def _declared(template_path: Path, resource_type: str) -> dict[str, dict[str, Any]]:
    template = load_template(template_path)
    return {
        logical_id: resource.get("Properties") or {}
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == resource_type and "Condition" not in resource
    }


def _key_schema(items: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(item["AttributeName"], item["KeyType"]) for item in items]


def test_emulator_has_every_template_table_with_its_keys_indexes_and_ttl(
    local_stack: LocalStack,
) -> None:
    dynamodb = local_stack.client("dynamodb")
    tables = _declared(REPO / "template.yaml", "AWS::DynamoDB::Table")
    assert tables
    for logical_id, props in tables.items():
        name = local_stack.resources[logical_id]
        description = dynamodb.describe_table(TableName=name)["Table"]
        assert _key_schema(description["KeySchema"]) == _key_schema(props["KeySchema"])
        indexes = {
            index["IndexName"]: _key_schema(index["KeySchema"])
            for index in description.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == {
            index["IndexName"]: _key_schema(index["KeySchema"])
            for index in props.get("GlobalSecondaryIndexes", [])
        }
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if "TimeToLiveSpecification" in props:
            assert ttl["TimeToLiveStatus"] == "ENABLED"
            assert ttl["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"]
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED"


def test_emulator_has_every_template_kms_key(local_stack: LocalStack) -> None:
    kms = local_stack.client("kms")
    keys = _declared(REPO / "template.yaml", "AWS::KMS::Key")
    assert keys
    for logical_id in keys:
        metadata = kms.describe_key(KeyId=local_stack.resources[logical_id])["KeyMetadata"]
        assert metadata["Enabled"] is True


def test_stack_gives_functions_the_resolved_globals_environment(local_stack: LocalStack) -> None:
    env = local_stack.environment()
    assert env["APPS_TABLE_NAME"] == local_stack.resources["AppsTable"]
    assert env["AWS_ENDPOINT_URL"] == local_stack.aws_url
    assert env["PUSHGATE_LOCAL"] == "1"


def test_aws_env_points_in_process_boto3_at_the_emulator(aws_env: dict[str, str]) -> None:
    dynamodb = boto3.client("dynamodb")
    table = dynamodb.describe_table(TableName=os.environ["APPS_TABLE_NAME"])["Table"]
    assert table["TableName"] == aws_env["APPS_TABLE_NAME"]
    assert os.environ["PUSHGATE_ALLOW_PRIVATE_URLS"] == "1"


def test_stack_creates_a_table_added_to_a_template_copy(tmp_path: Path) -> None:
    extra_table = (
        "Resources:\n"
        "  ExtraTable:\n"
        "    Type: AWS::DynamoDB::Table\n"
        "    Properties:\n"
        "      BillingMode: PAY_PER_REQUEST\n"
        "      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]\n"
        "      KeySchema: [{AttributeName: pk, KeyType: HASH}]\n"
    )
    copy = tmp_path / "template.yaml"
    original = (REPO / "template.yaml").read_text()
    assert original.count("\nResources:\n") == 1
    copy.write_text(original.replace("\nResources:\n", "\n" + extra_table))
    with LocalStack(template_path=copy, log_dir=tmp_path / "logs", stack_name="copy") as copied:
        name = copied.resources["ExtraTable"]
        description = copied.client("dynamodb").describe_table(TableName=name)["Table"]
    assert name.startswith("copy-ExtraTable-")
    assert _key_schema(description["KeySchema"]) == [("pk", "HASH")]


def test_stack_takes_template_parameters_from_the_variables_they_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUSHGATE_WEBPUSH_ALLOWED_HOSTS", "push.example.org")
    monkeypatch.setenv("PUSHGATE_DEFAULT_DAILY_QUOTA", "77")
    monkeypatch.setenv("PUSHGATE_ALLOW_PRIVATE_URLS", "0")  # the stack's own: ignored
    with LocalStack(
        log_dir=tmp_path / "logs", parameters={"DefaultDailyQuota": "55"}, stack_name="params"
    ) as stack:
        env = stack.environment("RegisterFunction")
        api = httpx.Client(base_url=stack.api_url, timeout=60)
        admin = {"authorization": f"Bearer {stack.mint_token('ops', scope='push:admin')}"}
        assert api.patch("/push/config/demo", headers=admin, json={"enabled": True}).is_success
        user = {"authorization": f"Bearer {stack.mint_token('u', aud=['demo'])}"}

        def register(endpoint: str) -> httpx.Response:
            body = {"app_id": "demo", "platform": "web", "push_token": {"endpoint": endpoint}}
            return api.post("/push/devices/register", headers=user, json=body)

        listed = register("https://eu.push.example.org/x")
        default_host = register("https://fcm.googleapis.com/fcm/send/x")

    assert env["PUSHGATE_WEBPUSH_ALLOWED_HOSTS"] == "push.example.org"
    assert env["PUSHGATE_DEFAULT_DAILY_QUOTA"] == "55"  # an explicit parameter wins
    assert env["PUSHGATE_ALLOW_PRIVATE_URLS"] == "1"
    assert listed.status_code == 201, listed.text
    assert default_host.status_code == 400, default_host.text
    assert default_host.json()["error"]["code"] == "unsafe_url"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_stack_refuses_a_broken_template_and_frees_its_ports(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(
        "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties: {X: !Ref Nope}\n"
    )
    port, aws_port = _free_port(), _free_port()
    with pytest.raises(TemplateError, match="Nope"):
        LocalStack(port=port, aws_port=aws_port, template_path=broken, log_dir=tmp_path).start()
    for freed in (port, aws_port):
        with socket.socket() as again:
            again.bind(("127.0.0.1", freed))


def test_emulator_creates_queues_with_their_redrive_policy(stack: LocalStack) -> None:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.resources["WorkQueue"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["VisibilityTimeout"] == "1"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": stack.get_att("WorkDeadLetterQueue", "Arn"),
        "maxReceiveCount": 2,
    }


def test_stack_skips_resources_whose_condition_is_false(stack: LocalStack) -> None:
    assert "ProdOnlyTable" not in stack.resources
    tables = stack.client("dynamodb").list_tables()["TableNames"]
    assert not any("ProdOnlyTable" in table for table in tables)


def test_stack_tolerates_resource_types_it_does_not_emulate(stack: LocalStack) -> None:
    assert stack.resources["WorkDeadLetterAlarm"].startswith("local-stack-tests-")


# ------------------------------------------------------------------ routing


def test_api_passes_path_parameters_to_the_function(http: httpx.Client) -> None:
    event = _echo(http, "/items/abc%20d")["event"]
    assert event["routeKey"] == "GET /items/{item_id}"
    assert event["pathParameters"] == {"item_id": "abc d"}


def test_api_prefers_the_most_specific_route(http: httpx.Client) -> None:
    assert _echo(http, "/items/special")["event"]["routeKey"] == "GET /items/special"
    assert _echo(http, "/items/7", method="PUT")["event"]["routeKey"] == "ANY /items/{item_id}"


def test_api_gives_greedy_paths_the_rest_of_the_path(http: httpx.Client) -> None:
    event = _echo(http, "/files/docs/a/b.txt")["event"]
    assert event["routeKey"] == "GET /files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "docs/a/b.txt"}


def test_api_answers_unknown_routes_with_404_json(http: httpx.Client) -> None:
    response = http.delete("/files/x")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "no route for DELETE /files/x"}
    }


def test_api_refuses_bodies_over_6_mb_with_413_json(http: httpx.Client) -> None:
    response = http.post("/echo", content=b"x" * (SIX_MB + 1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_api_refuses_chunked_bodies_over_6_mb_with_413_json(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(7):
            yield b"y" * (1024 * 1024)

    response = http.post("/echo", content=chunks())
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_api_accepts_a_body_of_exactly_6_mb(http: httpx.Client) -> None:
    event = _echo(http, "/echo", method="POST", content=b"z" * SIX_MB)["event"]
    assert len(event["body"]) == SIX_MB


def test_api_labels_every_response_with_an_apigw_request_id(http: httpx.Client) -> None:
    found, missing = http.get("/items/1"), http.get("/nowhere")
    assert found.headers["apigw-requestid"] == found.json()["event"]["requestContext"]["requestId"]
    assert missing.headers["apigw-requestid"]


def test_api_answers_keep_alive_requests_without_delayed_ack_stalls(http: httpx.Client) -> None:
    # With Nagle's algorithm on, each response's body waited for a delayed ACK (~40 ms).
    durations = []
    for _ in range(11):
        started = time.monotonic()
        http.get("/_local/health")
        durations.append(time.monotonic() - started)
    assert sorted(durations)[5] < 0.03


# ------------------------------------------------------------------ the v2.0 event and response


def test_api_sends_a_payload_v2_event(http: httpx.Client) -> None:
    event = _echo(
        http,
        "/items/42?a=1&a=2&b=",
        headers=[("X-Multi", "one"), ("X-Multi", "two"), ("Cookie", "c=1; d=2")],
    )["event"]
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/items/42"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["headers"]["x-multi"] == "one,two"
    assert event["cookies"] == ["c=1", "d=2"]
    assert event["isBase64Encoded"] is False
    assert event["stageVariables"] is None
    context = event["requestContext"]
    assert context["http"]["method"] == "GET"
    assert context["http"]["path"] == "/items/42"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["routeKey"] == "GET /items/{item_id}"
    assert context["stage"] == "$default"
    assert abs(context["timeEpoch"] / 1000 - time.time()) < 60
    assert {"accountId", "apiId", "domainName", "domainPrefix", "requestId", "time"} <= set(context)


def test_api_base64_encodes_binary_bodies(http: httpx.Client) -> None:
    event = _echo(
        http,
        "/echo",
        method="POST",
        content=b"\x00\xff binary",
        headers={"content-type": "application/octet-stream"},
    )["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\xff binary"


def test_api_passes_json_bodies_as_text(http: httpx.Client) -> None:
    event = _echo(http, "/echo", method="POST", json={"k": "v"})["event"]
    assert (json.loads(event["body"]), event["isBase64Encoded"]) == ({"k": "v"}, False)


def test_api_returns_results_without_status_code_as_200_json(http: httpx.Client) -> None:
    response = http.get("/items/1?shape=raw")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"pid"}


def test_api_turns_cookies_into_set_cookie_headers(http: httpx.Client) -> None:
    response = http.get("/items/1?shape=cookies")
    assert response.status_code == 204
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2; Path=/"]
    assert response.headers["x-n"] == "7"


def test_api_decodes_base64_results(http: httpx.Client) -> None:
    assert http.get("/items/1?shape=binary").content == b"\x00\x01\x02\xff"


# ------------------------------------------------------------------ workers


def test_worker_gets_the_template_environment_and_the_local_overrides(
    stack: LocalStack, http: httpx.Client
) -> None:
    env = _echo(http, "/items/1")["env"]
    assert env["SHARED"] == "from-function"  # the function's variable beats Globals'
    # The caller's PUSHGATE_GREETING gives the Greeting parameter that sets it, so every
    # variable fed by that parameter agrees.
    assert env["GREETING"] == env["PUSHGATE_GREETING"] == "parent"
    assert env["ITEMS_TABLE_NAME"] == stack.resources["ItemsTable"]
    assert env["WORK_QUEUE_ARN"] == stack.get_att("WorkQueue", "Arn")
    assert env["STACK_LABEL"] == "local-stack-tests/us-east-1/parent"
    assert env["EXTRA_SETTING"] == "from-env"
    assert env["PUSHGATE_FROM_PARENT"] == "parent"  # passed through from the caller
    assert env["AWS_ENDPOINT_URL"] == stack.aws_url
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == stack.resources["EchoFunction"]
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert "POWERTOOLS_TRACE_DISABLED" not in env  # traced as in Lambda
    assert env["AWS_XRAY_CONTEXT_MISSING"] == "LOG_ERROR"
    assert env["AWS_XRAY_DAEMON_ADDRESS"].startswith("127.0.0.1:")
    assert env["PUSHGATE_LOCAL"] == "1"
    assert env["PUSHGATE_ALLOW_PRIVATE_URLS"] == "1"
    assert json.loads(env["PUSHGATE_TRUSTED_ISSUERS"]) == [
        {
            "issuer": stack.issuer_url,
            "jwks_url": f"{stack.issuer_url}/jwks.json",
            "roles": ["user", "service", "admin"],
        },
        {
            "issuer": f"{stack.issuer_url}/second",
            "jwks_url": f"{stack.issuer_url}/second/jwks.json",
            "roles": ["user", "service"],
        },
    ]


def test_worker_sees_its_code_then_its_layer_on_sys_path(http: httpx.Client) -> None:
    facts = _echo(http, "/items/1")
    functions = FIXTURE_TEMPLATE.parent
    assert facts["sys_path"] == [str(functions / "functions" / "echo"), str(functions / "layer")]
    assert facts["layer"] == "from the layer"


def test_worker_context_describes_the_function(stack: LocalStack, http: httpx.Client) -> None:
    context = _echo(http, "/items/1")["context"]
    name = stack.resources["EchoFunction"]
    assert context["function_name"] == name
    assert context["invoked_function_arn"] == stack.get_att("EchoFunction", "Arn")
    assert context["memory_limit_in_mb"] == 256
    assert context["log_group_name"] == f"/aws/lambda/{name}"
    assert uuid.UUID(context["aws_request_id"])
    assert 3000 < context["remaining_ms"] <= 5000  # Globals say Timeout: 5 (the default is 3)


def test_worker_keeps_module_state_between_invocations(http: httpx.Client) -> None:
    first = _echo(http, "/items/1")
    second = _echo(http, "/items/1")
    assert second["pid"] == first["pid"]
    assert second["invocations"] == first["invocations"] + 1


def test_workers_run_concurrent_requests_in_separate_processes(http: httpx.Client) -> None:
    with ThreadPoolExecutor(4) as executor:
        # Given four warm workers (so slow process starts cannot stagger the measurement)
        list(executor.map(lambda _: _echo(http, "/items/1?sleep=0.5"), range(4)))
        # When four requests arrive at once
        results = list(executor.map(lambda _: _echo(http, "/items/1?sleep=1"), range(4)))
    # Then each ran in its own process, all at the same time
    assert len({result["pid"] for result in results}) == 4
    assert max(result["started"] for result in results) < min(result["ended"] for result in results)


def test_worker_crash_returns_502_json_and_the_next_request_works(http: httpx.Client) -> None:
    crashed = http.get("/faulty/exit")
    assert crashed.status_code == 502
    assert crashed.json()["error"]["code"] == "internal_error"
    assert http.get("/faulty/ok").status_code == 200


def test_worker_timeout_returns_502_json_and_the_next_request_works(http: httpx.Client) -> None:
    assert http.get("/faulty/ok").status_code == 200  # a warm worker: no cold-start allowance
    started = time.monotonic()
    timed_out = http.get("/faulty/overrun")
    assert timed_out.status_code == 502
    assert "Timedout" in timed_out.json()["error"]["message"]
    assert time.monotonic() - started < 5  # Timeout: 1, not the handler's 6 s sleep
    assert http.get("/faulty/ok").status_code == 200


def test_handler_exception_returns_502_json(http: httpx.Client) -> None:
    response = http.get("/faulty/raise")
    assert response.status_code == 502
    assert response.json()["error"] == {
        "code": "internal_error",
        "message": "FaultyFunction failed (RuntimeError); see its log for details",
    }


def test_malformed_result_returns_502_json(http: httpx.Client) -> None:
    response = http.get("/faulty/malformed")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "internal_error"


def test_worker_output_goes_to_the_function_log(stack: LocalStack, http: httpx.Client) -> None:
    marker = f"marker-{uuid.uuid4()}"
    _echo(http, f"/items/1?print={marker}")
    eventually(lambda: marker in stack.log_path("EchoFunction").read_text())


def test_stack_invokes_a_function_directly(stack: LocalStack) -> None:
    result = stack.invoke("EchoFunction", {"queryStringParameters": {"shape": "raw"}})
    assert set(result) == {"pid"}


# ------------------------------------------------------------------ development issuer


def test_issuer_token_verifies_against_the_published_jwks(
    stack: LocalStack, http: httpx.Client
) -> None:
    response = http.post("/_local/token", json={"sub": "ops", "scope": "push:admin", "aud": "a1"})
    assert response.status_code == 200
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    signing_key = jwt.PyJWKClient(f"{stack.issuer_url}/jwks.json").get_signing_key_from_jwt(
        body["access_token"]
    )
    claims = jwt.decode(
        body["access_token"],
        signing_key.key,
        algorithms=["ES256"],
        audience="a1",
        issuer=stack.issuer_url,
    )
    assert (claims["sub"], claims["scope"]) == ("ops", "push:admin")


def test_issuer_refuses_a_bad_token_request_with_400_json(http: httpx.Client) -> None:
    response = http.post("/_local/token", json={"scope": "push:admin"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_issuer_health_is_ok(http: httpx.Client) -> None:
    assert http.get("/_local/health").json() == {"status": "ok"}


def test_stack_mints_tokens_the_functions_would_trust(stack: LocalStack) -> None:
    token = stack.mint_token("user-1", aud=["app-1"], ttl=60)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "ES256"
    assert claims["iss"] == stack.issuer_url
    assert claims["exp"] - claims["iat"] == 60


# ------------------------------------------------------------------ SQS pollers


def _records(batch_log: Path, tag: str) -> list[dict[str, Any]]:
    if not batch_log.exists():
        return []
    lines = batch_log.read_text().splitlines()
    return [record for record in map(json.loads, lines) if tag in record["body"]]


def _send(stack: LocalStack, *bodies: str, **extra: Any) -> None:
    sqs = stack.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=stack.resources["WorkQueue"], MessageBody=body, **extra)


def test_poller_deletes_successes_and_redelivers_failures(
    stack: LocalStack, batch_log: Path
) -> None:
    tag = uuid.uuid4().hex
    _send(stack, f"ok-1-{tag}", f"ok-2-{tag}", f"fail-{tag}")

    def redelivered() -> list[dict[str, Any]]:
        records = _records(batch_log, tag)
        retried = [r for r in records if r["attributes"]["ApproximateReceiveCount"] == "2"]
        return records if retried else []

    records = eventually(redelivered)
    bodies = [record["body"] for record in records]
    assert bodies.count(f"ok-1-{tag}") == 1
    assert bodies.count(f"ok-2-{tag}") == 1
    assert {r["body"] for r in records if r["attributes"]["ApproximateReceiveCount"] == "2"} == {
        f"fail-{tag}"
    }


def test_poller_leaves_repeated_failures_to_the_dead_letter_queue(
    stack: LocalStack, batch_log: Path
) -> None:
    tag = uuid.uuid4().hex
    _send(stack, f"fail-{tag}")
    sqs = stack.client("sqs")
    dead_letter_url = stack.resources["WorkDeadLetterQueue"]

    def in_dead_letter_queue() -> bool:
        messages = sqs.receive_message(
            QueueUrl=dead_letter_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        return any(message["Body"] == f"fail-{tag}" for message in messages)

    eventually(in_dead_letter_queue, timeout=20)
    assert len(_records(batch_log, tag)) == 2  # maxReceiveCount


def test_poller_sends_lambdas_sqs_event(stack: LocalStack, batch_log: Path) -> None:
    tag = uuid.uuid4().hex
    _send(
        stack,
        f"ok-{tag}",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
    )
    (record,) = eventually(lambda: _records(batch_log, tag))
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == stack.get_att("WorkQueue", "Arn")
    assert record["awsRegion"] == "us-east-1"
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "test",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId"} <= set(record["attributes"])
    assert {"ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageId"]
    assert record["receiptHandle"]
    assert record["md5OfBody"]


# ------------------------------------------------------------------ the CLI (make run)


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "local", *args],
        cwd=REPO,
        env={**os.environ, "PUSHGATE_LOCAL_VERBOSE": "", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_reports_a_taken_port_and_exits_1() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        process = _cli({"PORT": str(port), "AWS_PORT": "0"})
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert stderr.strip() == f"error: port {port} is already in use; set PORT=... to use another"


def test_cli_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    process = _cli(
        {"PORT": "0", "AWS_PORT": "0"},
        "--template",
        str(FIXTURE_TEMPLATE),
        "--log-dir",
        str(tmp_path),
    )
    try:
        assert process.stdout is not None
        banner = []
        for line in process.stdout:
            banner.append(line)
            if "Ctrl-C to stop" in line:
                break
        api_url = next(line.split()[1] for line in banner if line.strip().startswith("API"))
        worker_pid = httpx.get(f"{api_url}/items/1", timeout=30).json()["pid"]
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGUSR1)  # the CLI dumps its threads' stacks
            time.sleep(1)
            process.kill()
            pytest.fail("still running 30 s after SIGINT:\n" + process.communicate()[1])
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "Traceback" not in stderr
    assert any("_local/token" in line for line in banner)
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)
