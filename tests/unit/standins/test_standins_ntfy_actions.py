"""The ntfy stand-in checks action buttons as ntfy's server/actions.go does, returns them as
ntfy stores them, and taps an `http` one as the ntfy Android app does."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.standins import NtfyStandin
from tests.standins._ntfy_actions import parse_actions
from tests.standins._ntfy_app import USER_AGENT
from tests.standins._server import Refusal
from tests.standins.webhook import WebhookReceiver

DECISION_URL = "https://pushgate.example/v1/approvals/apr_1/decision"
APPROVE = {
    "action": "http",
    "label": "Approve",
    "url": f"{DECISION_URL}?d=approve",
    "method": "POST",
    "clear": True,
}
DENY = {**APPROVE, "label": "Deny", "url": f"{DECISION_URL}?d=deny"}


def publish(http: httpx.Client, ntfy: NtfyStandin, actions: Any, **fields: Any) -> httpx.Response:
    return http.post(f"{ntfy.url}/", json={"topic": "approvals", "actions": actions, **fields})


def publish_header(http: httpx.Client, ntfy: NtfyStandin, actions: str) -> httpx.Response:
    return http.post(f"{ntfy.url}/approvals", content=b"Approve?", headers={"X-Actions": actions})


def error_of(reply: httpx.Response) -> tuple[int, int]:
    body = reply.json()
    assert body["http"] == reply.status_code
    return reply.status_code, body["code"]


def without_ids(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{name: value for name, value in action.items() if name != "id"} for action in actions]


# -- what ntfy returns ------------------------------------------------------------------------


def test_ntfy_returns_each_action_with_an_id_and_clear(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    reply = publish(http, ntfy, [APPROVE, {"action": "view", "label": "Open", "url": "https://x"}])

    assert reply.status_code == 200
    actions = reply.json()["actions"]
    assert [len(action["id"]) for action in actions] == [10, 10]
    assert without_ids(actions) == [
        {
            "action": "http",
            "label": "Approve",
            "clear": True,
            "url": APPROVE["url"],
            "method": "POST",
        },
        {"action": "view", "label": "Open", "clear": False, "url": "https://x"},
    ]


def test_ntfy_message_and_poll_carry_the_actions_as_returned(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    returned = publish(http, ntfy, [APPROVE, DENY]).json()["actions"]

    polled = http.get(f"{ntfy.url}/approvals/json", params={"poll": "1"}).text.splitlines()

    assert json.loads(polled[0])["actions"] == returned
    (record,) = ntfy.messages("approvals")
    assert record.actions == tuple(returned)
    assert record.request["actions"] == [APPROVE, DENY]  # as posted


def test_ntfy_fills_no_default_method_but_normalises_case(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    actions = [
        {"action": "HTTP", "label": "A", "url": "https://x", "headers": {}},
        {"action": "http", "label": "B", "url": "https://x", "method": "put", "id": "mine"},
    ]

    first, second = publish(http, ntfy, actions).json()["actions"]

    assert first == {
        "id": first["id"],
        "action": "http",
        "label": "A",
        "clear": False,
        "url": "https://x",
    }
    assert (second["method"], second["id"] != "mine") == ("PUT", True)


def test_ntfy_matches_action_keys_ignoring_case(http: httpx.Client, ntfy: NtfyStandin) -> None:
    reply = publish(http, ntfy, [{"Action": "http", "LABEL": "Approve", "Url": "https://x"}])

    assert without_ids(reply.json()["actions"]) == [
        {"action": "http", "label": "Approve", "clear": False, "url": "https://x"}
    ]


@pytest.mark.parametrize(
    "action",
    [
        {"action": "broadcast", "label": "Run"},  # no url needed
        {"action": "broadcast", "label": "Run", "intent": "x.Y", "extras": {"cmd": "go"}},
        {"action": "http", "label": "Go", "url": "https://x", "method": "DELETE", "body": "x"},
        {"action": "http", "label": "Go", "url": "https://x", "method": "GET"},
        {"action": "view", "label": "Go", "url": "not-a-url"},  # ntfy does not check URLs
    ],
    ids=["broadcast", "broadcast-extras", "delete-body", "get-no-body", "any-url"],
)
def test_ntfy_accepts_an_action_it_allows(
    http: httpx.Client, ntfy: NtfyStandin, action: dict[str, Any]
) -> None:
    reply = publish(http, ntfy, [action])

    assert reply.status_code == 200
    assert without_ids(reply.json()["actions"]) == [{"clear": False, **action}]


def test_ntfy_publishes_no_actions_for_an_empty_list(http: httpx.Client, ntfy: NtfyStandin) -> None:
    assert "actions" not in publish(http, ntfy, []).json()


# -- what ntfy refuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "actions",
    [
        [APPROVE, DENY, APPROVE, DENY],
        [{**APPROVE, "action": "open"}],
        [{**APPROVE, "action": ""}],
        [{key: value for key, value in APPROVE.items() if key != "label"}],
        [{**APPROVE, "label": ""}],
        [{key: value for key, value in APPROVE.items() if key != "url"}],
        [{"action": "view", "label": "Open"}],
        [{**APPROVE, "method": "GET", "body": "x"}],
        [{**APPROVE, "method": "head", "body": "x"}],
        [None],
    ],
    ids=[
        "four",
        "unknown-action",
        "no-action",
        "no-label",
        "empty-label",
        "http-no-url",
        "view-no-url",
        "get-with-body",
        "head-with-body",
        "null",
    ],
)
def test_ntfy_refuses_actions_it_does_not_allow_with_40018(
    http: httpx.Client, ntfy: NtfyStandin, actions: list[Any]
) -> None:
    reply = publish(http, ntfy, actions)

    assert error_of(reply) == (400, 40018)
    assert reply.json()["error"].startswith("invalid request: actions invalid; ")
    assert reply.json()["link"] == "https://ntfy.sh/docs/publish/#action-buttons"


def test_ntfy_says_why_it_refused_the_actions(http: httpx.Client, ntfy: NtfyStandin) -> None:
    reply = publish(http, ntfy, [{**APPROVE, "method": "GET", "body": "decision=approve"}])

    expected = "invalid request: actions invalid; parameter 'body' cannot be set if method is GET"
    assert reply.json()["error"] == expected


@pytest.mark.parametrize(
    "actions",
    [
        {"action": "http"},
        ["http, Approve, https://x"],
        [{**APPROVE, "clear": "true"}],
        [{**APPROVE, "headers": ["Authorization: x"]}],
        [{**APPROVE, "headers": {"X-Count": 1}}],
        [{**APPROVE, "label": 5}],
    ],
    ids=["object", "string", "clear-string", "headers-list", "header-number", "label-number"],
)
def test_ntfy_refuses_a_wrongly_typed_action_as_invalid_json(
    http: httpx.Client, ntfy: NtfyStandin, actions: Any
) -> None:
    assert error_of(publish(http, ntfy, actions)) == (400, 40024)


def test_ntfy_refuses_an_unknown_action_key_when_strict(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    reply = publish(http, ntfy, [{**APPROVE, "header": {"Authorization": "Bearer x"}}])

    assert error_of(reply) == (400, 40024)
    assert "header" in ntfy.rejections()[0].reason


def test_ntfy_drops_an_unknown_action_key_when_lenient(http: httpx.Client) -> None:
    with NtfyStandin(strict=False) as ntfy:
        reply = publish(http, ntfy, [{**APPROVE, "value": "x"}])

    assert "value" not in reply.json()["actions"][0]


def test_ntfy_checks_action_types_before_the_grant_and_values_after(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    ntfy.protect_topic("approvals")

    wrong_type = publish(http, ntfy, [{**APPROVE, "clear": 1}])
    not_allowed = publish(http, ntfy, [{**APPROVE, "action": "open"}])

    assert (error_of(wrong_type), error_of(not_allowed)) == ((400, 40024), (403, 40301))


# -- the X-Actions header and its aliases -----------------------------------------------------


def test_ntfy_parses_the_simple_header_format(http: httpx.Client, ntfy: NtfyStandin) -> None:
    header = (
        f"http, Approve, {APPROVE['url']}, method=post, clear=yes, "
        "headers.Authorization=Bearer tk_1, body='{\"a\": 1}'; "
        'action=view, label="Look, a comma", url=https://x'
    )

    reply = publish_header(http, ntfy, header)

    assert without_ids(reply.json()["actions"]) == [
        {
            "action": "http",
            "label": "Approve",
            "clear": True,
            "url": APPROVE["url"],
            "method": "POST",
            "headers": {"Authorization": "Bearer tk_1"},
            "body": '{"a": 1}',
        },
        {"action": "view", "label": "Look, a comma", "clear": False, "url": "https://x"},
    ]
    (record,) = ntfy.messages("approvals")
    assert record.request["actions"] == without_ids(reply.json()["actions"])


def test_ntfy_takes_a_json_array_in_the_header(http: httpx.Client, ntfy: NtfyStandin) -> None:
    reply = publish_header(http, ntfy, json.dumps([APPROVE, DENY]))

    assert without_ids(reply.json()["actions"]) == [APPROVE, DENY]


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"Actions": "view, Open, https://x"}, ""),
        ({"action": "view, Open, https://x"}, ""),
        ({}, "?actions=view,Open,https://x"),
        ({}, "?action=view,Open,https://x"),
    ],
    ids=["Actions", "Action", "actions-query", "action-query"],
)
def test_ntfy_reads_actions_under_each_of_its_names(
    http: httpx.Client, ntfy: NtfyStandin, headers: dict[str, str], query: str
) -> None:
    reply = http.post(f"{ntfy.url}/approvals{query}", content=b"hi", headers=headers)

    assert without_ids(reply.json()["actions"]) == [
        {"action": "view", "label": "Open", "clear": False, "url": "https://x"}
    ]


@pytest.mark.parametrize(
    "header",
    [
        "HTTP, Approve, https://x",  # `url=` may be left out only after "view" or "http"
        "http, Approve, https://x, clear=maybe",
        "http, Approve, https://x, timeout=5",
        'http, "Approve, https://x',
        '[{"action": "http", "label": "Approve"}]',
        '[{"action": "http", "label": "Approve", "url": "https://x", "clear": 1}]',
        '[{"action": "http", "label": "Approve", "url": "https://x", "lable": "x"}]',
        "[not json]",
        "view, A, https://x; view, B, https://x; view, C, https://x; view, D, https://x",
    ],
    ids=[
        "upper-case-then-url",
        "clear-not-boolean",
        "unknown-key",
        "open-quote",
        "json-no-url",
        "json-clear-number",
        "json-unknown-key-strict",
        "json-syntax",
        "four",
    ],
)
def test_ntfy_refuses_a_bad_actions_header_with_40018(
    http: httpx.Client, ntfy: NtfyStandin, header: str
) -> None:
    assert error_of(publish_header(http, ntfy, header)) == (400, 40018)


# -- parseActions, against ntfy's own server/actions_test.go --------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'action=http, "Look ma, \\"quotes\\"; and semicolons", url=http://example.com',
            {"action": "http", "label": 'Look ma, "quotes"; and semicolons'},
        ),
        (
            "action=http, '\"quotes\" and \\'single quotes\\'', url=http://example.com",
            {"action": "http", "label": "\"quotes\" and 'single quotes'"},
        ),
        (
            'label="Out of order!" , action="http", url=http://example.com',
            {"action": "http", "label": "Out of order!"},
        ),
        (
            "action = http, label = 'this is a label', url = \"http://example.com\"",
            {"action": "http", "label": "this is a label"},
        ),
        (
            "action = http, 'Zustimmen ✅, bitte 💙', url = \"http://example.com\"",
            {"action": "http", "label": "Zustimmen ✅, bitte 💙"},
        ),
        (
            "action=broadcast, label=Do a thing, extras.some_param=a parameter",
            {"action": "broadcast", "label": "Do a thing", "extras": {"some_param": "a parameter"}},
        ),
    ],
    ids=["double-quotes", "single-quotes", "out-of-order", "spaces", "non-ascii", "extras"],
)
def test_parse_actions_reads_the_simple_format_as_ntfy(text: str, expected: dict[str, Any]) -> None:
    (action,) = parse_actions(text, strict=True)

    assert {name: action[name] for name in expected} == expected


def test_parse_actions_reads_several_actions_with_awkward_spacing() -> None:
    text = (
        "http , 'Make love, not war' , https://ntfy.sh ; view, \" yo \", https://x.org, clear=true"
    )

    first, second = parse_actions(text, strict=True)

    assert (first["label"], first["url"], first["clear"]) == (
        "Make love, not war",
        "https://ntfy.sh",
        False,
    )
    assert (second["label"], second["url"], second["clear"]) == (" yo ", "https://x.org", True)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            'label="Out of order!" x, action="http", url=http://example.com',
            "unexpected character 'x' at position 22",
        ),
        ('label="", action="http", url=http://example.com', "parameter 'label' is required"),
        ("label=, action=http, url=http://example.com", "parameter 'label' is required"),
        (
            'label="xx", action="http", url=http://example.com, what is this anyway',
            "term 'what is this anyway' unknown",
        ),
        (
            "fdsfdsf",
            "parameter 'action' cannot be 'fdsfdsf', "
            "valid values are 'view', 'broadcast' and 'http'",
        ),
        ('aaa=a, "bbb, \'ccc, ddd, eee "', "key 'aaa' unknown"),
        (
            'action=http, label="omg the end quote is missing',
            "unexpected end of input, quote started at position 20",
        ),
        (";;;;", "only 3 actions allowed"),
        (",,,,,,;;", "term '' unknown"),
        ("''\";,;\"", "unexpected character '\"' at position 2"),
        (
            "action=http, label=a label, body=somebody",
            "parameter 'url' is required for action 'http'",
        ),
        (
            "action=http, label=a label, url=http://ntfy.sh, method=HEAD, body=somebody",
            "parameter 'body' cannot be set if method is HEAD",
        ),
        (
            '[ { "some": "object" } ]',
            "parameter 'action' cannot be '', valid values are 'view', 'broadcast' and 'http'",
        ),
        (
            "http, label, http://x.org, clear=x",
            "parameter 'clear' cannot be 'x', "
            "only boolean values are allowed (true/yes/1/false/no/0)",
        ),
    ],
)
def test_parse_actions_refuses_with_ntfys_reason(text: str, reason: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_actions(text, strict=False)

    body = json.loads(refused.value.response.body)
    assert (body["code"], body["error"]) == (40018, f"invalid request: actions invalid; {reason}")


# -- tapping an action ------------------------------------------------------------------------


class Recorder:
    """A transport that records what it is sent and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[httpx.Request] = []

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self._answer))

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status)


def published(http: httpx.Client, ntfy: NtfyStandin, actions: list[dict[str, Any]]) -> Any:
    assert publish(http, ntfy, actions).status_code == 200
    return ntfy.messages("approvals")[-1]


def test_ntfy_tap_posts_an_empty_body_with_the_apps_user_agent(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    message = published(http, ntfy, [{key: v for key, v in APPROVE.items() if key != "method"}])
    recorder = Recorder()

    with recorder.client() as client:
        reply = ntfy.tap(message, "Approve", client=client)

    (sent,) = recorder.requests
    assert (reply.status_code, sent.method, str(sent.url)) == (200, "POST", APPROVE["url"])
    assert (sent.content, sent.headers["content-length"]) == (b"", "0")
    assert sent.headers["user-agent"] == USER_AGENT
    assert "content-type" not in sent.headers
    assert "authorization" not in sent.headers


def test_ntfy_tap_sends_the_actions_method_headers_and_body(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    action = {**DENY, "method": "put", "headers": {"Authorization": "Bearer d"}, "body": "no"}
    message = published(http, ntfy, [APPROVE, action])
    recorder = Recorder()

    with recorder.client() as client:
        ntfy.tap(message, "Deny", client=client)

    (sent,) = recorder.requests
    assert (sent.method, sent.content, sent.headers["authorization"]) == ("PUT", b"no", "Bearer d")


def test_ntfy_tap_sends_no_body_with_get(http: httpx.Client, ntfy: NtfyStandin) -> None:
    message = published(http, ntfy, [{**APPROVE, "method": "GET"}])
    recorder = Recorder()

    with recorder.client() as client:
        ntfy.tap(message, "Approve", client=client)

    (sent,) = recorder.requests
    assert (sent.method, sent.content, "content-length" in sent.headers) == ("GET", b"", False)


def test_ntfy_tap_reaches_the_url_over_http(http: httpx.Client, ntfy: NtfyStandin) -> None:
    with WebhookReceiver() as receiver:
        url = receiver.new_url(403)
        message = published(http, ntfy, [{**APPROVE, "url": url, "body": "approve"}])

        reply = ntfy.tap(message, "Approve")

        (call,) = receiver.calls(url)
    assert (reply.status_code, call.body, call.headers["user-agent"]) == (
        403,
        b"approve",
        USER_AGENT,
    )


def test_ntfy_tap_refuses_an_action_the_app_sends_no_request_for(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    message = published(http, ntfy, [{"action": "view", "label": "Open", "url": "https://x"}])

    with pytest.raises(ValueError, match="view"):
        ntfy.tap(message, "Open")
    with pytest.raises(LookupError, match="Open"):
        ntfy.tap(message, "Approve")


def test_ntfy_undelivered_message_has_no_actions(http: httpx.Client, ntfy: NtfyStandin) -> None:
    ntfy.script("approvals", 500)

    publish(http, ntfy, [APPROVE])

    assert ntfy.received()[0].actions == ()
