"""Console function: the web console (a single-page app) and its configuration, the root page,
pushgate's own API browser at /docs, and the OpenAPI document. It takes no bearer token (the
console calls the API with its user's token) and calls no AWS service: no JWT code, no grant."""

from __future__ import annotations

from pathlib import Path

from pushgate.api import create_handler, create_resolver
from pushgate.console import ConsoleRequest, answer_console, answer_page, not_allowed

app = create_resolver(authenticated=False)
FUNCTION_DIR = Path(__file__).resolve().parent
READ = ["GET", "HEAD"]
WRITE = ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Powertools matches each rule as a regular expression over the whole path. These pages are
# not API operations: they stay out of openapi.json.
PAGES = r"(/|/docs|/openapi\.json)"
CONSOLE = r"/console(/.*)?"


def _request() -> ConsoleRequest:
    return ConsoleRequest.from_event(app.current_event)


@app.route(PAGES, method=READ, include_in_schema=False)
def page():  # no return annotation: Powertools would validate a file body against it
    return answer_page(FUNCTION_DIR, _request())


@app.route(CONSOLE, method=READ, include_in_schema=False)
def console():
    return answer_console(FUNCTION_DIR, _request())


@app.route(PAGES, method=WRITE, include_in_schema=False)
@app.route(CONSOLE, method=WRITE, include_in_schema=False)
def other_method():
    return not_allowed(_request())


lambda_handler = create_handler(app, takes_body=False)
