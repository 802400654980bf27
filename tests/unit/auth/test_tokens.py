"""Bearer-token verification: only trusted issuers' asymmetric signatures, alg pinned per key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from pushgate import clock
from pushgate.auth import Principal, TokenVerifier
from pushgate.auth.jwks import JwksCache
from pushgate.errors import ForbiddenError, UnauthorizedError
from pushgate.settings import Settings

ISSUER = "https://issuer.test"
JWKS_URL = "https://issuer.test/jwks.json"


def _jwk(private_key, kid: str) -> dict:
    algorithm = {
        ec.EllipticCurvePrivateKey: jwt.algorithms.ECAlgorithm,
        rsa.RSAPrivateKey: jwt.algorithms.RSAAlgorithm,
        ed25519.Ed25519PrivateKey: jwt.algorithms.OKPAlgorithm,
    }
    for base, alg in algorithm.items():
        if isinstance(private_key, base):
            jwk = json.loads(alg.to_jwk(private_key.public_key()))
            return jwk | {"kid": kid, "use": "sig"}
    raise TypeError(private_key)


class Issuer:
    """A trusted issuer whose JWKS the verifier fetches through `fetch` (counted)."""

    def __init__(self) -> None:
        self.keys = {"es": ec.generate_private_key(ec.SECP256R1())}
        self.fetches = 0

    def fetch(self, url: str) -> bytes:
        assert url == JWKS_URL
        self.fetches += 1
        return json.dumps({"keys": [_jwk(k, kid) for kid, k in self.keys.items()]}).encode()

    def token(self, kid: str = "es", key=None, alg: str | None = None, **claims) -> str:
        key = key or self.keys[kid]
        alg = (
            alg
            or {
                ec.EllipticCurvePrivateKey: "ES256",
                rsa.RSAPrivateKey: "RS256",
                ed25519.Ed25519PrivateKey: "EdDSA",
            }[
                next(
                    b
                    for b in (
                        ec.EllipticCurvePrivateKey,
                        rsa.RSAPrivateKey,
                        ed25519.Ed25519PrivateKey,
                    )
                    if isinstance(key, b)
                )
            ]
        )
        now = int(time.time())
        body = {"iss": ISSUER, "sub": "user-1", "iat": now, "exp": now + 300} | claims
        return jwt.encode(
            {k: v for k, v in body.items() if v is not None},
            key,
            algorithm=alg,
            headers={"kid": kid},
        )


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


def _verifier(issuer: Issuer, **entry) -> TokenVerifier:
    """A verifier trusting `issuer` with the TrustedIssuers entry fields given."""
    trusted = {"issuer": ISSUER, "jwks_url": JWKS_URL} | entry
    settings = Settings.from_environ({"PUSHGATE_TRUSTED_ISSUERS": json.dumps([trusted])})
    return TokenVerifier(settings, JwksCache(issuer.fetch))


@pytest.fixture
def verifier(issuer: Issuer) -> TokenVerifier:
    return _verifier(issuer, roles=["user", "service", "admin"])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    return head + "." + _b64(signature)


def _claims(**extra) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "sub": "user-1", "iat": now, "exp": now + 300} | extra


def _rejected(verifier: TokenVerifier, header_value: str | None) -> UnauthorizedError:
    with pytest.raises(UnauthorizedError) as caught:
        verifier.authenticate(header_value)
    return caught.value


def test_verifier_accepts_valid_es256_user_token(verifier, issuer):
    principal = verifier.authenticate("Bearer " + issuer.token(aud=["app-1", "app-2"]))
    assert principal == Principal("user", "user-1", ISSUER, frozenset(), ("app-1", "app-2"))


@pytest.mark.parametrize(
    ("key", "kid"),
    [(rsa.generate_private_key(65537, 2048), "rs"), (ed25519.Ed25519PrivateKey.generate(), "ed")],
)
def test_verifier_accepts_rs256_and_eddsa_keys(verifier, issuer, key, kid):
    issuer.keys[kid] = key
    assert verifier.authenticate("Bearer " + issuer.token(kid=kid)).subject == "user-1"


def test_verifier_classifies_service_admin_and_scp_lists(verifier, issuer):
    service = verifier.authenticate("Bearer " + issuer.token(sub="app-1", scope="push:send"))
    admin = verifier.authenticate("Bearer " + issuer.token(sub="ops", scp=["push:admin"]))
    assert (service.kind, service.subject, service.scopes) == (
        "service",
        "app-1",
        frozenset({"push:send"}),
    )
    assert admin.kind == "admin"


def test_verifier_trusts_an_issuer_for_user_and_service_tokens_unless_it_names_its_roles(issuer):
    # Given an issuer entry that names no roles
    verifier = _verifier(issuer)
    # Then its user and service tokens are accepted, and its admin tokens refused
    assert verifier.authenticate("Bearer " + issuer.token()).kind == "user"
    service = verifier.authenticate("Bearer " + issuer.token(sub="app-1", scope="push:send"))
    assert service.kind == "service"
    with pytest.raises(ForbiddenError) as refused:
        verifier.authenticate("Bearer " + issuer.token(sub="ops", scope="push:admin"))
    assert (refused.value.status, refused.value.code) == (403, "role_not_trusted")


@pytest.mark.parametrize(
    ("roles", "scope", "kind"),
    [(["admin"], None, "user"), (["user", "admin"], "push:send", "service")],
)
def test_verifier_refuses_tokens_in_roles_the_issuer_is_not_trusted_for(issuer, roles, scope, kind):
    verifier = _verifier(issuer, roles=roles)
    with pytest.raises(ForbiddenError) as refused:
        verifier.authenticate("Bearer " + issuer.token(sub="app-1", scope=scope))
    assert refused.value.code == "role_not_trusted"
    assert kind in refused.value.message


def test_verifier_checks_the_audience_of_every_role_when_the_issuer_has_one(issuer):
    verifier = _verifier(issuer, audience="https://push.test", roles=["user", "service", "admin"])
    aud = ["https://push.test", "app-1"]
    assert verifier.authenticate("Bearer " + issuer.token(aud=aud)).audiences == tuple(aud)
    admin = issuer.token(sub="ops", scope="push:admin", aud="https://push.test")
    assert verifier.authenticate("Bearer " + admin).kind == "admin"
    for token in (
        issuer.token(sub="ops", scope="push:admin"),  # no aud at all
        issuer.token(sub="app-1", scope="push:send", aud="https://other.test"),
        issuer.token(aud=["app-1"]),
    ):
        error = _rejected(verifier, "Bearer " + token)
        assert (error.status, error.code) == (401, "invalid_token")


def test_verifier_refuses_an_issuer_claim_that_is_not_a_string(verifier, issuer):
    # Unsigned: the issuer is looked up before any key, and a list must not reach the dict.
    for iss in ([ISSUER], {"x": 1}, 7, None):
        token = _unsigned({"alg": "ES256", "kid": "es"}, _claims(iss=iss), b"x" * 64)
        assert _rejected(verifier, "Bearer " + token).message == "the token's issuer is not trusted"


def test_verifier_refuses_missing_header(verifier):
    assert _rejected(verifier, None).code == "unauthorized"


def test_verifier_refuses_non_bearer_scheme(verifier, issuer):
    assert _rejected(verifier, "Basic " + issuer.token()).code == "unauthorized"


@pytest.mark.parametrize(
    "garbage", ["abc", "a.b.c", "....", "eyJhbGciOiJFUzI1NiJ9.e30", "x" * 9000]
)
def test_verifier_refuses_malformed_tokens(verifier, garbage):
    assert _rejected(verifier, "Bearer " + garbage).code == "invalid_token"


def test_verifier_refuses_alg_none(verifier):
    token = _unsigned({"alg": "none", "kid": "es"}, _claims())
    assert "algorithm" in _rejected(verifier, "Bearer " + token).message


def test_verifier_refuses_hs256_signed_with_the_public_key(verifier, issuer):
    public_pem = (
        issuer.keys["es"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": "es"}
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(_claims()).encode())
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert _rejected(verifier, f"Bearer {signing_input}.{_b64(signature)}").code == "invalid_token"


def test_verifier_refuses_expired_token(verifier, issuer):
    token = issuer.token(exp=int(time.time()) - 120)
    assert "expired" in _rejected(verifier, "Bearer " + token).message


def test_verifier_refuses_token_not_valid_yet(verifier, issuer):
    token = issuer.token(nbf=int(time.time()) + 600)
    assert "not valid yet" in _rejected(verifier, "Bearer " + token).message


def test_verifier_refuses_token_without_exp(verifier, issuer):
    assert _rejected(verifier, "Bearer " + issuer.token(exp=None)).code == "invalid_token"


def test_verifier_refuses_unknown_issuer_without_fetching(verifier, issuer):
    error = _rejected(verifier, "Bearer " + issuer.token(iss="https://evil.test"))
    assert "issuer" in error.message
    assert issuer.fetches == 0


def test_verifier_refuses_unknown_kid(verifier, issuer):
    stranger = ec.generate_private_key(ec.SECP256R1())
    token = issuer.token(kid="nobody", key=stranger)
    assert "unknown" in _rejected(verifier, "Bearer " + token).message


def test_verifier_refuses_right_kid_signed_by_another_key(verifier, issuer):
    token = issuer.token(kid="es", key=ec.generate_private_key(ec.SECP256R1()))
    assert "signature" in _rejected(verifier, "Bearer " + token).message


def test_verifier_refuses_alg_that_differs_from_the_keys(verifier, issuer):
    issuer.keys["rs"] = rsa.generate_private_key(65537, 2048)
    token = issuer.token(kid="rs", alg="PS256")
    assert "algorithm" in _rejected(verifier, "Bearer " + token).message


def test_verifier_refetches_jwks_for_a_new_kid_once(verifier, issuer):
    verifier.authenticate("Bearer " + issuer.token())
    issuer.keys["rotated"] = ec.generate_private_key(ec.SECP256R1())
    previous = clock.set_source(lambda: time.time() + 11)
    try:
        principal = verifier.authenticate("Bearer " + issuer.token(kid="rotated"))
        verifier.authenticate("Bearer " + issuer.token(kid="rotated"))
    finally:
        clock.set_source(previous)
    assert principal.subject == "user-1"
    assert issuer.fetches == 2


def test_verifier_unknown_kids_do_not_refetch_within_cooldown(verifier, issuer):
    verifier.authenticate("Bearer " + issuer.token())
    stranger = ec.generate_private_key(ec.SECP256R1())
    for _ in range(5):
        _rejected(verifier, "Bearer " + issuer.token(kid="nobody", key=stranger))
    assert issuer.fetches == 1
    previous = clock.set_source(lambda: time.time() + 11)
    try:
        _rejected(verifier, "Bearer " + issuer.token(kid="nobody", key=stranger))
    finally:
        clock.set_source(previous)
    assert issuer.fetches == 2


def test_verifier_ignores_symmetric_keys_in_the_jwks(issuer):
    def fetch(url: str) -> bytes:
        return json.dumps({"keys": [{"kty": "oct", "kid": "es", "k": _b64(b"secret")}]}).encode()

    settings = Settings.from_environ(
        {"PUSHGATE_TRUSTED_ISSUERS": json.dumps([{"issuer": ISSUER, "jwks_url": JWKS_URL}])}
    )
    verifier = TokenVerifier(settings, JwksCache(fetch))
    assert "unknown" in _rejected(verifier, "Bearer " + issuer.token()).message


def test_verifier_refuses_http_jwks_url_unless_private_urls_allowed(issuer):
    settings = Settings.from_environ(
        {
            "PUSHGATE_TRUSTED_ISSUERS": json.dumps(
                [{"issuer": ISSUER, "jwks_url": "http://issuer.test/jwks.json"}]
            )
        }
    )
    verifier = TokenVerifier(settings, JwksCache(lambda url: b"{}"))
    assert "unavailable" in _rejected(verifier, "Bearer " + issuer.token()).message
