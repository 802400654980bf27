"""The providers package's exceptions, documented in one place.

    ProviderError                    base: catch this to handle any provider setup failure
    ├── InvalidServiceAccountError   a Google service-account JSON that cannot be used
    │                                (also a ValueError): missing or mistyped field, a
    │                                private key that is not a PEM RSA key
    └── AccessTokenError             the OAuth2 token endpoint did not issue an access token;
                                     carries the `Outcome` the send reports

Senders never raise for a provider's answer or a network failure: they return an `Outcome`.
Messages never contain key material, tokens or endpoints.
"""

from __future__ import annotations

from pushgate.providers.result import Outcome


class ProviderError(Exception):
    """Base of every error raised by `pushgate.providers`. Not raised directly."""


class InvalidServiceAccountError(ProviderError, ValueError):
    """A service-account JSON that is not usable for FCM."""


class AccessTokenError(ProviderError):
    """The token endpoint refused or failed; `outcome` says whether retrying may help."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(f"no FCM access token ({outcome.error})")
        self.outcome = outcome
