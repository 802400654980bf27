"""The console in a real browser (Debian's Chromium, headless) against the local stack, where
the console and the API share one origin: sign-in through the development issuer's form (by
keyboard alone, too), an app enabled and configured, its devices seen and one revoked, a test
send that reaches an ntfy stand-in and its status read, a broadcast followed to its counts,
the operator's lists, an end user's devices, the API reference, and a 360 px wide screen. Any
error in the browser's console fails the test, except the HTTP errors a test provokes on
purpose. Each view leaves a screenshot in .artifacts/screenshots/."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.standins import NtfyStandin
from tests.standins.webhook import WebhookReceiver

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "browser tests skipped: /usr/bin/chromium is absent (apt-get install chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / ".artifacts" / "screenshots"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEST_TITLE = "Test from the pushgate console"


class BrowserErrors:
    """Everything the page logs as an error, and the HTTP errors a test expects."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._expected: list[tuple[int, str]] = []

    def expect(self, status: int, path: str) -> None:
        self._expected.append((status, path))

    def console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        for status, path in self._expected:
            if f"status of {status}" in message.text and path in url:
                return
        self.errors.append(f"{message.text} ({url})")

    def page_error(self, error: Any) -> None:
        self.errors.append(f"uncaught: {error}")


@pytest.fixture(scope="module")
def chromium(tmp_path_factory) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1100, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def errors() -> BrowserErrors:
    return BrowserErrors()


@pytest.fixture
def page(chromium, errors) -> Iterator[Any]:
    """A new tab (its own sessionStorage: signed out); the test fails on any console error."""
    tab = chromium.new_page()
    tab.set_default_timeout(20_000)
    tab.on("console", errors.console)
    tab.on("pageerror", errors.page_error)
    yield tab
    tab.close()
    assert errors.errors == []


@pytest.fixture(scope="module")
def ntfy() -> Iterator[NtfyStandin]:
    with NtfyStandin() as standin:
        yield standin


@pytest.fixture(scope="module")
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page, api, path: str, *, role: str = "Operator", subject: str = "ops", audience=""):
    """Opens `path` signed out, signs in through the development issuer's form, and waits
    until the console shows `path` again."""
    base = api.stack.api_url
    page.goto(base + path)
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_label(role).check()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(f"{base}/_local/authorize?")))
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Audience").fill(audience)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + path)
    page.get_by_role("button", name="Sign out").wait_for()


def _register_ntfy(api, app_id: str, user: str, ntfy: NtfyStandin, topic: str) -> str:
    response = api.request(
        "POST",
        "/push/devices/register",
        api.token(user, aud=[app_id]),
        json={"app_id": app_id, "platform": "ntfy", "push_token": {"url": f"{ntfy.url}/{topic}"}},
    )
    assert response.status_code == 201, response.text
    return response.json()["device_id"]


def _eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_console_sign_in_form_works_by_keyboard_alone(page, api):
    app_id = api.new_app()
    base, path = api.stack.api_url, f"/console/apps/{app_id}/devices"
    page.goto(base + path)
    page.get_by_role("heading", name="Sign in").wait_for()
    shot(page, "sign-in")

    focused = []
    for _ in range(15):
        page.keyboard.press("Tab")
        described = page.evaluate(
            "() => { const e = document.activeElement; const text = e.value || e.textContent;"
            " return `${e.tagName.toLowerCase()}:${e.type || ''}:${text.trim()}`; }"
        )
        focused.append(described)
        if described == "button:submit:Sign in":
            break
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(f"{base}/_local/authorize?")))
    on_form = page.evaluate("() => document.activeElement.id")
    shot(page, "dev-issuer-form")
    page.keyboard.type("ops")
    page.keyboard.press("Tab")
    scope = page.evaluate("() => [document.activeElement.id, document.activeElement.value]")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    button = page.evaluate("() => document.activeElement.textContent")
    page.keyboard.press("Enter")
    page.wait_for_url(base + path)
    page.get_by_role("heading", name=f"Devices of {app_id}").wait_for()
    stored = page.evaluate("() => ({...sessionStorage})")

    assert "input:radio:admin" in focused
    assert focused[-1] == "button:submit:Sign in"
    assert outline == "solid"  # the keyboard focus is visible
    assert on_form == "subject"
    assert scope == ["scope", "openid push:admin"]
    assert button == "Sign in"
    assert page.url == base + path  # no ?code=&state= left, no token
    assert set(stored) == {"pushgate.console.session"}
    assert json.loads(stored["pushgate.console.session"])["access_token"] not in page.url
    assert page.get_by_text("Signed in as").inner_text() == "Signed in as ops"


def test_console_enables_an_app_and_sets_its_webhook_and_quota(page, api, webhook):
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    created = api.request("PATCH", f"/push/config/{app_id}", api.admin, json={"enabled": False})
    assert created.status_code == 200, created.text
    hook = webhook.new_url()
    sign_in(page, api, f"/console/apps/{app_id}")

    switch = page.get_by_role("switch", name="Push enabled")
    assert switch.is_checked() is False
    switch.check()
    page.get_by_text(f"Push enabled for {app_id}.").wait_for()
    page.get_by_label("Webhook URL").fill(hook)
    page.get_by_label("Daily quota").fill("1234")
    page.get_by_role("button", name="Save").click()
    page.get_by_text(f"Saved: webhook {hook}, daily quota 1,234.").wait_for()
    page.get_by_role("button", name="Reveal secret").click()
    config = api.config(app_id).json()
    page.locator("svg.chart").wait_for()
    shot(page, "app-notifications")

    assert (config["enabled"], config["webhook_url"], config["daily_quota"]) == (True, hook, 1234)
    assert page.locator("#webhook-secret").inner_text() == config["webhook_secret"]
    assert page.get_by_text(config["vapid_public_key"]).count() == 1
    assert page.locator("svg.chart > g > title").count() == 24


def test_console_shows_devices_revokes_one_sends_a_test_and_reads_its_status(
    page, api, ntfy, webhook
):
    hook = webhook.new_url()
    app_id = api.new_app(webhook_url=hook)
    user = f"alice-{uuid.uuid4().hex[:6]}"
    kept_topic, revoked_topic = f"kept-{uuid.uuid4().hex[:8]}", f"gone-{uuid.uuid4().hex[:8]}"
    revoked = _register_ntfy(api, app_id, user, ntfy, revoked_topic)
    kept = _register_ntfy(api, app_id, user, ntfy, kept_topic)
    sign_in(page, api, f"/console/apps/{app_id}/devices")

    page.get_by_text("2 devices in all.").wait_for()
    shot(page, "devices")
    page.get_by_role("button", name=f"Revoke device {revoked}").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    page.get_by_text(f"Device {revoked} revoked.").wait_for()
    page.get_by_text("1 device in all.").wait_for()
    listed = api.request("GET", f"/push/devices/{app_id}", api.admin).json()

    page.get_by_role("link", name="Test send").click()
    page.get_by_label("User id").fill(user)
    page.get_by_role("button", name="Send test").click()
    page.get_by_text("Accepted as").wait_for()
    shot(page, "test-send")
    notification_id = page.locator("main p code").first.inner_text()
    page.get_by_role("link", name="See its delivery status").click()
    page.get_by_role("heading", name=f"Notification {notification_id}").wait_for()

    def delivered() -> bool:
        if page.locator('[data-status="delivered"]').count():
            return True
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(500)
        return False

    reached = _eventually(delivered, timeout=60)
    shot(page, "status")
    receipts = _eventually(lambda: [c.json() for c in webhook.calls(hook)], timeout=30)

    assert [d["device_id"] for d in listed["devices"]] == [kept]
    assert reached is True
    assert page.locator("main tbody tr").count() == 1
    assert [m.title for m in ntfy.messages(kept_topic)] == [TEST_TITLE]
    assert ntfy.messages(revoked_topic) == ()
    assert [(r["notification_id"], r["device_id"], r["status"]) for r in receipts] == [
        (notification_id, kept, "delivered")
    ]


def test_console_broadcasts_to_an_apps_devices_and_shows_its_counts(page, api, ntfy):
    app_id = api.new_app()
    topics = [f"brd-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for index, topic in enumerate(topics):
        _register_ntfy(api, app_id, f"user-{index}", ntfy, topic)
    sign_in(page, api, f"/console/apps/{app_id}")

    page.get_by_role("link", name="Broadcast").click()
    page.get_by_label("Title").fill("Maintenance tonight")
    page.get_by_label("Body").fill("From 22:00 UTC")
    page.get_by_label("Android").uncheck()
    page.get_by_role("button", name="Start broadcast").click()
    page.get_by_text("Status: all pages queued — finished").wait_for(timeout=60_000)
    shot(page, "broadcast")
    bar = page.get_by_role("progressbar")

    assert (
        page.get_by_label(
            "Reached 2 of 2 devices: 2 delivered, 0 failed, 0 invalid token, 0 expired"
        ).count()
        == 1
    )
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("2", "2")
    assert page.get_by_role("button", name="Cancel broadcast").count() == 0
    assert [[m.title for m in ntfy.messages(t)] for t in topics] == [["Maintenance tonight"]] * 2


def test_console_shows_the_apis_error_message(page, api, errors):
    app_id = api.new_app()
    unknown = "ntf_" + "0" * 26
    errors.expect(404, f"/push/notifications/{unknown}")
    sign_in(page, api, f"/console/apps/{app_id}/status?notification={unknown}")

    alert = page.get_by_role("alert")
    alert.wait_for()

    assert alert.inner_text() == "no such notification"


def test_console_lists_the_apps_for_an_operator(page, api):
    api.new_app()
    sign_in(page, api, "/console/")

    page.get_by_role("table", name="Apps").wait_for()
    shot(page, "apps")
    first_page = api.request("GET", "/push/apps", api.admin, params={"limit": 25}).json()

    assert page.locator("main tbody tr").count() == len(first_page["apps"])
    assert page.get_by_role("link", name=first_page["apps"][0]["app_id"]).count() == 1
    assert page.get_by_role("columnheader").all_inner_texts()[:3] == ["App", "Push", "Daily quota"]


def test_console_enrols_lists_and_removes_a_gateway_instance(page, api):
    instance = f"gw-{uuid.uuid4().hex[:8]}.example"
    sign_in(page, api, "/console/instances")

    page.get_by_label("Instance").fill(instance)
    page.get_by_label("Domain").fill("http://127.0.0.1:9")
    page.get_by_role("button", name="Enrol or update").click()
    page.get_by_text(f"Instance {instance} saved.").wait_for()
    page.get_by_role("button", name=f"Remove {instance}").wait_for()
    shot(page, "instances")
    page.get_by_role("button", name=f"Remove {instance}").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    page.get_by_text(f"Instance {instance} removed.").wait_for()

    gone = api.request("GET", f"/push/instances/{instance}", api.admin)
    assert gone.status_code == 404


def test_console_shows_an_end_user_their_devices_by_app(page, api, ntfy):
    app_id = api.new_app()
    user = f"bob-{uuid.uuid4().hex[:6]}"
    device = _register_ntfy(api, app_id, user, ntfy, f"bob-{uuid.uuid4().hex[:8]}")
    sign_in(page, api, "/console/account", role="End user", subject=user, audience=app_id)

    page.get_by_role("heading", name=f"Your devices in {app_id}").wait_for()
    shot(page, "account")
    page.get_by_role("button", name=f"Revoke device {device}").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    page.get_by_text("You have no devices registered yet.").wait_for()

    mine = api.request("GET", "/account/devices", api.token(user, aud=[app_id])).json()
    assert mine == {"apps": []}


def test_docs_render_every_operation_and_schema_of_the_document(page, api):
    document = json.loads((REPO / "openapi.json").read_text())
    operations = sum(len(item) for item in document["paths"].values())
    page.goto(api.stack.api_url + "/docs")
    page.get_by_role("heading", name="Schemas").wait_for()
    shot(page, "docs")
    shown = page.locator("section.op .method").count()
    schemas = page.locator("section.op[id^='schema-']").count()
    page.get_by_label("Filter operations").fill("vapid-public-key")
    visible = page.locator("section.op[id^='op-']:visible").count()

    assert shown == operations
    assert schemas == len(document["components"]["schemas"])
    assert visible == 1


def test_root_page_links_the_console_the_docs_and_the_document(page, api):
    page.goto(api.stack.api_url + "/")
    shot(page, "home")

    links = page.locator("main a")
    assert links.evaluate_all("links => links.map(l => l.getAttribute('href'))") == [
        "/console/",
        "/docs",
        "/openapi.json",
    ]


def test_console_is_readable_at_360_px(page, api, ntfy):
    page.set_viewport_size({"width": 360, "height": 780})
    app_id = api.new_app()
    _register_ntfy(api, app_id, f"carol-{uuid.uuid4().hex[:6]}", ntfy, uuid.uuid4().hex[:10])
    widths = {}
    page.goto(api.stack.api_url + f"/console/apps/{app_id}/devices")
    page.get_by_role("heading", name="Sign in").wait_for()
    widths["sign-in"] = page.evaluate("() => document.documentElement.scrollWidth")
    shot(page, "narrow-sign-in")
    sign_in(page, api, f"/console/apps/{app_id}/devices")
    page.get_by_text("1 device in all.").wait_for()
    widths["devices"] = page.evaluate("() => document.documentElement.scrollWidth")
    shot(page, "narrow-devices")
    page.goto(api.stack.api_url + "/docs")
    page.get_by_role("heading", name="Schemas").wait_for()
    widths["docs"] = page.evaluate("() => document.documentElement.scrollWidth")

    assert widths == {"sign-in": 360, "devices": 360, "docs": 360}
