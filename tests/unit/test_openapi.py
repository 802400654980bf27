"""The committed OpenAPI document is the code's, and it covers exactly the template's routes."""

from __future__ import annotations

import json
from pathlib import Path

from local.cfn import load_template
from local.template import read_http_routes
from scripts import openapi

ROOT = Path(__file__).resolve().parents[2]


def test_openapi_document_matches_the_code():
    committed = (ROOT / "openapi.json").read_text()
    assert committed == openapi.render(openapi.generate()), "run `make openapi` and commit"


def test_openapi_document_is_openapi_3_1():
    assert json.loads((ROOT / "openapi.json").read_text())["openapi"].startswith("3.1")


# The console function's pages and files (/, /console/*, /docs, /openapi.json) are not API
# operations, nor are CORS preflights (OPTIONS routes, answered by Powertools for functions
# made with `any_origin=True`; docs/api.md names them): the document describes the JSON API.
PAGE_FUNCTIONS = {"ConsoleFunction"}


def _template_routes() -> set[tuple[str, str]]:
    template = load_template(ROOT / "template.yaml")
    return {
        (route.method.lower(), route.path)
        for route in read_http_routes(template["Resources"])
        if route.function_id not in PAGE_FUNCTIONS and route.method != "OPTIONS"
    }


def test_openapi_document_covers_exactly_the_template_routes():
    document = json.loads((ROOT / "openapi.json").read_text())
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented == _template_routes()


def test_openapi_document_leaves_out_the_console_pages():
    document = json.loads((ROOT / "openapi.json").read_text())

    assert [path for path in document["paths"] if path in {"/", "/docs", "/openapi.json"}] == []
    assert [path for path in document["paths"] if path.startswith("/console")] == []
