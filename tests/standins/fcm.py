"""A stand-in for FCM HTTP v1 and Google's OAuth2 token endpoint that checks what Google checks:
the service account's signed JWT assertion, the bearer token, and the message schema."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.standins._fcm_schema import (
    FCM_ERROR_TYPE,
    InvalidArgumentError,
    target_of,
    validate_send_request,
)
from tests.standins._script import OK, RESET, Behaviour, Script, as_script
from tests.standins._server import RESET as RESET_REPLY
from tests.standins._server import Refusal, Reply, Request, Response, StandinServer

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GOOGLE_SCOPE_PREFIX = "https://www.googleapis.com/auth/"
# The audience Google's token endpoint accepts (google-auth always sends it, whatever the
# key file's token_uri); the stand-in's own token URL stands in for it as well.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
# Google refuses assertions that live longer than an hour.
MAX_ASSERTION_LIFETIME = 3600
DEFAULT_TOKEN_LIFETIME = 3599
RSA_KEY_SIZE = 2048
_SEND_PREFIX = "/v1/projects/"
_SEND_SUFFIX = "/messages:send"
_SHORT_LIVED = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)
_UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)

# FCM v1 error codes: HTTP status, google.rpc status and message, as Google answers them.
FCM_ERRORS: Mapping[str, tuple[int, str, str]] = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": (
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for sending messages."),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
}
OUTCOMES = frozenset({OK, RESET, *FCM_ERRORS})
# A 429 always tells the client when to come back; 1 s unless the script says otherwise.
DEFAULT_QUOTA_RETRY_AFTER = 1


def make_service_account(token_uri: str, project_id: str = "demo-project") -> dict[str, str]:
    """A service-account key file as the Google Cloud console hands it out, with a fresh
    RSA-2048 key. Give it to `FcmStandin.trust_service_account` before using it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    client_email = f"firebase-adminsdk-{secrets.token_hex(3)}@{project_id}.iam.gserviceaccount.com"
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": client_email,
        "client_id": str(10**20 + secrets.randbelow(9 * 10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": (
            f"https://www.googleapis.com/robot/v1/metadata/x509/{quote(client_email)}"
        ),
        "universe_domain": "googleapis.com",
    }


@dataclass(frozen=True, slots=True)
class FcmMessage:
    """One valid `messages:send` request and what the stand-in answered."""

    project_id: str
    message: Mapping[str, Any]
    status: int  # 200 delivered; a scripted error's status; 0 when the stream/socket was reset
    outcome: str  # "ok", "reset" or the scripted FCM error code
    client_email: str
    http_version: str
    received_at: float

    @property
    def delivered(self) -> bool:
        return self.status == 200

    @property
    def device(self) -> str:
        """The registration token, topic or condition the message was addressed to."""
        return target_of(self.message)[1]

    @property
    def token(self) -> str | None:
        return self.message.get("token")

    @property
    def data(self) -> Mapping[str, str]:
        return self.message.get("data") or {}

    @property
    def notification_id(self) -> str | None:
        return self.data.get("notification_id")


@dataclass(slots=True)
class _ServiceAccount:
    client_email: str
    project_id: str
    private_key_id: str
    public_key: rsa.RSAPublicKey = field(repr=False)


@dataclass(slots=True)
class _AccessToken:
    client_email: str
    project_id: str
    scopes: frozenset[str]
    expires_at: float


class FcmStandin(StandinServer[FcmMessage]):
    """FCM HTTP v1 (`POST /v1/projects/{p}/messages:send`) and Google's token endpoint
    (`POST /token`) on one port.

    Trust a service account (`new_service_account()` or `trust_service_account(info)`), then
    script outcomes per registration token, topic or condition with `script()`.
    """

    def __init__(self, *, token_lifetime: int = DEFAULT_TOKEN_LIFETIME, **options: Any) -> None:
        super().__init__(**options)
        self.token_lifetime = token_lifetime
        self._accounts: dict[str, _ServiceAccount] = {}
        self._tokens: dict[str, _AccessToken] = {}
        self._scripts: dict[str, Script] = {}
        self._token_requests = 0
        self._tokens_issued = 0
        self._state = threading.Lock()

    # -- set-up ----------------------------------------------------------------------------

    @property
    def token_uri(self) -> str:
        """The OAuth2 token endpoint (`PUSHGATE_GOOGLE_TOKEN_URL`); also each key's token_uri."""
        return f"{self.url}/token"

    def send_url(self, project_id: str = "demo-project") -> str:
        return f"{self.url}{_SEND_PREFIX}{project_id}{_SEND_SUFFIX}"

    def new_service_account(self, project_id: str = "demo-project") -> dict[str, str]:
        """A fresh service-account key for `project_id`, already trusted."""
        info = make_service_account(self.token_uri, project_id)
        self.trust_service_account(info)
        return info

    def trust_service_account(self, info: Mapping[str, str]) -> None:
        """Accept assertions signed with this key file's key, for its project."""
        private_key = serialization.load_pem_private_key(
            info["private_key"].encode(), password=None
        )
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError("a service account key is an RSA key")
        account = _ServiceAccount(
            client_email=info["client_email"],
            project_id=info["project_id"],
            private_key_id=info["private_key_id"],
            public_key=private_key.public_key(),
        )
        with self._state:
            self._accounts[account.client_email] = account

    def script(self, target: str, behaviour: Behaviour) -> None:
        """What to answer for a registration token, topic or condition: "ok", "reset", an
        FCM error code ("UNREGISTERED", "QUOTA_EXCEEDED", ...) or a Script."""
        script = as_script(behaviour, OUTCOMES)
        with self._state:
            self._scripts[target] = script

    def expire_tokens(self) -> None:
        """Make every access token issued so far expired: the next send gets 401."""
        with self._state:
            for token in self._tokens.values():
                token.expires_at = 0

    def revoke_token(self, access_token: str) -> None:
        with self._state:
            self._tokens.pop(access_token, None)

    # -- what happened ---------------------------------------------------------------------

    @property
    def token_requests(self) -> int:
        """Requests to the token endpoint, whatever their outcome."""
        with self._state:
            return self._token_requests

    @property
    def tokens_issued(self) -> int:
        with self._state:
            return self._tokens_issued

    def attempts(self, target: str) -> int:
        """Valid sends to a token/topic/condition, answered with success or a scripted error."""
        return sum(1 for record in self.received() if record.device == target)

    # -- requests --------------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        path = unquote(request.path)
        if request.method == "POST" and path == "/token":
            return self._token(request)
        if (
            request.method == "POST"
            and path.startswith(_SEND_PREFIX)
            and path.endswith(_SEND_SUFFIX)
            and "/" not in path[len(_SEND_PREFIX) : -len(_SEND_SUFFIX)]
        ):
            return self._send(request, path[len(_SEND_PREFIX) : -len(_SEND_SUFFIX)])
        raise _google_error(404, "NOT_FOUND", f"{path} was not found.")

    def _token(self, request: Request) -> Response:
        with self._state:
            self._token_requests += 1
        params = _form(request)
        grant_type = params.get("grant_type")
        if grant_type != JWT_BEARER_GRANT:
            raise _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant_type or ''}")
        assertion = params.get("assertion")
        if not assertion:
            raise _oauth_error("invalid_request", "Missing required parameter: assertion")
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _oauth_error("invalid_grant", "Invalid JWT format.") from None
        with self._state:
            account = self._accounts.get(str(unverified.get("iss")))
        if account is None:
            raise _oauth_error("invalid_grant", "Invalid grant: account not found")
        kid = header.get("kid")
        if header.get("alg") != "RS256" or (kid is not None and kid != account.private_key_id):
            raise _oauth_error("invalid_grant", "Invalid JWT Signature.")
        try:
            claims = jwt.decode(
                assertion,
                account.public_key,
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError:
            raise _oauth_error("invalid_grant", "Invalid JWT Signature.") from None
        if claims.get("aud") not in (self.token_uri, GOOGLE_TOKEN_AUDIENCE):
            raise _oauth_error(
                "invalid_grant",
                f"Invalid JWT: Failed audience check. The right audience is {self.token_uri}",
            )
        now = self.now()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not (
            _is_number(iat)
            and _is_number(exp)
            and iat <= now < exp
            and exp - iat <= MAX_ASSERTION_LIFETIME
        ):
            raise _oauth_error("invalid_grant", _SHORT_LIVED)
        scope = claims.get("scope")
        scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
        if not scopes or not all(item.startswith(GOOGLE_SCOPE_PREFIX) for item in scopes):
            raise _oauth_error(
                "invalid_scope", "Invalid OAuth scope or ID token audience provided."
            )
        access_token = f"ya29.c.{secrets.token_urlsafe(96)}"
        with self._state:
            self._tokens[access_token] = _AccessToken(
                account.client_email, account.project_id, scopes, now + self.token_lifetime
            )
            self._tokens_issued += 1
        return Response.json(
            200,
            {
                "access_token": access_token,
                "expires_in": self.token_lifetime,
                "token_type": "Bearer",
            },
            (("cache-control", "no-cache, no-store, max-age=0, must-revalidate"),),
        )

    def _send(self, request: Request, project_id: str) -> Reply:
        scheme, _, credential = (request.header("authorization") or "").partition(" ")
        with self._state:
            token = self._tokens.get(credential.strip()) if scheme.lower() == "bearer" else None
        if token is None or self.now() >= token.expires_at:
            raise _google_error(
                401,
                "UNAUTHENTICATED",
                _UNAUTHENTICATED,
                headers=(("www-authenticate", 'Bearer realm="https://accounts.google.com/"'),),
            )
        if not token.scopes & {FCM_SCOPE, CLOUD_PLATFORM_SCOPE}:
            raise _google_error(
                403,
                "PERMISSION_DENIED",
                "Request had insufficient authentication scopes.",
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                        "domain": "googleapis.com",
                    }
                ],
            )
        if project_id != token.project_id:
            raise _google_error(
                403,
                "PERMISSION_DENIED",
                f"Permission 'cloudmessaging.messages.create' denied on resource "
                f"'//cloudresourcemanager.googleapis.com/projects/{project_id}' "
                "(or it may not exist).",
            )
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as error:
            problem = InvalidArgumentError(f"Invalid JSON payload received. {error}")
            raise _invalid_argument(problem) from None
        try:
            validate_send_request(body)
        except InvalidArgumentError as error:
            raise _invalid_argument(error) from None
        message = body["message"]
        if body.get("validate_only") or body.get("validateOnly"):
            return Response.json(200, {"name": f"projects/{project_id}/messages/fake_message_id"})
        return self._answer(request, project_id, message, token.client_email)

    def _answer(
        self, request: Request, project_id: str, message: dict[str, Any], client_email: str
    ) -> Reply:
        target = target_of(message)[1]
        with self._state:
            script = self._scripts.get(target)
        step = script.next_step() if script is not None else None
        outcome = str(step.outcome) if step is not None else OK
        status = 0 if outcome == RESET else FCM_ERRORS[outcome][0] if outcome in FCM_ERRORS else 200
        self._record(
            FcmMessage(
                project_id=project_id,
                message=message,
                status=status,
                outcome=outcome,
                client_email=client_email,
                http_version=request.http_version,
                received_at=self.now(),
            )
        )
        if outcome == RESET:
            return RESET_REPLY
        if outcome == OK:
            message_id = f"0:{int(self.now() * 1000)}%{secrets.token_hex(8)}"
            return Response.json(200, {"name": f"projects/{project_id}/messages/{message_id}"})
        http_status, rpc_status, text = FCM_ERRORS[outcome]
        retry_after = step.retry_after if step is not None else None
        if outcome == "QUOTA_EXCEEDED" and retry_after is None:
            retry_after = DEFAULT_QUOTA_RETRY_AFTER
        details: list[dict[str, Any]] = [{"@type": FCM_ERROR_TYPE, "errorCode": outcome}]
        if outcome == "INVALID_ARGUMENT":
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [
                        {"field": "message.token", "description": "Invalid registration token"}
                    ],
                }
            )
        return Response.json(
            http_status,
            _error_body(http_status, rpc_status, text, details),
            (("retry-after", str(retry_after)),) if retry_after is not None else (),
        )


def _oauth_error(error: str, description: str) -> Refusal:
    response = Response.json(400, {"error": error, "error_description": description})
    return Refusal(response, f"{error}: {description}")


def _invalid_argument(error: InvalidArgumentError) -> Refusal:
    return _google_error(400, "INVALID_ARGUMENT", error.message, details=error.details())


def _google_error(
    code: int,
    status: str,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Refusal:
    response = Response.json(code, _error_body(code, status, message, details), headers)
    return Refusal(response, f"{status}: {message}")


def _error_body(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def _form(request: Request) -> dict[str, str]:
    """The token request's parameters: a form, or JSON (Google's endpoint takes both)."""
    content_type = (request.header("content-type") or "").lower()
    try:
        if "json" in content_type:
            parsed = json.loads(request.body)
            return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}
        return {
            name: values[0]
            for name, values in parse_qs(request.body.decode(), keep_blank_values=True).items()
        }
    except (ValueError, UnicodeDecodeError):
        return {}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
