"""The console function as Lambda runs it: which file answers which path, with which content
type, cache policy and security headers; its configuration; and the paths, methods and
conditional requests it must refuse or shortcut."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from local.apigw import HttpRequest, build_event
from local.context import LambdaContext
from local.template import HttpRoute
from pushgate.console import content_security_policy
from pushgate.settings import get_settings

REPO = Path(__file__).resolve().parents[3]
FUNCTION = REPO / "functions" / "console"
STATIC = FUNCTION / "static"
ISSUER = "http://127.0.0.1:3000/_local"
CSP = (
    "default-src 'self'; connect-src 'self' http://127.0.0.1:3000; script-src 'self'; "
    "style-src 'self'; img-src 'self'; font-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
NO_SUCH_FILE = {"error": {"code": "not_found", "message": "no such file"}}
Invoke = Callable[..., dict[str, Any]]


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    """Calls the function's handler with the event API Gateway would make for a request."""
    monkeypatch.setenv("PUSHGATE_CONSOLE_ISSUER", ISSUER)
    monkeypatch.setenv("PUSHGATE_CONSOLE_CLIENT_ID", "pushgate-console")
    monkeypatch.setenv("PUSHGATE_PUBLIC_API_URL", "http://127.0.0.1:3000")
    monkeypatch.delenv("PUSHGATE_NTFY_URL", raising=False)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    get_settings.cache_clear()
    spec = importlib.util.spec_from_file_location("test_console_app", FUNCTION / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def call(method: str, target: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        request = HttpRequest(
            method=method,
            target=target,
            headers=[("host", "127.0.0.1:3000"), *(headers or {}).items()],
        )
        route = HttpRoute("GET", "/console/{proxy+}", "ConsoleFunction")
        event = build_event(request, route, {}, api_id="local", request_id="req-console")
        return module.lambda_handler(event, LambdaContext())

    yield call
    get_settings.cache_clear()


def _headers(response: dict[str, Any]) -> dict[str, str]:
    return {key.lower(): value for key, value in response["headers"].items()}


@pytest.mark.parametrize(
    ("path", "content_type", "source"),
    [
        ("/console/", "text/html; charset=utf-8", STATIC / "index.html"),
        ("/console/js/main.js", "text/javascript; charset=utf-8", STATIC / "js/main.js"),
        ("/console/js/views/app.js", "text/javascript; charset=utf-8", STATIC / "js/views/app.js"),
        ("/console/css/console.css", "text/css; charset=utf-8", STATIC / "css/console.css"),
        ("/console/img/icon.svg", "image/svg+xml", STATIC / "img/icon.svg"),
        ("/", "text/html; charset=utf-8", STATIC / "home.html"),
        ("/docs", "text/html; charset=utf-8", STATIC / "docs.html"),
        ("/openapi.json", "application/json", REPO / "openapi.json"),
    ],
)
def test_console_serves_each_file_with_its_content_type(invoke, path, content_type, source):
    response = invoke("GET", path)

    assert response["statusCode"] == 200
    assert _headers(response)["content-type"] == content_type
    assert response["body"] == source.read_text()
    assert response["isBase64Encoded"] is False


def test_console_sends_a_strict_csp_and_hardening_headers_with_every_file(invoke):
    headers = _headers(invoke("GET", "/console/"))

    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-opener-policy"] == "same-origin"


@pytest.mark.parametrize(
    ("issuer", "connect"),
    [
        ("", "connect-src 'self'"),
        ("https://login.example.com/realms/ops/", "connect-src 'self' https://login.example.com"),
        ("https://LOGIN.example.com:8443", "connect-src 'self' https://login.example.com:8443"),
        ("https://x.example.com; script-src *", "connect-src 'self'"),
        ("javascript:alert(1)", "connect-src 'self'"),
        ("https://user@x.example.com", "connect-src 'self'"),
    ],
)
def test_console_csp_connects_only_to_its_own_origin_and_the_issuers(issuer, connect):
    directives = content_security_policy(issuer).split("; ")

    assert [d for d in directives if d.startswith("connect-src")] == [connect]
    assert directives[0] == "default-src 'self'"
    assert "frame-ancestors 'none'" in directives
    assert not any("unsafe" in d for d in directives)


@pytest.mark.parametrize(
    ("path", "cache_control"),
    [
        ("/console/", "no-cache"),
        ("/console/js/main.js", "no-cache"),
        ("/openapi.json", "no-cache"),
        ("/console/config.json", "no-store"),
    ],
)
def test_console_cache_control_revalidates_files_and_never_stores_its_config(
    invoke, path, cache_control
):
    assert _headers(invoke("GET", path))["cache-control"] == cache_control


def test_console_answers_304_to_a_matching_etag_and_200_to_another(invoke):
    etag = _headers(invoke("GET", "/console/js/main.js"))["etag"]

    same = invoke("GET", "/console/js/main.js", {"if-none-match": f'W/{etag}, "other"'})
    changed = invoke("GET", "/console/js/main.js", {"if-none-match": '"stale"'})

    assert (same["statusCode"], same["body"]) == (304, "")
    assert _headers(same)["etag"] == etag
    assert changed["statusCode"] == 200


@pytest.mark.parametrize(
    "path",
    [
        "/console/apps",
        "/console/apps/demo",
        "/console/apps/demo/devices",
        "/console/apps/com.example.app/status",
        "/console/account",
        "/console/instances/",
    ],
)
def test_console_answers_its_routes_with_the_app_shell(invoke, path):
    response = invoke("GET", path + "?notification=ntf_1")

    assert response["statusCode"] == 200
    assert _headers(response)["content-type"] == "text/html; charset=utf-8"
    assert response["body"] == (STATIC / "index.html").read_text()


def test_console_redirects_its_bare_path_to_the_folder_keeping_the_query(invoke):
    response = invoke("GET", "/console?code=abc&state=xyz")

    assert response["statusCode"] == 308
    assert _headers(response)["location"] == "/console/?code=abc&state=xyz"


def test_console_config_comes_from_the_environment(invoke):
    response = invoke("GET", "/console/config.json")

    assert response["statusCode"] == 200
    assert _headers(response)["content-type"] == "application/json"
    assert json.loads(response["body"]) == {
        "issuer": ISSUER,
        "client_id": "pushgate-console",
        "api_base": "http://127.0.0.1:3000",
        "redirect_uri": "http://127.0.0.1:3000/console/",
        "managed_ntfy": False,
        "web_client": (FUNCTION / "bundle/web/pushgate.js").is_file(),
    }


def test_console_config_falls_back_to_the_requests_origin_and_tells_of_managed_ntfy(
    invoke, monkeypatch
):
    monkeypatch.setenv("PUSHGATE_PUBLIC_API_URL", "")
    monkeypatch.setenv("PUSHGATE_NTFY_URL", "https://ntfy.example.com")
    get_settings.cache_clear()

    config = json.loads(invoke("GET", "/console/config.json")["body"])

    assert config["api_base"] == "http://127.0.0.1:3000"  # the local event says http
    assert config["redirect_uri"] == "http://127.0.0.1:3000/console/"
    assert config["managed_ntfy"] is True


@pytest.mark.parametrize(
    "target",
    [
        "/console/../app.py",
        "/console/%2e%2e/app.py",
        "/console/js/..%2f..%2fapp.py",
        "/console/js/%2e%2e%2f%2e%2e%2fapp.py",
        "/console/..%5capp.py",
        "/console/./index.html",
        "/console//etc/passwd",
        "/console/js//main.js",
        "/console/index.html%00.js",
        "/console/js/missing.js",
        "/console/css/console.css.bak",
        "/console/missing.css",
        "/console/lib/pushgate.js/..",
    ],
)
def test_console_refuses_traversal_and_missing_files_with_an_exact_404(invoke, target):
    response = invoke("GET", target)

    assert response["statusCode"] == 404
    assert _headers(response)["content-type"] == "application/json"
    assert json.loads(response["body"]) == NO_SUCH_FILE


def test_console_answers_head_like_get_without_a_body(invoke):
    get = invoke("GET", "/console/js/main.js")
    head = invoke("HEAD", "/console/js/main.js")

    assert head["statusCode"] == 200
    assert head["body"] == ""
    assert _headers(head)["content-type"] == _headers(get)["content-type"]
    assert _headers(head)["etag"] == _headers(get)["etag"]


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/console/"), ("DELETE", "/docs"), ("PUT", "/")]
)
def test_console_refuses_other_methods_with_405(invoke, method, path):
    response = invoke(method, path)

    assert response["statusCode"] == 405
    assert _headers(response)["allow"] == "GET, HEAD"
    assert json.loads(response["body"]) == {
        "error": {"code": "method_not_allowed", "message": f"{path} answers GET and HEAD only"}
    }


def test_console_lets_anyone_read_the_openapi_document(invoke):
    assert _headers(invoke("GET", "/openapi.json"))["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in _headers(invoke("GET", "/console/"))


def test_console_without_a_packaged_web_client_answers_404_for_it(invoke):
    if (FUNCTION / "bundle" / "web").is_dir():
        pytest.skip("clients/web/ is packaged in this tree")

    response = invoke("GET", "/console/lib/pushgate.js")

    assert response["statusCode"] == 404
    assert json.loads(response["body"]) == NO_SUCH_FILE
