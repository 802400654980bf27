"""The web console's HTTP side: its files (a single-page app, the root page, the API browser,
the OpenAPI document, the web client), their headers, and the console's configuration."""

from pushgate.console.headers import content_security_policy, issuer_origin, security_headers
from pushgate.console.models import ConsoleConfigResponse
from pushgate.console.responses import ConsoleRequest, answer_console, answer_page, not_allowed
from pushgate.console.site import Site, load_site

__all__ = [
    "ConsoleConfigResponse",
    "ConsoleRequest",
    "Site",
    "answer_console",
    "answer_page",
    "content_security_policy",
    "issuer_origin",
    "load_site",
    "not_allowed",
    "security_headers",
]
