"""Generates openapi.json, the OpenAPI 3.1 document of every HTTP function, from the code.

`python -m scripts.openapi --write` regenerates it (and the console function's copy,
scripts/console_bundle.py); without `--write` it exits 1 when the
committed document has drifted from the code (the test suite runs the same comparison).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from scripts import console_bundle

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "openapi.json"
LAYER = ROOT / "layers" / "pushgate"


def _load_resolver(app_file: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"_openapi_{app_file.parent.name}", app_file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {app_file}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, "app", None)


def generate() -> dict[str, Any]:
    if str(LAYER) not in sys.path:
        sys.path.insert(0, str(LAYER))
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import (
        HTTPBearer,
        Server,
    )

    security_schemes = {"bearerAuth": HTTPBearer(bearerFormat="JWT")}
    merge = OpenAPIMerge(
        title="pushgate",
        version="1.0.0",
        summary="Multi-tenant push-notification gateway",
        description="Register devices, send notifications to FCM, Web Push and ntfy, and "
        "receive signed delivery receipts. Errors are always "
        '`{"error": {"code": "...", "message": "..."}}`.',
        servers=[Server(url="http://127.0.0.1:3000", description="make run")],
        security_schemes=security_schemes,
        on_conflict="error",
    )
    for app_file in sorted((ROOT / "functions").glob("*/app.py")):
        resolver = _load_resolver(app_file)
        if isinstance(resolver, ApiGatewayResolver):
            merge.add_schema(resolver.get_openapi_schema(security_schemes=security_schemes))
    return json.loads(merge.get_openapi_json_schema())


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite openapi.json")
    args = parser.parse_args()
    text = render(generate())
    if args.write:
        DOCUMENT.write_text(text)
        print(f"wrote {DOCUMENT.relative_to(ROOT)}")
        # The console function serves the document from its own folder (/openapi.json).
        console_bundle.write()
        return 0
    if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
        print("openapi.json has drifted from the code; run `make openapi`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
