"""The committed OpenAPI document is the code's, and it covers exactly the template's routes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from scripts import openapi

ROOT = Path(__file__).resolve().parents[2]


def test_openapi_document_matches_the_code():
    committed = (ROOT / "openapi.json").read_text()
    assert committed == openapi.render(openapi.generate()), "run `make openapi` and commit"


def test_openapi_document_is_openapi_3_1():
    assert json.loads((ROOT / "openapi.json").read_text())["openapi"].startswith("3.1")


def _template_routes() -> set[tuple[str, str]]:
    text = (ROOT / "template.yaml").read_text()
    found = re.findall(
        r"Type: HttpApi\s+Properties:\s+ApiId: [^\n]+\s+Method: (\w+)\s+Path: (\S+)", text
    )
    return {(method.lower(), path) for method, path in found}


def test_openapi_document_covers_exactly_the_template_routes():
    document = json.loads((ROOT / "openapi.json").read_text())
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented == _template_routes()
