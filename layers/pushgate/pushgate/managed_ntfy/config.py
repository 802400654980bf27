"""The deployment's ntfy server for managed channels: its URL, and the admin and publisher
tokens (Secrets Manager in AWS, re-read every 5 minutes so a rotation needs no deploy; the
values themselves locally and in tests)."""

from __future__ import annotations

from dataclasses import dataclass

from pushgate.errors import NotFoundError, PushgateError
from pushgate.observability import logger
from pushgate.settings import Settings, get_settings
from pushgate.urls import UnsafeUrlError, check_outbound_url

# Topics pushgate makes start with this: the publisher's write-only grant is on `pg_*`.
TOPIC_PREFIX = "pg_"
_SECRET_MAX_AGE_SECONDS = 300


class NtfyUnavailableError(PushgateError):
    """The ntfy server could not do its part (or its tokens are not configured)."""

    status = 503
    default_code = "ntfy_unavailable"


@dataclass(frozen=True, slots=True)
class NtfyServer:
    url: str  # no trailing slash

    def topic_url(self, topic: str) -> str:
        return f"{self.url}/{topic}"


def server(settings: Settings | None = None) -> NtfyServer:
    """The configured server; 404 `ntfy_not_configured` when the deployment has none."""
    settings = settings or get_settings()
    if not settings.ntfy_server_url:
        raise NotFoundError(
            "this deployment offers no managed ntfy channels", code="ntfy_not_configured"
        )
    url = settings.ntfy_server_url.rstrip("/")
    # Operator configuration, but still only https (http to private addresses locally); the
    # address is checked when each connection is made.
    try:
        check_outbound_url(
            url, allow_private=settings.allow_private_urls, field="NtfyServerUrl", resolve=False
        )
    except UnsafeUrlError as exc:
        logger.error("the ntfy server URL is refused", extra={"reason": str(exc)})
        raise NtfyUnavailableError("the deployment's ntfy server is misconfigured") from None
    return NtfyServer(url)


def admin_token(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    token = _token(settings.ntfy_admin_token_secret_arn, settings.ntfy_admin_token)
    if not token:
        raise NtfyUnavailableError("the deployment's ntfy admin token is not configured")
    return token


def publish_token(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    return _token(settings.ntfy_publish_token_secret_arn, settings.ntfy_publish_token)


def _token(secret_arn: str, value: str) -> str:
    if secret_arn:
        from aws_lambda_powertools.utilities.parameters import get_secret

        return str(get_secret(secret_arn, max_age=_SECRET_MAX_AGE_SECONDS)).strip()
    return value
