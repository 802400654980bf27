"""API Gateway behaviour: which route wins, the v2.0 event, and the v2.0 response rules."""

from __future__ import annotations

import base64
import json

import pytest

from local.apigw import (
    HttpRequest,
    MalformedResponseError,
    Router,
    build_event,
    to_http_response,
)
from local.template import HttpRoute

ROUTES = [
    HttpRoute("GET", "/items/{item_id}", "Item"),
    HttpRoute("GET", "/items/special", "Special"),
    HttpRoute("ANY", "/items/{item_id}", "AnyItem"),
    HttpRoute("GET", "/files/{proxy+}", "Files"),
    HttpRoute("GET", "/files/docs/{proxy+}", "Docs"),
    HttpRoute("POST", "/a/{x}/b", "Deep"),
]


def _route_key(method: str, path: str, routes: list[HttpRoute] = ROUTES) -> str | None:
    match = Router(routes).match(method, path)
    return match[0].route_key if match else None


def test_router_prefers_a_literal_segment_over_a_variable() -> None:
    assert _route_key("GET", "/items/special") == "GET /items/special"


def test_router_prefers_a_named_method_over_any() -> None:
    assert _route_key("GET", "/items/1") == "GET /items/{item_id}"
    assert _route_key("DELETE", "/items/1") == "ANY /items/{item_id}"


def test_router_prefers_the_longer_literal_prefix_for_greedy_paths() -> None:
    assert _route_key("GET", "/files/docs/readme.md") == "GET /files/docs/{proxy+}"
    assert _route_key("GET", "/files/img/a.png") == "GET /files/{proxy+}"


def test_router_decodes_path_parameters() -> None:
    match = Router(ROUTES).match("GET", "/files/a%20b/c")
    assert match is not None
    assert match[1] == {"proxy": "a b/c"}


def test_router_lets_a_greedy_segment_take_a_bare_trailing_slash_but_not_nothing() -> None:
    match = Router(ROUTES).match("GET", "/files/")

    assert match is not None
    assert (match[0].route_key, match[1]) == ("GET /files/{proxy+}", {"proxy": ""})
    assert _route_key("GET", "/files") is None


def test_router_matches_every_segment() -> None:
    assert _route_key("POST", "/a/1/b") == "POST /a/{x}/b"
    assert _route_key("POST", "/a/1/b/c") is None
    assert _route_key("POST", "/a/1") is None
    assert _route_key("POST", "/a//b") is None


def test_router_falls_back_to_the_default_route() -> None:
    routes = [*ROUTES, HttpRoute("ANY", "$default", "Fallback")]
    assert _route_key("PUT", "/nowhere", routes) == "$default"
    assert _route_key("GET", "/items/special", routes) == "GET /items/special"


def _request(**overrides: object) -> HttpRequest:
    fields: dict[str, object] = {
        "method": "POST",
        "target": "/items/42?b=2&a=1&a=3&empty=",
        "headers": [
            ("Host", "127.0.0.1:3000"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Cookie", "a=1; b=2"),
            ("User-Agent", "tests"),
            ("Content-Type", "application/json"),
        ],
        "body": b'{"k": "v"}',
        "source_ip": "127.0.0.9",
    }
    fields.update(overrides)
    return HttpRequest(**fields)  # type: ignore[arg-type]


def _event(request: HttpRequest) -> dict[str, object]:
    route = HttpRoute("ANY", "/items/{item_id}", "Item")
    return build_event(request, route, {"item_id": "42"}, api_id="api1", request_id="rid", now=1.5)


def test_event_has_the_v2_envelope() -> None:
    event = _event(_request())
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /items/{item_id}"
    assert event["rawPath"] == "/items/42"
    assert event["rawQueryString"] == "b=2&a=1&a=3&empty="
    assert event["pathParameters"] == {"item_id": "42"}
    assert event["stageVariables"] is None


def test_event_lower_cases_headers_and_joins_repeats_with_commas() -> None:
    headers = _event(_request())["headers"]
    assert isinstance(headers, dict)
    assert headers["x-multi"] == "one,two"
    assert headers["user-agent"] == "tests"
    assert headers["x-forwarded-for"] == "127.0.0.9"
    assert "cookie" not in headers


def test_event_moves_cookies_to_their_own_list() -> None:
    assert _event(_request())["cookies"] == ["a=1", "b=2"]


def test_event_joins_repeated_query_parameters_with_commas() -> None:
    assert _event(_request())["queryStringParameters"] == {"b": "2", "a": "1,3", "empty": ""}


def test_event_request_context_describes_the_call() -> None:
    context = _event(_request())["requestContext"]
    assert context == {
        "accountId": "123456789012",
        "apiId": "api1",
        "domainName": "127.0.0.1",
        "domainPrefix": "127.0.0.1",
        "http": {
            "method": "POST",
            "path": "/items/42",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.9",
            "userAgent": "tests",
        },
        "requestId": "rid",
        "routeKey": "ANY /items/{item_id}",
        "stage": "$default",
        "time": "01/Jan/1970:00:00:01 +0000",
        "timeEpoch": 1500,
    }


def test_event_keeps_text_bodies_as_text() -> None:
    event = _event(_request())
    assert event["body"] == '{"k": "v"}'
    assert event["isBase64Encoded"] is False


def test_event_base64_encodes_binary_content_types() -> None:
    headers = [("Content-Type", "application/octet-stream")]
    event = _event(_request(headers=headers, body=b"plain"))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(str(event["body"])) == b"plain"


def test_event_base64_encodes_bodies_that_are_not_utf8() -> None:
    event = _event(_request(headers=[("Content-Type", "text/plain")], body=b"\xff\xfe"))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(str(event["body"])) == b"\xff\xfe"


def test_event_omits_empty_optional_fields() -> None:
    event = _event(_request(target="/items/42", headers=[], body=b""))
    assert "body" not in event
    assert "cookies" not in event
    assert "queryStringParameters" not in event
    assert event["isBase64Encoded"] is False


def test_response_uses_status_headers_cookies_and_body() -> None:
    response = to_http_response(
        {
            "statusCode": 201,
            "headers": {"content-type": "text/plain", "x-count": 3},
            "cookies": ["a=1; Path=/"],
            "body": "made",
        }
    )
    assert response.status == 201
    assert ("x-count", "3") in response.headers
    assert ("set-cookie", "a=1; Path=/") in response.headers
    assert response.body == b"made"


def test_response_decodes_base64_bodies() -> None:
    response = to_http_response({"statusCode": 200, "body": "AAE=", "isBase64Encoded": True})
    assert response.body == b"\x00\x01"


def test_response_without_status_code_is_200_json_of_the_result() -> None:
    response = to_http_response({"hello": "world"})
    assert response.status == 200
    assert ("content-type", "application/json") in response.headers
    assert json.loads(response.body) == {"hello": "world"}


def test_response_from_a_string_is_200_with_the_string() -> None:
    response = to_http_response("plain words")
    assert (response.status, response.body) == (200, b"plain words")


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "two hundred"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
        {"statusCode": 200, "headers": {"x": ["a"]}},
    ],
)
def test_response_refuses_malformed_results(result: dict[str, object]) -> None:
    with pytest.raises(MalformedResponseError):
        to_http_response(result)
